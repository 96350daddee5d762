import Foundation
import VoxtermModel
import SliceRendering

extension WorkbenchState {
    /// Shows `preview`: the warped moving image as the second image, its displacement as the field,
    /// and the moving labels when they stand in for fixed labels.
    mutating func show(_ preview: RegistrationPreview) {
        document.compare = preview.warped
        document.field = preview.displacement
        document.preparedFieldOverlay = preview.fieldOverlay
        if document.labelsFollowMoving, let l = preview.warpedLabels {
            document.labels = l
            document.presentLabels = preview.warpedLabelsPresent
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
                message = "no moving image: :open moving PATH (or voxterm view FIXED --moving MOVING)"
                return []
            }
            if jobs.isRunning(.registration) { message = "registration already running; Esc cancels"; return [] }
            let plan = LiveRegistration.plan(r.preset)
            r.phase = .running
            r.budget = plan.stages.map { $0.levelsAsRun(on: document.image.geometry).map(\.iterations) }
            r.stageNames = plan.stages.map(\.name)
            r.progress = nil; r.values = []; r.levelStart = 0; r.activity = nil; r.previews = 0
            // The last finished registration (outputs, summary, final preview) is kept until this
            // run finishes: cancelling goes back to it, and S saves it meanwhile.
            registration = r
            if fieldMode == nil { fieldMode = .arrows }
            message = "registering (\(r.preset.rawValue) preset) in the background; Esc cancels"
            return [jobs.start(.registration(preset: r.preset))]

        case .cycleRegistrationPreset:
            guard var r = registration else { message = "no moving image: :open moving PATH (or voxterm view FIXED --moving MOVING)"; return [] }
            let all = RegistrationPlan.Preset.allCases
            r.preset = all[(all.firstIndex(of: r.preset)! + 1) % all.count]
            registration = r
            message = "registration preset \(r.preset.rawValue)" + (jobs.isRunning(.registration) ? " (for the next start)" : "; G starts")
            return []

        case .saveRegistration:
            guard var r = registration else { message = "no moving image: :open moving PATH (or voxterm view FIXED --moving MOVING)"; return [] }
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
            // Every file the session read (truth, field and layers too), and the supports.
            let protect = d.inputPaths + curation.entries.flatMap { [$0.example.image, $0.example.labels] }
            message = "saving to \(r.outputDirectory)/ ..."
            return [jobs.start(.saveRegistration(outputs: outputs, sources: sources, directory: r.outputDirectory,
                                                 protecting: protect, overwrite: r.replacesOutputs))]

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

    /// The one entry point of the registration and save jobs' events.
    mutating func reduceRegistrationJob(_ kind: RegistrationJobRole, _ event: JobEvent) -> [Effect] {
        switch event {
        case .cancelling: registrationJobCancelling(kind); return []
        case .progress(let p): return registrationJobProgress(kind, p)
        case .finished(let o): return registrationJobFinished(kind, o)
        }
    }

    /// A registration or save job was asked to stop (Esc).
    private mutating func registrationJobCancelling(_ kind: RegistrationJobRole) {
        if kind == .registration { registration?.phase = .cancelling }
    }

    /// Progress of the current registration job.
    private mutating func registrationJobProgress(_ kind: RegistrationJobRole, _ progress: JobProgress) -> [Effect] {
        guard kind == .registration, let update = progress.as(LiveRegistrationUpdate.self), var r = registration else { return [] }
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
    private mutating func registrationJobFinished(_ kind: RegistrationJobRole, _ outcome: JobOutcome) -> [Effect] {
        let done = kind == .registration ? outcome.result(Shared<LiveRegistrationResult>.self) : nil
        let saved = kind == .saveRegistration ? outcome.result(SavedRegistration.self) : nil
        switch (kind, outcome) {
        case (.registration, .finished) where done != nil:
            let done = done!
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
        case (.saveRegistration, .finished) where saved != nil:
            registration?.saving = false
            registration?.savedTo = saved!.directory
            message = "saved \(saved!.files.count) files to \(saved!.directory)/"
        case (.saveRegistration, .failed(let why)):
            registration?.saving = false
            // In the workbench --force is given at start, or :save! replaces once.
            message = "save failed: " + why.replacingOccurrences(of: "pass --force to replace an earlier run's files",
                                                                 with: ":save! registration (or voxterm view --force) replaces an earlier run's files")
        case (.saveRegistration, .cancelled):
            registration?.saving = false
            message = "save cancelled"
        default:
            break
        }
        return []
    }
}
