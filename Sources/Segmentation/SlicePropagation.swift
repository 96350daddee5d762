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

/// How unlabelled slices are filled from the labelled ones.
public enum SliceFillMethod: String, Sendable, CaseIterable {
    /// Image and shape evidence fused per label and per voxel (the default): the signed distance
    /// maps of each label on the two bracketing labelled slices are carried to the target along the
    /// slice-to-slice registration and, with weight `1 - registrationWeight`, in place; they are
    /// blended with weights from the slice distance and the local image agreement; the label with
    /// the smallest blended distance wins.
    case fused
    /// Shape-based (signed-distance) interpolation between the bracketing labelled slices, no image.
    case shape
    /// Registration only: the bracketing slices' labels carried over and voted (`FusionMethod`).
    case registration
}

/// "Label a few slices, fill the rest": predicts the unlabelled slices of one plane of a volume
/// from the labelled slices of the same volume.
///
/// Only slices between the first and the last labelled slice are filled unless `extrapolate` is
/// set; then slices outside that range are filled from the nearest labelled slice with at most half
/// the confidence (`Prediction.confidence` ≤ 0.5 there). See `SliceFillMethod` for the evidence used.
public struct SlicePropagator {
    /// The 2-D registration used between slices.
    public var aligner: PairwiseAligner
    /// How the two bracketing slices' labels are combined (`.registration` only).
    public var fusion: FusionMethod
    /// How labelled slices are mapped to the targets.
    public var path: SlicePath
    /// Which evidence fills the slices.
    public var method: SliceFillMethod
    /// `.fused`: share of the registered (image) evidence against the in-place (shape) evidence, 0...1;
    /// nil (the default) sets it per gap from the distance between the two bracketing labelled slices
    /// (`automaticRegistrationWeight`): shape interpolation degrades faster with the gap than the
    /// slice-to-slice registration does.
    public var registrationWeight: Float?
    /// `.fused`: weight the two bracketing slices by their local image agreement with the target too.
    public var imageAgreement: Bool
    /// Also fill slices before the first and after the last labelled slice (low confidence).
    public var extrapolate: Bool
    /// `.fused` and `.shape`: half-width in pixels of the square over which each label's blended
    /// distance is averaged before the smallest wins (1, a 3 x 3 mean, by default; 0 = none).
    /// Removes single-pixel islands and holes (brush slips, registration noise); see `fuseShapes`.
    public var smoothingRadius: Int

    public init(aligner: PairwiseAligner, fusion: FusionMethod = .majority, path: SlicePath = .chained,
                method: SliceFillMethod = .fused, registrationWeight: Float? = nil, imageAgreement: Bool = true,
                extrapolate: Bool = false, smoothingRadius: Int = 1) {
        self.aligner = aligner; self.fusion = fusion; self.path = path
        self.method = method; self.registrationWeight = registrationWeight; self.imageAgreement = imageAgreement
        self.extrapolate = extrapolate; self.smoothingRadius = max(0, smoothingRadius)
    }

    /// The slice filler users get, in one place: `voxterm segment --labelled-slices` without tuning
    /// options, the workbench's slice fill (`PredictionMethod.slices`) and `voxterm bench segment`
    /// setting B without tuning options all start from it, so the bench measures what users run.
    /// Fast 2-D demons between slices (`SliceDemonsAligner`), chained path, fused image and shape
    /// evidence, automatic registration weight, image agreement, 3 x 3 smoothing, no extrapolation;
    /// `fusion` (majority) applies to `.registration` only.
    public static var standard: SlicePropagator { SlicePropagator(aligner: SliceDemonsAligner()) }

    /// The registered evidence's share for a gap of `gap` mm between the bracketing labelled slices:
    /// 0.6 up to 10 mm, rising linearly to 0.8 at 20 mm and beyond. Chosen with a Python emulation of
    /// the filler (0.6 best at 10 mm gaps, 0.8-0.9 at 20 mm); between the two the ramp is not
    /// measured, and in Swift on protocol-dev.json setting B it changed mean Dice by about 0
    /// (docs/decisions.md, 2026-12-07).
    public static func automaticRegistrationWeight(gap: Double) -> Float {
        Float(0.6 + 0.2 * min(1, max(0, (gap - 10) / 10)))
    }

    /// The values `registrationWeight` may take: 0 (the shape evidence alone, as `.shape`) to 1
    /// (the registered evidence alone).
    public static let registrationWeights: ClosedRange<Float> = 0...1

    /// `automaticRegistrationWeight` in words, for help texts and messages.
    public static let automaticRegistrationWeightText =
        "0.6 up to 10 mm between the labelled slices, rising linearly to 0.8 at 20 mm and beyond (0.6 on extrapolated slices)"

    /// Slices of `count` outside the labelled range [first, last] of `labelled` (sorted).
    public static func slicesOutsideRange(labelled: [Int], count: Int) -> [Int] {
        guard let first = labelled.first, let last = labelled.last else { return Array(0..<count) }
        return Array(0..<min(first, count)) + Array(min(count, last + 1)..<count)
    }

    /// Predicts the slices of `selection.plane` of `volume` (all, or only `targets`); `labels` is read
    /// on the selected slices only. With `targets`, the chain spans only the slices those targets need
    /// and other unlabelled slices stay 0 with confidence 0; so do slices outside the labelled range
    /// unless `extrapolate` is set.
    public func predict(volume: Volume, labels: LabelVolume, selection: SliceSelection, targets requested: [Int]? = nil,
                        progress: (SegmentationProgress) -> Void = { _ in },
                        isCancelled: @escaping () -> Bool = { false }) throws -> Prediction {
        try predict(volume: volume, labels: labels, selection: selection, targets: requested, chain: nil,
                    progress: progress, isCancelled: isCancelled)
    }

    /// `predict`, reusing the neighbour registrations of `chain` when given (they do not depend on the
    /// labels, so one chain serves every labelling of the same volume and plane).
    public func predict(volume: Volume, labels: LabelVolume, selection: SliceSelection, targets requested: [Int]?,
                 chain reused: NeighbourChain?, progress: (SegmentationProgress) -> Void,
                 isCancelled: @escaping () -> Bool) throws -> Prediction {
        let g = volume.geometry
        guard labels.geometry.size == g.size else {
            throw SegmentationError.invalidInput("the label map is \(labels.geometry.size), the image \(g.size): not the same grid")
        }
        let axis = selection.plane.axis
        let count = g.size[axis]
        let labelled = selection.indices.filter { $0 < count }
        guard let first = labelled.first, let last = labelled.last else {
            throw SegmentationError.invalidInput("no labelled \(selection.plane.rawValue) slice lies inside the volume (0..<\(count))")
        }
        let start = monotonicSeconds()
        var outLabels = [Int32](repeating: 0, count: g.voxelCount)
        var outConf = [Float](repeating: 0, count: g.voxelCount)
        for s in labelled {
            for idx in SliceAccess.indices(g, axis: axis, index: s) { outLabels[idx] = labels.labels[idx]; outConf[idx] = 1 }
        }
        let targets = (requested.map { Array(Set($0)).sorted() } ?? Array(0..<count))
            .filter { $0 >= 0 && $0 < count && !labelled.contains($0) && (extrapolate || ($0 > first && $0 < last)) }
        let useRegistration = method != .shape
        // The links the chain needs: from each target down to the labelled slice below it, and up to the one above.
        var needDown = Set<Int>(), needUp = Set<Int>()
        for t in targets {
            if let a = labelled.last(where: { $0 < t }) { needDown.formUnion((a + 1)...t) }
            if let b = labelled.first(where: { $0 > t }) { needUp.formUnion(t..<b) }
        }
        let chain = path == .chained && useRegistration
            ? try reused ?? NeighbourChain(volume: volume, axis: axis, needed: (needDown, needUp), aligner: aligner, isCancelled: isCancelled) { done, total in
                progress(SegmentationProgress(step: done, total: total + targets.count,
                                              message: "registering neighbouring \(selection.plane.rawValue) slices (\(done + 1) of \(total))",
                                              elapsed: monotonicSeconds() - start))
            }
            : nil
        let registrations = chain?.count ?? 0
        let (pa, pb) = SliceAccess.inPlaneAxes(axis)
        let width = g.size[pa], height = g.size[pb]
        let sp = g.spacing
        let spacing = SIMD2<Float>(Float(sp[pa]), Float(sp[pb]))
        var shapes: [Int: SliceShape] = [:]
        func shape(_ s: Int) -> SliceShape {
            if let c = shapes[s] { return c }
            let c = SliceShape(labels: SliceAccess.slice(labels, axis: axis, index: s).labels, width: width, height: height, spacing: spacing)
            shapes[s] = c
            return c
        }
        for (n, t) in targets.enumerated() {
            if isCancelled() { throw SegmentationError.cancelled }
            progress(SegmentationProgress(step: registrations + n, total: registrations + targets.count,
                                          message: "\(selection.plane.rawValue) slice \(t) (\(n + 1) of \(targets.count))",
                                          elapsed: monotonicSeconds() - start))
            let below = labelled.last(where: { $0 < t }), above = labelled.first(where: { $0 > t })
            let sg = SliceAccess.sliceGeometry(g, axis: axis, index: t)
            let fixed = SliceAccess.slice(volume, axis: axis, index: t)
            let sources = sourceWeights(t, below, above)
            // Pixel maps from the target to each source slice (identity for shape-only filling).
            var maps: [[SIMD2<Float>]?] = []
            var fields: [VectorField] = []
            for (src, _) in sources {
                let moving = SliceAccess.slice(volume, axis: axis, index: src, geometry: sg)
                let field: VectorField
                if !useRegistration {
                    field = VectorField(zeroOn: sg)
                } else if let chain {
                    field = chain.composedField(from: t, to: src, geometry: sg)
                } else if isConstant(fixed) || isConstant(moving) {
                    field = VectorField(zeroOn: sg) // a blank slice has nothing to align
                } else {
                    field = try aligner.align(fixed: fixed, moving: moving, isCancelled: isCancelled)
                }
                fields.append(field)
                maps.append(useRegistration ? NeighbourChain.pixelDisplacements(field, sg) : nil)
            }
            let outside = below == nil || above == nil
            var sliceLabels: [Int32], sliceConf: [Float]
            if method == .registration {
                var mapped: [MappedSupport] = []
                for ((src, w), field) in zip(sources, fields) {
                    mapped.append(MappedSupport(image: SliceAccess.slice(volume, axis: axis, index: src, geometry: sg),
                                                labels: SliceAccess.slice(labels, axis: axis, index: src, geometry: sg), field: field, weight: w))
                }
                let p = fuseLabels(query: fixed, supports: mapped, options: FusionOptions(method: fusion))
                sliceLabels = p.labels.labels; sliceConf = p.confidence.voxels
            } else {
                var agreement: [[Float]]? = nil
                if useRegistration && imageAgreement && sources.count == 2 {
                    agreement = similarityWeights(query: fixed, supports: zip(sources, fields).map { (s, f) in
                        MappedSupport(image: SliceAccess.slice(volume, axis: axis, index: s.0, geometry: sg),
                                      labels: LabelVolume(geometry: sg), field: f)
                    }, radius: 2)
                }
                let gapMM = below.flatMap { a in above.map { b in Double(b - a) * sp[axis] } } ?? 0
                let alpha = registrationWeight ?? SlicePropagator.automaticRegistrationWeight(gap: gapMM)
                let r = fuseShapes(sources: sources.map { (shape($0.0), $0.1) }, maps: maps, agreement: agreement,
                                   registrationWeight: useRegistration ? alpha : 0, width: width, height: height,
                                   pixelSize: min(spacing.x, spacing.y), backgroundBias: 0.5 * min(spacing.x, spacing.y),
                                   smoothingRadius: smoothingRadius)
                sliceLabels = r.labels; sliceConf = r.confidence
            }
            // Outside the labelled range only one side speaks: low confidence.
            if outside { for i in sliceConf.indices { sliceConf[i] = min(0.5, 0.5 * sliceConf[i]) } }
            for (k, idx) in SliceAccess.indices(g, axis: axis, index: t).enumerated() {
                outLabels[idx] = sliceLabels[k]; outConf[idx] = sliceConf[k]
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
public struct NeighbourChain: Sendable {
    let width: Int, height: Int
    var down: [[SIMD2<Float>]?]
    var up: [[SIMD2<Float>]?]
    /// Number of registrations run.
    let count: Int

    /// Registers every link between slices `range` of voxel axis `axis` (both directions).
    public init(volume: Volume, axis: Int, range: ClosedRange<Int>, aligner: PairwiseAligner,
                isCancelled: @escaping () -> Bool = { false }) throws {
        let links = Set(range)
        try self.init(volume: volume, axis: axis, needed: (links, links), aligner: aligner, isCancelled: isCancelled) { _, _ in }
    }

    /// Registers neighbouring slices: all pairs both ways, or only the links in `needed`
    /// (`down` holds z for the map z -> z - 1, `up` holds z for z -> z + 1). Single-threaded
    /// aligners (`SliceDemonsAligner`) run several pairs at once.
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
        // Jobs: (fixed index, moving index); fixed == z for the map z -> z + 1.
        var jobs: [(Int, Int)] = []
        for z in 0..<pairs {
            if wanted(z, z) { jobs.append((z, z + 1)) }
            if wanted(z + 1, z) { jobs.append((z + 1, z)) }
        }
        let parallel = aligner is SliceDemonsAligner
        let batch = parallel ? 16 : 1
        var results = [[SIMD2<Float>]?](repeating: nil, count: jobs.count)
        var start = 0
        while start < jobs.count {
            if isCancelled() { throw SegmentationError.cancelled }
            progress(start, total)
            let end = min(jobs.count, start + batch)
            let run = { (j: Int) throws -> [SIMD2<Float>]? in
                let (fi, mi) = jobs[j]
                let sg = SliceAccess.sliceGeometry(g, axis: axis, index: fi)
                let fixed = SliceAccess.slice(volume, axis: axis, index: fi)
                let moving = SliceAccess.slice(volume, axis: axis, index: mi, geometry: sg)
                guard !isConstant(fixed), !isConstant(moving) else { return nil }
                let f = try aligner.align(fixed: fixed, moving: moving, isCancelled: isCancelled)
                return NeighbourChain.pixelDisplacements(f, sg)
            }
            if parallel {
                results.withUnsafeMutableBufferPointer { r in
                    parallelFor(end - start) { i in r[start + i] = try? run(start + i) }
                }
            } else {
                for j in start..<end { results[j] = try run(j) }
            }
            start = end
        }
        if isCancelled() { throw SegmentationError.cancelled }
        for (j, (fi, mi)) in jobs.enumerated() {
            if fi < mi { up[fi] = results[j] } else { down[fi] = results[j] }
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
        SliceDemonsAligner.sample(f, width, height, q.x, q.y)
    }
}

/// True when every voxel has the same value.
func isConstant(_ v: Volume) -> Bool {
    guard let first = v.voxels.first else { return true }
    return !v.voxels.contains { $0 != first }
}
