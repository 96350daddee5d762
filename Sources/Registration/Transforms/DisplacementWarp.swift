import VolumeCore

/// A dense displacement field `u` on a fixed grid (world mm, RAS+, component-major) followed by an
/// affine: fixed point `x ↦ A(x + u(x))` in moving world space. Owns warping and the chain rule
/// `∂value/∂u(x) = ∂value/∂W(x) · ∇(M∘A)(x + u(x))`.
public struct DisplacementWarp {
    /// The grid `u` lives on.
    public let grid: VolumeGeometry
    /// Fixed world → moving world applied after the displacement.
    public let affine: AffineTransform

    public init(grid: VolumeGeometry, affine: AffineTransform) { self.grid = grid; self.affine = affine }

    /// Samples `moving` at `A(x + u(x))` for every voxel into `warped`; with `movingGradient`
    /// (3 × voxels) also stores `Aᵀ ∇M` (per mm, fixed world axes) there. One loop per row with
    /// the maps written out (the same operations as `forEachVoxel`, `AffineTransform.apply` and
    /// `applyLinearTransposed`, so the same values), the sampling inlined.
    public func warp(_ moving: MovingImage, field u: UnsafePointer<Float>, into warped: UnsafeMutablePointer<Float>,
                     movingGradient: UnsafeMutablePointer<Float>?) {
        let toVoxel = moving.worldToVoxel.composed(after: affine)
        let m = moving.voxels.pointer, ms = moving.size
        let n = grid.voxelCount, s = grid.size, a = grid.affine
        let step = a.column(0)
        let r0 = toVoxel.rows.0, r1 = toVoxel.rows.1, r2 = toVoxel.rows.2
        // Columns of the transposed linear part, in single precision (as `applyLinearTransposed`).
        let t0 = SIMD3<Float>(Float(r0.x), Float(r0.y), Float(r0.z))
        let t1 = SIMD3<Float>(Float(r1.x), Float(r1.y), Float(r1.z))
        let t2 = SIMD3<Float>(Float(r2.x), Float(r2.y), Float(r2.z))
        parallelFor(s.y * s.z) { row in
            let j = row % s.y, k = row / s.y
            var p = a.apply(SIMD3(0, Double(j), Double(k)))
            let base = s.x &* row
            @inline(__always) func sample(_ idx: Int) -> (Float, SIMD3<Float>) {
                let x = p + SIMD3(Double(u[idx]), Double(u[n &+ idx]), Double(u[2 &* n &+ idx]))
                let h = SIMD4(x.x, x.y, x.z, 1)
                let q = SIMD3((r0 * h).sum(), (r1 * h).sum(), (r2 * h).sum())
                return Trilinear.sampleWithGradient(m, ms, q)
            }
            if let mg = movingGradient {
                for i in 0..<s.x {
                    let idx = base &+ i
                    let (v, g) = sample(idx)
                    warped[idx] = v
                    mg[idx] = t0.x * g.x + t1.x * g.y + t2.x * g.z
                    mg[n &+ idx] = t0.y * g.x + t1.y * g.y + t2.y * g.z
                    mg[2 &* n &+ idx] = t0.z * g.x + t1.z * g.y + t2.z * g.z
                    p += step
                }
            } else {
                for i in 0..<s.x {
                    warped[base &+ i] = sample(base &+ i).0
                    p += step
                }
            }
        }
    }

    /// `∂value/∂u` (3 × voxels) from `∂value/∂W` and the stored moving gradient, into `out`.
    public func gradient(dValue: UnsafePointer<Float>, movingGradient mg: UnsafePointer<Float>,
                         into out: UnsafeMutablePointer<Float>) {
        let n = grid.voxelCount
        parallelChunks(n) { lo, hi in
            for i in lo..<hi {
                let d = dValue[i]
                out[i] = d * mg[i]; out[n + i] = d * mg[n + i]; out[2 * n + i] = d * mg[2 * n + i]
            }
        }
    }
}
