import VolumeCore

/// The affine transformation `x ↦ L (x - c) + c + t` from fixed world to moving world (RAS mm),
/// with its 12 parameters `[t (3, mm), L (9, row-major)]` and its chain rule.
public struct AffineWarp: Sendable, Equatable {
    /// Fixed-space world point the linear part acts about (mm); not optimised.
    public var centre: SIMD3<Double>
    /// `[tx, ty, tz, L00, L01, L02, L10, ..., L22]`.
    public var parameters: [Double]

    /// The identity about `centre`.
    public init(centre: SIMD3<Double>) {
        self.centre = centre
        parameters = [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]
    }

    /// The parameters about `centre` that give `transform` (fixed world → moving world):
    /// `L` its linear part, `t = a + L c - c` with `a` its translation.
    public init(centre: SIMD3<Double>, transform: AffineTransform) {
        self.centre = centre
        let t = transform.translation + transform.applyLinear(centre) - centre
        parameters = [t.x, t.y, t.z]
        for r in 0..<3 { for c in 0..<3 { parameters.append(transform[r, c]) } }
    }

    /// The map as an `AffineTransform` (fixed world → moving world).
    public var transform: AffineTransform {
        var a = AffineTransform.identity
        for r in 0..<3 { for c in 0..<3 { a[r, c] = parameters[3 + 3 * r + c] } }
        let lc = a.applyLinear(centre)
        let t = SIMD3(parameters[0], parameters[1], parameters[2])
        a.translation = centre + t - lc
        return a
    }

    /// Samples `moving` through the map at every voxel of `grid` into `warped`; when
    /// `movingGradient` is given (3 × voxels, component-major) also stores the moving image's
    /// world-space gradient (per mm) at the mapped points.
    public func warp(_ moving: MovingImage, onto grid: VolumeGeometry, into warped: UnsafeMutablePointer<Float>,
                     movingGradient: UnsafeMutablePointer<Float>?) {
        let toVoxel = moving.worldToVoxel.composed(after: transform)
        let m = moving.voxels.pointer, ms = moving.size
        let n = grid.voxelCount
        let w2v = moving.worldToVoxel
        forEachVoxel(of: grid) { i, p in
            let (v, g) = Trilinear.sampleWithGradient(m, ms, toVoxel.apply(p))
            warped[i] = v
            if let mg = movingGradient {
                let gw = w2v.applyLinearTransposed(g)
                mg[i] = gw.x; mg[n + i] = gw.y; mg[2 * n + i] = gw.z
            }
        }
    }

    /// ∂value/∂parameters from ∂value/∂warped and the moving gradient `warp` stored.
    public func gradient(dValue: UnsafePointer<Float>, movingGradient mg: UnsafePointer<Float>,
                         grid: VolumeGeometry) -> [Double] {
        let n = grid.voxelCount, s = grid.size
        let rows = s.y * s.z
        var partial = [Double](repeating: 0, count: 12 * rows)
        let a = grid.affine, c = centre
        partial.withUnsafeMutableBufferPointer { out in
            parallelFor(rows) { row in
                let j = row % s.y, k = row / s.y
                var acc = [Double](repeating: 0, count: 12)
                for i in 0..<s.x {
                    let idx = row * s.x + i
                    let d = Double(dValue[idx])
                    if d == 0 { continue }
                    let g = SIMD3(Double(mg[idx]), Double(mg[n + idx]), Double(mg[2 * n + idx])) * d
                    let q = a.apply(SIMD3(Double(i), Double(j), Double(k))) - c
                    acc[0] += g.x; acc[1] += g.y; acc[2] += g.z
                    for r in 0..<3 { for col in 0..<3 { acc[3 + 3 * r + col] += g[r] * q[col] } }
                }
                for p in 0..<12 { out[12 * row + p] = acc[p] }
            }
        }
        var total = [Double](repeating: 0, count: 12)
        for row in 0..<rows { for p in 0..<12 { total[p] += partial[12 * row + p] } }
        return total
    }
}
