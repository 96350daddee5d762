import VolumeCore

/// The first few-shot predictor: register every support to the query, carry its labels over
/// (soft, trilinear), and fuse them (majority or locally weighted vote).
///
/// Supports labelled on some slices only vote where their mapped point falls on a labelled slice
/// (within half a voxel); elsewhere they abstain rather than vote background.
public struct RegistrationPropagationPredictor: SegmentationPredictor {
    /// The registration used between a support and the query.
    public var aligner: PairwiseAligner
    /// Fusion rule and options.
    public var fusion: FusionOptions

    public init(aligner: PairwiseAligner, fusion: FusionOptions = FusionOptions()) {
        self.aligner = aligner; self.fusion = fusion
    }

    public func predict(query: Volume, supports: [LoadedSupport],
                        progress: (SegmentationProgress) -> Void,
                        isCancelled: @escaping () -> Bool) throws -> Prediction {
        guard !supports.isEmpty else { throw SegmentationError.invalidInput("no support examples: give at least one labelled image") }
        let start = monotonicSeconds()
        var mapped: [MappedSupport] = []
        for (n, s) in supports.enumerated() {
            if isCancelled() { throw SegmentationError.cancelled }
            guard s.labels.geometry.size == s.image.geometry.size else {
                throw SegmentationError.invalidInput("support \(s.name): labels are not on the image's grid")
            }
            progress(SegmentationProgress(step: n, total: supports.count,
                                          message: "registering support \(n + 1) of \(supports.count) (\(s.name))",
                                          elapsed: monotonicSeconds() - start))
            let field = try aligner.align(fixed: query, moving: s.image, isCancelled: isCancelled)
            mapped.append(MappedSupport(image: s.image, labels: s.labels, field: field))
        }
        if isCancelled() { throw SegmentationError.cancelled }
        progress(SegmentationProgress(step: supports.count, total: supports.count, message: "fusing labels",
                                      elapsed: monotonicSeconds() - start))
        return fuseLabels(query: query, supports: mapped, options: fusion,
                          known: supports.map { s in s.slices.map { knownMask($0, s.image.geometry) } })
    }
}

/// Per voxel of `g`: true on the selected slices.
func knownMask(_ s: SliceSelection, _ g: VolumeGeometry) -> [Bool] {
    var mask = [Bool](repeating: false, count: g.voxelCount)
    for i in s.indices where i < g.size[s.plane.axis] {
        for idx in SliceAccess.indices(g, axis: s.plane.axis, index: i) { mask[idx] = true }
    }
    return mask
}
