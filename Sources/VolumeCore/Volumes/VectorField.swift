/// A 3-vector per voxel, e.g. a displacement field, on a `VolumeGeometry`.
///
/// Convention inside voxterm: displacements are in world millimetres along RAS+ axes, and a
/// displacement field `u` on a fixed grid maps fixed point `x` to moving point `x + u(x)`.
/// Storage is component-major (all x components, then y, then z), as NIfTI stores vector images.
public struct VectorField: Sendable, Equatable {
    /// The grid the vectors live on.
    public var geometry: VolumeGeometry
    /// `3 * voxelCount` values: component c of voxel n is at `c * voxelCount + n`.
    public var data: [Float]

    public init(geometry: VolumeGeometry, data: [Float]) {
        precondition(data.count == 3 * geometry.voxelCount, "vector data count does not match the geometry")
        self.geometry = geometry
        self.data = data
    }

    /// The zero field.
    public init(zeroOn geometry: VolumeGeometry) {
        self.init(geometry: geometry, data: [Float](repeating: 0, count: 3 * geometry.voxelCount))
    }

    /// Vector at linear index `n`.
    @inlinable public func vector(at n: Int) -> SIMD3<Float> {
        let c = geometry.voxelCount
        return SIMD3(data[n], data[c + n], data[2 * c + n])
    }

    /// Sets the vector at linear index `n`.
    @inlinable public mutating func setVector(_ v: SIMD3<Float>, at n: Int) {
        let c = geometry.voxelCount
        data[n] = v.x; data[c + n] = v.y; data[2 * c + n] = v.z
    }

    /// Component `c` (0 = x, 1 = y, 2 = z) as a scalar volume.
    public func component(_ c: Int) -> Volume {
        let n = geometry.voxelCount
        return Volume(geometry: geometry, voxels: Array(data[(c * n)..<((c + 1) * n)]))
    }

    /// Euclidean length of every vector.
    public var magnitude: Volume {
        let n = geometry.voxelCount
        var out = [Float](repeating: 0, count: n)
        data.withUnsafeBufferPointer { d in
            for i in 0..<n {
                let x = d[i], y = d[n + i], z = d[2 * n + i]
                out[i] = (x * x + y * y + z * z).squareRoot()
            }
        }
        return Volume(geometry: geometry, voxels: out)
    }
}
