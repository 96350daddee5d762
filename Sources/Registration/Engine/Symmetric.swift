import VolumeCore

extension Registration {
    /// Symmetric normalisation on a full (uncapped) field grid, as ANTs SyN and Greedy's symmetric
    /// mode: both images are deformed half way into a middle space, the fixed one by
    /// `exp(-v/2)` and the moving one by `exp(v/2)` (then the affine), and the metric compares the
    /// two there. The whole map is still `exp(v)` = `exp(v/2) ∘ exp(v/2)`, so the velocity means
    /// the same as in the asymmetric level and the levels before and after need not know.
    /// The update direction is `½ ∂value/∂u_moving − ½ ∂value/∂u_fixed` (the log-demons
    /// approximation on each half), the gradient with respect to the warped fixed image coming from
    /// the metric with the two images' roles swapped; the step, smoothing and keep-the-best are
    /// `descend`'s. Costs about twice an asymmetric iteration (two exponentials, two warps, two
    /// metric gradients). `u` receives `exp(v)` only for snapshots.
    static func runSymmetricLevel(_ stage: RegistrationStage, _ level: PyramidLevel, _ pyramid: Pyramid,
                                  _ affine: AffineTransform, grid: VolumeGeometry, fixedBuf: FloatBuffer,
                                  v: FloatBuffer, _ ctx: inout LevelContext) throws -> [Double] {
        let n = grid.voxelCount
        let moving = pyramid.movingLevel(level)
        try ctx.checkCancelled()
        let fixedImage = MovingImage(voxels: fixedBuf, size: grid.size, worldToVoxel: grid.affine.inverse ?? .identity)
        let radii = Pyramid.radii(stage.lnccRadius, grid)
        let fixedWarp = DisplacementWarp(grid: grid, affine: .identity)
        let movingWarp = DisplacementWarp(grid: grid, affine: affine)
        let uf = FloatBuffer(count: 3 * n), um = FloatBuffer(count: 3 * n), scratch3 = FloatBuffer(count: 3 * n)
        let gf = FloatBuffer(count: 3 * n), gm = FloatBuffer(count: 3 * n), grad = FloatBuffer(count: 3 * n)
        let wf = FloatBuffer(count: n), wm = FloatBuffer(count: n), df = FloatBuffer(count: n), dm = FloatBuffer(count: n)
        let scratch = FloatBuffer(count: n)
        let snapshots = ctx.snapshotInterval > 0
        let full = snapshots ? FloatBuffer(count: 3 * n) : um
        // The deformed images change every iteration, so the metric's fixed side does too. LNCC
        // keeps one metric on each warped image for the level and recomputes its window sums of
        // the new image (`fixedImageChanged`, the same numbers as a new metric, without allocating
        // its five volumes per iteration); the other metrics are built on the images each time.
        let onFixed = stage.metric == .lncc ? LocalCorrelationMetric(sharing: wf, size: grid.size, radii: radii) : nil
        let onMoving = stage.metric == .lncc ? LocalCorrelationMetric(sharing: wm, size: grid.size, radii: radii) : nil
        func metric(on image: FloatBuffer, _ reused: LocalCorrelationMetric?) -> SimilarityMetric {
            if let reused { reused.fixedImageChanged(); return reused }
            return stage.metric.make(sharing: image, size: grid.size, radii: radii)
        }
        func objective(gradient: Bool) -> Double {
            VelocityField.exponential(v.pointer, sign: 0.5, grid: grid, into: um.pointer, scratch: scratch3.pointer)
            VelocityField.exponential(v.pointer, sign: -0.5, grid: grid, into: uf.pointer, scratch: scratch3.pointer)
            if snapshots { VelocityField.exponential(v.pointer, grid: grid, into: full.pointer, scratch: scratch3.pointer) }
            fixedWarp.warp(fixedImage, field: uf.pointer, into: wf.pointer, movingGradient: gradient ? gf.pointer : nil)
            movingWarp.warp(moving, field: um.pointer, into: wm.pointer, movingGradient: gradient ? gm.pointer : nil)
            let value = metric(on: wf, onFixed).evaluate(warped: wm.pointer, gradient: gradient ? dm.pointer : nil)
            if gradient {
                let swapped = metric(on: wm, onMoving)
                _ = swapped.evaluate(warped: wf.pointer, gradient: df.pointer)
                let g = grad.pointer, a = gm.pointer, b = gf.pointer, da = dm.pointer, db = df.pointer
                parallelChunks(n) { lo, hi in
                    for i in lo..<hi {
                        let s = 0.5 * da[i], t = 0.5 * db[i]
                        g[i] = s * a[i] - t * b[i]
                        g[n + i] = s * a[n + i] - t * b[n + i]
                        g[2 * n + i] = s * a[2 * n + i] - t * b[2 * n + i]
                    }
                }
            }
            return value
        }
        return try descend(stage, level, v: v, u: full, grad: grad, scratch: scratch,
                           fieldGrid: grid, lengthScale: 1, &ctx, objective: objective)
    }
}
