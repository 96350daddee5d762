import Foundation
import VoxtermModel
import SliceRendering

/// Which of the feature's two job kinds an event is about.
enum RegistrationJobRole { case registration, saveRegistration }

extension JobKind {
    /// Registers the moving image to the image (`RegistrationJob`).
    public static let registration = JobKind("registration") { state, _, event in
        state.reduceRegistrationJob(.registration, event)
    }
    /// Writes a finished registration's outputs to a folder (`SaveRegistrationJob`).
    public static let saveRegistration = JobKind("save") { state, _, event in
        state.reduceRegistrationJob(.saveRegistration, event)
    }
}

/// Register `document.moving` to `document.image` by the preset's plan (affine, then deformable);
/// posts `LiveRegistrationUpdate`s, returns a `Shared<LiveRegistrationResult>`.
public struct RegistrationJob: JobSpec, Equatable {
    public var preset: RegistrationPlan.Preset
    public var kind: JobKind { .registration }
    public func work(state: WorkbenchState) -> JobWork { LiveRegistration.work(preset: preset, document: state.document) }
}

/// Write `outputs` into `directory` (the files of `voxterm register`); returns `SavedRegistration`.
public struct SaveRegistrationJob: JobSpec, Equatable {
    public var outputs: Shared<RegistrationOutputs>
    public var sources: RegistrationSources
    public var directory: String
    /// Files that must not be written over besides the sources (label table, compare image...).
    public var protecting: [String]
    /// Whether an earlier run's files in `directory` may be replaced (`voxterm view --force`, `:save! registration`).
    public var overwrite: Bool
    public var kind: JobKind { .saveRegistration }
    public func work(state: WorkbenchState) -> JobWork {
        LiveRegistration.saveWork(outputs: outputs, sources: sources, directory: directory, protecting: protecting, overwrite: overwrite)
    }
}

/// A finished save: the folder and the files written into it.
public struct SavedRegistration: Sendable, Equatable {
    public var directory: String
    public var files: [String]
}

extension JobRequest {
    /// Starts a live registration (`RegistrationJob`).
    public static func registration(preset: RegistrationPlan.Preset) -> JobRequest { JobRequest(RegistrationJob(preset: preset)) }
    /// Saves a registration (`SaveRegistrationJob`).
    public static func saveRegistration(outputs: Shared<RegistrationOutputs>, sources: RegistrationSources, directory: String,
                                        protecting: [String], overwrite: Bool = false) -> JobRequest {
        JobRequest(SaveRegistrationJob(outputs: outputs, sources: sources, directory: directory, protecting: protecting, overwrite: overwrite))
    }
}

extension JobValue {
    /// A running registration's progress.
    public static func registration(_ update: LiveRegistrationUpdate) -> JobValue { JobValue(update) }
}

extension JobOutcome {
    /// A registration finished.
    public static func registration(_ result: Shared<LiveRegistrationResult>) -> JobOutcome { .finished(JobValue(result)) }
    /// A save finished.
    public static func saved(directory: String, files: [String]) -> JobOutcome {
        .finished(JobValue(SavedRegistration(directory: directory, files: files)))
    }
}

/// The registration job's work.
public enum LiveRegistration {
    /// Deformable iterations between field snapshots.
    public static let snapshotInterval = 5
    /// Least seconds between two previews (each costs a warp of the moving image); also at least
    /// `previewCostFactor` times what the last preview took, so previews cost at most about a
    /// sixth of the run on a slow machine or build.
    public static let previewInterval = 0.4
    public static let previewCostFactor = 5.0
    /// Least seconds between two progress posts.
    public static let postInterval = 0.05

    /// The plan of a preset: affine, then deformable, with snapshots for previews.
    public static func plan(_ preset: RegistrationPlan.Preset) -> RegistrationPlan {
        var plan = RegistrationPlan.preset(preset, mode: .both)
        plan.snapshotInterval = snapshotInterval
        return plan
    }

    /// The work of a registration job on `document` (moving → image).
    static func work(preset: RegistrationPlan.Preset, document: WorkbenchDocument) -> JobWork {
        let fixed = document.image
        let moving = document.moving
        let movingLabels = document.movingLabels, fixedLabels = document.fixedLabels
        let plan = plan(preset)
        return { ctx in
            guard let moving else { return .failed("no moving image (voxterm view FIXED --moving MOVING)") }
            final class Relay: @unchecked Sendable {
                var values: [Double] = []
                var latest: RegistrationProgress?
                var lastPost = 0.0, lastPreview = -1.0, previewCost = 0.0
                var previewDue: Bool { monotonicSeconds() - lastPreview >= max(LiveRegistration.previewInterval, LiveRegistration.previewCostFactor * previewCost) }
                var affine: VolumeCore.AffineTransform = .identity
            }
            let relay = Relay()
            func post(preview: RegistrationPreview? = nil, activity: String? = nil) {
                ctx.post(LiveRegistrationUpdate(progress: relay.latest, values: relay.values,
                                                preview: preview.map(Shared.init), activity: activity))
                relay.values = []
                relay.lastPost = monotonicSeconds()
            }
            func preview(_ field: VectorField?) {
                let t0 = monotonicSeconds()
                let p = RegistrationPreview.make(fixed: fixed.geometry, moving: moving, movingLabels: movingLabels,
                                                 affine: relay.affine, field: field)
                relay.lastPreview = monotonicSeconds()
                relay.previewCost = relay.lastPreview - t0
                post(preview: p)
            }
            let result: RegistrationResult
            do {
                result = try Registration.register(fixed: fixed, moving: moving, plan: plan, token: ctx.token) { event in
                    switch event {
                    case .iteration(let p):
                        // Each update carries values of one level only (the curve restarts per level).
                        if let l = relay.latest, l.stage != p.stage || l.level != p.level, !relay.values.isEmpty { post() }
                        relay.values.append(p.value)
                        relay.latest = p
                        if monotonicSeconds() - relay.lastPost >= postInterval { post() }
                    case .affine(let p, let a):
                        relay.affine = a
                        if p.stageName == "affine" && relay.previewDue { preview(nil) }
                    case .snapshot(_, let u):
                        if relay.previewDue { preview(u) }
                    case .stageFinished:
                        post()
                    }
                }
            } catch RegistrationError.cancelled {
                return .cancelled
            } catch {
                return .failed("\(error)")
            }
            post(activity: "computing the summary")
            if ctx.isCancelled { return .cancelled }
            let outputs = RegistrationOutputs(result: result, fixed: fixed, moving: moving, movingLabels: movingLabels,
                                              fixedLabels: fixedLabels, metric: plan.stages.last!.metric)
            let final = RegistrationPreview(warped: outputs.warped, displacement: result.totalDisplacement,
                                            warpedLabels: outputs.warpedLabels)
            return .registration(Shared(LiveRegistrationResult(outputs: outputs, preview: final)))
        }
    }

    /// The work of saving `outputs` into `directory` (the files of `voxterm register`).
    static func saveWork(outputs: Shared<RegistrationOutputs>, sources: RegistrationSources, directory: String,
                         protecting: [String], overwrite: Bool) -> JobWork {
        return { _ in
            do {
                let files = try outputs.value.write(to: directory, sources: sources, protecting: protecting, overwrite: overwrite)
                return .saved(directory: directory, files: files)
            } catch {
                return .failed("\(error)")
            }
        }
    }
}
