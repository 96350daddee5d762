/// How values between voxel centres are obtained.
public enum Interpolation: String, Sendable, CaseIterable {
    /// The value of the nearest voxel centre (for labels).
    case nearest
    /// Trilinear interpolation of the eight surrounding voxels.
    case linear
}

extension Volume {
    /// Trilinear sample at continuous voxel coordinate `p`; `outside` beyond the grid
    /// (coordinates within half a voxel of the border are clamped to the edge).
    @inlinable
    public func sampleLinear(at p: SIMD3<Double>, outside: Float = 0) -> Float {
        voxels.withUnsafeBufferPointer { Volume.sampleLinear($0, size, p, outside: outside) }
    }

    /// Trilinear sample from a raw buffer of size `size` (x fastest); the hot-loop form.
    @inlinable
    public static func sampleLinear(_ buf: UnsafeBufferPointer<Float>, _ size: SIMD3<Int>, _ p: SIMD3<Double>,
                                    outside: Float = 0) -> Float {
        let nx = size.x, ny = size.y, nz = size.z
        var x = p.x, y = p.y, z = p.z
        if x < -0.5 || y < -0.5 || z < -0.5 || x > Double(nx) - 0.5 || y > Double(ny) - 0.5 || z > Double(nz) - 0.5 {
            return outside
        }
        x = min(max(x, 0), Double(nx - 1)); y = min(max(y, 0), Double(ny - 1)); z = min(max(z, 0), Double(nz - 1))
        let x0 = min(Int(x), max(nx - 2, 0)), y0 = min(Int(y), max(ny - 2, 0)), z0 = min(Int(z), max(nz - 2, 0))
        let fx = Float(x - Double(x0)), fy = Float(y - Double(y0)), fz = Float(z - Double(z0))
        let x1 = min(x0 + 1, nx - 1), y1 = min(y0 + 1, ny - 1), z1 = min(z0 + 1, nz - 1)
        let sxy = nx * ny
        let c000 = buf[x0 + nx * y0 + sxy * z0], c100 = buf[x1 + nx * y0 + sxy * z0]
        let c010 = buf[x0 + nx * y1 + sxy * z0], c110 = buf[x1 + nx * y1 + sxy * z0]
        let c001 = buf[x0 + nx * y0 + sxy * z1], c101 = buf[x1 + nx * y0 + sxy * z1]
        let c011 = buf[x0 + nx * y1 + sxy * z1], c111 = buf[x1 + nx * y1 + sxy * z1]
        let c00 = c000 + (c100 - c000) * fx, c10 = c010 + (c110 - c010) * fx
        let c01 = c001 + (c101 - c001) * fx, c11 = c011 + (c111 - c011) * fx
        let c0 = c00 + (c10 - c00) * fy, c1 = c01 + (c11 - c01) * fy
        return c0 + (c1 - c0) * fz
    }

    /// Nearest-voxel sample at continuous voxel coordinate `p`.
    @inlinable
    public func sampleNearest(at p: SIMD3<Double>, outside: Float = 0) -> Float {
        let v = nearestVoxel(p)
        return geometry.contains(v) ? voxels[geometry.index(v.x, v.y, v.z)] : outside
    }

    /// This volume resampled onto `target` through world space (identity transform).
    public func resampled(to target: VolumeGeometry, interpolation: Interpolation = .linear,
                          outside: Float = 0) -> Volume {
        let size = geometry.size
        let out = voxels.withUnsafeBufferPointer { src in
            geometry.resample(onto: target, fill: outside) { p -> Float? in
                switch interpolation {
                case .linear: Volume.sampleLinear(src, size, p, outside: outside)
                case .nearest: nearestIndex(p, size).map { src[$0] }
                }
            }
        }
        return Volume(geometry: target, voxels: out)
    }
}

extension VolumeGeometry {
    /// Values on `target`'s voxels: `value(p)` at the continuous voxel position `p` of each target
    /// voxel in this grid (through world space), or `fill` where it gives nil; parallel over slices.
    /// Every resampling onto another grid (intensities, labels, `ImageLayer.onGrid`) goes through here.
    @inlinable @inline(__always)
    public func resample<T>(onto target: VolumeGeometry, fill: T, _ value: (SIMD3<Double>) -> T?) -> [T] {
        let map = (affine.inverse ?? .identity).composed(after: target.affine)
        var out = [T](repeating: fill, count: target.voxelCount)
        let ts = target.size
        out.withUnsafeMutableBufferPointer { dst in
            parallelFor(ts.z) { k in
                for j in 0..<ts.y {
                    for i in 0..<ts.x {
                        if let v = value(map.apply(SIMD3(Double(i), Double(j), Double(k)))) { dst[i + ts.x * (j + ts.y * k)] = v }
                    }
                }
            }
        }
        return out
    }
}

/// The voxel nearest continuous voxel position `p`, halves rounded up as ITK's
/// `RoundHalfIntegerUp` (and SciPy's order 0): -0.5 is voxel 0, so a grid covers
/// [-0.5, size - 0.5) on each axis, as ITK's `IsInsideBuffer` and `LabelInterpolation` say.
@inlinable @inline(__always)
public func nearestVoxel(_ p: SIMD3<Double>) -> SIMD3<Int> {
    SIMD3<Int>(Int((p.x + 0.5).rounded(.down)), Int((p.y + 0.5).rounded(.down)), Int((p.z + 0.5).rounded(.down)))
}

/// The index of the voxel nearest continuous voxel position `p` in a grid of `size`, nil outside.
@inline(__always)
func nearestIndex(_ p: SIMD3<Double>, _ size: SIMD3<Int>) -> Int? {
    let v = nearestVoxel(p)
    guard v.x >= 0, v.y >= 0, v.z >= 0, v.x < size.x, v.y < size.y, v.z < size.z else { return nil }
    return v.x + size.x * (v.y + size.y * v.z)
}

extension LabelVolume {
    /// Label at the nearest voxel centre of continuous voxel coordinate `p`, 0 outside.
    @inlinable
    public func sampleNearest(at p: SIMD3<Double>) -> Int32 {
        let v = nearestVoxel(p)
        return geometry.contains(v) ? labels[geometry.index(v.x, v.y, v.z)] : 0
    }

    /// This label map resampled onto `target` with nearest-neighbour interpolation.
    public func resampled(to target: VolumeGeometry) -> LabelVolume {
        let size = geometry.size
        let out = labels.withUnsafeBufferPointer { src in
            geometry.resample(onto: target, fill: Int32(0)) { p in nearestIndex(p, size).map { src[$0] } }
        }
        return LabelVolume(geometry: target, labels: out)
    }
}

extension VectorField {
    /// The field on `target`'s grid: each component resampled in world space (trilinear, 0 outside),
    /// the vectors themselves unchanged (world mm stay world mm).
    public func resampled(to target: VolumeGeometry) -> VectorField {
        if target == geometry { return self }
        let comps = (0..<3).map { component($0).resampled(to: target).voxels }
        return VectorField(geometry: target, data: comps[0] + comps[1] + comps[2])
    }
}
