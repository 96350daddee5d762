import VolumeCore

/// A slice worth labelling next, with why.
public struct SliceSuggestion: Sendable, Equatable {
    /// Index along the plane's voxel axis.
    public var index: Int
    /// Expected number of wrong voxels on the slice: Σ (1 - confidence) over the voxels where the
    /// prediction is not background.
    public var expectedErrors: Double
    /// Mean confidence of those voxels (0...1).
    public var meanConfidence: Double
    /// Expected number of wrong voxels that labelling this slice removes, on it and on the slices of
    /// its gap (`rankSlicesForLabelling`); the ranking's key (higher = label this one first).
    public var expectedGain: Double

    /// A suggestion for slice `index`; `expectedGain` defaults to `expectedErrors` (no labelled slice to discount by).
    public init(index: Int, expectedErrors: Double, meanConfidence: Double, expectedGain: Double? = nil) {
        self.index = index; self.expectedErrors = expectedErrors; self.meanConfidence = meanConfidence
        self.expectedGain = expectedGain ?? expectedErrors
    }
}

/// Per voxel axis (0, 1, 2) and slice: the number of predicted (non-background) voxels and the sum
/// of their confidences. One pass over the volume.
public func sliceConfidenceTotals(_ p: Prediction) -> [(count: [Int], confidenceSum: [Double])] {
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
    return (0..<3).map { (counts[$0], sums[$0]) }
}

/// Ranks the slices of one voxel axis for labelling next: THE ranking of slice filling, shared by
/// the workbench's "next disagreement" key (`d`, Pipelines' `disagreementRanking`) and the simulated
/// annotator of `voxterm bench segment` (`suggestSlicesToLabel`).
///
/// `count[s]` and `confidenceSum[s]` are slice s's predicted (non-background) voxels and the sum of
/// their confidences (`sliceConfidenceTotals`); `labelled` the slices already labelled on this axis.
/// The expected errors of slice t are E(t) = Σ (1 - confidence) = count - confidenceSum. Filled
/// slices get worse with their distance d(t) to the nearest labelled slice (on protocol-dev.json
/// setting B, mean Dice 0.77 at gaps of 5 slices, 0.60 at 10), so labelling slice s is credited with
/// the errors it removes on its own gap, taking each slice's errors as proportional to d(t):
///
///     gain(s) = Σ_t E(t) · max(0, 1 - |t - s| / d(t))
///
/// (after labelling s, t's distance becomes min(d(t), |t - s|)). That is E(s) for s itself plus a
/// share of its neighbours' errors, and nothing across a labelled slice. It prefers slices with many
/// doubtful voxels in the middle of long gaps and discounts slices next to a labelled one, whose gap
/// is already short (the plain Σ (1 - confidence) took slices 2-3 from a fresh label third, behind
/// the middle of the largest gap). With no labelled slice on this axis d(t) = 1: gain = E, the plain
/// ranking (a whole-volume prediction from other volumes).
///
/// Labelled slices, and slices with fewer than 10 predicted voxels or 5 % of the fullest slice's (caps
/// of a structure always look doubtful) are not offered; every predicted slice counts in the sums.
/// Most gain first; ties to the lower index.
public func rankSlicesForLabelling(count: [Int], confidenceSum: [Double], labelled given: Set<Int>) -> [SliceSuggestion] {
    let n = min(count.count, confidenceSum.count)
    guard n > 0 else { return [] }
    // Only labelled slices on this axis count (an index past the end would leave every distance
    // infinite and the ranking in index order).
    let labelled = given.filter { (0..<n).contains($0) }
    let errors = (0..<n).map { labelled.contains($0) ? 0 : max(0, Double(count[$0]) - confidenceSum[$0]) }
    // Distance to the nearest labelled slice (1 when there is none: each slice stands alone).
    var distance = [Double](repeating: labelled.isEmpty ? 1 : .infinity, count: n)
    if !labelled.isEmpty {
        var last: Int? = nil
        for s in 0..<n {
            if labelled.contains(s) { last = s }
            if let last { distance[s] = Double(s - last) }
        }
        last = nil
        for s in stride(from: n - 1, through: 0, by: -1) {
            if labelled.contains(s) { last = s }
            if let last { distance[s] = min(distance[s], Double(last - s)) }
        }
    }
    let minimum = max(10, (count.prefix(n).max() ?? 0) / 20)
    var out: [SliceSuggestion] = []
    for s in 0..<n where count[s] >= minimum && !labelled.contains(s) {
        var gain = 0.0
        // Only slices closer to s than to their nearest labelled slice gain; none lies beyond a labelled one.
        var t = s
        while t >= 0 && Double(s - t) < distance[t] { gain += errors[t] * (1 - Double(s - t) / distance[t]); t -= 1 }
        t = s + 1
        while t < n && Double(t - s) < distance[t] { gain += errors[t] * (1 - Double(t - s) / distance[t]); t += 1 }
        out.append(SliceSuggestion(index: s, expectedErrors: errors[s], meanConfidence: confidenceSum[s] / Double(count[s]),
                                   expectedGain: gain))
    }
    return out.sorted { ($0.expectedGain, -$0.index) > ($1.expectedGain, -$1.index) }
}

/// Slices of `axis` ranked for labelling next given the `labelled` ones (`rankSlicesForLabelling`,
/// the ranking the workbench's `d` key follows): unlabelled slices with a prediction, most expected
/// gain first. Without `--extrapolate` only slices between the first and last labelled one are
/// predicted, so only they are offered.
public func suggestSlicesToLabel(_ p: Prediction, axis: Int, labelled: [Int]) -> [SliceSuggestion] {
    let totals = sliceConfidenceTotals(p)[axis]
    let size = p.labels.geometry.size[axis]
    return rankSlicesForLabelling(count: totals.count, confidenceSum: totals.confidenceSum,
                                  labelled: Set(labelled.filter { $0 >= 0 && $0 < size }))
}

/// The slice in the middle of the largest gap between labelled slices (ties: the lowest gap), or
/// nil when no gap has an unlabelled slice: the suggestion-free way of adding a slice.
public func middleOfLargestGap(labelled: [Int]) -> Int? {
    let s = Array(Set(labelled)).sorted()
    var best: (Int, Int)? = nil
    for (a, b) in zip(s, s.dropFirst()) where b - a > 1 {
        if best == nil || b - a > best!.1 - best!.0 { best = (a, b) }
    }
    return best.map { ($0.0 + $0.1) / 2 }
}

/// How the simulated annotator picks the next slice.
public enum AnnotatorStrategy: String, Sendable, CaseIterable {
    /// The top of `suggestSlicesToLabel` (what the workbench's "next disagreement" key offers first).
    case suggested
    /// `middleOfLargestGap`.
    case middleOfLargestGap = "mid-gap"
}

/// A simulated annotator: fills the slices, then `steps` times adds the truth of one more slice
/// (picked by `strategy`) as a label and fills again. Returns the mean Dice after 0, 1, ... `steps`
/// extra slices, each scored on the slices that were targets at the start (unlabelled slices
/// between the first and last labelled slice; added slices then score as labelled, i.e. exactly).
/// Neighbour registrations are computed once and reused.
public func simulateAnnotator(volume: Volume, truth: LabelVolume, selection: SliceSelection, propagator: SlicePropagator,
                              strategy: AnnotatorStrategy, steps: Int,
                              isCancelled: @escaping () -> Bool = { false }) throws -> (dice: [Double], added: [Int]) {
    let axis = selection.plane.axis
    let g = volume.geometry
    var labelled = selection.indices.filter { $0 < g.size[axis] }
    guard let first = labelled.first, let last = labelled.last else {
        throw SegmentationError.invalidInput("no labelled slice lies inside the volume")
    }
    var chain: NeighbourChain? = nil
    if propagator.path == .chained && propagator.method != .shape && last > first {
        let links = Set(first...last)
        chain = try NeighbourChain(volume: volume, axis: axis, needed: (links, links), aligner: propagator.aligner,
                                   isCancelled: isCancelled) { _, _ in }
    }
    var dice: [Double] = []
    var added: [Int] = []
    for step in 0...steps {
        var partial = LabelVolume(geometry: g)
        for s in labelled { for idx in SliceAccess.indices(g, axis: axis, index: s) { partial.labels[idx] = truth.labels[idx] } }
        let sel = SliceSelection(plane: selection.plane, indices: labelled)
        let p = try propagator.predict(volume: volume, labels: partial, selection: sel, targets: nil, chain: chain,
                                       progress: { _ in }, isCancelled: isCancelled)
        dice.append(meanDice(diceOnUnlabelledSlices(p.labels, truth, selection)))
        if step == steps { break }
        let next: Int?
        switch strategy {
        case .suggested: next = suggestSlicesToLabel(p, axis: axis, labelled: labelled).first?.index
        case .middleOfLargestGap: next = middleOfLargestGap(labelled: labelled)
        }
        guard let next else { break }
        added.append(next)
        labelled = Array(Set(labelled + [next])).sorted()
    }
    return (dice, added)
}
