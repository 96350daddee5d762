import Foundation
import VolumeCore

/// "Label a few slices, fill the rest": predicts every slice of one plane of a volume from the
/// labelled slices of the same volume.
///
/// Each target slice between labelled slices a < t < b is predicted from both: the 2-D slices a
/// and b are registered to slice t, their labels carried over (soft, trilinear) and fused with
/// distance weights (b - t)/(b - a) and (t - a)/(b - a), times local image similarity for
/// `.weighted`. Slices before the first or after the last labelled slice use the nearest one only.
public struct SlicePropagator {
    /// The 2-D registration used between slices.
    public var aligner: PairwiseAligner
    /// How the two bracketing slices' labels are combined.
    public var fusion: FusionMethod

    public init(aligner: PairwiseAligner, fusion: FusionMethod = .weighted) {
        self.aligner = aligner; self.fusion = fusion
    }

    /// Predicts all slices of `selection.plane` of `volume`; `labels` is read on the selected slices only.
    public func predict(volume: Volume, labels: LabelVolume, selection: SliceSelection,
                        progress: (SegmentationProgress) -> Void = { _ in },
                        isCancelled: @escaping () -> Bool = { false }) throws -> Prediction {
        let g = volume.geometry
        guard labels.geometry.size == g.size else {
            throw SegmentationError.invalidInput("the label map is \(labels.geometry.size), the image \(g.size): not the same grid")
        }
        let axis = selection.plane.axis
        let count = g.size[axis]
        let labelled = selection.indices.filter { $0 < count }
        guard !labelled.isEmpty else {
            throw SegmentationError.invalidInput("no labelled \(selection.plane.rawValue) slice lies inside the volume (0..<\(count))")
        }
        let start = monotonicSeconds()
        var outLabels = [Int32](repeating: 0, count: g.voxelCount)
        var outConf = [Float](repeating: 0, count: g.voxelCount)
        for s in labelled {
            for idx in SliceAccess.indices(g, axis: axis, index: s) { outLabels[idx] = labels.labels[idx]; outConf[idx] = 1 }
        }
        let targets = (0..<count).filter { !labelled.contains($0) }
        for (n, t) in targets.enumerated() {
            if isCancelled() { throw SegmentationError.cancelled }
            progress(SegmentationProgress(step: n, total: targets.count,
                                          message: "\(selection.plane.rawValue) slice \(t) (\(n + 1) of \(targets.count))",
                                          elapsed: monotonicSeconds() - start))
            let below = labelled.last(where: { $0 < t }), above = labelled.first(where: { $0 > t })
            let sg = SliceAccess.sliceGeometry(g, axis: axis, index: t)
            let fixed = SliceAccess.slice(volume, axis: axis, index: t)
            var mapped: [MappedSupport] = []
            for (src, w) in sourceWeights(t, below, above) {
                let moving = SliceAccess.slice(volume, axis: axis, index: src, geometry: sg)
                let movingLabels = SliceAccess.slice(labels, axis: axis, index: src, geometry: sg)
                // A blank slice (outside the head) has nothing to align: keep the identity.
                let field = isConstant(fixed) || isConstant(moving)
                    ? VectorField(zeroOn: sg)
                    : try aligner.align(fixed: fixed, moving: moving, isCancelled: isCancelled)
                mapped.append(MappedSupport(image: moving, labels: movingLabels, field: field, weight: w))
            }
            let p = fuseLabels(query: fixed, supports: mapped, options: FusionOptions(method: fusion))
            for (k, idx) in SliceAccess.indices(g, axis: axis, index: t).enumerated() {
                outLabels[idx] = p.labels.labels[k]; outConf[idx] = p.confidence.voxels[k]
            }
        }
        progress(SegmentationProgress(step: targets.count, total: targets.count, message: "done",
                                      elapsed: monotonicSeconds() - start))
        return Prediction(labels: LabelVolume(geometry: g, labels: outLabels), confidence: Volume(geometry: g, voxels: outConf))
    }

    /// Labelled source slices of target `t` and their distance weights.
    func sourceWeights(_ t: Int, _ below: Int?, _ above: Int?) -> [(Int, Float)] {
        switch (below, above) {
        case let (a?, b?):
            let span = Float(b - a)
            return [(a, Float(b - t) / span), (b, Float(t - a) / span)]
        case let (a?, nil): return [(a, 1)]
        case let (nil, b?): return [(b, 1)]
        default: return []
        }
    }
}

/// True when every voxel has the same value.
func isConstant(_ v: Volume) -> Bool {
    guard let first = v.voxels.first else { return true }
    return !v.voxels.contains { $0 != first }
}

/// Seconds on a monotonic clock.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
