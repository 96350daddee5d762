import VolumeCore

/// Trilinear interpolation with its exact derivative, for the warping hot loops.
public enum Trilinear {
    /// Value and gradient (per voxel step along i, j, k) of the trilinear interpolant of `buf` at
    /// continuous voxel coordinate `p`. Outside the grid (beyond half a voxel) returns `(0, 0)`;
    /// within half a voxel of the border the coordinate is clamped, so the derivative along that
    /// axis is 0 there, as is the derivative along a singleton axis.
    @inlinable @inline(__always)
    public static func sampleWithGradient(_ buf: UnsafePointer<Float>, _ size: SIMD3<Int>, _ p: SIMD3<Double>)
        -> (value: Float, gradient: SIMD3<Float>) {
        let nx = size.x, ny = size.y, nz = size.z
        var x = p.x, y = p.y, z = p.z
        if !(x >= -0.5 && y >= -0.5 && z >= -0.5 && x <= Double(nx) - 0.5 && y <= Double(ny) - 0.5
            && z <= Double(nz) - 0.5) {
            return (0, .zero)
        }
        var gx: Float = 1, gy: Float = 1, gz: Float = 1
        if x < 0 { x = 0; gx = 0 } else if x > Double(nx - 1) { x = Double(nx - 1); gx = 0 }
        if y < 0 { y = 0; gy = 0 } else if y > Double(ny - 1) { y = Double(ny - 1); gy = 0 }
        if z < 0 { z = 0; gz = 0 } else if z > Double(nz - 1) { z = Double(nz - 1); gz = 0 }
        let x0 = min(Int(x), max(nx - 2, 0)), y0 = min(Int(y), max(ny - 2, 0)), z0 = min(Int(z), max(nz - 2, 0))
        let fx = Float(x - Double(x0)), fy = Float(y - Double(y0)), fz = Float(z - Double(z0))
        let dx = nx > 1 ? 1 : 0, dy = ny > 1 ? nx : 0, dz = nz > 1 ? nx * ny : 0
        if nx == 1 { gx = 0 }
        if ny == 1 { gy = 0 }
        if nz == 1 { gz = 0 }
        let b = buf + (x0 + nx * (y0 + ny * z0))
        let c000 = b[0], c100 = b[dx], c010 = b[dy], c110 = b[dx + dy]
        let c001 = b[dz], c101 = b[dx + dz], c011 = b[dy + dz], c111 = b[dx + dy + dz]
        let c00 = c000 + (c100 - c000) * fx, c10 = c010 + (c110 - c010) * fx
        let c01 = c001 + (c101 - c001) * fx, c11 = c011 + (c111 - c011) * fx
        let c0 = c00 + (c10 - c00) * fy, c1 = c01 + (c11 - c01) * fy
        let v = c0 + (c1 - c0) * fz
        // d/dx: differences along x interpolated in y and z; likewise for y and z.
        let ex0 = (c100 - c000) + ((c110 - c010) - (c100 - c000)) * fy
        let ex1 = (c101 - c001) + ((c111 - c011) - (c101 - c001)) * fy
        let ddx = ex0 + (ex1 - ex0) * fz
        let ddy = (c10 - c00) + ((c11 - c01) - (c10 - c00)) * fz
        let ddz = c1 - c0
        return (v, SIMD3(ddx * gx, ddy * gy, ddz * gz))
    }

    /// Trilinear sample of a 3-component, component-major field (`stride` values per component) at
    /// continuous voxel `p`, clamped to the grid (constant extrapolation beyond the border).
    @inlinable
    public static func sampleVector(_ buf: UnsafePointer<Float>, stride: Int, _ size: SIMD3<Int>,
                                    _ p: SIMD3<Double>) -> SIMD3<Float> {
        let nx = size.x, ny = size.y, nz = size.z
        let x = min(max(p.x, 0), Double(nx - 1)), y = min(max(p.y, 0), Double(ny - 1))
        let z = min(max(p.z, 0), Double(nz - 1))
        let x0 = min(Int(x), max(nx - 2, 0)), y0 = min(Int(y), max(ny - 2, 0)), z0 = min(Int(z), max(nz - 2, 0))
        let fx = Float(x - Double(x0)), fy = Float(y - Double(y0)), fz = Float(z - Double(z0))
        let dx = nx > 1 ? 1 : 0, dy = ny > 1 ? nx : 0, dz = nz > 1 ? nx * ny : 0
        let w000 = (1 - fx) * (1 - fy) * (1 - fz), w100 = fx * (1 - fy) * (1 - fz)
        let w010 = (1 - fx) * fy * (1 - fz), w110 = fx * fy * (1 - fz)
        let w001 = (1 - fx) * (1 - fy) * fz, w101 = fx * (1 - fy) * fz
        let w011 = (1 - fx) * fy * fz, w111 = fx * fy * fz
        let base = x0 + nx * (y0 + ny * z0)
        var out = SIMD3<Float>.zero
        for c in 0..<3 {
            let b = buf + (c * stride + base)
            out[c] = w000 * b[0] + w100 * b[dx] + w010 * b[dy] + w110 * b[dx + dy]
                + w001 * b[dz] + w101 * b[dx + dz] + w011 * b[dy + dz] + w111 * b[dx + dy + dz]
        }
        return out
    }
}

extension SIMD3 where Scalar == Float {
    /// Converts to double precision.
    @inlinable var double: SIMD3<Double> { SIMD3<Double>(Double(x), Double(y), Double(z)) }
}

extension AffineTransform {
    /// The transpose of the linear part applied to `v` (the chain rule's `Aᵀ g`).
    @inlinable
    func applyLinearTransposed(_ v: SIMD3<Float>) -> SIMD3<Float> {
        let a = self
        return SIMD3(Float(a[0, 0]) * v.x + Float(a[1, 0]) * v.y + Float(a[2, 0]) * v.z,
                     Float(a[0, 1]) * v.x + Float(a[1, 1]) * v.y + Float(a[2, 1]) * v.z,
                     Float(a[0, 2]) * v.x + Float(a[1, 2]) * v.y + Float(a[2, 2]) * v.z)
    }
}
