import Foundation
import VoxtermModel
import SliceRendering

/// The moving image as the registration currently maps it onto the image grid, for display.
public struct RegistrationPreview: Sendable {
    /// The moving image warped onto the image grid.
    public var warped: Volume
    /// The complete fixed→moving displacement `A(x + u(x)) - x` on the image grid (RAS mm).
    public var displacement: VectorField { fieldOverlay.field }
    /// The displacement prepared for display, its magnitude and Jacobian determinant computed.
    public var fieldOverlay: FieldOverlay
    /// The moving labels carried onto the image grid, with moving labels.
    public var warpedLabels: LabelVolume?
    /// Voxels with Jacobian ≤ 0 per slice index along each voxel axis (x, y, z).
    public var foldingPerSlice: [[Int]]

    /// A preview of `displacement`; computes its magnitude, Jacobian and folded voxels per slice.
    public init(warped: Volume, displacement: VectorField, warpedLabels: LabelVolume?) {
        self.warped = warped; self.warpedLabels = warpedLabels
        fieldOverlay = FieldOverlay(field: displacement, style: FieldStyle(mode: .jacobian))
        foldingPerSlice = Self.foldingCounts(fieldOverlay.jacobian!)
    }

    /// The preview of the map `x ↦ affine(x + field(x))` (`field` on any grid, nil = zero) on `fixed`'s grid.
    public static func make(fixed: VolumeGeometry, moving: Volume, movingLabels: LabelVolume?, affine: VolumeCore.AffineTransform,
                            field: VectorField?) -> RegistrationPreview {
        let u: VectorField
        if let field, field.geometry == fixed {
            u = field
        } else if let field {
            let comps = (0..<3).map { field.component($0).resampled(to: fixed).voxels }
            u = VectorField(geometry: fixed, data: comps[0] + comps[1] + comps[2])
        } else {
            u = VectorField(zeroOn: fixed)
        }
        // Only the affine and the forward field matter for warping; the other fields are unused.
        let r = RegistrationResult(affine: affine, field: u, inverseField: u, velocity: u, stages: [])
        return RegistrationPreview(warped: r.warp(moving), displacement: r.totalDisplacement,
                                   warpedLabels: movingLabels.map { r.warp($0) })
    }

    /// Voxels with value ≤ 0 per slice index along x, y and z.
    static func foldingCounts(_ jacobian: Volume) -> [[Int]] {
        let s = jacobian.geometry.size
        var counts = [[Int](repeating: 0, count: s.x), [Int](repeating: 0, count: s.y), [Int](repeating: 0, count: s.z)]
        jacobian.voxels.withUnsafeBufferPointer { j in
            var i = 0
            for z in 0..<s.z { for y in 0..<s.y { for x in 0..<s.x {
                if j[i] <= 0 { counts[0][x] += 1; counts[1][y] += 1; counts[2][z] += 1 }
                i += 1
            } } }
        }
        return counts
    }
}

/// A running registration's report to the UI (throttled: a few per second).
public struct LiveRegistrationUpdate: Sendable, Equatable {
    /// The latest iteration.
    public var progress: RegistrationProgress?
    /// Objective values of the iterations since the previous update, in order.
    public var values: [Double]
    /// A new preview to show, when one was computed.
    public var preview: Shared<RegistrationPreview>?
    /// What the job does besides iterating (e.g. "computing the summary"), if anything.
    public var activity: String?

    public init(progress: RegistrationProgress?, values: [Double], preview: Shared<RegistrationPreview>? = nil,
                activity: String? = nil) {
        self.progress = progress; self.values = values; self.preview = preview; self.activity = activity
    }
}

/// A finished live registration: its outputs (ready to save) and the final preview.
public struct LiveRegistrationResult: Sendable {
    public var outputs: RegistrationOutputs
    public var preview: RegistrationPreview
    public init(outputs: RegistrationOutputs, preview: RegistrationPreview) { self.outputs = outputs; self.preview = preview }
}

/// The numbers shown when a registration finishes.
public struct RegistrationSummary: Sendable, Equatable {
    /// Similarity (`metric`, lower is better) before (world space) and after.
    public var similarityBefore: Double
    public var similarityAfter: Double
    public var metric: String
    /// Mean Dice before and after, with fixed and moving labels.
    public var meanDiceBefore: Double?
    public var meanDice: Double?
    /// Percentage of voxels with Jacobian ≤ 0.
    public var foldingPercent: Double
    /// Wall-clock seconds of the registration.
    public var seconds: Double

    public init(_ o: RegistrationOutputs) {
        similarityBefore = o.similarityBefore; similarityAfter = o.similarityAfter; metric = o.metric.rawValue
        meanDiceBefore = o.diceBefore.map(VolumeCore.meanDice); meanDice = o.dice.map(VolumeCore.meanDice)
        foldingPercent = o.foldingPercent; seconds = o.seconds
    }

    /// One line, e.g. "LNCC -0.41 → -0.66 · Dice 0.631 → 0.802 · folding 0.000 % · 12.3 s".
    public var text: String {
        var t = String(format: "%@ %.4f → %.4f", metric.uppercased(), similarityBefore, similarityAfter)
        if let d = meanDice {
            t += meanDiceBefore.map { String(format: " · Dice %.3f → %.3f", $0, d) } ?? String(format: " · Dice %.3f", d)
        }
        t += String(format: " · folding %.3f %% · %.1f s", foldingPercent, seconds)
        return t
    }
}

/// Live registration of the moving image in the workbench, as a value in the state.
public struct LiveRegistrationState: Sendable, Equatable {
    /// Where the registration is.
    public enum Phase: Sendable, Equatable {
        /// Not started yet.
        case ready
        case running
        /// Esc was pressed; waiting for the job to stop.
        case cancelling
        case cancelled
        case failed(String)
        case finished
    }

    public var phase: Phase = .ready
    /// Preset of the next (or running) registration.
    public var preset: RegistrationPlan.Preset = .default
    /// Iteration budget per stage and level of the running plan (for the progress bar).
    public var budget: [[Int]] = []
    /// Stage names of the running plan.
    public var stageNames: [String] = []
    /// The latest iteration reported.
    public var progress: RegistrationProgress?
    /// Objective value of every iteration so far.
    public var values: [Double] = []
    /// Index in `values` where the current level began (the curve shows this level: values of
    /// different levels are not comparable).
    public var levelStart = 0
    /// What the job does besides iterating, if anything.
    public var activity: String?
    /// Previews shown so far in this run.
    public var previews = 0
    /// Folding voxel counts per slice of the shown field (x, y, z axes).
    public var foldingPerSlice: [[Int]] = []
    /// The finished registration's outputs, until replaced by another run.
    public var outputs: Shared<RegistrationOutputs>?
    public var summary: RegistrationSummary?
    /// Folder the save key writes to.
    public var outputDirectory: String
    /// Where the outputs were last saved.
    public var savedTo: String?
    /// Whether a save is running.
    public var saving = false
    /// The final preview of the last finished registration (shown again when a later run is cancelled).
    public var finishedPreview: Shared<RegistrationPreview>?

    /// A state for a session saving into `outputDirectory`.
    public init(outputDirectory: String) { self.outputDirectory = outputDirectory }

    /// Fraction of the iteration budget done (levels that converge early count as done), 0...1.
    public var fractionDone: Double {
        if phase == .finished { return 1 }
        guard let p = progress, !budget.isEmpty else { return 0 }
        let total = budget.joined().reduce(0, +)
        guard total > 0 else { return 0 }
        var done = 0
        for s in 0..<min(p.stage, budget.count) { done += budget[s].reduce(0, +) }
        if p.stage < budget.count {
            let levels = budget[p.stage]
            done += levels.prefix(min(p.level, levels.count)).reduce(0, +)
            done += min(p.iteration, p.level < levels.count ? levels[p.level] : 0)
        }
        return min(1, Double(done) / Double(total))
    }

    /// The default output folder for a fixed image path: `./voxterm-registration-<stem>`.
    public static func defaultOutputDirectory(fixedPath: String) -> String {
        "voxterm-registration-" + FileIO.imageStem((fixedPath as NSString).lastPathComponent)
    }
}

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
                var previewDue: Bool { now() - lastPreview >= max(LiveRegistration.previewInterval, LiveRegistration.previewCostFactor * previewCost) }
                var affine: VolumeCore.AffineTransform = .identity
            }
            let relay = Relay()
            func post(preview: RegistrationPreview? = nil, activity: String? = nil) {
                ctx.post(.registration(LiveRegistrationUpdate(progress: relay.latest, values: relay.values,
                                                              preview: preview.map(Shared.init), activity: activity)))
                relay.values = []
                relay.lastPost = now()
            }
            func preview(_ field: VectorField?) {
                let t0 = now()
                let p = RegistrationPreview.make(fixed: fixed.geometry, moving: moving, movingLabels: movingLabels,
                                                 affine: relay.affine, field: field)
                relay.lastPreview = now()
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
                        if now() - relay.lastPost >= postInterval { post() }
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
}

extension WorkbenchState {
    /// Shows `preview`: the warped moving image as the second image, its displacement as the field,
    /// and the moving labels when they stand in for fixed labels.
    mutating func show(_ preview: RegistrationPreview) {
        document.compare = preview.warped
        document.field = preview.displacement
        document.preparedFieldOverlay = preview.fieldOverlay
        if document.labelsFollowMoving, let l = preview.warpedLabels {
            document.labels = l
            document.presentLabels = l.presentLabels
        }
        document.revision += 1
        registration?.foldingPerSlice = preview.foldingPerSlice
        registration?.previews += 1
    }

    /// Reduces the live-registration actions.
    mutating func reduceRegistration(_ action: Action) -> [Effect] {
        switch action {
        case .startRegistration:
            guard var r = registration, document.moving != nil else {
                message = "no moving image: voxterm view FIXED --moving MOVING"
                return []
            }
            if jobs.isRunning(.registration) { message = "registration already running; Esc cancels"; return [] }
            let plan = LiveRegistration.plan(r.preset)
            r.phase = .running
            r.budget = plan.stages.map { $0.levels.map(\.iterations) }
            r.stageNames = plan.stages.map(\.name)
            r.progress = nil; r.values = []; r.levelStart = 0; r.activity = nil; r.previews = 0
            // The last finished registration (outputs, summary, final preview) is kept until this
            // run finishes: cancelling goes back to it, and S saves it meanwhile.
            registration = r
            if fieldMode == nil { fieldMode = .arrows }
            message = "registering (\(r.preset.rawValue) preset) in the background; Esc cancels"
            return [jobs.start(.registration(preset: r.preset))]

        case .cycleRegistrationPreset:
            guard var r = registration else { message = "no moving image: voxterm view FIXED --moving MOVING"; return [] }
            let all = RegistrationPlan.Preset.allCases
            r.preset = all[(all.firstIndex(of: r.preset)! + 1) % all.count]
            registration = r
            message = "registration preset \(r.preset.rawValue)" + (jobs.isRunning(.registration) ? " (for the next start)" : "; G starts")
            return []

        case .saveRegistration:
            guard var r = registration else { message = "no moving image: voxterm view FIXED --moving MOVING"; return [] }
            guard let outputs = r.outputs else {
                message = r.phase == .running ? "registration still running; S saves when it has finished"
                    : "nothing to save yet: G registers first"
                return []
            }
            if jobs.isRunning(.saveRegistration) { message = "already saving"; return [] }
            r.saving = true
            registration = r
            let d = document
            let sources = RegistrationSources(fixed: d.imagePath, moving: d.movingPath ?? "",
                                              movingLabels: d.movingLabelsPath,
                                              fixedLabels: d.labelsFollowMoving ? nil : d.labelsPath)
            let protect = [d.labelTablePath, d.comparePath, d.labelsPath].compactMap { $0 }
            message = "saving to \(r.outputDirectory)/ ..."
            return [jobs.start(.saveRegistration(outputs: outputs, sources: sources, directory: r.outputDirectory,
                                                 protecting: protect))]

        case .nextFoldingSlice:
            guard let r = registration, !r.foldingPerSlice.isEmpty else {
                message = "no registration field yet: G registers"
                return []
            }
            let m = mapping(plane)
            let counts = r.foldingPerSlice[m.sliceAxis]
            let current = cursor[m.sliceAxis]
            let n = counts.count
            // Forward along the voxel axis, wrapping around.
            guard let next = (1...n).lazy.map({ (current + $0) % n }).first(where: { counts[$0] > 0 }) else {
                message = "no folding: the Jacobian is positive everywhere"
                return []
            }
            cursor[m.sliceAxis] = next
            message = "\(counts[next]) folded voxel\(counts[next] == 1 ? "" : "s") (Jacobian ≤ 0) on \(plane.rawValue) slice \(slice(in: plane))"
            return []

        default:
            return []
        }
    }

    /// A registration or save job was asked to stop (Esc).
    mutating func registrationJobCancelling(_ kind: JobKind) {
        if kind == .registration { registration?.phase = .cancelling }
    }

    /// Progress of the current registration job.
    mutating func registrationJobProgress(_ kind: JobKind, _ progress: JobProgress) -> [Effect] {
        guard kind == .registration, case .registration(let update) = progress, var r = registration else { return [] }
        if let p = update.progress {
            if let q = r.progress, q.stage != p.stage || q.level != p.level { r.levelStart = r.values.count }
            r.progress = p
        }
        r.values.append(contentsOf: update.values.filter(\.isFinite))
        if r.values.count > 20_000 {
            let drop = r.values.count - 20_000
            r.values.removeFirst(drop)
            r.levelStart = max(0, r.levelStart - drop)
        }
        r.activity = update.activity
        registration = r
        if let p = update.preview { show(p.value) }
        return []
    }

    /// The current registration or save job ended.
    mutating func registrationJobFinished(_ kind: JobKind, _ outcome: JobOutcome) -> [Effect] {
        switch (kind, outcome) {
        case (.registration, .registration(let done)):
            show(done.value.preview)
            registration?.finishedPreview = Shared(done.value.preview)
            registration?.savedTo = nil
            registration?.phase = .finished
            registration?.activity = nil
            registration?.outputs = Shared(done.value.outputs)
            let s = RegistrationSummary(done.value.outputs)
            registration?.summary = s
            message = "registered: \(s.text); S saves to \(registration?.outputDirectory ?? ".")/"
        case (.registration, .cancelled):
            registration?.activity = nil
            if let last = registration?.finishedPreview, registration?.outputs != nil {
                // Nothing finished is lost: back to the last finished registration.
                show(last.value)
                registration?.phase = .finished
                message = "registration cancelled; the last finished one is kept (S saves it)"
            } else {
                registration?.phase = .cancelled
                message = "registration cancelled; G starts again"
            }
        case (.registration, .failed(let why)):
            registration?.phase = .failed(why)
            registration?.activity = nil
            message = "registration failed: \(why)"
        case (.saveRegistration, .saved(let dir, let files)):
            registration?.saving = false
            registration?.savedTo = dir
            message = "saved \(files.count) files to \(dir)/"
        case (.saveRegistration, .failed(let why)):
            registration?.saving = false
            message = "save failed: \(why)"
        case (.saveRegistration, .cancelled):
            registration?.saving = false
            message = "save cancelled"
        default:
            break
        }
        return []
    }
}

/// Monotonic seconds.
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
