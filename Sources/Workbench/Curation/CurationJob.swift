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
            let selection = SliceSelection(plane: VoxelAxisPlane(axis: axis), indices: Array(indices))
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
        }
        if isCancelled() { throw SegmentationError.cancelled }
        var dice: [Int32: Double] = [:]
        if let truth, truth.geometry.size == g.size {
            var only: (axis: Int, index: Int)? = nil
            if case .slice(let a, let i) = scope { only = (a, i) }
            dice = predictionDice(prediction.labels, truth: truth,
                                  supportSlices: supportSlices.map { SliceSelection(plane: VoxelAxisPlane(axis: $0.axis), indices: Array($0.indices)) },
                                  onlySlice: only)
        }
        return PredictionOutcome(id: id, scope: scope, prediction: prediction, method: methodText, dice: dice,
                                 truthName: truthName, seconds: monotonicSeconds() - start,
                                 disagreement: disagreementRanking(prediction, scope: scope, supportSlices: supportSlices))
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
