@testable import Registration
import Testing
import TestSupport
import VolumeCore

/// The affine stage's level budget (`RegistrationStage.maxLevelVoxels`, `levels(on:)`): a large
/// image's affine levels are coarsened by powers of two, small images keep the planned levels.
@Suite struct AffineLevelTests {
    static let oneMM = VolumeGeometry(size: [181, 217, 181], spacing: [1, 1, 1], origin: [-90, -126, -72])
    static let twoMM = VolumeGeometry(size: [91, 109, 91], spacing: [2, 2, 2], origin: [-90, -126, -72])

    /// A 1 mm brain gets the levels its 2 mm version has in mm (8 and 4 mm, smoothing doubled);
    /// the 2 mm brain, a 1 mm slice and the accurate preset keep theirs; a 0.5 × 0.5 × 5 mm grid
    /// is coarsened until its finest level fits, by the smallest power of two.
    @Test func presetsCoarsenOnlyLargeGrids() {
        let d = RegistrationPlan.affineStage(.default), f = RegistrationPlan.affineStage(.fast)
        // What the budget promises (docs/registration.md): the finest affine level of fast and
        // default stays within 300 k voxels on a 1 mm brain (planned: shrink 2, 0.87 M), and 2-D
        // images up to about 1000 × 1000 keep their levels; a larger one does not.
        func slice(_ n: Int) -> VolumeGeometry { VolumeGeometry(size: [n, n, 1], spacing: [1, 1, 1], origin: [0, 0, 0]) }
        for s in [d, f] {
            #expect(Pyramid.levelGeometry(Self.oneMM, shrink: s.levels.last!.shrink).voxelCount > 300_000)
            #expect(Pyramid.levelGeometry(Self.oneMM, shrink: s.levels(on: Self.oneMM).last!.shrink).voxelCount <= 300_000)
            #expect(s.levels(on: slice(1000)) == s.levels && s.levels(on: slice(1100)) != s.levels)
        }
        #expect(d.levels(on: Self.oneMM) == [PyramidLevel(shrink: 8, smoothingSigma: 4, iterations: 100),
                                             PyramidLevel(shrink: 4, smoothingSigma: 2, iterations: 50)])
        #expect(f.levels(on: Self.oneMM).map(\.shrink) == [8, 4] && f.levels(on: Self.oneMM).map(\.iterations) == [60, 30])
        #expect(d.levels(on: Self.twoMM) == d.levels)
        let slice = VolumeGeometry(size: [181, 217, 1], spacing: [1, 1, 1], origin: [-90, -126, 0])
        #expect(d.levels(on: slice) == d.levels)
        let accurate = RegistrationPlan.affineStage(.accurate)
        #expect(accurate.levels(on: Self.oneMM) == accurate.levels)
        // Deformable stages have no budget (the default preset's 1 mm iteration floor aside:
        // `CoarseFieldIterationTests`).
        for preset in RegistrationPlan.Preset.allCases {
            let s = RegistrationPlan.deformableStage(preset)
            #expect(s.levels(on: Self.oneMM).map(\.shrink) == s.levels.map(\.shrink))
            #expect(s.levels(on: Self.twoMM) == s.levels)
        }

        let thick = VolumeGeometry(size: [362, 434, 36], spacing: [0.5, 0.5, 5], origin: [-90, -108, -90])
        let levels = d.levels(on: thick)
        let factor = levels[1].shrink / d.levels[1].shrink
        #expect(levels.map(\.shrink) == d.levels.map { $0.shrink * factor })
        #expect(levels.map(\.smoothingSigma) == d.levels.map { $0.smoothingSigma * Double(factor) })
        var fine = d
        fine.levels = [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 9), PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 9)]
        #expect(fine.levels(on: Self.oneMM).map(\.shrink) == [8, 4] && fine.levels(on: Self.oneMM).map(\.smoothingSigma) == [4, 2],
                "an unsmoothed level is smoothed by half its new shrink factor")
        func voxels(_ s: Int) -> Int { Pyramid.levelGeometry(thick, shrink: s).voxelCount }
        #expect(voxels(levels[1].shrink) <= d.maxLevelVoxels!)
        #expect(voxels(levels[1].shrink / 2) > d.maxLevelVoxels!, "the smallest power of two: factor \(factor)")
    }

    /// The finest level with iterations decides; a budget no grid can meet stops at one voxel a
    /// level rather than looping; no budget means the planned levels.
    @Test func edgeCases() {
        var s = RegistrationStage(kind: .affine, metric: .lncc, levels: [
            PyramidLevel(shrink: 4, smoothingSigma: 2, iterations: 10),
            PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 10),
            PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 0)], learningRate: 1)
        #expect(s.levels(on: Self.oneMM) == s.levels)
        s.maxLevelVoxels = 300_000
        #expect(s.levels(on: Self.oneMM).map(\.shrink) == [8, 4, 2])
        s.maxLevelVoxels = 0
        let tiny = s.levels(on: Self.oneMM)
        #expect(Pyramid.levelGeometry(Self.oneMM, shrink: tiny[1].shrink).voxelCount == 1)
    }

    /// The engine runs the coarsened levels: a plan with the budget gives bit for bit the affine
    /// of the same plan written with the coarser levels and no budget, and its report has one
    /// entry per level.
    @Test func engineRunsTheCoarsenedLevels() throws {
        let grid = VolumeGeometry(size: [24, 22, 20], spacing: [1.5, 1.5, 1.5], origin: [-17.25, -15.75, -14.25])
        let fixed = Phantom.image(grid)
        let moving = Phantom.image(grid, centre: grid.centre + SIMD3(1.5, -1, 0.5))
        var budget = RegistrationPlan.affineStage(.default)
        budget.levels = [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 30), PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 20)]
        budget.maxLevelVoxels = 2000      // shrink 1: 10,560 voxels, shrink 2: 1,320
        var explicit = budget
        explicit.maxLevelVoxels = nil
        explicit.levels = [PyramidLevel(shrink: 4, smoothingSigma: 2, iterations: 30), PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 20)]
        #expect(budget.levels(on: grid) == explicit.levels)
        let a = try Registration.register(fixed: fixed, moving: moving, plan: RegistrationPlan(stages: [budget]))
        let b = try Registration.register(fixed: fixed, moving: moving, plan: RegistrationPlan(stages: [explicit]))
        var planned = budget
        planned.maxLevelVoxels = nil
        let c = try Registration.register(fixed: fixed, moving: moving, plan: RegistrationPlan(stages: [planned]))
        #expect(a.affine == b.affine)
        #expect(a.affine != c.affine, "the planned full-resolution level would give another affine")
        #expect(a.stages[0].iterations.count == 2 && a.stages[0].iterations == b.stages[0].iterations)
    }

    /// The modality check's level cap looks at the two longest axes: a thin slab is shrunk like a
    /// slice (it was run at full resolution because its short axis cannot keep 16 voxels), while a
    /// small cube and a slice keep the cap (review h51 of h48's cap).
    @Test func modalityCapLooksAtTheTwoLongestAxes() {
        let slab = VolumeGeometry(size: [256, 256, 10], spacing: [1, 1, 1], origin: [0, 0, 0])
        #expect(Registration.cappedShrink(8, slab, minimumSide: 16) == 8)
        let thin = VolumeGeometry(size: [512, 512, 30], spacing: [0.4, 0.4, 2], origin: [0, 0, 0])
        #expect(Registration.cappedShrink(20, thin, minimumSide: 32) >= 15)
        let cube = VolumeGeometry(size: [40, 40, 40], spacing: [1, 1, 1], origin: [0, 0, 0])
        #expect(Registration.cappedShrink(8, cube, minimumSide: 16) == 2)
        let slice = VolumeGeometry(size: [64, 64, 1], spacing: [1, 1, 1], origin: [0, 0, 0])
        #expect(Registration.cappedShrink(8, slice, minimumSide: 16) == 4)
        #expect(Registration.cappedShrink(8, Self.twoMM, minimumSide: 16) == 5)
    }
}
