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

    /// Colin27 against its own T2-like contrast (shifted by 4 mm) is taken for two modalities; against
    /// the shifted T1 it is not.
    @Test func differentModalitiesAreDetected() throws {
        let colin = try NIfTIReader.read(TestPaths.samples.appendingPathComponent("colin27_2mm.nii.gz").path).volume()
        var t = AffineTransform.identity
        t.translation = [4, -2, 2]
        let g = VolumeGeometry(size: colin.size, affine: t.composed(after: colin.geometry.affine))
        let t2 = Volume(geometry: g, voxels: Pyramid.normalised(colin).voxels.map(Self.t2Like))
        let t1 = Volume(geometry: g, voxels: colin.voxels)
        #expect(Registration.modalitiesDiffer(fixed: colin, moving: t2) != nil,
                "correlation \(Registration.foregroundCorrelation(fixed: colin, moving: t2))")
        #expect(Registration.modalitiesDiffer(fixed: colin, moving: t1) == nil,
                "correlation \(Registration.foregroundCorrelation(fixed: colin, moving: t1))")
    }
}
