@testable import Registration
import Testing
import TestSupport
import VolumeCore

/// The default preset's iteration floor at full-resolution levels whose field is capped
/// (`RegistrationStage.minimumCoarseFieldIterations`, issue 15, h54): a 1 mm brain's
/// full-resolution level runs 8 iterations instead of 5; every grid whose full-resolution field
/// fits (2 mm brains, 2-D images) and the other presets run what they planned.
@Suite struct CoarseFieldIterationTests {
    static let oneMM = VolumeGeometry(size: [181, 217, 181], spacing: [1, 1, 1], origin: [-90, -126, -72])
    static let twoMM = VolumeGeometry(size: [91, 109, 91], spacing: [2, 2, 2], origin: [-90, -126, -72])
    static let slices = [VolumeGeometry(size: [181, 217, 1], spacing: [1, 1, 1], origin: [0, 0, 0]),
                         VolumeGeometry(size: [256, 256, 1], spacing: [1, 1, 1], origin: [0, 0, 0]),
                         VolumeGeometry(size: [91, 109, 1], spacing: [2, 2, 2], origin: [0, 0, 0])]

    @Test func aOneMillimetreBrainRunsEightFullResolutionIterations() {
        let d = RegistrationPlan.deformableStage(.default)
        #expect(d.levels.map(\.iterations) == [50, 30, 5])
        #expect(d.hasCoarseFullResolutionField(on: Self.oneMM))
        #expect(d.levels(on: Self.oneMM).map(\.iterations) == [50, 30, 8])
        #expect(d.levels(on: Self.oneMM).map(\.shrink) == [4, 2, 1])
        #expect(d.levelsAsRun(on: Self.oneMM).map(\.iterations) == [50, 30, 8])
        // Grids whose full-resolution field fits are unchanged.
        #expect(!d.hasCoarseFullResolutionField(on: Self.twoMM))
        #expect(d.levels(on: Self.twoMM) == d.levels)
        for g in Self.slices {
            #expect(!d.hasCoarseFullResolutionField(on: g))
            #expect(d.levelsAsRun(on: g) == d.resolved(for: g).levels, "\(g.size)")
        }
        // Other presets: fast has no full-resolution level, accurate runs its own 20.
        for preset in [RegistrationPlan.Preset.fast, .accurate] {
            let s = RegistrationPlan.deformableStage(preset)
            #expect(s.minimumCoarseFieldIterations == nil)
            #expect(s.levels(on: Self.oneMM) == s.levels)
        }
        // A floor, not a count: more planned iterations are kept; no iterations stay none.
        var more = d
        more.levels[2].iterations = 25
        #expect(more.levels(on: Self.oneMM).map(\.iterations) == [50, 30, 25])
        var none = d
        none.levels[2].iterations = 0
        #expect(none.levels(on: Self.oneMM).map(\.iterations) == [50, 30, 0])
        // A plan written before the floor existed decodes without it (and runs as it did).
        var old = d
        old.minimumCoarseFieldIterations = nil
        #expect(old.levels(on: Self.oneMM) == d.levels)
    }

    /// The engine runs the floor: on a small phantom whose full-resolution field is capped (a small
    /// `maxFieldVoxels` stands for a 1 mm brain's 2 M), the default stage's last level runs 8
    /// iterations; with the field uncapped it runs the planned 5.
    @Test func theEngineRunsTheFloorOnlyWhenTheFieldIsCapped() throws {
        let grid = VolumeGeometry(size: [28, 24, 20], spacing: [1.5, 1.5, 1.5], origin: [-21, -18, -15])
        let fixed = Phantom.image(grid)
        let moving = Phantom.image(grid, centre: grid.centre + SIMD3(1.2, -0.8, 0.5))
        var stage = RegistrationPlan.deformableStage(.default)
        stage.levels = [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 3), PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 5)]
        for (cap, expected) in [(grid.voxelCount / 4, 8), (RegistrationStage.defaultMaxFieldVoxels, 5)] {
            stage.maxFieldVoxels = cap
            let r = try Registration.register(fixed: fixed, moving: moving, plan: RegistrationPlan(stages: [stage]))
            #expect(r.stages[0].iterations == [3, expected], "cap \(cap)")
            #expect((r.velocity.geometry.voxelCount < grid.voxelCount) == (expected == 8))
        }
    }
}
