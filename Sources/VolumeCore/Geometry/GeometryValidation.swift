/// The one check every reader applies before a grid is used: is this voxel-to-world affine a
/// usable map (finite, invertible, with voxel sizes voxterm's filters and renderers can handle)?
///
/// Readers name the header field the problem comes from (`srow_x[2]`, `quatern_b`, `pixdim[3]`);
/// this type only judges the resulting affine. Limits, in millimetres along each voxel axis:
/// `minimumVoxelSize ... maximumVoxelSize`; the voxel axes must be linearly independent
/// (|det| ≥ `minimumIndependence` × product of the column lengths, i.e. no two axes within
/// about 0.0001° of each other).
public enum GeometryValidation {
    /// Smallest voxel edge accepted, in mm (1 nm).
    public static let minimumVoxelSize = 1e-6
    /// Largest voxel edge accepted, in mm (1 km).
    public static let maximumVoxelSize = 1e6
    /// Smallest |det| / (product of the column lengths): 1 for orthogonal axes, 0 for degenerate ones.
    public static let minimumIndependence = 1e-6
    /// Largest |world coordinate| of a translation, in mm (10 km).
    public static let maximumOffset = 1e7

    /// Why `affine` cannot map voxel indices to world millimetres, or nil when it can.
    ///
    /// The reason is a phrase that follows the name of the field it came from, e.g.
    /// "is singular (determinant 0); the voxel axes must span 3-D space".
    public static func problem(with affine: AffineTransform) -> String? {
        for r in 0..<3 {
            for c in 0..<4 where !affine[r, c].isFinite {
                return "has a non-finite entry (\(affine[r, c]) at row \(r), column \(c))"
            }
        }
        let lengths = (0..<3).map { c -> Double in let v = affine.column(c); return (v * v).sum().squareRoot() }
        for (c, n) in lengths.enumerated() {
            if n == 0 {
                return "is singular (voxel axis \(c) has length 0); the voxel axes must span 3-D space"
            }
            if !(n >= minimumVoxelSize && n <= maximumVoxelSize) {
                return "gives voxel axis \(c) a length of \(n) mm, outside \(minimumVoxelSize)...\(Int(maximumVoxelSize)) mm"
            }
        }
        let det = affine.determinant
        let independence = abs(det) / (lengths[0] * lengths[1] * lengths[2])
        guard independence.isFinite, independence >= minimumIndependence else {
            return "is singular (determinant \(det)); the voxel axes must span 3-D space"
        }
        let t = affine.translation
        guard abs(t.x) <= maximumOffset, abs(t.y) <= maximumOffset, abs(t.z) <= maximumOffset else {
            return "places voxel 0 at \(t.x), \(t.y), \(t.z) mm, beyond \(Int(maximumOffset)) mm of the origin"
        }
        return nil
    }

    /// Why `geometry` is unusable, or nil (see `problem(with:)`).
    public static func problem(with geometry: VolumeGeometry) -> String? { problem(with: geometry.affine) }

    /// Throws a `GeometryError` naming `path` and `field` when `affine` is unusable: the call a
    /// reader of a format without finer field names makes before handing out a volume.
    public static func check(_ affine: AffineTransform, path: String, field: String = "affine") throws {
        if let p = problem(with: affine) {
            throw GeometryError(path: path, reason: "\(field) \(p): the image geometry is unusable")
        }
    }
}

/// A grid whose affine is not usable, as the error a reader without field names throws.
public struct GeometryError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file concerned.
    public var path: String
    /// The field (or "affine") and why it is unusable.
    public var reason: String

    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    /// One line: `path: reason`.
    public var description: String { "\(path): \(reason)" }
}
