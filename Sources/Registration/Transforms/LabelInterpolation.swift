import VolumeCore

/// How a label map is sampled at a point between its voxels when it is carried through a transform.
public enum LabelInterpolation: String, Sendable, Equatable, CaseIterable, Codable {
    /// The label of the nearest voxel (what voxterm did before 2026-12-07; Greedy's `-ri NN`).
    case nearest
    /// ANTs' GenericLabel (`antsApplyTransforms -n GenericLabel`, ANTsPy `interpolator="genericLabel"`,
    /// its default linear kernel): every label present among the 2 × 2 × 2 voxels around the point
    /// is interpolated linearly as a 0/1 image and the label with the largest weight wins (ties go
    /// to the smaller label, as ITK's `LabelImageGenericInterpolateImageFunction` visits labels in
    /// increasing order). A label that covers most of the neighbourhood wins even when another is
    /// nearest, so boundaries follow the transform to sub-voxel precision instead of snapping to
    /// the voxel grid; no label is made up. Only the labels present around the point are weighed,
    /// so the cost does not depend on how many labels the map has.
    case generic

    /// The label at continuous voxel index `q` of a map of size `s` (x fastest), 0 outside: a point
    /// is inside when its nearest voxel is (`q` in [-0.5, size - 0.5) on every axis, as ITK's buffer);
    /// `.generic` then clamps the neighbours to the grid (ITK's linear interpolation at the border).
    @inline(__always)
    public func sample(_ l: UnsafeBufferPointer<Int32>, _ s: SIMD3<Int>, _ q: SIMD3<Double>) -> Int32 {
        // A NaN or huge index (a field with a NaN, a degenerate affine) is outside, not a trap in Int().
        guard q.x > -1e9, q.x < 1e9, q.y > -1e9, q.y < 1e9, q.z > -1e9, q.z < 1e9 else { return 0 }
        // Halves round up, as ITK's RoundHalfIntegerUp: -0.5 is voxel 0 (inside, as ITK's buffer
        // [-0.5, size - 0.5) says), size - 0.5 is outside.
        let r = nearestVoxel(q)
        guard r.x >= 0, r.y >= 0, r.z >= 0, r.x < s.x, r.y < s.y, r.z < s.z else { return 0 }
        if self == .nearest { return l[r.x + s.x * (r.y + s.y * r.z)] }
        let f = q.rounded(.down)
        let t = q - f
        let x0 = Int(f.x), y0 = Int(f.y), z0 = Int(f.z)
        // The 2 × 2 × 2 neighbours, clamped to the grid.
        let xa = min(max(x0, 0), s.x - 1), xb = min(max(x0 + 1, 0), s.x - 1)
        let ya = min(max(y0, 0), s.y - 1) * s.x, yb = min(max(y0 + 1, 0), s.y - 1) * s.x
        let sxy = s.x * s.y
        let za = min(max(z0, 0), s.z - 1) * sxy, zb = min(max(z0 + 1, 0), s.z - 1) * sxy
        let corners = SIMD8<Int32>(l[xa + ya + za], l[xb + ya + za], l[xa + yb + za], l[xb + yb + za],
                                   l[xa + ya + zb], l[xb + ya + zb], l[xa + yb + zb], l[xb + yb + zb])
        // Inside a region (most points) every neighbour holds the same label.
        if corners == SIMD8(repeating: corners[0]) { return corners[0] }
        // Up to 8 distinct labels with their summed weights.
        var labels = SIMD8<Int32>(repeating: 0), weights = SIMD8<Double>(repeating: 0)
        var count = 0
        for c in 0..<8 {
            let w = ((c & 1) == 1 ? t.x : 1 - t.x) * ((c >> 1) & 1 == 1 ? t.y : 1 - t.y) * (c >> 2 == 1 ? t.z : 1 - t.z)
            if w == 0 { continue }
            let label = corners[c]
            var slot = 0
            while slot < count && labels[slot] != label { slot += 1 }
            if slot == count { labels[slot] = label; count += 1 }
            weights[slot] += w
        }
        var best = labels[0], bestWeight = weights[0]
        for k in 1..<max(count, 1) where weights[k] > bestWeight || (weights[k] == bestWeight && labels[k] < best) {
            best = labels[k]; bestWeight = weights[k]
        }
        return best
    }
}
