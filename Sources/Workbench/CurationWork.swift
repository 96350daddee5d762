import Foundation
import VoxtermModel

extension PredictionRequest {
    /// Runs the prediction (on a background thread), scores it against the truth over the predicted
    /// region and ranks slices by disagreement. Throws `SegmentationError.cancelled` when cancelled.
    public func run(id: Int = 0, progress: (SegmentationProgress) -> Void = { _ in },
                    isCancelled: @escaping () -> Bool = { false }) throws -> PredictionOutcome {
        let start = Date()
        let g = query.geometry
        let prediction: Prediction
        let methodText: String
        var supportSlices: (axis: Int, indices: Set<Int>)? = nil
        switch method {
        case .slices(let axis, let supports):
            // One partial label map holding every support slice's labels.
            var partial = LabelVolume(geometry: g)
            var indices = Set<Int>()
            for s in supports {
                for i in s.indices where i >= 0 && i < g.size[axis] {
                    indices.insert(i)
                    for idx in SliceAccess.indices(g, axis: axis, index: i) { partial.labels[idx] = s.labels.labels[idx] }
                }
            }
            let selection = SliceSelection(plane: supportPlane(axis: axis), indices: Array(indices))
            var targets: [Int]? = nil
            if case .slice(_, let t) = scope { targets = [t] }
            let propagator = SlicePropagator(aligner: SliceDemonsAligner(), fusion: .majority, path: .chained)
            prediction = try propagator.predict(volume: query, labels: partial, selection: selection, targets: targets,
                                                progress: progress, isCancelled: isCancelled)
            methodText = "slice propagation from \(selection.text)"
            supportSlices = (axis, indices)
        case .volumes(let supports, let preset):
            // The predictor reports one step per support; the aligner adds where each registration is.
            prediction = try withoutActuallyEscaping(progress) { report in
                let last = ProgressBox()
                let aligner = ReportingAligner(plan: EngineAligner.volumes(preset).plan) { fraction, detail in
                    guard let p = last.value else { return }
                    report(SegmentationProgress(step: p.step * 100 + Int(fraction * 99), total: max(1, p.total) * 100,
                                                message: p.message + ": " + detail, elapsed: p.elapsed))
                }
                let predictor = RegistrationPropagationPredictor(aligner: aligner, fusion: FusionOptions(method: .weighted))
                return try predictor.predict(query: query, supports: supports, progress: { p in
                    last.value = p
                    report(SegmentationProgress(step: p.step * 100, total: max(1, p.total) * 100, message: p.message, elapsed: p.elapsed))
                }, isCancelled: isCancelled)
            }
            methodText = "registration (\(preset.rawValue)) and weighted fusion of \(supports.count) image\(supports.count == 1 ? "" : "s")"
        }
        if isCancelled() { throw SegmentationError.cancelled }
        var dice: [Int32: Double] = [:]
        if let truth, truth.geometry.size == g.size {
            switch scope {
            case .slice(let axis, let index):
                dice = diceOnSlice(prediction.labels, truth, axis: axis, index: index)
            case .volume:
                if let s = supportSlices {
                    dice = diceOnUnlabelledSlices(prediction.labels, truth,
                                                  SliceSelection(plane: supportPlane(axis: s.axis), indices: Array(s.indices)))
                } else {
                    dice = diceScores(prediction: prediction.labels, truth: truth)
                }
            }
        }
        return PredictionOutcome(id: id, scope: scope, prediction: prediction, method: methodText, dice: dice,
                                 truthName: truthName, seconds: Date().timeIntervalSince(start),
                                 disagreement: disagreementRanking(prediction, scope: scope, supportSlices: supportSlices))
    }
}

/// The latest progress of a predictor, shared with its aligner (one thread).
private final class ProgressBox: @unchecked Sendable { var value: SegmentationProgress? }

/// `EngineAligner` that also reports how far each registration is (fraction 0...1 and
/// "affine level 2/3 iteration 40"), at most five times a second.
struct ReportingAligner: PairwiseAligner {
    var plan: RegistrationPlan
    var report: (Double, String) -> Void

    func align(fixed: Volume, moving: Volume, isCancelled: @escaping () -> Bool) throws -> VectorField {
        let token = CancellationToken()
        var last = Date.distantPast
        let stages = plan.stages
        let result: RegistrationResult
        do {
            result = try Registration.register(fixed: fixed, moving: moving, plan: plan, token: token) { event in
                if isCancelled() { token.cancel() }
                guard case .iteration(let p) = event, Date().timeIntervalSince(last) > 0.2,
                      p.stage < stages.count, p.level < stages[p.stage].levels.count else { return }
                last = Date()
                let iterations = max(1, stages[p.stage].levels[p.level].iterations)
                let inStage = (Double(p.level) + min(1, Double(p.iteration) / Double(iterations))) / Double(max(1, p.levelCount))
                report((Double(p.stage) + inStage) / Double(stages.count),
                       "\(p.stageName) level \(p.level + 1)/\(p.levelCount) iteration \(p.iteration)")
            }
        } catch RegistrationError.cancelled {
            throw SegmentationError.cancelled
        }
        return result.totalDisplacement()
    }
}

/// Per voxel axis: predicted slices sorted by the mean confidence of their labelled (non-zero)
/// voxels, lowest first. Support slices and slices with fewer than 10 labelled voxels (or 5 % of the
/// fullest slice's) are left out.
func disagreementRanking(_ p: Prediction, scope: PredictionScope,
                         supportSlices: (axis: Int, indices: Set<Int>)?) -> [Int: [SliceConfidence]] {
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
        for s in 0..<size[axis] where counts[axis][s] >= minimum && scope.covers(axis: axis, index: s) {
            if let sup = supportSlices, sup.axis == axis, sup.indices.contains(s) { continue }
            list.append(SliceConfidence(index: s, meanConfidence: sums[axis][s] / Double(counts[axis][s])))
        }
        // A slice prediction ranks only its own slice; other axes cut through it on one line.
        if case .slice(let a, _) = scope, a != axis { list = [] }
        out[axis] = list.sorted { ($0.meanConfidence, $0.index) < ($1.meanConfidence, $1.index) }
    }
    return out
}

/// The file I/O of curation effects, run off the UI thread by `JobRunner.runFileWork`.
public enum CurationIO {
    /// Writes the manifest; returns the status message.
    public static func saveManifest(_ set: SupportSet, to path: String) -> String {
        let lower = path.lowercased()
        guard !lower.hasSuffix(".nii") && !lower.hasSuffix(".nii.gz") && !lower.hasSuffix(".hdr") && !lower.hasSuffix(".img") else {
            return "\(path): a manifest must not be written over an image (.json expected)"
        }
        for ex in set.examples where same(ex.image, path) || same(ex.labels, path) {
            return "\(path): is an input image; not overwritten"
        }
        do {
            try set.save(path)
            return "saved \(set.examples.count) support example\(set.examples.count == 1 ? "" : "s") to \(path)"
        } catch {
            return "saving the support set failed: \(error)"
        }
    }

    /// Reads a manifest and its volumes; the open image and label map are reused, not re-read.
    public static func loadManifest(_ path: String, document doc: WorkbenchDocument) -> Action {
        do {
            let set = try SupportSet.load(path)
            var entries: [SupportEntry] = []
            var cache: [String: Volume] = [:], labelCache: [String: LabelVolume] = [:]
            for ex in set.examples {
                let open = same(ex.image, doc.imagePath)
                let image: Volume
                if open { image = doc.image } else if let v = cache[ex.image] { image = v } else {
                    image = try NIfTIReader.read(ex.image).volume()
                    cache[ex.image] = image
                }
                let labels: LabelVolume
                if open, let l = doc.labels, let lp = doc.labelsPath, same(ex.labels, lp) { labels = l }
                else if let l = labelCache[ex.labels] { labels = l } else {
                    labels = try NIfTIReader.read(ex.labels).labelVolume()
                    labelCache[ex.labels] = labels
                }
                guard labels.geometry.size == image.geometry.size else {
                    throw WorkbenchError(path: ex.labels, reason: "labels are not on the grid of \(ex.image)")
                }
                entries.append(SupportEntry(example: ex, image: image, labels: labels, isOpenImage: open))
            }
            return .curation(.manifestLoaded(path: path, entries: entries))
        } catch {
            return .showMessage("loading the support set failed: \(error)")
        }
    }

    /// Writes `<stem>_pred.nii.gz` and `<stem>_pred_confidence.nii.gz` into `directory` (adding -2,
    /// -3, ... rather than replacing a file; never over an input); returns the status message.
    public static func writePrediction(_ o: PredictionOutcome, directory: String, stem: String, inputs: [String]) -> String {
        let fm = FileManager.default
        var n = 1
        func name(_ suffix: String) -> String {
            (directory as NSString).appendingPathComponent("\(stem)_pred\(n == 1 ? "" : "-\(n)")\(suffix).nii.gz")
        }
        while fm.fileExists(atPath: name("")) || fm.fileExists(atPath: name("_confidence")) { n += 1 }
        let labelsPath = name(""), confidencePath = name("_confidence")
        let options = NIfTIWriter.Options(protectedPaths: inputs, overwrite: false,
                                          description: "voxterm prediction: \(o.method)")
        do {
            try NIfTIWriter.checkDestination(labelsPath, options: options)
            try NIfTIWriter.checkDestination(confidencePath, options: options)
            try NIfTIWriter.write(o.prediction.labels, to: labelsPath, options: options)
            try NIfTIWriter.write(o.prediction.confidence, to: confidencePath, options: options)
            return "wrote \(labelsPath) and \(confidencePath)"
        } catch {
            return "saving the prediction failed: \(error)"
        }
    }

    /// Whether two paths name the same file (after resolving links), or the same text when neither exists.
    static func same(_ a: String, _ b: String) -> Bool {
        if let ra = FileIO.realPath(a), let rb = FileIO.realPath(b) { return ra == rb }
        return URL(fileURLWithPath: a).standardizedFileURL.path == URL(fileURLWithPath: b).standardizedFileURL.path
    }
}

extension CurationIO {
    /// Runs a curation effect (on any thread) and returns the actions that report its result.
    public static func perform(_ effect: CurationEffect, state: WorkbenchState) -> [Action] {
        switch effect {
        case .saveManifest(let path, let set):
            return [.showMessage(saveManifest(set, to: path))]
        case .loadManifest(let path):
            return [loadManifest(path, document: state.document)]
        case .writePrediction(let o, let directory, let stem, let inputs):
            return [.showMessage(writePrediction(o, directory: directory, stem: stem, inputs: inputs))]
        }
    }
}
