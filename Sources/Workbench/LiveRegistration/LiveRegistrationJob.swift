import Foundation
import VoxtermModel
import SliceRendering

/// The registration job and the reducer's handling of its actions.
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
                ctx.post(.registration(LiveRegistrationUpdate(progress: relay.latest, values: relay.values,
                                                              preview: preview.map(Shared.init), activity: activity)))
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
                         protecting: [String]) -> JobWork {
        return { _ in
            do {
                let files = try outputs.value.write(to: directory, sources: sources, protecting: protecting)
                return .saved(directory: directory, files: files)
            } catch {
                return .failed("\(error)")
            }
        }
    }
}
