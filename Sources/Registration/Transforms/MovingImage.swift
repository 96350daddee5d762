import VolumeCore

/// A moving image ready for sampling: intensities, grid size and the world (RAS mm) to voxel map.
public struct MovingImage: @unchecked Sendable {
    /// Intensities (x fastest).
    public let voxels: FloatBuffer
    /// Grid size in voxels.
    public let size: SIMD3<Int>
    /// World millimetres (RAS+) to continuous voxel index.
    public let worldToVoxel: AffineTransform

    public init(voxels: FloatBuffer, size: SIMD3<Int>, worldToVoxel: AffineTransform) {
        self.voxels = voxels; self.size = size; self.worldToVoxel = worldToVoxel
    }

    /// Wraps a volume (its values are copied).
    public init(_ volume: Volume) {
        self.init(voxels: FloatBuffer(volume.voxels), size: volume.size,
                  worldToVoxel: volume.geometry.affine.inverse ?? .identity)
    }
}

/// Calls `body(n, p)` for every voxel of `grid` with its linear index and world position (mm),
/// in parallel over rows.
@inlinable
func forEachVoxel(of grid: VolumeGeometry, _ body: (Int, SIMD3<Double>) -> Void) {
    let s = grid.size, a = grid.affine
    let step = a.column(0)
    parallelFor(s.y * s.z) { row in
        let j = row % s.y, k = row / s.y
        var p = a.apply(SIMD3(0, Double(j), Double(k)))
        let base = s.x * row
        for i in 0..<s.x {
            body(base + i, p)
            p += step
        }
    }
}
