import Foundation
import Registration
import Testing
import VolumeCore

/// Plans written as JSON before a stored property existed still decode, with the initialiser's
/// defaults for what is missing (`RegistrationStage.init(from:)` and friends).
@Suite struct PlanCodingTests {
    /// A plan as the first engine (8257d61) wrote it: no `maxFieldVoxels`, `symmetric`,
    /// `maxLevelVoxels`, full-resolution settings or 2-D settings.
    static let firstEngine = """
    {"stages":[{"kind":"affine","metric":"lncc","lnccRadius":2,"learningRate":1,
      "levels":[{"shrink":4,"smoothingSigma":2,"iterations":100},{"shrink":2,"smoothingSigma":1,"iterations":50}],
      "regularisation":{"updateSigma":2,"fieldSigma":0.75,"diffusionWeight":0},"convergence":{"window":10,"threshold":1e-05}},
     {"kind":"deformable","metric":"lncc","lnccRadius":2,"learningRate":0.25,
      "levels":[{"shrink":4,"smoothingSigma":2,"iterations":50},{"shrink":2,"smoothingSigma":1,"iterations":30},
                {"shrink":1,"smoothingSigma":0,"iterations":5}],
      "regularisation":{"updateSigma":1.5,"fieldSigma":0.35,"diffusionWeight":0},"convergence":{"window":10,"threshold":1e-05}}],
     "alignCentresOfMass":true,"snapshotInterval":0}
    """

    /// A stage as written after the field cap (51016c4), before `symmetric` (ea3bb92): the key the
    /// review found breaking (`symmetric` was a non-optional stored property).
    static let beforeSymmetric = """
    {"kind":"deformable","metric":"mi","lnccRadius":3,"learningRate":0.5,"maxFieldVoxels":123,
     "levels":[{"shrink":2,"smoothingSigma":1,"iterations":7}],
     "regularisation":{"updateSigma":1,"fieldSigma":0.5,"diffusionWeight":0.1},"convergence":{"window":5,"threshold":0.001}}
    """

    @Test func olderPlansDecodeWithTheDefaults() throws {
        let plan = try JSONDecoder().decode(RegistrationPlan.self, from: Data(Self.firstEngine.utf8))
        #expect(plan.stages.count == 2 && plan.alignCentresOfMass && plan.snapshotInterval == 0)
        for stage in plan.stages {
            #expect(!stage.symmetric && stage.singleSlice == nil && stage.maxLevelVoxels == nil)
            #expect(stage.fullResolutionLearningRate == nil && stage.fullResolutionRegularisation == nil)
            #expect(stage.maxFieldVoxels == RegistrationStage.defaultMaxFieldVoxels)
        }
        #expect(plan.stages[1].levels.map(\.iterations) == [50, 30, 5] && plan.stages[1].learningRate == 0.25)
        // What it runs: the planned levels on every grid (no level budget, no 2-D settings).
        let slice = VolumeGeometry(size: [91, 109, 1], spacing: [2, 2, 2], origin: [0, 0, 0])
        #expect(plan.resolved(for: slice) == plan)
        // ... and no 1 mm iteration floor: a 1 mm brain runs the 5 planned full-resolution iterations.
        let oneMM = VolumeGeometry(size: [181, 217, 181], spacing: [1, 1, 1], origin: [0, 0, 0])
        #expect(plan.stages[1].minimumCoarseFieldIterations == nil)
        #expect(plan.stages[1].levelsAsRun(on: oneMM).map(\.iterations) == [50, 30, 5])

        let stage = try JSONDecoder().decode(RegistrationStage.self, from: Data(Self.beforeSymmetric.utf8))
        #expect(stage.kind == .deformable && stage.metric == .mi && stage.lnccRadius == 3 && stage.maxFieldVoxels == 123)
        #expect(stage.regularisation == Regularisation(updateSigma: 1, fieldSigma: 0.5, diffusionWeight: 0.1))
        #expect(stage.convergence == Convergence(window: 5, threshold: 0.001) && !stage.symmetric)

        // Only the optional parts may be missing: a stage without levels is still an error.
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode(RegistrationStage.self, from: Data(#"{"kind":"affine","metric":"lncc","learningRate":1}"#.utf8))
        }
        // Only the optional fields of minimal JSON: the initialiser's defaults.
        let minimal = try JSONDecoder().decode(RegistrationPlan.self, from: Data(#"{"stages":[{"kind":"affine","metric":"ncc","learningRate":1,"levels":[]}]}"#.utf8))
        #expect(minimal == RegistrationPlan(stages: [RegistrationStage(kind: .affine, metric: .ncc, levels: [], learningRate: 1)]))
        let settings = try JSONDecoder().decode(SingleSliceSettings.self, from: Data(#"{"symmetric":true}"#.utf8))
        #expect(settings == SingleSliceSettings(symmetric: true))
    }

    /// Every preset's plan survives a round trip (the new keys are written and read back).
    @Test func presetsRoundTrip() throws {
        for preset in RegistrationPlan.Preset.allCases {
            var plan = RegistrationPlan.preset(preset)
            plan.stages[1].symmetric = true
            plan.snapshotInterval = 3
            let back = try JSONDecoder().decode(RegistrationPlan.self, from: try JSONEncoder().encode(plan))
            #expect(back == plan, "\(preset)")
        }
    }
}
