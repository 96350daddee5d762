import Dispatch
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

    /// Register two supports at a time, each on one thread (`voxtermThreadCount` ≥ 2): on small
    /// pyramid levels one registration cannot keep two cores busy. Progress is then reported per pair.
    public var concurrentSupports: Bool

    public init(aligner: PairwiseAligner, fusion: FusionOptions = FusionOptions(), concurrentSupports: Bool = false) {
        self.aligner = aligner; self.fusion = fusion; self.concurrentSupports = concurrentSupports
    }

    public func predict(query: Volume, supports: [LoadedSupport],
                        progress: (SegmentationProgress) -> Void,
                        isCancelled: @escaping () -> Bool) throws -> Prediction {
        guard !supports.isEmpty else { throw SegmentationError.invalidInput("no support examples: give at least one labelled image") }
        let start = monotonicSeconds()
        for s in supports where s.labels.geometry.size != s.image.geometry.size {
            throw SegmentationError.invalidInput("support \(s.name): labels are not on the image's grid")
        }
        var fields = [VectorField?](repeating: nil, count: supports.count)
        let threads = effectiveThreadCount
        let group = concurrentSupports && threads >= 2 && supports.count > 1 ? 2 : 1
        var n = 0
        while n < supports.count {
            if isCancelled() { throw SegmentationError.cancelled }
            let end = min(supports.count, n + group)
            let names = supports[n..<end].map(\.name).joined(separator: ", ")
            progress(SegmentationProgress(step: n, total: supports.count,
                                          message: end - n == 1 ? "registering support \(n + 1) of \(supports.count) (\(names))"
                                                                : "registering supports \(n + 1)-\(end) of \(supports.count) (\(names))",
                                          elapsed: monotonicSeconds() - start))
            if end - n == 1 {
                fields[n] = try aligner.align(fixed: query, moving: supports[n].image, isCancelled: isCancelled)
            } else {
                var errors = [Error?](repeating: nil, count: end - n)
                let first = n
                fields.withUnsafeMutableBufferPointer { f in
                    errors.withUnsafeMutableBufferPointer { e in
                        DispatchQueue.concurrentPerform(iterations: end - first) { i in
                            withThreadCount(max(1, threads / (end - first))) {
                                do { f[first + i] = try aligner.align(fixed: query, moving: supports[first + i].image, isCancelled: isCancelled) }
                                catch { e[i] = error }
                            }
                        }
                    }
                }
                if let e = errors.compactMap({ $0 }).first { throw e }
            }
            n = end
        }
        let mapped = zip(supports, fields).map { MappedSupport(image: $0.image, labels: $0.labels, field: $1!) }
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
