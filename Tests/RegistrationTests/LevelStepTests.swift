import Registration
import Testing
import TestSupport
import VolumeCore

/// The full-resolution step and regularisation (`RegistrationStage.fullResolutionLearningRate`,
/// `fullResolutionRegularisation`): used at shrink-1 levels only, and what the default preset sets.
@Suite struct LevelStepTests {
    static let grid = VolumeGeometry(size: [24, 22, 20], spacing: [1.5, 1.5, 1.5], origin: [-17.25, -15.75, -14.25])

    /// Largest vector of a field in voxels of its grid (isotropic here).
    static func maxVoxels(_ f: VectorField) -> Double {
        let n = f.geometry.voxelCount
        var m: Float = 0
        for i in 0..<n { m = max(m, f.vector(at: i).squaredLength()) }
        return Double(m).squareRoot() / f.geometry.spacing.x
    }

    /// One deformable step without smoothing from zero: the velocity's largest vector is the
    /// step, so the step a level used can be read off the result.
    static func oneStep(shrink: Int, fullResolutionRate: Double?) throws -> Double {
        let fixed = Phantom.image(grid)
        let moving = Phantom.image(grid, centre: grid.centre + SIMD3(1.5, -1, 0.5))
        let none = Regularisation(updateSigma: 0, fieldSigma: 0)
        var stage = RegistrationStage(kind: .deformable, metric: .lncc, levels: [
            PyramidLevel(shrink: shrink, smoothingSigma: shrink > 1 ? 1 : 0, iterations: 1)],
            learningRate: 0.25, regularisation: none, convergence: Convergence(window: 0),
            fullResolutionLearningRate: fullResolutionRate, fullResolutionRegularisation: none)
        stage.maxFieldVoxels = RegistrationStage.defaultMaxFieldVoxels
        let plan = RegistrationPlan(stages: [stage], alignCentresOfMass: false)
        let result = try Registration.register(fixed: fixed, moving: moving, plan: plan)
        return maxVoxels(result.velocity)
    }

    /// A full-resolution level steps by the full-resolution rate (the step lowered the metric, so
    /// the level kept it); a coarser level keeps the stage's rate, in voxels of its own grid.
    @Test func fullResolutionRateAppliesAtShrinkOneOnly() throws {
        let plain = try Self.oneStep(shrink: 1, fullResolutionRate: nil)
        let fine = try Self.oneStep(shrink: 1, fullResolutionRate: 0.5)
        let coarse = try Self.oneStep(shrink: 2, fullResolutionRate: 0.5)
        #expect(abs(plain - 0.25) < 1e-3, "stage rate: \(plain) voxels")
        #expect(abs(fine - 0.5) < 1e-3, "full-resolution rate: \(fine) voxels")
        #expect(abs(coarse - 0.25) < 1e-3, "shrink-2 level: \(coarse) voxels of its grid")
    }

    /// The default preset sets the full-resolution step and regularisation; the others do not,
    /// and `stepAndRegularisation(at:)` returns the stage's values at coarse levels.
    @Test func presetsAndLookup() {
        let d = RegistrationPlan.deformableStage(.default)
        let full = d.stepAndRegularisation(at: PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 5))
        let coarse = d.stepAndRegularisation(at: PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 30))
        #expect(full.learningRate == 0.5 && full.regularisation.updateSigma == 2 && full.regularisation.fieldSigma == 0.5)
        #expect(coarse.learningRate == 0.25 && coarse.regularisation == d.regularisation)
        for preset in [RegistrationPlan.Preset.fast, .accurate] {
            let s = RegistrationPlan.deformableStage(preset)
            #expect(s.fullResolutionLearningRate == nil && s.fullResolutionRegularisation == nil)
        }
    }

    /// A known smooth deformation of the bundled Colin27 (2-D slice, largest displacement 5 mm)
    /// is recovered by the default preset's levels 2 and 1 with the new full-resolution step:
    /// endpoint error below a third of the motion, no folding.
    @Test func defaultFullResolutionStepRecoversAKnownDeformation() throws {
        let (moving, _, fixed, _, truth) = try RecoveryTests.knownDeformation(twoD: true, seed: 7)
        var stage = RegistrationPlan.deformableStage(.default)
        stage.levels = [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 30), PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 20)]
        let result = try Registration.register(fixed: fixed, moving: moving, plan: RegistrationPlan(stages: [stage], alignCentresOfMass: false))
        let top = moving.voxels.max() ?? 1
        let (epe, epe0) = Phantom.endpointError(result.field, truth: truth) { moving.voxels[$0] > 0.1 * top }
        #expect(epe < epe0 / 3, "endpoint error \(epe) mm against \(epe0) mm of motion")
        #expect(foldingFraction(result.jacobian) == 0)
    }
}
