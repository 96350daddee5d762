import VolumeCore

/// Timing and outcome of one stage.
public struct StageReport: Sendable, Equatable {
    public var name: String
    /// Wall-clock seconds.
    public var seconds: Double
    /// Iterations run per level (coarse first).
    public var iterations: [Int]
    /// Objective value at the last iteration of each level.
    public var finalValues: [Double]

    public init(name: String, seconds: Double, iterations: [Int], finalValues: [Double]) {
        self.name = name; self.seconds = seconds; self.iterations = iterations; self.finalValues = finalValues
    }
}

/// The outcome of a registration. The fixed→moving map is `x ↦ affine(x + field(x))` (world mm,
/// RAS+); the inverse is `y ↦ z + inverseField(z)` with `z = affine⁻¹(y)`.
public struct RegistrationResult: Sendable {
    /// Fixed world → moving world, applied after the displacement (ANTs' order: warp, then affine).
    public var affine: AffineTransform
    /// Forward displacement `u` on the fixed grid (RAS mm): `exp(v)`.
    public var field: VectorField
    /// Inverse displacement on the fixed grid: `exp(-v)`, so `x + u(x) + w(x + u(x)) ≈ x`.
    public var inverseField: VectorField
    /// Stationary velocity `v` on the grid it was optimised on (`velocity.geometry`): the fixed
    /// grid, or a coarser one when the fixed grid has more than the stage's `maxFieldVoxels`
    /// (then `field` and `inverseField` interpolate `exp(±v)`). Zero without a deformable stage.
    public var velocity: VectorField
    /// Per stage, in order.
    public var stages: [StageReport]

    public init(affine: AffineTransform, field: VectorField, inverseField: VectorField, velocity: VectorField,
                stages: [StageReport]) {
        self.affine = affine; self.field = field; self.inverseField = inverseField; self.velocity = velocity
        self.stages = stages
    }
}

/// The registration engine: runs a plan's stages on a fixed and a moving volume.
public enum Registration {
    /// Registers `moving` to `fixed` (both in world space, any grids and orientations) by `plan`.
    /// Calls `observer` with progress events on the calling thread; checks `token` every iteration
    /// and throws `RegistrationError.cancelled` when it is set. Deterministic for given inputs and
    /// plan (parallel sums are added in a fixed order, whatever the thread count).
    /// `initialAffine` (fixed world → moving world, RAS mm), when given, is where the affine starts
    /// (ANTs' `--initial-moving-transform`) instead of the centre-of-mass alignment; without an
    /// affine stage it is the affine of the result. `prepared`, when made from these same two
    /// images (e.g. for `modalitiesDiffer(_:token:)`), supplies the rescaled images and the pyramid
    /// levels computed so far (same result, less work); it is used up.
    public static func register(fixed: Volume, moving: Volume, plan: RegistrationPlan,
                                initialAffine: AffineTransform? = nil, prepared: PreparedPair? = nil,
                                token: CancellationToken = CancellationToken(),
                                observer: (RegistrationEvent) -> Void = { _ in }) throws -> RegistrationResult {
        try withoutActuallyEscaping(observer) { observer in
            try run(fixed: fixed, moving: moving, plan: plan, initialAffine: initialAffine, prepared: prepared,
                    token: token, observer: observer)
        }
    }

    static func run(fixed: Volume, moving: Volume, plan: RegistrationPlan, initialAffine: AffineTransform? = nil,
                    prepared: PreparedPair? = nil,
                    token: CancellationToken, observer: @escaping (RegistrationEvent) -> Void) throws -> RegistrationResult {
        try validate(fixed, role: "fixed")
        try validate(moving, role: "moving")
        if fixed.geometry.isSingleSlice != moving.geometry.isSingleSlice {
            throw RegistrationError.incompatible("fixed image is \(fixed.geometry.isSingleSlice ? "2-D" : "3-D") (\(sizeText(fixed.size))) but moving image is \(moving.geometry.isSingleSlice ? "2-D" : "3-D") (\(sizeText(moving.size))); register 2-D with 2-D or 3-D with 3-D")
        }
        // 2-D images take the stages' single-slice settings (default preset: symmetric, levels).
        let plan = plan.resolved(for: fixed.geometry)
        for stage in plan.stages {
            if stage.levels.isEmpty { throw RegistrationError.invalidPlan("stage \(stage.name) has no levels") }
            if stage.levels.contains(where: { $0.shrink < 1 || $0.iterations < 0 || !($0.smoothingSigma >= 0) }) {
                throw RegistrationError.invalidPlan("stage \(stage.name): shrink factors must be ≥ 1, iterations and smoothing ≥ 0")
            }
        }
        // The set-up and the final fields check for cancellation too, so a stop request never
        // waits for more than one step of work.
        func checkCancelled() throws { if token.isCancelled { throw RegistrationError.cancelled } }
        let start = monotonicSeconds()
        let fg = fixed.geometry
        var affine = AffineWarp(centre: fg.centre)
        var velocity: (VolumeGeometry, FloatBuffer)?
        var reports: [StageReport] = []
        // Each stage's levels on this fixed grid (an affine stage's may be coarser than planned, `levels(on:)`).
        let stageLevels = plan.stages.map { $0.levels(on: fg) }
        // The pyramid (normalised images and their levels) lives only through the stages, so the
        // final full-resolution fields do not add to it.
        do {
            // `prepared` (the same two images, rescaled for the modality check) is taken over.
            let pyramid = prepared?.take(fixed: fixed, moving: moving)
                ?? Pyramid(fixed: Pyramid.normalised(fixed), moving: Pyramid.normalised(moving))
            try checkCancelled()
            if let initialAffine {
                affine = AffineWarp(centre: fg.centre, transform: initialAffine)
            } else if plan.alignCentresOfMass {
                let shift = centreOfMass(pyramid.moving) - centreOfMass(pyramid.fixed)
                affine.parameters[0] = shift.x; affine.parameters[1] = shift.y; affine.parameters[2] = shift.z
            }
            for (si, stage) in plan.stages.enumerated() {
                let t0 = monotonicSeconds()
                var iterations: [Int] = [], finals: [Double] = []
                let startAffine = affine
                let hadVelocity = velocity != nil
                let levels = stageLevels[si]
                for (li, level) in levels.enumerated() {
                    var ctx = LevelContext(stage: si, stageName: stage.name, level: li, levelCount: levels.count,
                                           shrink: level.shrink, start: start, token: token, observer: observer,
                                           snapshotInterval: plan.snapshotInterval)
                    // At full resolution only this level is kept (up to four full-size images
                    // fewer); a coarser level a later stage uses is computed again.
                    if Pyramid.isFull(level) { pyramid.retainOnly([level]) }
                    let values: [Double]
                    switch stage.kind {
                    case .affine:
                        values = try runAffineLevel(stage, level, pyramid, &affine, &ctx)
                    case .deformable:
                        values = try runDeformableLevel(stage, level, pyramid, affine.transform, &velocity, &ctx)
                    }
                    iterations.append(values.count)
                    finals.append(values.last ?? .nan)
                    // Free the cached images of levels nothing later uses (this stage's finest level
                    // with iterations is used again by the keep-the-best check below).
                    var later = Array(levels[(li + 1)...]) + stageLevels[(si + 1)...].flatMap { $0 }
                    if let last = levels.last(where: { $0.iterations > 0 }) { later.append(last) }
                    pyramid.retainOnly(later)
                }
                // Keep the best: the stage's result is compared with its starting point on the stage's
                // finest level with iterations; a stage never returns something worse than its start.
                if let last = levels.lastIndex(where: { $0.iterations > 0 }), let end = finals[last].isFinite ? finals[last] : nil {
                    try checkCancelled()
                    let level = levels[last]
                    switch stage.kind {
                    case .affine:
                        let before = startValue(stage, level, pyramid, affine: startAffine.transform)
                        if before < end { affine = startAffine; finals[last] = before }
                    case .deformable:
                        if !hadVelocity {
                            let before = startValue(stage, level, pyramid, affine: affine.transform)
                            if before < end { velocity = nil; finals[last] = before }
                        }
                    }
                }
                let secs = monotonicSeconds() - t0
                reports.append(StageReport(name: stage.name, seconds: secs, iterations: iterations, finalValues: finals))
                observer(.stageFinished(stage: si, name: stage.name, seconds: secs))
            }
        }
        // Final fields on the full-resolution fixed grid, written straight into the result's
        // arrays. A velocity on a coarser grid (a large image's capped field, and also the fast
        // preset's, whose last deformable level is shrink 2) is exponentiated there and its
        // exponentials interpolated, which is the map the last level optimised. Before 2026-12-07
        // the fast preset's velocity was resampled and exponentiated at full resolution instead
        // (its Dice moved by -0.002 to -0.003 on the real pairs with this change).
        let n3 = 3 * fg.voxelCount
        var u = [Float](repeating: 0, count: n3), w = u
        var velocityField = VectorField(zeroOn: fg)
        if let (g, buf) = velocity {
            velocity = nil
            if g != fg, let coarse = CoarseFieldWarp(grid: fg, fieldGrid: g, affine: affine.transform) {
                let nc = 3 * g.voxelCount
                let e = FloatBuffer(count: nc), scratch = FloatBuffer(count: nc)
                try checkCancelled()
                VelocityField.exponential(buf.pointer, sign: 1, grid: g, into: e.pointer, scratch: scratch.pointer)
                u.withUnsafeMutableBufferPointer { coarse.upsample(e.pointer, into: $0.baseAddress!) }
                try checkCancelled()
                VelocityField.exponential(buf.pointer, sign: -1, grid: g, into: e.pointer, scratch: scratch.pointer)
                w.withUnsafeMutableBufferPointer { coarse.upsample(e.pointer, into: $0.baseAddress!) }
                velocityField = VectorField(geometry: g, data: buf.array)
            } else {
                var v = [Float](repeating: 0, count: n3)
                v.withUnsafeMutableBufferPointer { vp in
                    if g == fg { vp.baseAddress!.update(from: buf.pointer, count: n3) } else {
                        FieldOps.resample(buf.pointer, from: g, to: fg, into: vp.baseAddress!)
                    }
                }
                let scratch = FloatBuffer(count: n3)
                try checkCancelled()
                v.withUnsafeBufferPointer { vp in
                    u.withUnsafeMutableBufferPointer {
                        VelocityField.exponential(vp.baseAddress!, sign: 1, grid: fg, into: $0.baseAddress!, scratch: scratch.pointer)
                    }
                }
                try checkCancelled()
                v.withUnsafeBufferPointer { vp in
                    w.withUnsafeMutableBufferPointer {
                        VelocityField.exponential(vp.baseAddress!, sign: -1, grid: fg, into: $0.baseAddress!, scratch: scratch.pointer)
                    }
                }
                velocityField = VectorField(geometry: fg, data: v)
            }
        }
        try checkCancelled()
        return RegistrationResult(affine: affine.transform, field: VectorField(geometry: fg, data: u),
                                  inverseField: VectorField(geometry: fg, data: w),
                                  velocity: velocityField, stages: reports)
    }

    static func sizeText(_ s: SIMD3<Int>) -> String { "\(s.x)x\(s.y)x\(s.z)" }

    /// Throws a `FileError` naming `path` when `volume` cannot be registered (NaN or infinite
    /// voxels, a constant image): the check commands make for each input file before any work.
    public static func checkRegistrable(_ volume: Volume, path: String) throws {
        do { try validate(volume, role: "") } catch RegistrationError.unusableImage(_, let reason) {
            throw FileError(path: path, reason: reason)
        }
    }

    /// Rejects non-finite voxels and constant images.
    static func validate(_ v: Volume, role: String) throws {
        var bad = 0
        var lo = Float.infinity, hi = -Float.infinity
        for x in v.voxels {
            if x.isFinite { lo = min(lo, x); hi = max(hi, x) } else { bad += 1 }
        }
        if bad > 0 {
            throw RegistrationError.unusableImage(role: role, reason: "has \(bad) NaN or infinite voxel\(bad == 1 ? "" : "s"); replace them (e.g. by 0) before registering")
        }
        if !(hi > lo) {
            throw RegistrationError.unusableImage(role: role, reason: "is constant (every voxel is \(lo)); there is nothing to align")
        }
    }

    /// Intensity-weighted centre of mass in world mm (intensities already in [0, 1]).
    static func centreOfMass(_ v: Volume) -> SIMD3<Double> {
        var sum = SIMD3<Double>.zero, mass = 0.0
        let g = v.geometry
        for k in 0..<g.size.z { for j in 0..<g.size.y { for i in 0..<g.size.x {
            let m = Double(v.voxels[g.index(i, j, k)])
            if m > 0 { sum += m * SIMD3(Double(i), Double(j), Double(k)); mass += m }
        } } }
        return g.world(ofVoxel: mass > 0 ? sum / mass : SIMD3<Double>(g.size &- 1) / 2)
    }

    /// What a level loop reports to, and how it is stopped.
    struct LevelContext {
        var stage: Int, stageName: String, level: Int, levelCount: Int, shrink: Int
        var start: Double
        var token: CancellationToken
        var observer: (RegistrationEvent) -> Void
        var snapshotInterval: Int

        func progress(_ it: Int, _ value: Double) -> RegistrationProgress {
            RegistrationProgress(stage: stage, stageName: stageName, level: level, levelCount: levelCount, shrink: shrink,
                                 iteration: it, value: value, elapsed: monotonicSeconds() - start)
        }

        func checkCancelled() throws { if token.isCancelled { throw RegistrationError.cancelled } }
    }

    /// Monotone gradient descent on the 12 affine parameters, with the linear part scaled by the
    /// grid's RMS radius so every step is a length in mm: a step that lowers the value is kept and
    /// the next one grows by 20 %; one that does not is undone and the step halved (a backtracking
    /// line search). Stops at `iterations`, a step below 0.001 mm, or by the slope criterion.
    static func runAffineLevel(_ stage: RegistrationStage, _ level: PyramidLevel, _ pyramid: Pyramid,
                               _ affine: inout AffineWarp, _ ctx: inout LevelContext) throws -> [Double] {
        guard level.iterations > 0 else { return [] }
        let (grid, fixedBuf) = pyramid.fixedLevel(level)
        let moving = pyramid.movingLevel(level)
        try ctx.checkCancelled()
        let n = grid.voxelCount
        let metric = stage.metric.make(sharing: fixedBuf, size: grid.size, radii: Pyramid.radii(stage.lnccRadius, grid))
        let warped = FloatBuffer(count: n), dvalue = FloatBuffer(count: n), mg = FloatBuffer(count: 3 * n)
        let ext = SIMD3<Double>(fixedExtent(grid))
        let radius = max(((ext * ext).sum() / 12).squareRoot(), 1)
        var step = stage.learningRate * Double(level.shrink)
        let minStep = 1e-3
        var best = affine
        var bestValue = Double.infinity
        var bestGradient: [Double] = []
        var values: [Double] = []
        for it in 1...level.iterations {
            try ctx.checkCancelled()
            affine.warp(moving, onto: grid, into: warped.pointer, movingGradient: mg.pointer)
            let value = metric.evaluate(warped: warped.pointer, gradient: dvalue.pointer)
            if value < bestValue {
                var g = affine.gradient(dValue: dvalue.pointer, movingGradient: mg.pointer, grid: grid)
                for p in 3..<12 { g[p] /= radius }
                if !bestGradient.isEmpty { step *= 1.2 }
                best = affine; bestValue = value; bestGradient = g
            } else {
                step *= 0.5
            }
            values.append(bestValue)
            let progress = ctx.progress(it, bestValue)
            ctx.observer(.iteration(progress))
            if ctx.snapshotInterval > 0 && it % ctx.snapshotInterval == 0 { ctx.observer(.affine(progress, best.transform)) }
            let norm = bestGradient.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0, norm.isFinite, step >= minStep else { break }
            if stage.convergence.hasConverged(values) { break }
            affine = best
            for p in 0..<3 { affine.parameters[p] -= step * bestGradient[p] / norm }
            for p in 3..<12 { affine.parameters[p] -= step * bestGradient[p] / norm / radius }
        }
        affine = best
        return values
    }

    /// The objective of `stage` at `level` for the affine alone (no displacement).
    static func startValue(_ stage: RegistrationStage, _ level: PyramidLevel, _ pyramid: Pyramid,
                           affine: AffineTransform) -> Double {
        let (grid, fixedBuf) = pyramid.fixedLevel(level)
        let n = grid.voxelCount
        let metric = stage.metric.make(sharing: fixedBuf, size: grid.size, radii: Pyramid.radii(stage.lnccRadius, grid))
        let warped = FloatBuffer(count: n)
        AffineWarp(centre: grid.centre, transform: affine).warp(pyramid.movingLevel(level), onto: grid,
                                                                into: warped.pointer, movingGradient: nil)
        return metric.evaluate(warped: warped.pointer, gradient: nil)
    }

    /// Physical extent (mm) of a grid along each voxel axis.
    static func fixedExtent(_ g: VolumeGeometry) -> SIMD3<Double> {
        SIMD3<Double>(g.size) * g.spacing
    }

    /// Greedy diffeomorphic descent on a stationary velocity field: per iteration `u = exp(v)`, the
    /// similarity gradient with respect to `u` (plus the diffusion penalty's), smoothed ("fluid"),
    /// scaled so its largest vector is `learningRate` voxels, added to `v`, which is smoothed
    /// ("elastic").
    static func runDeformableLevel(_ stage: RegistrationStage, _ level: PyramidLevel, _ pyramid: Pyramid,
                                   _ affine: AffineTransform, _ velocity: inout (VolumeGeometry, FloatBuffer)?,
                                   _ ctx: inout LevelContext) throws -> [Double] {
        let (grid, fixedBuf) = pyramid.fixedLevel(level)
        let n = grid.voxelCount
        let fieldGrid = CoarseFieldWarp.fieldGrid(full: pyramid.fixed.geometry, shrink: level.shrink,
                                                  maxVoxels: stage.maxFieldVoxels)
        if fieldGrid.size != grid.size,
           let coarse = CoarseFieldWarp(grid: grid, fieldGrid: fieldGrid, affine: affine) {
            return try runCoarseFieldLevel(stage, level, pyramid, coarse, fixedBuf, &velocity, &ctx)
        }
        let v = FloatBuffer(count: 3 * n)
        if let (g, buf) = velocity {
            FieldOps.resample(buf.pointer, from: g, to: grid, into: v.pointer)
        }
        velocity = (grid, v)
        guard level.iterations > 0 else { return [] }
        if ctx.snapshotInterval > 0 { ctx.observer(.affine(ctx.progress(0, .nan), affine)) }
        let moving = pyramid.movingLevel(level)
        try ctx.checkCancelled()
        if stage.symmetric && stage.stepAndRegularisation(at: level).regularisation.diffusionWeight == 0 {
            return try runSymmetricLevel(stage, level, pyramid, affine, grid: grid, fixedBuf: fixedBuf, v: v, &ctx)
        }
        let metric = stage.metric.make(sharing: fixedBuf, size: grid.size, radii: Pyramid.radii(stage.lnccRadius, grid))
        let warp = DisplacementWarp(grid: grid, affine: affine)
        // One 3 × n buffer serves as the exponential's scratch, then the moving gradient, then (in
        // place) the similarity gradient: each use ends before the next begins.
        let u = FloatBuffer(count: 3 * n), scratch3 = FloatBuffer(count: 3 * n)
        let grad = scratch3, mg = scratch3
        let warped = FloatBuffer(count: n), dvalue = FloatBuffer(count: n)
        let scratch = FloatBuffer(count: n)
        let reg = stage.stepAndRegularisation(at: level).regularisation
        func objective(gradient: Bool) -> Double {
            VelocityField.exponential(v.pointer, grid: grid, into: u.pointer, scratch: scratch3.pointer)
            warp.warp(moving, field: u.pointer, into: warped.pointer, movingGradient: gradient ? mg.pointer : nil)
            var value = metric.evaluate(warped: warped.pointer, gradient: gradient ? dvalue.pointer : nil)
            if gradient { warp.gradient(dValue: dvalue.pointer, movingGradient: mg.pointer, into: grad.pointer) }
            if reg.diffusionWeight > 0 {
                value += reg.diffusionWeight * DiffusionPenalty.evaluate(u.pointer, grid: grid, weight: reg.diffusionWeight,
                                                                         addGradientTo: gradient ? grad.pointer : nil)
            }
            return value
        }
        return try descend(stage, level, v: v, u: u, grad: grad, scratch: scratch,
                           fieldGrid: grid, lengthScale: 1, &ctx, objective: objective)
    }

    /// A deformable level whose velocity lives on a coarser grid than its metric (`CoarseFieldWarp`):
    /// the same greedy descent as `runDeformableLevel`, with `exp(v)` on the field grid, the warp
    /// and the metric on every voxel of the level grid, and the similarity gradient carried to the
    /// field grid by the interpolation's adjoint. Memory: the metric's volumes plus the warped
    /// image and its derivative at the level grid; every vector field at the field grid.
    static func runCoarseFieldLevel(_ stage: RegistrationStage, _ level: PyramidLevel, _ pyramid: Pyramid,
                                    _ warp: CoarseFieldWarp, _ fixedBuf: FloatBuffer,
                                    _ velocity: inout (VolumeGeometry, FloatBuffer)?,
                                    _ ctx: inout LevelContext) throws -> [Double] {
        let grid = warp.grid, fieldGrid = warp.fieldGrid
        let n = grid.voxelCount, nf = fieldGrid.voxelCount
        let v = FloatBuffer(count: 3 * nf)
        if let (g, buf) = velocity {
            if g == fieldGrid { v.pointer.update(from: buf.pointer, count: 3 * nf) } else {
                FieldOps.resample(buf.pointer, from: g, to: fieldGrid, into: v.pointer)
            }
        }
        velocity = (fieldGrid, v)
        guard level.iterations > 0 else { return [] }
        if ctx.snapshotInterval > 0 { ctx.observer(.affine(ctx.progress(0, .nan), warp.affine)) }
        let moving = pyramid.movingLevel(level)
        try ctx.checkCancelled()
        let metric = stage.metric.make(sharing: fixedBuf, size: grid.size, radii: Pyramid.radii(stage.lnccRadius, grid))
        let u = FloatBuffer(count: 3 * nf), grad = FloatBuffer(count: 3 * nf), scratch3 = FloatBuffer(count: 3 * nf)
        // The metric's gradient overwrites the warped image, which is not needed after it.
        let warped = FloatBuffer(count: n), dvalue = warped
        let scratch = FloatBuffer(count: nf)
        let reg = stage.stepAndRegularisation(at: level).regularisation
        // Smoothing lengths are in voxels of the level grid's finest axis (as on a full field).
        let spacingRatio = Pyramid.finestSpacing(grid) / Pyramid.finestSpacing(fieldGrid)
        func objective(gradient: Bool) -> Double {
            VelocityField.exponential(v.pointer, grid: fieldGrid, into: u.pointer, scratch: scratch3.pointer)
            warp.warp(moving, field: u.pointer, into: warped.pointer)
            var value = metric.evaluate(warped: warped.pointer, gradient: gradient ? dvalue.pointer : nil)
            if gradient { warp.gradient(moving, field: u.pointer, dValue: dvalue.pointer, into: grad.pointer) }
            if reg.diffusionWeight > 0 {
                value += reg.diffusionWeight * DiffusionPenalty.evaluate(u.pointer, grid: fieldGrid, weight: reg.diffusionWeight,
                                                                         addGradientTo: gradient ? grad.pointer : nil)
            }
            return value
        }
        return try descend(stage, level, v: v, u: u, grad: grad, scratch: scratch,
                           fieldGrid: fieldGrid, lengthScale: spacingRatio, &ctx, objective: objective)
    }

    /// The greedy descent both deformable levels run on a velocity `v` on `fieldGrid`, with the
    /// level's step and regularisation (`RegistrationStage.stepAndRegularisation(at:)`):
    /// `objective(true)` evaluates `exp(v)` into `u` and the similarity gradient into `grad`; the
    /// gradient is smoothed ("fluid"), scaled so its largest vector is `learningRate` voxels of the
    /// level grid, added to `v`, which is smoothed ("elastic"). `lengthScale` is the level grid's
    /// finest spacing over the field grid's (1 for a full-resolution field): smoothing lengths and
    /// the step stay in level-grid voxels. Keep the best: every step is taken (as in ANTs and
    /// Greedy; undoing and halving worse steps cost 0.015 mean Dice on the real pairs), but the
    /// level ends at the best velocity it evaluated, so it never returns something worse than
    /// where it started; the last value returned is that best value.
    static func descend(_ stage: RegistrationStage, _ level: PyramidLevel, v: FloatBuffer, u: FloatBuffer,
                        grad: FloatBuffer, scratch: FloatBuffer, fieldGrid: VolumeGeometry, lengthScale ratio: Double,
                        _ ctx: inout LevelContext, objective: (_ gradient: Bool) -> Double) throws -> [Double] {
        let count = 3 * fieldGrid.voxelCount
        let iterations = level.iterations
        let (learningRate, reg) = stage.stepAndRegularisation(at: level)
        let vBest = FloatBuffer(count: count)
        vBest.pointer.update(from: v.pointer, count: count)
        var bestValue = Double.infinity
        var values: [Double] = []
        var pendingUnevaluated = false
        for it in 1...iterations {
            try ctx.checkCancelled()
            let value = objective(true)
            pendingUnevaluated = false
            guard value.isFinite else { break }
            if value <= bestValue {
                bestValue = value
                vBest.pointer.update(from: v.pointer, count: count)
            }
            values.append(value)
            let progress = ctx.progress(it, value)
            ctx.observer(.iteration(progress))
            if ctx.snapshotInterval > 0 && it % ctx.snapshotInterval == 0 {
                ctx.observer(.snapshot(progress, VectorField(geometry: fieldGrid, data: u.array)))
            }
            FieldOps.smoothPhysical(grad.pointer, grid: fieldGrid, sigma: reg.updateSigma * ratio, scratch: scratch.pointer)
            let maxNorm = FieldOps.maxFinestVoxelNorm(grad.pointer, grid: fieldGrid) / ratio
            guard maxNorm > 0, maxNorm.isFinite else { break }
            let scale = Float(-learningRate / maxNorm)
            FieldOps.addScaled(grad.pointer, scale: scale, to: v.pointer, count: count)
            FieldOps.smoothPhysical(v.pointer, grid: fieldGrid, sigma: reg.fieldSigma * ratio, scratch: scratch.pointer)
            pendingUnevaluated = true
            if stage.convergence.hasConverged(values) { break }
        }
        // The last step has not been evaluated yet: keep it only if it is better.
        if pendingUnevaluated {
            try ctx.checkCancelled()
            let last = objective(false)
            if last <= bestValue { bestValue = last } else { v.pointer.update(from: vBest.pointer, count: count) }
        } else {
            v.pointer.update(from: vBest.pointer, count: count)
        }
        // The level's result is its best value (the stage compares it with its start).
        if !values.isEmpty { values[values.count - 1] = bestValue }
        return values
    }
}
