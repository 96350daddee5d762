import VolumeCore

/// An overlay whose grid cannot be brought onto the image's grid.
public struct OverlayAlignmentError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What the overlay is (e.g. its file path).
    public var overlay: String
    /// Why, in a few words.
    public var reason: String
    public init(overlay: String, reason: String) { self.overlay = overlay; self.reason = reason }
    /// `overlay: reason`, one line.
    public var description: String { "\(overlay): \(reason)" }
}

/// Brings label maps and fields onto an image's grid: unchanged when the grids agree, resampled
/// through world space when they overlap, an error when they do not.
public enum OverlayAlignment {
    /// True when both grids have the same size and affines within `tolerance` mm.
    public static func sameGrid(_ a: VolumeGeometry, _ b: VolumeGeometry, tolerance: Double = 1e-4) -> Bool {
        a.size == b.size && a.affine.maxDifference(to: b.affine) <= tolerance
    }

    /// World-space (RAS mm) axis-aligned bounding box of a grid's voxel extent (centres ± half a voxel).
    public static func worldBounds(_ g: VolumeGeometry) -> (lower: SIMD3<Double>, upper: SIMD3<Double>) {
        var lo = SIMD3<Double>(repeating: .infinity), hi = SIMD3<Double>(repeating: -.infinity)
        for c in 0..<8 {
            let v = SIMD3<Double>(c & 1 == 0 ? -0.5 : Double(g.size.x) - 0.5,
                                  c & 2 == 0 ? -0.5 : Double(g.size.y) - 0.5,
                                  c & 4 == 0 ? -0.5 : Double(g.size.z) - 0.5)
            let p = g.world(ofVoxel: v)
            lo = pointwiseMin(lo, p); hi = pointwiseMax(hi, p)
        }
        return (lo, hi)
    }

    /// Fraction (0...1) of `image`'s world box covered by `overlay`'s world box.
    public static func overlapFraction(image: VolumeGeometry, overlay: VolumeGeometry) -> Double {
        let a = worldBounds(image), b = worldBounds(overlay)
        let lo = pointwiseMax(a.lower, b.lower), hi = pointwiseMin(a.upper, b.upper)
        let d = pointwiseMax(hi - lo, .zero), da = a.upper - a.lower
        let va = da.x * da.y * da.z
        return va > 0 ? d.x * d.y * d.z / va : 0
    }

    static func check(_ name: String, image: VolumeGeometry, overlay: VolumeGeometry) throws {
        guard overlay.affine.inverse != nil else {
            throw OverlayAlignmentError(overlay: name, reason: "its affine is singular, so it cannot be placed in world space")
        }
        if overlapFraction(image: image, overlay: overlay) <= 0 {
            let b = worldBounds(overlay), a = worldBounds(image)
            func box(_ x: (lower: SIMD3<Double>, upper: SIMD3<Double>)) -> String {
                (0..<3).map { "\(shortNumber(x.lower[$0]))..\(shortNumber(x.upper[$0]))" }.joined(separator: " x ")
            }
            throw OverlayAlignmentError(overlay: name, reason: "does not overlap the image in world space (overlay \(box(b)) mm, image \(box(a)) mm)")
        }
    }

    /// `labels` on `image`'s grid (nearest neighbour), or an error when they do not overlap.
    public static func align(_ labels: LabelVolume, to image: VolumeGeometry, name: String) throws -> (LabelVolume, resampled: Bool) {
        if sameGrid(labels.geometry, image) { return (LabelVolume(geometry: image, labels: labels.labels), false) }
        try check(name, image: image, overlay: labels.geometry)
        return (labels.resampled(to: image), true)
    }

    /// `field` on `image`'s grid (trilinear per component, vectors unchanged: world mm), or an error.
    public static func align(_ field: VectorField, to image: VolumeGeometry, name: String) throws -> (VectorField, resampled: Bool) {
        if sameGrid(field.geometry, image) { return (VectorField(geometry: image, data: field.data), false) }
        try check(name, image: image, overlay: field.geometry)
        var data: [Float] = []
        data.reserveCapacity(3 * image.voxelCount)
        for c in 0..<3 { data += field.component(c).resampled(to: image, interpolation: .linear).voxels }
        return (VectorField(geometry: image, data: data), true)
    }
}
