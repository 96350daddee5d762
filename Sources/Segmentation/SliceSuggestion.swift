import VolumeCore

/// A slice worth labelling next, with why.
public struct SliceSuggestion: Sendable, Equatable {
    /// Index along the plane's voxel axis.
    public var index: Int
    /// Expected number of wrong voxels on the slice: Σ (1 - confidence) over the voxels where the
    /// prediction is not background (higher = label this one first).
    public var expectedErrors: Double
    /// Mean confidence of those voxels (0...1).
    public var meanConfidence: Double

    public init(index: Int, expectedErrors: Double, meanConfidence: Double) {
        self.index = index; self.expectedErrors = expectedErrors; self.meanConfidence = meanConfidence
    }
}

/// Unlabelled slices between the first and last labelled slice of `labelled`, ranked for labelling
/// next: most expected errors (Σ 1 - confidence over the predicted non-background voxels) first,
/// ties to the lower index. Slices without any predicted label are left out.
public func suggestSlicesToLabel(_ p: Prediction, axis: Int, labelled: [Int]) -> [SliceSuggestion] {
    let g = p.labels.geometry
    let sorted = Array(Set(labelled.filter { $0 >= 0 && $0 < g.size[axis] })).sorted()
    guard let first = sorted.first, let last = sorted.last, last - first > 1 else { return [] }
    let set = Set(sorted)
    var out: [SliceSuggestion] = []
    for s in (first + 1)..<last where !set.contains(s) {
        var errors = 0.0, sum = 0.0, n = 0
        for idx in SliceAccess.indices(g, axis: axis, index: s) where p.labels.labels[idx] != 0 {
            let c = Double(p.confidence.voxels[idx])
            errors += 1 - c; sum += c; n += 1
        }
        guard n > 0 else { continue }
        out.append(SliceSuggestion(index: s, expectedErrors: errors, meanConfidence: sum / Double(n)))
    }
    return out.sorted { ($0.expectedErrors, -$0.index) > ($1.expectedErrors, -$1.index) }
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
