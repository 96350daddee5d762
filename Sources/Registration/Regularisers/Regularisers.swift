import VolumeCore

/// Diffusion regulariser as a penalty: `R(u) = (1/N) Σ_x Σ_a |u(x + e_a) - u(x)|² / h_a²`
/// (forward differences between neighbours inside the grid, `h_a` the voxel spacing in mm along
/// voxel axis `a`), i.e. the mean squared Jacobian of the displacement (per mm²). Exact gradient.
public enum DiffusionPenalty {
    /// Value of the penalty; adds `weight · ∂R/∂u` to `gradient` when it is given.
    public static func evaluate(_ u: UnsafePointer<Float>, grid: VolumeGeometry, weight: Double = 1,
                                addGradientTo gradient: UnsafeMutablePointer<Float>?) -> Double {
        let n = grid.voxelCount, s = grid.size
        let sp = grid.spacing
        let strides = [1, s.x, s.x * s.y]
        let invH2 = (0..<3).map { Float(1 / (sp[$0] * sp[$0])) }
        let scale = 1 / Double(n)
        let gw = Float(weight * scale)
        // Each voxel gathers its differences to both neighbours, so writes stay disjoint.
        let rows = s.y * s.z
        var partial = [Double](repeating: 0, count: rows)
        partial.withUnsafeMutableBufferPointer { out in
            parallelFor(rows) { row in
                let j = row % s.y, k = row / s.y
                var acc = 0.0
                for i in 0..<s.x {
                    let idx = row * s.x + i
                    let coord = [i, j, k]
                    for a in 0..<3 where s[a] > 1 {
                        let hasNext = coord[a] + 1 < s[a], hasPrev = coord[a] > 0
                        for c in 0..<3 {
                            let here = u[c * n + idx]
                            if hasNext {
                                let d = u[c * n + idx + strides[a]] - here
                                acc += Double(d * d * invH2[a])
                                if let g = gradient { g[c * n + idx] -= 2 * gw * d * invH2[a] }
                            }
                            if hasPrev, let g = gradient {
                                let d = here - u[c * n + idx - strides[a]]
                                g[c * n + idx] += 2 * gw * d * invH2[a]
                            }
                        }
                    }
                }
                out[row] = acc
            }
        }
        return partial.reduce(0, +) * scale
    }
}

/// Regularisation of a deformable stage: Gaussian smoothing as update rules (ANTs SyN / demons)
/// plus an optional diffusion penalty in the objective (VoxelMorph's `λ ‖∇u‖²`).
public struct Regularisation: Sendable, Equatable, Codable {
    /// Sigma (voxels of the level grid) of the Gaussian applied to each gradient update ("fluid").
    public var updateSigma: Double
    /// Sigma (voxels) of the Gaussian applied to the whole velocity field after each update ("elastic").
    public var fieldSigma: Double
    /// Weight λ of the diffusion penalty added to the similarity (0 = none).
    public var diffusionWeight: Double

    public init(updateSigma: Double = 2, fieldSigma: Double = 0.75, diffusionWeight: Double = 0) {
        self.updateSigma = updateSigma; self.fieldSigma = fieldSigma; self.diffusionWeight = diffusionWeight
    }
}
