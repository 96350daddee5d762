/// Determinant of the Jacobian of `x -> x + u(x)` at every voxel, for a displacement field in
/// world mm (RAS+). Derivatives by central differences in world space (one-sided at the border,
/// zero along a singleton axis), so the result is independent of the voxel axis order.
public func jacobianDeterminant(of field: VectorField) -> Volume {
    let g = field.geometry
    let n = g.voxelCount, size = g.size
    // d u / d(voxel index) per axis, then chain rule through the inverse of the linear part.
    guard let inv = g.affine.inverse else { return Volume(geometry: g, repeating: .nan) }
    var out = [Float](repeating: 1, count: n)
    field.data.withUnsafeBufferPointer { d in
        out.withUnsafeMutableBufferPointer { o in
            parallelFor(size.z) { k in
                for j in 0..<size.y {
                    for i in 0..<size.x {
                        // du[a] = d u / d(voxel axis a); zero along a singleton axis.
                        var du = (SIMD3<Double>.zero, SIMD3<Double>.zero, SIMD3<Double>.zero)
                        let v = SIMD3(i, j, k)
                        for a in 0..<3 where size[a] > 1 {
                            var lo = v, hi = v
                            lo[a] = max(v[a] - 1, 0); hi[a] = min(v[a] + 1, size[a] - 1)
                            let nl = g.index(lo.x, lo.y, lo.z), nh = g.index(hi.x, hi.y, hi.z)
                            let h = Double(hi[a] - lo[a])
                            let dv = SIMD3(Double(d[nh] - d[nl]), Double(d[n + nh] - d[n + nl]),
                                           Double(d[2 * n + nh] - d[2 * n + nl])) / h
                            switch a { case 0: du.0 = dv; case 1: du.1 = dv; default: du.2 = dv }
                        }
                        // J = I + dU/dv * dv/dx, with dv/dx the inverse of the affine's linear part.
                        func row(_ r: Int) -> SIMD3<Double> {
                            var e = SIMD3<Double>(du.0[r] * inv[0, 0] + du.1[r] * inv[1, 0] + du.2[r] * inv[2, 0],
                                                  du.0[r] * inv[0, 1] + du.1[r] * inv[1, 1] + du.2[r] * inv[2, 1],
                                                  du.0[r] * inv[0, 2] + du.1[r] * inv[1, 2] + du.2[r] * inv[2, 2])
                            e[r] += 1
                            return e
                        }
                        let r0 = row(0), r1 = row(1), r2 = row(2)
                        let det = r0.x * (r1.y * r2.z - r1.z * r2.y) - r0.y * (r1.x * r2.z - r1.z * r2.x)
                            + r0.z * (r1.x * r2.y - r1.y * r2.x)
                        o[g.index(i, j, k)] = Float(det)
                    }
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
