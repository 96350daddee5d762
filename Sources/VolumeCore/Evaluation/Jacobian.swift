/// Determinant of the Jacobian of `x -> x + u(x)` at every voxel, for a displacement field in
/// world mm (RAS+), times `scale` (e.g. the determinant of an affine applied after it).
/// Derivatives by central differences in world space (one-sided at the border, zero along a
/// singleton axis), so the result is independent of the voxel axis order. Row by row, the
/// neighbours found by offsets (no per-voxel index arithmetic), in double precision.
public func jacobianDeterminant(of field: VectorField, scale: Double = 1) -> Volume {
    let g = field.geometry
    let n = g.voxelCount, size = g.size
    // d u / d(voxel index) per axis, then chain rule through the inverse of the linear part.
    guard let inv = g.affine.inverse else { return Volume(geometry: g, repeating: .nan) }
    let m00 = inv[0, 0], m01 = inv[0, 1], m02 = inv[0, 2]
    let m10 = inv[1, 0], m11 = inv[1, 1], m12 = inv[1, 2]
    let m20 = inv[2, 0], m21 = inv[2, 1], m22 = inv[2, 2]
    let nx = size.x, ny = size.y, nz = size.z
    let fscale = Float(scale)
    var out = [Float](repeating: 1, count: n)
    field.data.withUnsafeBufferPointer { dAll in
        out.withUnsafeMutableBufferPointer { o in
            let d0 = dAll.baseAddress!, d1 = d0 + n, d2 = d0 + 2 * n
            parallelFor(ny * nz) { row in
                let j = row % ny, k = row / ny
                let base = row * nx
                // Neighbouring rows along y and z (one-sided at the border) and their spacing in voxels.
                let yl = max(j - 1, 0), yh = min(j + 1, ny - 1), zl = max(k - 1, 0), zh = min(k + 1, nz - 1)
                let oyl = (yl - j) * nx, oyh = (yh - j) * nx, ozl = (zl - k) * nx * ny, ozh = (zh - k) * nx * ny
                let hy = 1 / Double(max(yh - yl, 1)), hz = 1 / Double(max(zh - zl, 1))
                for i in 0..<nx {
                    let p = base + i
                    var ax = SIMD3<Double>.zero, ay = SIMD3<Double>.zero, az = SIMD3<Double>.zero
                    if nx > 1 {
                        let il = max(i - 1, 0), ih = min(i + 1, nx - 1)
                        let l = base + il, h = base + ih, hx = 1 / Double(ih - il)
                        ax = SIMD3(Double(d0[h] - d0[l]), Double(d1[h] - d1[l]), Double(d2[h] - d2[l])) * hx
                    }
                    if ny > 1 {
                        let l = p + oyl, h = p + oyh
                        ay = SIMD3(Double(d0[h] - d0[l]), Double(d1[h] - d1[l]), Double(d2[h] - d2[l])) * hy
                    }
                    if nz > 1 {
                        let l = p + ozl, h = p + ozh
                        az = SIMD3(Double(d0[h] - d0[l]), Double(d1[h] - d1[l]), Double(d2[h] - d2[l])) * hz
                    }
                    // J = I + dU/dv * dv/dx, with dv/dx the inverse of the affine's linear part.
                    let r0 = SIMD3(ax.x * m00 + ay.x * m10 + az.x * m20 + 1, ax.x * m01 + ay.x * m11 + az.x * m21,
                                   ax.x * m02 + ay.x * m12 + az.x * m22)
                    let r1 = SIMD3(ax.y * m00 + ay.y * m10 + az.y * m20, ax.y * m01 + ay.y * m11 + az.y * m21 + 1,
                                   ax.y * m02 + ay.y * m12 + az.y * m22)
                    let r2 = SIMD3(ax.z * m00 + ay.z * m10 + az.z * m20, ax.z * m01 + ay.z * m11 + az.z * m21,
                                   ax.z * m02 + ay.z * m12 + az.z * m22 + 1)
                    let det = r0.x * (r1.y * r2.z - r1.z * r2.y) - r0.y * (r1.x * r2.z - r1.z * r2.x)
                        + r0.z * (r1.x * r2.y - r1.y * r2.x)
                    o[p] = Float(det) * fscale
                }
            }
        }
    }
    return Volume(geometry: g, voxels: out)
}

/// Fraction (0...1) of voxels whose Jacobian determinant is ≤ 0 (folding), optionally within a mask.
public func foldingFraction(_ jacobian: Volume, mask: LabelVolume? = nil) -> Double {
    var folded = 0, total = 0
    for n in 0..<jacobian.voxels.count where mask == nil || mask!.labels[n] != 0 {
        total += 1
        if jacobian.voxels[n] <= 0 { folded += 1 }
    }
    return total == 0 ? 0 : Double(folded) / Double(total)
}
