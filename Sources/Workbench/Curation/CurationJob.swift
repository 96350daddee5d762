import Foundation
import VoxtermModel

extension JobKind {
    /// Segments the open image from the support set (`PredictionJob`).
    public static let prediction = JobKind("prediction") { state, id, event in state.reducePredictionJob(id, event) }
}

/// Segment the open image (or one slice) from the support set; posts `SegmentationProgress`,
/// returns a `Shared<PredictionOutcome>`.
public struct PredictionJob: JobSpec, Equatable {
    public var request: Shared<PredictionRequest>
    public var kind: JobKind { .prediction }
    public func work(state: WorkbenchState) -> JobWork { request.value.work }
}

extension JobRequest {
    /// Starts a prediction (`PredictionJob`).
    public static func prediction(_ request: Shared<PredictionRequest>) -> JobRequest { JobRequest(PredictionJob(request: request)) }
}

extension JobValue {
    /// A running prediction's progress.
    public static func prediction(_ progress: SegmentationProgress) -> JobValue { JobValue(progress) }
}

extension JobOutcome {
    /// A prediction finished.
    public static func prediction(_ outcome: Shared<PredictionOutcome>) -> JobOutcome { .finished(JobValue(outcome)) }
}

extension PredictionRequest {
    /// The work of a prediction job: `run`, reporting progress and honouring cancellation.
    var work: JobWork {
        let request = self
        return { context in
            do {
                let outcome = try request.run(id: context.id.raw, progress: { context.post($0) },
                                              isCancelled: { context.isCancelled })
                return .prediction(Shared(outcome))
            } catch SegmentationError.cancelled {
                return .cancelled
            } catch {
                return .failed("\(error)")
            }
        }
    }

    /// Runs the prediction (on a background thread), scores it against the truth over the predicted
    /// region and ranks slices by disagreement. Throws `SegmentationError.cancelled` when cancelled.
    public func run(id: Int = 0, progress: (SegmentationProgress) -> Void = { _ in },
                    isCancelled: @escaping () -> Bool = { false }) throws -> PredictionOutcome {
        let start = monotonicSeconds()
        let g = query.geometry
        var prediction: Prediction
        var methodText: String
        var supportSlices: (axis: Int, indices: Set<Int>)? = nil
        // Voxels of the user's own labels kept over a fused prediction: not scored.
        var keptSlices: (axis: Int, indices: Set<Int>)? = nil
        switch method {
        case .slices(let axis, let supports, let weight):
            // One partial label map holding every support slice's labels.
            var partial = LabelVolume(geometry: g)
            var indices = Set<Int>()
            for s in supports {
                for i in s.indices where i >= 0 && i < g.size[axis] {
                    indices.insert(i)
                    for idx in SliceAccess.indices(g, axis: axis, index: i) { partial.labels[idx] = s.labels.labels[idx] }
                }
            }
            let selection = SliceSelection(plane: VoxelAxisPlane(axis: axis), indices: Array(indices))
            var targets: [Int]? = nil
            if case .slice(_, let t) = scope { targets = [t] }
            var propagator = SlicePropagator.standard
            propagator.registrationWeight = weight
            prediction = try propagator.predict(volume: query, labels: partial, selection: selection, targets: targets,
                                                progress: progress, isCancelled: isCancelled)
            methodText = "slice propagation from \(selection.text)" + (weight.map { String(format: " (image share %.2g)", $0) } ?? "")
            supportSlices = (axis, indices)
        case .volumes(let supports, let preset):
            // The predictor reports one step per support; the aligner adds where each registration is.
            prediction = try withoutActuallyEscaping(progress) { report in
                let last = ProgressBox()
                let aligner = EngineAligner.volumes(preset).reporting { fraction, detail in
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
            if !userLabels.isEmpty {
                keptSlices = keepUserLabels(&prediction)
                supportSlices = keptSlices
                methodText += ", your labels kept on " + userLabels.map { u in
                    u.slices.map { "\($0.plane.rawValue) " + $0.indices.map(String.init).joined(separator: ",") } ?? "the whole volume"
                }.joined(separator: "; ")
            }
        }
        if isCancelled() { throw SegmentationError.cancelled }
        let region = ScoredRegion(keptSlices: keptSlices, supportSlices: supportSlices)
        let dice = truth.map { region.dice(prediction.labels, truth: $0, scope: scope) } ?? [:]
        var outcome = PredictionOutcome(id: id, scope: scope, prediction: prediction, method: methodText, dice: dice,
                                        truthName: truthName, seconds: monotonicSeconds() - start,
                                        disagreement: disagreementRanking(prediction, scope: scope, supportSlices: supportSlices))
        outcome.scoredRegion = region
        return outcome
    }
}

extension JobKind {
    /// Scores the shown prediction against a truth loaded after it started (`PredictionScoringJob`).
    public static let predictionScoring = JobKind("prediction scoring") { state, id, event in state.reduceScoringJob(id, event) }
}

/// Scores a finished prediction against a truth (or label map) that arrived after the prediction
/// started, off the UI thread (a whole-volume pass); returns a `Shared<PredictionScore>`.
public struct PredictionScoringJob: JobSpec, Equatable {
    public var request: Shared<PredictionScoringRequest>
    public var kind: JobKind { .predictionScoring }
    public func work(state: WorkbenchState) -> JobWork {
        let r = request.value
        return { context in
            let dice = r.region.dice(r.labels, truth: r.truth, scope: r.scope)
            if context.isCancelled { return .cancelled }
            return .finished(JobValue(Shared(PredictionScore(outcomeID: r.outcomeID, dice: dice, truthName: r.truthName, announce: r.announce))))
        }
    }
}

/// What a scoring job reads: the outcome's labels, region and scope, and the new truth.
public struct PredictionScoringRequest: Sendable {
    public var outcomeID: Int
    public var labels: LabelVolume
    public var region: ScoredRegion
    public var scope: PredictionScope
    public var truth: LabelVolume
    public var truthName: String
    public var announce: ScoreAnnouncement
}

/// What the message says when the score arrives.
public enum ScoreAnnouncement: Sendable, Equatable {
    /// The prediction just finished ("predicted ... mean Dice ..."), as when it was scored in its job.
    case prediction
    /// A truth or label map was just loaded: its message, then "· the last prediction: mean Dice ...".
    case loaded(String)
}

/// A scoring job's result.
public struct PredictionScore: Sendable, Equatable {
    public var outcomeID: Int
    public var dice: [Int32: Double]
    public var truthName: String
    public var announce: ScoreAnnouncement
}

extension WorkbenchState {
    /// Starts scoring the shown prediction against `truth` (named `name`), replacing a scoring job
    /// that still runs; nil without a prediction.
    mutating func scoreShownPrediction(against truth: LabelVolume, name: String, announce: ScoreAnnouncement) -> Effect? {
        guard let o = curation.outcome else { return nil }
        let r = PredictionScoringRequest(outcomeID: o.id, labels: o.prediction.labels, region: o.scoredRegion, scope: o.scope,
                                         truth: truth, truthName: name, announce: announce)
        return jobs.start(JobRequest(PredictionScoringJob(request: Shared(r))))
    }

    /// A scoring job ended: the shown prediction (if still the one scored) takes the Dice, and the
    /// comparison display when there is one.
    mutating func reduceScoringJob(_ id: JobID, _ event: JobEvent) -> [Effect] {
        guard case .finished(let outcome) = event, let s = outcome.result(Shared<PredictionScore>.self)?.value,
              var o = curation.outcome, o.id == s.outcomeID else { return [] }
        o.dice = s.dice
        o.truthName = s.truthName
        o.scoreGeneration += 1
        curation.outcome = o
        if !o.dice.isEmpty && curation.display == .labels { curation.display = .comparison }
        switch s.announce {
        case .prediction:
            message = outcomeSummary(o) + " · C cycles the display, E saves"
        case .loaded(let text):
            message = text + (o.meanDiceScore.map { String(format: " · the last prediction: mean Dice %.3f over %d labels", $0, o.dice.count) } ?? "")
        }
        return []
    }
}

/// Where a prediction is scored against truth: everywhere but the user's kept slices (a fused
/// prediction with the user's labels written over it), else the unlabelled slices (slice
/// propagation), else the whole volume; a one-slice prediction only on its slice. Kept with the
/// outcome so a truth loaded after the prediction started scores it the same way.
public struct ScoredRegion: Sendable, Equatable {
    public var keptSlices: (axis: Int, indices: Set<Int>)?
    public var supportSlices: (axis: Int, indices: Set<Int>)?

    public init(keptSlices: (axis: Int, indices: Set<Int>)? = nil, supportSlices: (axis: Int, indices: Set<Int>)? = nil) {
        self.keptSlices = keptSlices; self.supportSlices = supportSlices
    }

    public static func == (a: ScoredRegion, b: ScoredRegion) -> Bool {
        a.keptSlices?.axis == b.keptSlices?.axis && a.keptSlices?.indices == b.keptSlices?.indices
            && a.supportSlices?.axis == b.supportSlices?.axis && a.supportSlices?.indices == b.supportSlices?.indices
    }

    /// Dice per truth label of `labels` against `truth` over this region (empty when the grids differ).
    public func dice(_ labels: LabelVolume, truth: LabelVolume, scope: PredictionScope) -> [Int32: Double] {
        guard truth.geometry.size == labels.geometry.size else { return [:] }
        var only: (axis: Int, index: Int)? = nil
        if case .slice(let a, let i) = scope { only = (a, i) }
        return predictionDice(labels, truth: truth,
                              supportSlices: supportSlices.map { SliceSelection(plane: VoxelAxisPlane(axis: $0.axis), indices: Array($0.indices)) },
                              onlySlice: only, excludingSlices: keptSlices)
    }
}

extension PredictionRequest {
    /// Writes `userLabels` over `prediction` (labels as drawn, confidence 1) and returns the slices
    /// they cover when all lie across one voxel axis (left out of scoring and the disagreement
    /// ranking, as support slices are), else nil.
    func keepUserLabels(_ prediction: inout Prediction) -> (axis: Int, indices: Set<Int>)? {
        let g = query.geometry
        var axes = Set<Int>(), indices = Set<Int>(), whole = false
        for u in userLabels where u.labels.geometry.size == g.size {
            guard let s = u.slices else {
                prediction.labels.labels = u.labels.labels
                for i in prediction.confidence.voxels.indices { prediction.confidence.voxels[i] = 1 }
                whole = true
                continue
            }
            let axis = s.plane.axis
            for index in s.indices where index >= 0 && index < g.size[axis] {
                axes.insert(axis); indices.insert(index)
                for n in SliceAccess.indices(g, axis: axis, index: index) {
                    prediction.labels.labels[n] = u.labels.labels[n]
                    prediction.confidence.voxels[n] = 1
                }
            }
        }
        guard !whole, axes.count == 1 else { return nil }
        return (axes.first!, indices)
    }
}

/// The latest progress of a predictor, shared with its aligner (one thread).
private final class ProgressBox: @unchecked Sendable { var value: SegmentationProgress? }

/// The ranking for a prediction of `scope` (see Pipelines' `disagreementRanking`).
func disagreementRanking(_ p: Prediction, scope: PredictionScope,
                         supportSlices: (axis: Int, indices: Set<Int>)?) -> [Int: [SliceConfidence]] {
    var only: (axis: Int, index: Int)? = nil
    if case .slice(let a, let i) = scope { only = (a, i) }
    return Pipelines.disagreementRanking(p, supportSlices: supportSlices, onlySlice: only)
}
