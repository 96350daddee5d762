/// A change to a label map as a sparse diff: the linear indices changed, their labels before and after.
///
/// Undo writes `before` back, redo writes `after`; memory is 12 bytes per changed voxel, so a
/// history of brush strokes on a 16 M-voxel map stays small.
public struct LabelEdit: Equatable, Sendable {
    /// Linear voxel indices (x fastest), ascending, each once.
    public var indices: [Int]
    /// Labels at `indices` before the edit.
    public var before: [Int32]
    /// Labels at `indices` after the edit.
    public var after: [Int32]
    /// What the edit was, for messages ("paint Hippocampus_L", "fill", ...).
    public var name: String

    public init(indices: [Int], before: [Int32], after: [Int32], name: String) {
        precondition(indices.count == before.count && indices.count == after.count)
        self.indices = indices; self.before = before; self.after = after; self.name = name
    }

    /// Number of voxels changed.
    public var count: Int { indices.count }
    public var isEmpty: Bool { indices.isEmpty }

    /// Writes `after` (forward) or `before` into `labels`.
    public func apply(to labels: inout [Int32], forward: Bool = true) {
        let values = forward ? after : before
        labels.withUnsafeMutableBufferPointer { l in
            for (n, i) in indices.enumerated() { l[i] = values[n] }
        }
    }
}

/// Collects the voxels one edit (a brush stroke, a fill) changes, remembering each voxel's first
/// label, so a stroke that passes a voxel twice undoes to the label it had before the stroke.
public struct LabelEditRecorder: Sendable {
    private var firstBefore: [Int: Int32] = [:]
    /// What the edit is called in messages.
    public var name: String
    public init(name: String) { self.name = name }

    /// Sets `labels[i] = value`, recording the old label the first time `i` is touched.
    @inlinable
    public mutating func set(_ i: Int, _ value: Int32, in labels: UnsafeMutableBufferPointer<Int32>) {
        let old = labels[i]
        if old == value { return }
        record(i, old)
        labels[i] = value
    }

    @usableFromInline
    mutating func record(_ i: Int, _ old: Int32) {
        if firstBefore[i] == nil { firstBefore[i] = old }
    }

    /// Whether nothing was recorded.
    public var isEmpty: Bool { firstBefore.isEmpty }

    /// Takes in a finished part of this edit (a step of a stroke recorded on its own): each of its
    /// voxels keeps the label it had before the first part that touched it.
    public mutating func absorb(_ part: LabelEdit) {
        for (n, i) in part.indices.enumerated() { record(i, part.before[n]) }
    }

    /// The finished edit: voxels whose label really changed, ascending.
    public func finish(labels: [Int32]) -> LabelEdit {
        var idx: [Int] = [], before: [Int32] = [], after: [Int32] = []
        for i in firstBefore.keys.sorted() {
            let b = firstBefore[i]!, a = labels[i]
            if a != b { idx.append(i); before.append(b); after.append(a) }
        }
        return LabelEdit(indices: idx, before: before, after: after, name: name)
    }
}

/// Unlimited undo and redo of label edits (sparse diffs).
public struct LabelEditHistory: Equatable, Sendable {
    public private(set) var undoStack: [LabelEdit] = []
    public private(set) var redoStack: [LabelEdit] = []
    public init() {}

    /// Records a finished edit (already applied); clears the redo stack. Empty edits are ignored.
    public mutating func record(_ edit: LabelEdit) {
        guard !edit.isEmpty else { return }
        undoStack.append(edit)
        redoStack.removeAll()
    }

    /// Undoes the last edit on `labels`; returns it, or nil when there is nothing to undo.
    public mutating func undo(_ labels: inout [Int32]) -> LabelEdit? {
        guard let e = undoStack.popLast() else { return nil }
        e.apply(to: &labels, forward: false)
        redoStack.append(e)
        return e
    }

    /// Redoes the last undone edit on `labels`; returns it, or nil when there is nothing to redo.
    public mutating func redo(_ labels: inout [Int32]) -> LabelEdit? {
        guard let e = redoStack.popLast() else { return nil }
        e.apply(to: &labels, forward: true)
        undoStack.append(e)
        return e
    }

    public var canUndo: Bool { !undoStack.isEmpty }
    public var canRedo: Bool { !redoStack.isEmpty }
}

/// Label editing on one slice of a label map: round brush, 2-D flood fill, replace.
///
/// A slice is the set of voxels whose index along voxel axis `sliceAxis` is fixed; the brush is a
/// disc in the two other voxel axes' indices (so it is round in display pixels, whatever the
/// display flips), of `radius` voxels: the voxels with `du² + dv² ≤ radius² + radius` (radius 0 is
/// one voxel, 1 a 3x3 square, 2 a 21-voxel disc, 5 a 97-voxel disc).
public enum LabelEditing {
    /// The in-plane voxel axes of a slice across `sliceAxis`.
    @inlinable
    public static func inPlaneAxes(_ sliceAxis: Int) -> (Int, Int) {
        switch sliceAxis { case 0: (1, 2); case 1: (0, 2); default: (0, 1) }
    }

    /// Paints a disc of `radius` voxels at `centre` with `label` (0 erases), recording into `recorder`.
    /// `protect` labels are left unchanged (e.g. paint only over background). Cost O(radius²).
    public static func brush(_ labels: inout [Int32], geometry: VolumeGeometry, centre: SIMD3<Int>, sliceAxis: Int,
                             radius: Int, label: Int32, protect: Set<Int32> = [], recorder: inout LabelEditRecorder) {
        let (ua, va) = inPlaneAxes(sliceAxis)
        let size = geometry.size
        let strides = SIMD3<Int>(1, size.x, size.x * size.y)
        guard geometry.contains(centre) else { return }
        let r = max(0, radius), limit = r * r + r
        labels.withUnsafeMutableBufferPointer { buf in
            for dv in -r...r {
                let v = centre[va] + dv
                if v < 0 || v >= size[va] { continue }
                for du in -r...r where du * du + dv * dv <= limit {
                    let u = centre[ua] + du
                    if u < 0 || u >= size[ua] { continue }
                    var p = centre
                    p[ua] = u; p[va] = v
                    let i = p.x * strides.x + p.y * strides.y + p.z * strides.z
                    if !protect.isEmpty && protect.contains(buf[i]) { continue }
                    recorder.set(i, label, in: buf)
                }
            }
        }
    }

    /// Paints discs along the straight segment from `from` to `to` (both on one slice, ends
    /// included), one disc per voxel step, so a fast drag leaves no gaps.
    public static func stroke(_ labels: inout [Int32], geometry: VolumeGeometry, from: SIMD3<Int>, to: SIMD3<Int>,
                              sliceAxis: Int, radius: Int, label: Int32, protect: Set<Int32> = [],
                              recorder: inout LabelEditRecorder) {
        let d = to &- from
        let steps = max(abs(d.x), abs(d.y), abs(d.z))
        if steps == 0 {
            brush(&labels, geometry: geometry, centre: to, sliceAxis: sliceAxis, radius: radius, label: label,
                  protect: protect, recorder: &recorder)
            return
        }
        for s in 0...steps {
            let t = Double(s) / Double(steps)
            let p = SIMD3<Int>((0..<3).map { Int((Double(from[$0]) + t * Double(d[$0])).rounded()) })
            brush(&labels, geometry: geometry, centre: p, sliceAxis: sliceAxis, radius: radius, label: label,
                  protect: protect, recorder: &recorder)
        }
    }

    /// 2-D flood fill: the 4-connected region of `seed`'s label on its slice becomes `label`.
    /// Returns the number of voxels filled (0 when the seed already has `label`).
    @discardableResult
    public static func fill(_ labels: inout [Int32], geometry: VolumeGeometry, seed: SIMD3<Int>, sliceAxis: Int,
                            label: Int32, recorder: inout LabelEditRecorder) -> Int {
        guard geometry.contains(seed) else { return 0 }
        let (ua, va) = inPlaneAxes(sliceAxis)
        let size = geometry.size
        let strides = SIMD3<Int>(1, size.x, size.x * size.y)
        let nu = size[ua], nv = size[va]
        let base = seed[sliceAxis] * strides[sliceAxis]
        let su = strides[ua], sv = strides[va]
        var filled = 0
        labels.withUnsafeMutableBufferPointer { buf in
            let target = buf[base + seed[ua] * su + seed[va] * sv]
            guard target != label else { return }
            var visited = [Bool](repeating: false, count: nu * nv)
            var stack: [(Int, Int)] = [(seed[ua], seed[va])]
            visited[seed[ua] + seed[va] * nu] = true
            while let (u, v) = stack.popLast() {
                recorder.set(base + u * su + v * sv, label, in: buf)
                filled += 1
                for (a, b) in [(u - 1, v), (u + 1, v), (u, v - 1), (u, v + 1)]
                where a >= 0 && b >= 0 && a < nu && b < nv && !visited[a + b * nu] {
                    if buf[base + a * su + b * sv] == target {
                        visited[a + b * nu] = true
                        stack.append((a, b))
                    }
                }
            }
        }
        return filled
    }

    /// Replaces label `old` by `new` on one slice (`slice` = (axis, index)) or, when nil, the whole volume.
    @discardableResult
    public static func replace(_ labels: inout [Int32], geometry: VolumeGeometry, old: Int32, new: Int32,
                               slice: (axis: Int, index: Int)?, recorder: inout LabelEditRecorder) -> Int {
        guard old != new else { return 0 }
        var changed = 0
        let size = geometry.size
        labels.withUnsafeMutableBufferPointer { buf in
            if let slice {
                let (ua, va) = inPlaneAxes(slice.axis)
                let strides = SIMD3<Int>(1, size.x, size.x * size.y)
                guard slice.index >= 0 && slice.index < size[slice.axis] else { return }
                let base = slice.index * strides[slice.axis]
                for v in 0..<size[va] {
                    for u in 0..<size[ua] {
                        let i = base + u * strides[ua] + v * strides[va]
                        if buf[i] == old { recorder.set(i, new, in: buf); changed += 1 }
                    }
                }
            } else {
                for i in 0..<buf.count where buf[i] == old { recorder.set(i, new, in: buf); changed += 1 }
            }
        }
        return changed
    }
}
