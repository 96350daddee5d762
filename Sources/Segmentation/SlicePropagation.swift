import Foundation
import VolumeCore

/// How a target slice reaches its labelled slices.
public enum SlicePath: String, Sendable, CaseIterable {
    /// Each labelled slice is registered straight to the target.
    case direct
    /// Neighbouring slices are registered pairwise (z to z±1) and the maps composed along the way,
    /// so each registration only bridges one slice of anatomical change.
    case chained
}

/// "Label a few slices, fill the rest": predicts every slice of one plane of a volume from the
/// labelled slices of the same volume.
///
/// Each target slice between labelled slices a < t < b is predicted from both: slices a and b
/// are mapped onto slice t (directly, or through the chain of neighbouring slices), their labels
/// carried over (soft, bilinear) and fused with distance weights (b - t)/(b - a) and
/// (t - a)/(b - a), times local image similarity for `.weighted`. Slices before the first or after
/// the last labelled slice use the nearest labelled slice only.
public struct SlicePropagator {
    /// The 2-D registration used between slices.
    public var aligner: PairwiseAligner
    /// How the two bracketing slices' labels are combined.
    public var fusion: FusionMethod
    /// How labelled slices are mapped to the targets.
    public var path: SlicePath

    public init(aligner: PairwiseAligner, fusion: FusionMethod = .majority, path: SlicePath = .chained) {
        self.aligner = aligner; self.fusion = fusion; self.path = path
    }

    /// Predicts the slices of `selection.plane` of `volume` (all, or only `targets`); `labels` is read
    /// on the selected slices only. With `targets`, the chain spans only the slices those targets need
    /// and other unlabelled slices stay 0 with confidence 0.
    public func predict(volume: Volume, labels: LabelVolume, selection: SliceSelection, targets requested: [Int]? = nil,
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
        let targets = (requested.map { Array(Set($0)).sorted() } ?? Array(0..<count)).filter { $0 >= 0 && $0 < count && !labelled.contains($0) }
        // The links the chain needs: from each target down to the labelled slice below it, and up to the one above.
        var needDown = Set<Int>(), needUp = Set<Int>()
        for t in targets {
            if let a = labelled.last(where: { $0 < t }) { needDown.formUnion((a + 1)...t) }
            if let b = labelled.first(where: { $0 > t }) { needUp.formUnion(t..<b) }
        }
        let chain = path == .chained
            ? try NeighbourChain(volume: volume, axis: axis, needed: (needDown, needUp), aligner: aligner, isCancelled: isCancelled) { done, total in
                progress(SegmentationProgress(step: done, total: total + targets.count,
                                              message: "registering neighbouring \(selection.plane.rawValue) slices (\(done + 1) of \(total))",
                                              elapsed: monotonicSeconds() - start))
            }
            : nil
        let registrations = chain?.count ?? 0
        for (n, t) in targets.enumerated() {
            if isCancelled() { throw SegmentationError.cancelled }
            progress(SegmentationProgress(step: registrations + n, total: registrations + targets.count,
                                          message: "\(selection.plane.rawValue) slice \(t) (\(n + 1) of \(targets.count))",
                                          elapsed: monotonicSeconds() - start))
            let below = labelled.last(where: { $0 < t }), above = labelled.first(where: { $0 > t })
            let sg = SliceAccess.sliceGeometry(g, axis: axis, index: t)
            let fixed = SliceAccess.slice(volume, axis: axis, index: t)
            var mapped: [MappedSupport] = []
            for (src, w) in sourceWeights(t, below, above) {
                let moving = SliceAccess.slice(volume, axis: axis, index: src, geometry: sg)
                let movingLabels = SliceAccess.slice(labels, axis: axis, index: src, geometry: sg)
                let field: VectorField
                if let chain {
                    field = chain.composedField(from: t, to: src, geometry: sg)
                } else if isConstant(fixed) || isConstant(moving) {
                    field = VectorField(zeroOn: sg) // a blank slice has nothing to align
                } else {
                    field = try aligner.align(fixed: fixed, moving: moving, isCancelled: isCancelled)
                }
                mapped.append(MappedSupport(image: moving, labels: movingLabels, field: field, weight: w))
            }
            let p = fuseLabels(query: fixed, supports: mapped, options: FusionOptions(method: fusion))
            for (k, idx) in SliceAccess.indices(g, axis: axis, index: t).enumerated() {
                outLabels[idx] = p.labels.labels[k]; outConf[idx] = p.confidence.voxels[k]
            }
        }
        progress(SegmentationProgress(step: registrations + targets.count, total: registrations + targets.count,
                                      message: "done", elapsed: monotonicSeconds() - start))
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

/// Registrations between every pair of neighbouring slices, in both directions, as in-plane
/// pixel displacements: `down[z]` maps slice z onto slice z - 1, `up[z]` slice z onto z + 1.
struct NeighbourChain {
    let width: Int, height: Int
    var down: [[SIMD2<Float>]?]
    var up: [[SIMD2<Float>]?]
    /// Number of registrations run.
    let count: Int

    /// Registers neighbouring slices: all pairs both ways, or only the links in `needed`
    /// (`down` holds z for the map z -> z - 1, `up` holds z for z -> z + 1).
    init(volume: Volume, axis: Int, needed: (down: Set<Int>, up: Set<Int>)? = nil, aligner: PairwiseAligner,
         isCancelled: @escaping () -> Bool, progress: (Int, Int) -> Void) throws {
        let g = volume.geometry
        let n = g.size[axis]
        let (a, b) = SliceAccess.inPlaneAxes(axis)
        width = g.size[a]; height = g.size[b]
        down = Array(repeating: nil, count: n)
        up = Array(repeating: nil, count: n)
        func wanted(_ fixedIndex: Int, _ z: Int) -> Bool {
            guard let needed else { return true }
            return fixedIndex == z ? needed.up.contains(z) : needed.down.contains(z + 1)
        }
        let pairs = max(0, n - 1)
        let total = (0..<pairs).reduce(0) { $0 + (wanted($1, $1) ? 1 : 0) + (wanted($1 + 1, $1) ? 1 : 0) }
        var done = 0
        for z in 0..<pairs where wanted(z, z) || wanted(z + 1, z) {
            let sg0 = SliceAccess.sliceGeometry(g, axis: axis, index: z)
            let sg1 = SliceAccess.sliceGeometry(g, axis: axis, index: z + 1)
            let s0 = SliceAccess.slice(volume, axis: axis, index: z)
            let s1 = SliceAccess.slice(volume, axis: axis, index: z + 1)
            for (fixedIndex, fixed, moving, sg) in [(z, s0, SliceAccess.slice(volume, axis: axis, index: z + 1, geometry: sg0), sg0),
                                                    (z + 1, s1, SliceAccess.slice(volume, axis: axis, index: z, geometry: sg1), sg1)]
                where wanted(fixedIndex, z) {
                if isCancelled() { throw SegmentationError.cancelled }
                progress(done, total)
                done += 1
                guard !isConstant(fixed), !isConstant(moving) else { continue }
                let f = try aligner.align(fixed: fixed, moving: moving, isCancelled: isCancelled)
                let pixels = NeighbourChain.pixelDisplacements(f, sg)
                if fixedIndex == z { up[z] = pixels } else { down[z + 1] = pixels }
            }
        }
        count = total
    }

    /// World displacements of a slice field as displacements in pixels of its first two axes.
    static func pixelDisplacements(_ f: VectorField, _ sg: VolumeGeometry) -> [SIMD2<Float>] {
        let inv = sg.affine.inverse ?? .identity
        return (0..<sg.voxelCount).map { v in
            let u = f.vector(at: v)
            let p = inv.applyLinear(SIMD3(Double(u.x), Double(u.y), Double(u.z)))
            return SIMD2(Float(p.x), Float(p.y))
        }
    }

    /// The map from slice `from` to slice `to`, composed along the chain, as a world displacement
    /// field on `geometry` (slice `from`'s grid).
    func composedField(from: Int, to: Int, geometry sg: VolumeGeometry) -> VectorField {
        var out = VectorField(zeroOn: sg)
        let steps = from > to ? Array(stride(from: from, to: to, by: -1)) : Array(from..<to)
        let fields = steps.map { from > to ? down[$0] : up[$0] }
        for j in 0..<height {
            for i in 0..<width {
                var q = SIMD2<Float>(Float(i), Float(j))
                for f in fields { if let f { q += sampleBilinear(f, q) } }
                let d = q - SIMD2(Float(i), Float(j))
                let w = sg.affine.applyLinear(SIMD3(Double(d.x), Double(d.y), 0))
                out.setVector(SIMD3(Float(w.x), Float(w.y), Float(w.z)), at: i + width * j)
            }
        }
        return out
    }

    /// Bilinear sample of a pixel field at `q` (clamped to the border).
    private func sampleBilinear(_ f: [SIMD2<Float>], _ q: SIMD2<Float>) -> SIMD2<Float> {
        let x = min(max(q.x, 0), Float(width - 1)), y = min(max(q.y, 0), Float(height - 1))
        let x0 = min(Int(x), max(width - 2, 0)), y0 = min(Int(y), max(height - 2, 0))
        let x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
        let tx = x - Float(x0), ty = y - Float(y0)
        let a = f[x0 + width * y0] * (1 - tx) + f[x1 + width * y0] * tx
        let b = f[x0 + width * y1] * (1 - tx) + f[x1 + width * y1] * tx
        return a * (1 - ty) + b * ty
    }
}

/// True when every voxel has the same value.
func isConstant(_ v: Volume) -> Bool {
    guard let first = v.voxels.first else { return true }
    return !v.voxels.contains { $0 != first }
}
