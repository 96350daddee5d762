/// The sampling grid of a volume: size in voxels and the voxel-to-world affine (RAS+ mm).
///
/// Voxel (i, j, k) has linear index `i + nx * (j + ny * k)` (x fastest, as NIfTI stores it).
public struct VolumeGeometry: Equatable, Hashable, Sendable {
    /// Number of voxels along i, j, k (each at least 1).
    public var size: SIMD3<Int>
    /// Voxel index to world millimetres, RAS+.
    public var affine: AffineTransform

    public init(size: SIMD3<Int>, affine: AffineTransform) {
        precondition(size.x >= 1 && size.y >= 1 && size.z >= 1, "sizes must be positive")
        self.size = size
        self.affine = affine
    }

    /// An axis-aligned RAS grid with the given spacing (mm) and world position of voxel 0.
    public init(size: SIMD3<Int>, spacing: SIMD3<Double> = [1, 1, 1], origin: SIMD3<Double> = .zero) {
        self.init(size: size, affine: .scaling(spacing, origin: origin))
    }

    /// Total number of voxels.
    @inlinable public var voxelCount: Int { size.x * size.y * size.z }

    /// Voxel edge lengths in mm (norms of the affine's columns).
    public var spacing: SIMD3<Double> {
        SIMD3((0..<3).map { c -> Double in let v = affine.column(c); return (v * v).sum().squareRoot() })
    }

    /// Orientation letters of the voxel axes, e.g. "RAS".
    public var orientation: AxisOrientation { AxisOrientation(affine: affine) }

    /// True for a 2-D image stored as a single slice (third dimension 1).
    public var isSingleSlice: Bool { size.z == 1 }

    /// Linear index of voxel (i, j, k).
    @inlinable public func index(_ i: Int, _ j: Int, _ k: Int) -> Int { i + size.x * (j + size.y * k) }

    /// Voxel (i, j, k) of a linear index.
    @inlinable public func voxel(ofIndex n: Int) -> SIMD3<Int> {
        SIMD3(n % size.x, (n / size.x) % size.y, n / (size.x * size.y))
    }

    /// True when the integer voxel lies inside the grid.
    @inlinable public func contains(_ v: SIMD3<Int>) -> Bool {
        v.x >= 0 && v.y >= 0 && v.z >= 0 && v.x < size.x && v.y < size.y && v.z < size.z
    }

    /// World position (mm, RAS+) of a continuous voxel coordinate.
    @inlinable public func world(ofVoxel v: SIMD3<Double>) -> SIMD3<Double> { affine.apply(v) }

    /// Continuous voxel coordinate of a world position (mm, RAS+).
    public func voxel(ofWorld p: SIMD3<Double>) -> SIMD3<Double> {
        (affine.inverse ?? .identity).apply(p)
    }

    /// World position of the grid's centre.
    public var centre: SIMD3<Double> {
        world(ofVoxel: (SIMD3<Double>(size &- 1)) / 2)
    }
}

extension SIMD3 where Scalar == Double {
    /// Converts an integer voxel index.
    @inlinable public init(_ v: SIMD3<Int>) { self.init(Double(v.x), Double(v.y), Double(v.z)) }
}
