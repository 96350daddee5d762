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
    /// (3 × voxels) also stores `Aᵀ ∇M` (per mm, fixed world axes) there.
    public func warp(_ moving: MovingImage, field u: UnsafePointer<Float>, into warped: UnsafeMutablePointer<Float>,
                     movingGradient: UnsafeMutablePointer<Float>?) {
        let toVoxel = moving.worldToVoxel.composed(after: affine)
        let m = moving.voxels.pointer, ms = moving.size
        let n = grid.voxelCount
        forEachVoxel(of: grid) { i, p in
            let x = p + SIMD3(Double(u[i]), Double(u[n + i]), Double(u[2 * n + i]))
            let (v, g) = Trilinear.sampleWithGradient(m, ms, toVoxel.apply(x))
            warped[i] = v
            if let mg = movingGradient {
                let gw = toVoxel.applyLinearTransposed(g)
                mg[i] = gw.x; mg[n + i] = gw.y; mg[2 * n + i] = gw.z
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
