import NIfTI
@testable import Registration
import Testing
import TestSupport
import VolumeCore

/// Thick slices (clinical 0.5–0.8 mm in-plane, 3–5 mm slices): the pyramid shrinks only the fine
/// axes until voxels are near isotropic (as ANTs and Greedy), smoothing, LNCC windows and field
/// regularisation are set in mm, and a known deformation is recovered on 4:1 voxels. A pyramid
/// that shrinks every axis alike (the engine before issue 15) gives 20 mm slices at the coarse
/// level of a 0.5 × 0.5 × 5 mm image and fails `levelsShrinkTheFineAxesOnly`.
@Suite struct AnisotropicTests {
    static func grid(_ spacing: SIMD3<Double>, _ size: SIMD3<Int>) -> VolumeGeometry {
        VolumeGeometry(size: size, spacing: spacing, origin: -spacing * SIMD3<Double>(size &- 1) / 2)
    }

    @Test func levelsShrinkTheFineAxesOnly() {
        // Axial CT-like 0.5 × 0.5 × 5 mm: coarse levels 2 × 2 × 5 and 1 × 1 × 5 mm.
        let ct = Self.grid([0.5, 0.5, 5], [200, 180, 24])
        #expect(Pyramid.levelGeometry(ct, shrink: 4).spacing == [2, 2, 5])
        #expect(Pyramid.levelGeometry(ct, shrink: 4).size == [50, 45, 24])
        #expect(Pyramid.levelGeometry(ct, shrink: 2).spacing == [1, 1, 5])
        // Coronal 1 × 4 × 1 mm: y is never shrunk at 4, everything at 4 mm is isotropic.
        let cor = Self.grid([1, 4, 1], [120, 30, 100])
        #expect(Pyramid.levelGeometry(cor, shrink: 4).spacing == [4, 4, 4])
        #expect(Pyramid.levelGeometry(cor, shrink: 2).spacing == [2, 4, 2])
        // Windows in mm: 2 voxels of the finest axis, the same length (at least one voxel) across slices.
        #expect(Pyramid.radii(2, Pyramid.levelGeometry(ct, shrink: 4)) == [2, 2, 1])
        #expect(Pyramid.radii(2, Pyramid.levelGeometry(cor, shrink: 2)) == [2, 1, 2])
        // Smoothing in mm: the same physical sigma on every axis.
        let s = Pyramid.sigmaVoxels(1, ct)
        #expect(s.x == 2 && s.y == 2 && abs(s.z - 0.2) < 1e-12)
    }

    /// Colin27 (the bundled 2 mm sample) re-sampled to 2 × 2 × 8 mm (4:1, as 1 × 1 × 4), seen
    /// through a known smooth diffeomorphism with displacements along every axis (largest 5 mm):
    /// the deformable stage recovers it, across the slices as well as in-plane (endpoint error,
    /// Dice, no folding).
    @Test func recoversAKnownDeformationOnThickSlices() throws {
        let image = try NIfTIReader.read(TestPaths.samples.appendingPathComponent("colin27_2mm.nii.gz").path).volume()
        let labels = try NIfTIReader.read(TestPaths.samples.appendingPathComponent("colin27_2mm_aal.nii.gz").path).labelVolume()
        let g0 = image.geometry
        let g = VolumeGeometry(size: [g0.size.x, g0.size.y, g0.size.z / 4],
                               affine: g0.affine.composed(after: .scaling([1, 1, 4], origin: [0, 0, 1.5])))
        let moving = image.resampled(to: g), movingLabels = labels.resampled(to: g)
        #expect(g.spacing.z > 3.9 * g.spacing.x)
        // Smooth in mm (sigma 8 mm in-plane, 16 mm across slices), up to 5 mm in every direction.
        let truth = Phantom.exponential(Phantom.velocity(g, seed: 21, sigmaVoxels: 2.5, maxMM: 5), g)
        let fixed = Phantom.warp(moving, by: truth), fixedLabels = Phantom.warp(movingLabels, by: truth)
        var stage = RegistrationPlan.deformableStage(.default)
        stage.levels = [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 40), PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 40)]
        let result = try Registration.register(fixed: fixed, moving: moving,
                                               plan: RegistrationPlan(stages: [stage], alignCentresOfMass: false))
        let n = g.voxelCount
        var epe = 0.0, epe0 = 0.0, epeZ = 0.0, epeZ0 = 0.0, count = 0
        for i in 0..<n where fixedLabels.labels[i] != 0 {
            let t = SIMD3(truth[i], truth[n + i], truth[2 * n + i])
            let d = result.field.vector(at: i) - t
            epe += Double((d * d).sum().squareRoot()); epe0 += Double((t * t).sum().squareRoot())
            epeZ += Double(abs(d.z)); epeZ0 += Double(abs(t.z))
            count += 1
        }
        epe /= Double(count); epe0 /= Double(count); epeZ /= Double(count); epeZ0 /= Double(count)
        print("thick slices: endpoint error \(epe) mm (before \(epe0)), through-plane \(epeZ) mm (before \(epeZ0))")
        #expect(epe < 0.5 * epe0, "endpoint error \(epe) mm vs \(epe0) mm before")
        // The displacement across the thick slices (sub-slice: at most 5 mm across 8 mm slices) is
        // recovered too, less well than in-plane: 0.57 mm left of 0.92 mm when this was written.
        #expect(epeZ < 0.7 * epeZ0, "through-plane error \(epeZ) mm vs \(epeZ0) mm before")
        let before = meanDice(diceScores(prediction: movingLabels, truth: fixedLabels))
        let after = meanDice(diceScores(prediction: result.warp(movingLabels), truth: fixedLabels))
        #expect(after > before + 0.05, "Dice \(before) -> \(after)")
        #expect(foldingFraction(result.jacobian) == 0)
    }
}
