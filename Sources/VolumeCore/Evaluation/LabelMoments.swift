/// Per-label running sums of a label map (voxel count, index sums, intensity moments) that follow
/// edits voxel by voxel, so statistics of a map being painted need not pass over the volume again.
///
/// Built in one pass (`init`); `change(_:from:to:)` moves one voxel from one label to another in
/// O(1). `statistics(of:)` gives the same `LabelStatistics` as `labelStatistics(labels:image:)`
/// (index sums are exact integers; intensity sums are shifted by the first finite value seen per
/// label, so the variance does not suffer from cancellation while the label's mean stays near that
/// value; agreement with the two-pass function is to ~1e-9 relative on real images).
public struct LabelMoments: Sendable {
    /// The running sums of one label.
    public struct Sums: Sendable, Equatable {
        /// Voxels with the label.
        public var count = 0
        /// Sum of their voxel indices (i, j, k), exact.
        public var indexSum = SIMD3<Int>(0, 0, 0)
        /// Voxels whose intensity is finite.
        public var valueCount = 0
        /// The shift subtracted from every intensity (the first finite value seen), when set.
        public var shift: Double?
        /// Σ (v − shift) and Σ (v − shift)² over the finite intensities.
        public var shiftedSum = 0.0, shiftedSquares = 0.0
    }

    /// The grid of the label map.
    public let geometry: VolumeGeometry
    /// Intensities, x fastest (empty when no image was given).
    private let values: [Float]
    /// Sums of every non-zero label present.
    public private(set) var sums: [Int32: Sums] = [:]

    /// Sums of every non-zero label of `labels`, with intensities from `image` (same voxel count) when given.
    public init(labels: LabelVolume, image: Volume? = nil) {
        geometry = labels.geometry
        if let image { precondition(image.voxels.count == labels.labels.count, "image and labels differ in size") }
        values = image?.voxels ?? []
        let size = labels.geometry.size
        let hasValues = !values.isEmpty
        var sums: [Int32: Sums] = [:]
        labels.labels.withUnsafeBufferPointer { lab in
            values.withUnsafeBufferPointer { val in
                // Runs of one label along x accumulate together.
                forEachLabelRun(lab, size: size, from: .zero, to: size) { l, row, i, e, j, k in
                    var s = sums[l] ?? Sums()
                    let run = e - i
                    s.count += run
                    s.indexSum &+= SIMD3((i + e - 1) * run / 2, j * run, k * run)
                    if hasValues {
                        for n in (row + i)..<(row + e) {
                            let v = Double(val[n])
                            guard v.isFinite else { continue }
                            if s.shift == nil { s.shift = v }
                            let d = v - s.shift!
                            s.valueCount += 1; s.shiftedSum += d; s.shiftedSquares += d * d
                        }
                    }
                    sums[l] = s
                }
            }
        }
        self.sums = sums
    }

    /// Voxel `index` (linear, x fastest) changed from label `old` to label `new`.
    public mutating func change(_ index: Int, from old: Int32, to new: Int32) {
        guard old != new else { return }
        let v = values.isEmpty ? Double.nan : Double(values[index])
        let p = geometry.voxel(ofIndex: index)
        if old != 0, var s = sums[old] {
            s.count -= 1
            s.indexSum &-= p
            if v.isFinite, let shift = s.shift {
                let d = v - shift
                s.valueCount -= 1; s.shiftedSum -= d; s.shiftedSquares -= d * d
            }
            sums[old] = s.count > 0 ? s : nil
        }
        if new != 0 {
            var s = sums[new] ?? Sums()
            s.count += 1
            s.indexSum &+= p
            if v.isFinite {
                if s.shift == nil { s.shift = v }
                let d = v - s.shift!
                s.valueCount += 1; s.shiftedSum += d; s.shiftedSquares += d * d
            }
            sums[new] = s
        }
    }

    /// Applies a sparse change: `indices[n]` went from `before[n]` to `after[n]`.
    public mutating func change(indices: [Int], before: [Int32], after: [Int32]) {
        for n in indices.indices { change(indices[n], from: before[n], to: after[n]) }
    }

    /// Statistics of `label` (nil when no voxel has it), in the conventions of `LabelStatistics`.
    public func statistics(of label: Int32) -> LabelStatistics? {
        guard label != 0, let s = sums[label], s.count > 0 else { return nil }
        let c = SIMD3<Double>(s.indexSum) / Double(s.count)
        var mean = Double.nan, sd = Double.nan
        if !values.isEmpty, s.valueCount > 0, let shift = s.shift {
            let m = s.shiftedSum / Double(s.valueCount)
            mean = shift + m
            sd = max(0, s.shiftedSquares / Double(s.valueCount) - m * m).squareRoot()
        }
        return LabelStatistics(label: label, voxelCount: s.count, volumeMM3: Double(s.count) * voxelVolumeMM3(geometry),
                               meanIntensity: mean, sdIntensity: sd, intensityCount: s.valueCount,
                               centroidVoxel: c, centroidMM: geometry.world(ofVoxel: c))
    }
}
