import VolumeCore

/// Extracting 2-D slices of a volume as single-slice volumes and putting them back.
///
/// A slice perpendicular to voxel axis `axis` at `index` becomes a volume of size (nu, nv, 1)
/// whose first two axes are the other two voxel axes in increasing order; its affine keeps every
/// voxel's world position, so 2-D registration works in the slice's own millimetres.
public enum SliceAccess {
    /// The two in-plane voxel axes of a plane perpendicular to `axis`, in increasing order.
    @inlinable public static func inPlaneAxes(_ axis: Int) -> (Int, Int) {
        axis == 0 ? (1, 2) : (axis == 1 ? (0, 2) : (0, 1))
    }

    /// The geometry of slice `index` perpendicular to `axis` of grid `g`.
    public static func sliceGeometry(_ g: VolumeGeometry, axis: Int, index: Int) -> VolumeGeometry {
        let (a, b) = inPlaneAxes(axis)
        var origin = SIMD3<Double>.zero
        origin[axis] = Double(index)
        let t = g.affine.apply(origin)
        let ca = g.affine.column(a), cb = g.affine.column(b), cn = g.affine.column(axis)
        let affine = AffineTransform(rows: SIMD4(ca.x, cb.x, cn.x, t.x), SIMD4(ca.y, cb.y, cn.y, t.y), SIMD4(ca.z, cb.z, cn.z, t.z))
        return VolumeGeometry(size: SIMD3(g.size[a], g.size[b], 1), affine: affine)
    }

    /// Linear indices in the volume of every pixel of the slice, in slice order.
    public static func indices(_ g: VolumeGeometry, axis: Int, index: Int) -> [Int] {
        let (a, b) = inPlaneAxes(axis)
        var out = [Int](repeating: 0, count: g.size[a] * g.size[b])
        var v = SIMD3<Int>.zero
        v[axis] = index
        var n = 0
        for q in 0..<g.size[b] {
            v[b] = q
            for p in 0..<g.size[a] {
                v[a] = p
                out[n] = g.index(v.x, v.y, v.z)
                n += 1
            }
        }
        return out
    }

    /// Slice `index` perpendicular to `axis` of an image, placed on `geometry` (by default its own).
    public static func slice(_ v: Volume, axis: Int, index: Int, geometry: VolumeGeometry? = nil) -> Volume {
        let idx = indices(v.geometry, axis: axis, index: index)
        return Volume(geometry: geometry ?? sliceGeometry(v.geometry, axis: axis, index: index), voxels: idx.map { v.voxels[$0] })
    }

    /// Slice `index` perpendicular to `axis` of a label map, placed on `geometry` (by default its own).
    public static func slice(_ l: LabelVolume, axis: Int, index: Int, geometry: VolumeGeometry? = nil) -> LabelVolume {
        let idx = indices(l.geometry, axis: axis, index: index)
        return LabelVolume(geometry: geometry ?? sliceGeometry(l.geometry, axis: axis, index: index), labels: idx.map { l.labels[$0] })
    }
}

/// Dice over the slices that were not labelled and lie between the first and the last labelled one
/// (the slices slice propagation fills without `extrapolate`; setting B of bench/fewshot scores the same).
public func diceOnUnlabelledSlices(_ pred: LabelVolume, _ truth: LabelVolume, _ sel: SliceSelection) -> [Int32: Double] {
    let g = truth.geometry
    let axis = sel.plane.axis
    let labelled = sel.indices.filter { $0 < g.size[axis] }
    var keep = [Bool](repeating: false, count: g.voxelCount)
    if let first = labelled.first, let last = labelled.last, last - first > 1 {
        for s in (first + 1)..<last where !labelled.contains(s) {
            for idx in SliceAccess.indices(g, axis: axis, index: s) { keep[idx] = true }
        }
    }
    let p = LabelVolume(geometry: g, labels: pred.labels.enumerated().map { keep[$0.offset] ? $0.element : 0 })
    let t = LabelVolume(geometry: g, labels: truth.labels.enumerated().map { keep[$0.offset] ? $0.element : 0 })
    return diceScores(prediction: p, truth: t)
}

/// Dice of one slice (perpendicular to voxel axis `axis` at `index`) of a prediction against truth.
public func diceOnSlice(_ pred: LabelVolume, _ truth: LabelVolume, axis: Int, index: Int) -> [Int32: Double] {
    diceScores(prediction: SliceAccess.slice(pred, axis: axis, index: index), truth: SliceAccess.slice(truth, axis: axis, index: index))
}
