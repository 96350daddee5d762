import VolumeCore
import Segmentation

// Scoring a prediction against a truth and ranking its slices by disagreement: the same functions
// for `voxterm segment --truth` and the workbench's prediction panel.

/// Mean confidence of the predicted (non-background) voxels of one slice.
public struct SliceConfidence: Sendable, Equatable {
    /// Voxel index along the slice axis.
    public var index: Int
    /// Mean confidence, 0...1 (1 = every support agrees everywhere on the slice).
    public var meanConfidence: Double

    /// Expected number of wrong voxels on the slice: Σ (1 - confidence) over the predicted voxels.
    public var expectedErrors: Double

    public init(index: Int, meanConfidence: Double, expectedErrors: Double = 0) {
        self.index = index; self.meanConfidence = meanConfidence; self.expectedErrors = expectedErrors
    }
}

/// Dice per label of `labels` against `truth` (same grid) over what was predicted: only slice
/// `onlySlice` when set; else the slices that were not supports when `supportSlices` is set
/// (slice propagation); else the whole volume. `labelSubset` keeps only those labels.
public func predictionDice(_ labels: LabelVolume, truth: LabelVolume, supportSlices: SliceSelection? = nil,
                           onlySlice: (axis: Int, index: Int)? = nil, labelSubset: Set<Int32>? = nil) -> [Int32: Double] {
    var scores: [Int32: Double]
    if let o = onlySlice {
        scores = diceOnSlice(labels, truth, axis: o.axis, index: o.index)
    } else if let s = supportSlices {
        scores = diceOnUnlabelledSlices(labels, truth, s)
    } else {
        scores = diceScores(prediction: labels, truth: truth)
    }
    if let labelSubset { scores = scores.filter { labelSubset.contains($0.key) } }
    return scores
}

/// Per voxel axis: predicted slices sorted by the expected number of wrong voxels, Σ (1 - confidence)
/// over their labelled (non-zero) voxels, most first (ties: lower index). Support slices and slices with fewer than 10 labelled voxels (or 5 % of the
/// fullest slice's) are left out. With `onlySlice` (a one-slice prediction), only that slice is ranked.
public func disagreementRanking(_ p: Prediction, supportSlices: (axis: Int, indices: Set<Int>)?,
                                onlySlice: (axis: Int, index: Int)? = nil) -> [Int: [SliceConfidence]] {
    let size = p.labels.geometry.size
    var sums = (0..<3).map { [Double](repeating: 0, count: size[$0]) }
    var counts = (0..<3).map { [Int](repeating: 0, count: size[$0]) }
    p.labels.labels.withUnsafeBufferPointer { l in
        p.confidence.voxels.withUnsafeBufferPointer { c in
            var n = 0
            for k in 0..<size.z { for j in 0..<size.y { for i in 0..<size.x {
                if l[n] != 0 {
                    let v = Double(c[n])
                    sums[0][i] += v; counts[0][i] += 1
                    sums[1][j] += v; counts[1][j] += 1
                    sums[2][k] += v; counts[2][k] += 1
                }
                n += 1
            } } }
        }
    }
    var out: [Int: [SliceConfidence]] = [:]
    for axis in 0..<3 {
        var list: [SliceConfidence] = []
        // Caps of a structure (a few voxels) always look uncertain: rank slices with at least 5 % of the fullest one's.
        let minimum = max(10, (counts[axis].max() ?? 0) / 20)
        for s in 0..<size[axis] where counts[axis][s] >= minimum && (onlySlice.map { $0.axis == axis && $0.index == s } ?? true) {
            if let sup = supportSlices, sup.axis == axis, sup.indices.contains(s) { continue }
            list.append(SliceConfidence(index: s, meanConfidence: sums[axis][s] / Double(counts[axis][s]),
                                        expectedErrors: Double(counts[axis][s]) - sums[axis][s]))
        }
        // A slice prediction ranks only its own slice; other axes cut through it on one line.
        if let o = onlySlice, o.axis != axis { list = [] }
        // Most expected errors first (Σ 1 - confidence = count x (1 - mean)): where labelling helps most,
        // as `suggestSlicesToLabel` ranks them (the simulated annotator of bench segment).
        out[axis] = list.sorted { (-$0.expectedErrors, $0.index) < (-$1.expectedErrors, $1.index) }
    }
    return out
}
