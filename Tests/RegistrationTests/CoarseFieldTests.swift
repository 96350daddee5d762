import Foundation
@testable import Registration
import Testing
import TestSupport
import VolumeCore

/// The memory-lean kernels of issue 15's 1 mm work: in-place box sums, LNCC by slabs, and the
/// last level's field on a coarser grid than its metric (`CoarseFieldWarp`).
@Suite struct CoarseFieldTests {
    static func random(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in Float(rng.nextDouble()) }
    }

    /// In-place box sums and the fused sums of products equal box sums by brute force.
    @Test(arguments: [SIMD3(13, 9, 7), SIMD3(12, 10, 1)])
    func inPlaceBoxSumsMatchBufferedOnes(size: SIMD3<Int>) {
        let n = size.x * size.y * size.z
        let w = Self.random(n, seed: 1), f = Self.random(n, seed: 2)
        let radius = SIMD3(2, 1, size.z > 1 ? 3 : 0)
        func buffered(_ x: [Float]) -> [Float] { referenceBoxSum(x, size: size, radius: radius) }
        let inPlace = FloatBuffer(w)
        Filters.boxSumInPlace(inPlace.pointer, size: size, radius: radius)
        let a = FloatBuffer(count: n), b = FloatBuffer(count: n), c = FloatBuffer(count: n)
        w.withUnsafeBufferPointer { wp in f.withUnsafeBufferPointer { fp in
            Filters.boxSumsOfProducts(wp.baseAddress!, fp.baseAddress!, size: size, radius: radius, sw: a.pointer, sww: b.pointer, sfw: c.pointer)
        } }
        for (got, want) in [(inPlace.array, buffered(w)), (a.array, buffered(w)), (b.array, buffered(w.map { $0 * $0 })),
                            (c.array, buffered(zip(w, f).map { $0 * $1 }))] {
            let err = zip(got, want).map { abs($0 - $1) }.max() ?? 0
            #expect(err < 1e-4, "largest difference \(err)")
        }
    }

    /// The slab-by-slab LNCC value equals the optimiser's.
    @Test func slabValueMatchesTheMetric() {
        let g = VolumeGeometry(size: [24, 20, 17], spacing: [1, 1, 1], origin: [0, 0, 0])
        let f = Phantom.image(g), w = Phantom.image(g, centre: g.centre + SIMD3(1, -0.5, 0.7))
        let full = f.voxels.withUnsafeBufferPointer {
            LocalCorrelationMetric(fixed: $0, size: g.size, radii: [2, 2, 2]).evaluate(warped: w.voxels, gradient: nil)
        }
        for planes in [1, 3, 16, 40] {
            let slab = f.voxels.withUnsafeBufferPointer { fp in w.voxels.withUnsafeBufferPointer { wp in
                LocalCorrelationMetric.value(fixed: fp.baseAddress!, warped: wp.baseAddress!, size: g.size, radii: [2, 2, 2], slabPlanes: planes)
            } }
            #expect(abs(slab - full) < 1e-6 * abs(full), "\(planes) planes: \(slab) vs \(full)")
        }
    }

    static let fine = VolumeGeometry(size: [22, 19, 15], spacing: [1.5, 1.5, 1.5], origin: [-16, -13.5, -10.5])

    /// The coarse warp samples like a full-resolution warp through the interpolated field, and its
    /// gradient is exactly the adjoint of that interpolation applied to the full-resolution chain rule:
    /// ⟨G, δ⟩ = ⟨g, upsample(δ)⟩ for any coarse δ.
    @Test func coarseGradientIsTheAdjointOfTheInterpolation() throws {
        let g = Self.fine
        let fieldGrid = Pyramid.levelGeometry(g, shrink: 2)
        let affine = AffineTransform(linear: [[1.02, 0.03, 0], [-0.02, 0.98, 0.01], [0, 0.02, 1.01]], translation: [0.7, -0.4, 0.3])
        let warp = try #require(CoarseFieldWarp(grid: g, fieldGrid: fieldGrid, affine: affine))
        let moving = MovingImage(Phantom.image(g))
        let n = g.voxelCount, nc = fieldGrid.voxelCount
        let u = FloatBuffer(Phantom.velocity(fieldGrid, seed: 7, sigmaVoxels: 1.5, maxMM: 2))
        let dvalue = FloatBuffer(Self.random(n, seed: 8).map { $0 - 0.5 })
        let uFine = FloatBuffer(count: 3 * n)
        warp.upsample(u.pointer, into: uFine.pointer)
        let warped = FloatBuffer(count: n), warpedFine = FloatBuffer(count: n), mg = FloatBuffer(count: 3 * n)
        warp.warp(moving, field: u.pointer, into: warped.pointer)
        let full = DisplacementWarp(grid: g, affine: affine)
        full.warp(moving, field: uFine.pointer, into: warpedFine.pointer, movingGradient: mg.pointer)
        let werr = zip(warped.array, warpedFine.array).map { abs($0 - $1) }.max() ?? 0
        #expect(werr < 1e-4, "warped images differ by \(werr)")
        let gFine = FloatBuffer(count: 3 * n), gCoarse = FloatBuffer(count: 3 * nc)
        full.gradient(dValue: dvalue.pointer, movingGradient: mg.pointer, into: gFine.pointer)
        warp.gradient(moving, field: u.pointer, dValue: dvalue.pointer, into: gCoarse.pointer)
        for seed in [11, 12] {
            let delta = FloatBuffer(Self.random(3 * nc, seed: UInt64(seed)).map { $0 - 0.5 })
            let deltaFine = FloatBuffer(count: 3 * n)
            warp.upsample(delta.pointer, into: deltaFine.pointer)
            let a = zip(gCoarse.array, delta.array).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let b = zip(gFine.array, deltaFine.array).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(a - b) < 1e-4 * max(abs(b), 1e-3), "⟨G, δ⟩ = \(a), ⟨g, Pδ⟩ = \(b)")
        }
        // One thread and three threads give the same bits (fixed slab order), whatever the machine's
        // default thread count (which gave gCoarse above).
        let single = FloatBuffer(count: 3 * nc), three = FloatBuffer(count: 3 * nc)
        withThreadCount(1) { warp.gradient(moving, field: u.pointer, dValue: dvalue.pointer, into: single.pointer) }
        withThreadCount(3) { warp.gradient(moving, field: u.pointer, dValue: dvalue.pointer, into: three.pointer) }
        #expect(single.array == gCoarse.array)
        #expect(three.array == single.array)
    }

    /// The field grid: the level grid when it fits the budget, else the next coarser level grid that does.
    @Test func fieldGridFitsTheBudget() {
        let brain1mm = VolumeGeometry(size: [181, 217, 181], spacing: [1, 1, 1], origin: [0, 0, 0])
        let a = CoarseFieldWarp.fieldGrid(full: brain1mm, shrink: 1, maxVoxels: RegistrationStage.defaultMaxFieldVoxels)
        #expect(a.size == Pyramid.levelGeometry(brain1mm, shrink: 2).size)
        let brain2mm = VolumeGeometry(size: [91, 109, 91], spacing: [2, 2, 2], origin: [0, 0, 0])
        #expect(CoarseFieldWarp.fieldGrid(full: brain2mm, shrink: 1, maxVoxels: RegistrationStage.defaultMaxFieldVoxels) == brain2mm)
        let slice = VolumeGeometry(size: [256, 256, 1], spacing: [1, 1, 1], origin: [0, 0, 0])
        #expect(CoarseFieldWarp.fieldGrid(full: slice, shrink: 1, maxVoxels: RegistrationStage.defaultMaxFieldVoxels) == slice)
    }

    /// A plan whose last level keeps its field on a coarser grid (a small `maxFieldVoxels`).
    static func coarsePlan(_ preset: RegistrationPlan.Preset = .default, maxFieldVoxels: Int) -> RegistrationPlan {
        var plan = RegistrationPlan.preset(preset)
        for s in plan.stages.indices { plan.stages[s].maxFieldVoxels = maxFieldVoxels }
        return plan
    }

    /// With the field on a coarser grid, an image registered to itself stays the identity, and
    /// the velocity lives on that grid.
    @Test func identityIsAFixedPointWithACoarseField() throws {
        for (name, grid) in FixedPointTests.grids {
            let image = Phantom.image(grid, radii: grid.size.z == 7 ? [13, 11, 9] : [11, 9, 8])
            let r = try Registration.register(fixed: image, moving: image, plan: Self.coarsePlan(maxFieldVoxels: grid.voxelCount / 3))
            #expect(r.velocity.geometry.voxelCount < grid.voxelCount, "\(name): velocity on \(r.velocity.geometry.size)")
            let d = FixedPointTests.deviation(r, grid: grid)
            #expect(d.linear < 1e-3 && d.shift < 0.1 && d.field < 0.05, "\(name): \(d)")
        }
    }

    /// A smooth known deformation of real anatomy is recovered with the last level's field at
    /// twice the spacing: endpoint error, Dice, no folding, inverse consistency.
    @Test func recoversSmoothDeformationWithACoarseField() throws {
        let (moving, movingLabels, fixed, fixedLabels, truth) = try RecoveryTests.knownDeformation(twoD: false)
        let g = moving.geometry
        var stage = RegistrationPlan.deformableStage(.default)
        stage.levels = [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 40), PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 40)]
        stage.maxFieldVoxels = g.voxelCount / 4
        let result = try Registration.register(fixed: fixed, moving: moving, plan: RegistrationPlan(stages: [stage], alignCentresOfMass: false))
        #expect(result.velocity.geometry.size == Pyramid.levelGeometry(g, shrink: 2).size)
        RecoveryTests.expectRecovered(result, truth: truth, movingLabels: movingLabels, fixedLabels: fixedLabels)
        // exp(v) and exp(-v) are interpolated separately from an 8 mm grid here (4 mm images):
        // 0.14 mm mean against < 0.1 with full-resolution fields; on the real 1 mm pair 0.036 mm.
        let ic = result.inverseConsistency(mask: fixedLabels)
        #expect(ic.mean < 0.2 && ic.max < 1, "inverse consistency \(ic) mm")
    }

    /// Steps far too large: the coarse-field level still ends no worse than it started.
    @Test func coarseFieldStageNeverEndsWorseThanItStarts() throws {
        let grid = FixedPointTests.grids[0].1
        let fixed = Phantom.image(grid)
        let moving = Phantom.image(grid, centre: grid.centre + SIMD3(1.5, -1, 0.5))
        var deformable = RegistrationPlan.deformableStage(.fast)
        deformable.learningRate = 6
        deformable.maxFieldVoxels = grid.voxelCount / 3
        deformable.levels = [PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 4)]
        let r = try Registration.register(fixed: fixed, moving: moving, plan: RegistrationPlan(stages: [deformable]))
        let pyramid = Pyramid(fixed: Pyramid.normalised(fixed), moving: Pyramid.normalised(moving))
        let start = Registration.centreOfMass(pyramid.moving) - Registration.centreOfMass(pyramid.fixed)
        let before = Registration.startValue(deformable, deformable.levels[0], pyramid,
                                             affine: AffineTransform(linear: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], translation: start))
        let after = r.stages[0].finalValues.last!
        #expect(after <= before + 1e-9, "\(after) after, \(before) before")
    }
}
