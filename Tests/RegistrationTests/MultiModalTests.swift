import NIfTI
@testable import Registration
import Testing
import TestSupport
import VolumeCore

/// Mutual information on a T1/T2-like pair: the moving image's intensities are a non-monotonic map
/// of the fixed image's (dark background, bright "CSF" range, dark "white matter"), as between two
/// MR contrasts. Local correlation cannot follow such a map; mutual information can.
@Suite struct MultiModalTests {
    static let grid = VolumeGeometry(size: [32, 28, 24], spacing: [1.5, 1.5, 1.5], origin: [-23.25, -20.25, -17.25])

    /// Piecewise-linear, non-monotonic (rises, then falls): 0 → 0, 0.3 → 1, 0.55 → 0.5, 0.85 → 0.15, 1 → 0.1.
    static func t2Like(_ x: Float) -> Float {
        let xs: [Float] = [0, 0.3, 0.55, 0.85, 1], ys: [Float] = [0, 1, 0.5, 0.15, 0.1]
        let c = min(max(x, 0), 1)
        for k in 1..<xs.count where c <= xs[k] {
            return ys[k - 1] + (ys[k] - ys[k - 1]) * (c - xs[k - 1]) / (xs[k] - xs[k - 1])
        }
        return ys.last!
    }

    /// The fixed phantom, and its T2-like version under a header moved by a rotation and a
    /// translation `t` (so `moving(t(x))` is the T2-like image of `fixed(x)`).
    static func pair(_ t: AffineTransform) -> (Volume, Volume) {
        let fixed = Phantom.image(grid, radii: [15, 12, 10])
        let moving = Volume(geometry: VolumeGeometry(size: fixed.size, affine: t.composed(after: fixed.geometry.affine)),
                            voxels: fixed.voxels.map(t2Like))
        return (fixed, moving)
    }

    static func plan(_ metric: MetricKind) -> RegistrationPlan {
        RegistrationPlan(stages: [RegistrationStage(kind: .affine, metric: metric, levels: [
            PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 100), PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 60)],
            learningRate: 1, convergence: Convergence(window: 10, threshold: 1e-7))])
    }

    @Test func mutualInformationRecoversWhereLocalCorrelationFails() throws {
        var t = Phantom.rotationZ(5)
        t.translation = [3, -2, 1.5]
        let (fixed, moving) = Self.pair(t)
        let labels = Phantom.labels(Self.grid, radii: [15, 12, 10])
        let mi = try Registration.register(fixed: fixed, moving: moving, plan: Self.plan(.mi))
        let lncc = try Registration.register(fixed: fixed, moving: moving, plan: Self.plan(.lncc))
        let errMI = RecoveryTests.maxDistance(mi.affine, t, on: labels)
        let errLNCC = RecoveryTests.maxDistance(lncc.affine, t, on: labels)
        #expect(errMI < 0.75, "mutual information: largest affine error \(errMI) mm")
        #expect(errLNCC > 1, "local correlation: largest affine error \(errLNCC) mm (expected to fail on this contrast)")
        #expect(errLNCC > 2 * errMI, "mutual information \(errMI) mm, local correlation \(errLNCC) mm")
    }

    /// CT-like (brain CT: CSF < white matter < grey matter, the brightest T1 range below white
    /// matter): rises to grey matter, then falls. Its correlation with the T1 stays positive, so the
    /// former rule (a negative correlation inside both foregrounds) took it for one modality.
    static func ctLike(_ x: Float) -> Float {
        let xs: [Float] = [0, 0.05, 0.33, 0.7, 0.9, 1], ys: [Float] = [0, 0.05, 0.4, 0.7, 0.55, 0.45]
        let c = min(max(x, 0), 1)
        for k in 1..<xs.count where c <= xs[k] {
            return ys[k - 1] + (ys[k] - ys[k - 1]) * (c - xs[k - 1]) / (xs[k] - xs[k - 1])
        }
        return ys.last!
    }

    /// At 2 mm the check's statistics are read at full resolution; the coarse (8 mm) level it
    /// aligned on, the presets' first affine and deformable level, stays in the prepared pair for
    /// the registration (reading the full level through the pyramid's cache used to drop it).
    @Test func theCoarseLevelOutlivesTheCheckAt2mm() throws {
        let colin = try NIfTIReader.read(TestPaths.samples.appendingPathComponent("colin27_2mm.nii.gz").path).volume()
        let subject = try NIfTIReader.read(TestPaths.samples.appendingPathComponent("subject01_2mm.nii.gz").path).volume()
        let prepared = PreparedPair(fixed: colin, moving: subject)
        _ = try #require(Registration.modalityEvidence(prepared))
        let pyramid = try #require(prepared.take(fixed: colin, moving: subject))
        #expect(pyramid.holdsFixedLevel(PyramidLevel(shrink: 4, smoothingSigma: 2, iterations: 50)))
        #expect(RegistrationPlan.affineStage(.default).levels(on: colin.geometry).first?.shrink == 4)
        #expect(!pyramid.holdsFixedLevel(PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 1)))
    }

    /// Colin27 (3-D, 2 mm) against T2-like and CT-like maps of itself under a moved header (4 mm
    /// shift, 5° rotation) is taken for two modalities; against the moved T1, a squared T1 (gamma 2: another
    /// scanner) and the bundled subject (another anatomy, same contrast) for one.
    @Test func differentModalitiesAreDetected() throws {
        let colin = try NIfTIReader.read(TestPaths.samples.appendingPathComponent("colin27_2mm.nii.gz").path).volume()
        let subject = try NIfTIReader.read(TestPaths.samples.appendingPathComponent("subject01_2mm.nii.gz").path).volume()
        var t = Phantom.rotationZ(5)
        t.translation = [4, -2, 2]
        let g = VolumeGeometry(size: colin.size, affine: t.composed(after: colin.geometry.affine))
        let unit = Pyramid.normalised(colin).voxels
        let t2 = Volume(geometry: g, voxels: unit.map(Self.t2Like))
        let ct = Volume(geometry: g, voxels: unit.map(Self.ctLike))
        let t1 = Volume(geometry: g, voxels: colin.voxels)
        let gamma = Volume(geometry: g, voxels: unit.map { $0 * $0 })
        var ctEvidence: ModalityEvidence?
        for (name, moving, differ) in [("T2-like", t2, true), ("CT-like", ct, true), ("moved T1", t1, false),
                                       ("gamma 2 T1", gamma, false), ("another subject", subject, false)] {
            // One measurement per case (the MI affine is the check's cost), decided as `modalitiesDiffer` does.
            let e = try #require(Registration.modalityEvidence(fixed: colin, moving: moving))
            print("modality evidence, Colin27 against \(name): \(e)")
            #expect(Registration.modalitiesDiffer(e) == differ, "\(name): \(e)")
            if name == "CT-like" { ctEvidence = e }
            // Not a near miss: every case is clear of the threshold.
            #expect(abs(e.monotonicity - Registration.modalityMonotonicityThreshold) > 0.1, "\(name): \(e)")
        }
        // The CT-like map is the case the former rule missed: its correlation is positive.
        let e = try #require(ctEvidence)
        #expect(e.correlation > 0, "\(e)")
    }

    /// The same on a 2-D slice and on 1 × 1 × 4 mm voxels (the decision does not depend on the grid).
    @Test func modalitiesAreDetectedOnSlicesAndThickSlices() throws {
        let colin = try NIfTIReader.read(TestPaths.samples.appendingPathComponent("colin27_2mm.nii.gz").path).volume()
        let cg = colin.geometry
        var a = cg.affine
        a.translation = cg.world(ofVoxel: [0, 0, Double(cg.size.z / 2)])
        let slice = colin.resampled(to: VolumeGeometry(size: [cg.size.x, cg.size.y, 1], affine: a))
        let thick = colin.resampled(to: VolumeGeometry(size: [cg.size.x * 2, cg.size.y * 2, cg.size.z / 2],
                                                       affine: cg.affine.composed(after: .scaling([0.5, 0.5, 2], origin: [-0.25, -0.25, 0.5]))))
        for fixed in [slice, thick] {
            var t = AffineTransform.identity
            t.translation = [3, -2, 0]
            let g = VolumeGeometry(size: fixed.size, affine: t.composed(after: fixed.geometry.affine))
            let unit = Pyramid.normalised(fixed).voxels
            for (name, map, differ) in [("T2-like", Self.t2Like as (Float) -> Float, true), ("CT-like", Self.ctLike, true),
                                        ("T1", { $0 }, false)] {
                let moving = Volume(geometry: g, voxels: unit.map(map))
                let e = try #require(Registration.modalityEvidence(fixed: fixed, moving: moving))
                #expect(Registration.modalitiesDiffer(e) == differ, "\(fixed.size) \(name): \(e)")
            }
        }
    }

    /// Small images: the check's ≈ 8 mm alignment level of a 64 × 64 slice at 1 mm would be 8 × 8
    /// pixels, of a 40 × 40 × 40 crop 5 × 5 × 5 voxels, and of a small-animal image (the Colin27
    /// slice at 0.1 mm: 91 × 109 pixels, 9 × 11 mm) one pixel; both levels are capped
    /// (`Registration.cappedShrink`: at least 16 voxels per axis to align on, 32 for the
    /// statistics). Brains at 1 and 2 mm, 2-D or 3-D, keep their levels.
    @Test func modalitiesAreDetectedOnSmallImages() throws {
        let colin = try NIfTIReader.read(TestPaths.samples.appendingPathComponent("colin27_1mm.nii.gz").path).volume()
        let cg = colin.geometry
        func crop(_ size: SIMD3<Int>, _ offset: SIMD3<Int> = .zero) -> Volume {
            var a = cg.affine
            a.translation = cg.world(ofVoxel: SIMD3<Double>((cg.size &- size) / 2 &+ offset))
            return colin.resampled(to: VolumeGeometry(size: size, affine: a))
        }
        let (slice2mm, _) = try RecoveryTests.sample(twoD: true)
        let mouse = Volume(geometry: VolumeGeometry(size: slice2mm.size, spacing: [0.1, 0.1, 0.1], origin: [0, 0, 0]), voxels: slice2mm.voxels)
        let slice = crop([64, 64, 1], [40, 0, 0]), cube = crop([40, 40, 40])
        #expect(Registration.cappedShrink(8, slice.geometry, minimumSide: 16) == 4)
        #expect(Registration.cappedShrink(8, cube.geometry, minimumSide: 16) == 2)
        for g in [cg, VolumeGeometry(size: [91, 109, 91], spacing: [2, 2, 2], origin: [0, 0, 0]),
                  VolumeGeometry(size: [91, 109, 1], spacing: [2, 2, 2], origin: [0, 0, 0]),
                  VolumeGeometry(size: [181, 217, 1], spacing: [1, 1, 1], origin: [0, 0, 0])] {
            let h = g.spacing.x
            #expect(Registration.cappedShrink(Int((8 / h).rounded()), g, minimumSide: 16) == Int((8 / h).rounded()), "\(g.size)")
            #expect(Registration.cappedShrink(Int((2 / h).rounded()), g, minimumSide: 32) == Int((2 / h).rounded()), "\(g.size)")
        }
        // Without the cap, some decisions are wrong (measured: the crop's CT-like map taken for one
        // modality, monotonicity 0.83; the 0.1 mm slice's T2-like and CT-like too, from 12-17
        // voxels) and the 64 × 64 slice's T2-like alignment fails (η² 0.04 instead of 0.95).
        var wrongWithoutCap: [String] = []
        for (label, fixed) in [("64 x 64 at 1 mm", slice), ("40^3 at 1 mm", cube), ("slice at 0.1 mm", mouse)] {
            let h = fixed.geometry.spacing.x
            var t = Phantom.rotationZ(5)
            t.translation = [3 * h, -2 * h, fixed.size.z > 1 ? 2 * h : 0]
            let g = VolumeGeometry(size: fixed.size, affine: t.composed(after: fixed.geometry.affine))
            let unit = Pyramid.normalised(fixed).voxels
            for (name, map, differ) in [("T2-like", Self.t2Like as (Float) -> Float, true), ("CT-like", Self.ctLike, true),
                                        ("T1", { $0 }, false), ("gamma 2 T1", { $0 * $0 }, false)] {
                let moving = Volume(geometry: g, voxels: unit.map(map))
                let e = try #require(Registration.modalityEvidence(fixed: fixed, moving: moving))
                let u = try #require(Registration.modalityEvidence(PreparedPair(fixed: fixed, moving: moving), token: CancellationToken(),
                                                                   alignmentMM: Registration.modalityAlignmentMM, minimumSides: (1, 1)))
                print("modality evidence, \(label) against \(name): \(e); without the cap \(u)")
                #expect(Registration.modalitiesDiffer(e) == differ, "\(label) \(name): \(e)")
                // Not a near miss.
                #expect(abs(e.monotonicity - Registration.modalityMonotonicityThreshold) > 0.05, "\(label) \(name): \(e)")
                #expect(e.correlationRatio > 0.5, "\(label) \(name): the images were not aligned: \(e)")
                if Registration.modalitiesDiffer(u) != differ { wrongWithoutCap.append("\(label) \(name)") }
            }
        }
        print("wrong without the cap: \(wrongWithoutCap)")
        #expect(wrongWithoutCap.count >= 2, "these images do not need the cap: \(wrongWithoutCap)")
    }
}
