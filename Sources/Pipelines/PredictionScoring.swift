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
/// (slice propagation); else the whole volume. `excludingSlices` (the user's own slices written
/// over a fused prediction) leaves those slices out of the whole volume and takes precedence over
/// the other two. `labelSubset` keeps only those labels.
public func predictionDice(_ labels: LabelVolume, truth: LabelVolume, supportSlices: SliceSelection? = nil,
                           onlySlice: (axis: Int, index: Int)? = nil, excludingSlices: (axis: Int, indices: Set<Int>)? = nil,
                           labelSubset: Set<Int32>? = nil) -> [Int32: Double] {
    var scores: [Int32: Double]
    if let kept = excludingSlices {
        let g = labels.geometry
        var p = labels, t = truth
        for index in kept.indices where index >= 0 && index < g.size[kept.axis] {
            for n in SliceAccess.indices(g, axis: kept.axis, index: index) { p.labels[n] = 0; t.labels[n] = 0 }
        }
        scores = diceScores(prediction: p, truth: t)
    } else if let o = onlySlice {
        scores = diceOnSlice(labels, truth, axis: o.axis, index: o.index)
    } else if let s = supportSlices {
        scores = diceOnUnlabelledSlices(labels, truth, s)
    } else {
        scores = diceScores(prediction: labels, truth: truth)
    }
    if let labelSubset { scores = scores.filter { labelSubset.contains($0.key) } }
    return scores
}

/// Per voxel axis: predicted slices ranked for labelling next, by Segmentation's
/// `rankSlicesForLabelling` (the one ranking the bench's simulated annotator follows too): most
/// expected wrong voxels removed first, Σ (1 - confidence) of the slice plus a share of its gap's,
/// so slices next to a support slice are discounted (ties: lower index). Support slices and slices
/// with fewer than 10 labelled voxels (or 5 % of the fullest slice's) are left out. With
/// `onlySlice` (a one-slice prediction), only that slice is ranked.
public func disagreementRanking(_ p: Prediction, supportSlices: (axis: Int, indices: Set<Int>)?,
                                onlySlice: (axis: Int, index: Int)? = nil) -> [Int: [SliceConfidence]] {
    let totals = sliceConfidenceTotals(p)
    var out: [Int: [SliceConfidence]] = [:]
    for axis in 0..<3 {
        // A slice prediction ranks only its own slice; other axes cut through it on one line.
        if let o = onlySlice, o.axis != axis { out[axis] = []; continue }
        let labelled = supportSlices.flatMap { $0.axis == axis ? $0.indices : nil } ?? []
        out[axis] = rankSlicesForLabelling(count: totals[axis].count, confidenceSum: totals[axis].confidenceSum, labelled: labelled)
            .filter { s in onlySlice.map { $0.index == s.index } ?? true }
            .map { SliceConfidence(index: $0.index, meanConfidence: $0.meanConfidence, expectedErrors: $0.expectedErrors) }
    }
    return out
}
