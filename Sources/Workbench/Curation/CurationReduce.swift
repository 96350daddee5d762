import Foundation
import VoxtermModel
import SliceRendering


extension WorkbenchState {
    /// Whether the support panel is on screen (it needs 80 columns).
    var layoutHasSupportPanel: Bool { ScreenLayout(self).supportPanel != nil }

    /// The key focus: the support panel's rows while the panel is on screen, else the images.
    public var keyFocus: KeyFocus { curation.showPanel && layoutHasSupportPanel ? .supportPanel : .images }

    /// Voxel axis the active plane's slices are perpendicular to.
    var activeSliceAxis: Int { mapping(plane).sliceAxis }

    /// Truth for scoring: `--truth`, else the loaded label map (scored only where it was not a support).
    var scoringTruth: (labels: LabelVolume, name: String)? {
        if let t = document.truth { return (t, "truth") }
        if let l = document.labels { return (l, ((document.labelsPath ?? "labels") as NSString).lastPathComponent) }
        return nil
    }

    /// The display plane whose slices are perpendicular to voxel axis `axis`.
    func displayPlane(forAxis axis: Int) -> SlicePlane {
        SlicePlane.allCases.first { mapping($0).sliceAxis == axis } ?? (axis == 0 ? .sagittal : (axis == 1 ? .coronal : .axial))
    }
}

/// Applies a curation action; pure like `reduce`.
func reduceCuration(_ state: inout WorkbenchState, _ action: CurationAction) -> [Effect] {
    var c = state.curation
    defer { state.curation = c }
    let doc = state.document
    switch action {
    case .togglePanel:
        c.showPanel.toggle()

    case .addSlice, .addVolume:
        guard let labels = doc.labels, let labelsPath = doc.labelsPath else {
            state.message = "no labels loaded (--labels FILE): a support example needs labels"; break
        }
        guard !doc.notes.contains(where: { $0.hasPrefix("labels resampled") }) else {
            state.message = "the label map is not on the image grid; a support example needs labels on it"; break
        }
        var slices: SliceSelection? = nil
        var count = labels.presentLabels.count
        if action == .addSlice {
            let axis = state.activeSliceAxis, index = state.cursor[axis]
            slices = SliceSelection(plane: VoxelAxisPlane(axis: axis), indices: [index])
            if c.entries.contains(where: { $0.isOpenImage && $0.example.slices?.plane == slices!.plane
                && $0.example.slices!.indices.contains(index) }) {
                state.message = "\(slices!.plane.rawValue) slice \(index) is already a support"; break
            }
            count = SliceAccess.slice(labels, axis: axis, index: index).presentLabels.count
        }
        let example = SupportExample(image: doc.imagePath, labels: labelsPath, slices: slices)
        guard !c.entries.contains(where: { $0.example == example }) else {
            state.message = "the whole volume is already a support"; break
        }
        c.entries.append(SupportEntry(example: example, image: doc.image, labels: labels, isOpenImage: true))
        c.selection = c.entries.count - 1
        c.showPanel = true
        let what = slices.map { "\($0.plane.rawValue) slice \($0.indices[0])" } ?? "whole volume"
        state.message = "support \(c.entries.count): \(what) with \(count) labels"
            + (count == 0 ? " (nothing labelled there)" : "") + " · i predicts a slice, I the volume"

    case .removeSelected:
        guard !c.entries.isEmpty else { state.message = "the support set is empty"; break }
        let i = min(max(c.selection, 0), c.entries.count - 1)
        let gone = c.entries.remove(at: i)
        c.selection = min(i, max(0, c.entries.count - 1))
        state.message = "removed support \(i + 1) (\(gone.what) of \(gone.name)); \(c.entries.count) left"

    case .moveSelection(let d):
        let n = c.entries.count
        guard n > 0 else { break }
        c.selection = ((c.selection + d) % n + n) % n

    case .goToSelected:
        guard !c.entries.isEmpty else { state.message = "the support set is empty"; break }
        let e = c.entries[min(max(c.selection, 0), c.entries.count - 1)]
        guard e.isOpenImage else { state.message = "support \(c.selection + 1) is another image (\(e.name))"; break }
        guard let s = e.example.slices, let first = s.indices.first else {
            state.message = "support \(c.selection + 1) is the whole volume"; break
        }
        state.plane = state.displayPlane(forAxis: s.plane.axis)
        state.cursor[s.plane.axis] = min(first, doc.image.geometry.size[s.plane.axis] - 1)
        for p in state.visiblePlanes { state.keepCursorVisible(in: p, recentre: true) }
        state.message = "support \(c.selection + 1): \(e.what)"

    case .saveManifest:
        guard !c.entries.isEmpty else { state.message = "the support set is empty: A adds the current slice"; break }
        let inputs = state.document.inputPaths + c.entries.flatMap { [$0.example.image, $0.example.labels] }
        return [.curation(.saveManifest(path: c.manifestPath, set: c.supportSet, inputs: inputs, replace: c.manifestOwned))]
    case .loadManifest:
        return [.curation(.loadManifest(path: c.manifestPath))]
    case .manifestSaved(let path, let message):
        if CurationIO.same(path, c.manifestPath) { c.manifestOwned = true }
        state.message = message
    case .manifestLoaded(let path, let entries):
        if CurationIO.same(path, c.manifestPath) { c.manifestOwned = true }
        // Read while another image may have been opened (`:open image`, cohort paging): which
        // entries are the open image is decided for the one open now.
        c.entries = entries.map { e in
            var e = e
            e.isOpenImage = CurationIO.same(e.example.image, state.document.imagePath)
            return e
        }
        c.selection = 0
        c.showPanel = true
        state.message = "loaded \(entries.count) support example\(entries.count == 1 ? "" : "s") from \(path)"

    case .predict(let target):
        if c.running != nil || state.jobs.isRunning(.prediction) { state.message = "a prediction is running (Esc cancels)"; break }
        guard !c.entries.isEmpty else {
            state.message = "the support set is empty: A adds the current slice, V the volume, O loads \(c.manifestPath)"; break
        }
        let axis = state.activeSliceAxis, here = state.cursor[axis]
        let plane = VoxelAxisPlane(axis: axis)
        let within = c.entries.filter { $0.isOpenImage && $0.example.slices?.plane == plane }
        let others = c.entries.filter { !$0.isOpenImage }
        let own = c.entries.filter(\.isOpenImage)
        var scope = PredictionScope.volume
        let method: PredictionMethod
        var title: String
        var note = ""
        var userLabels: [(labels: LabelVolume, slices: SliceSelection?)] = []
        if !others.isEmpty && !own.isEmpty {
            // Other images are registered and fused; the open image's own supports (a corrected
            // slice or volume added back) are kept as the user drew them.
            method = .volumes(others.map {
                LoadedSupport(image: $0.image, labels: $0.labels, slices: $0.example.slices, name: $0.name)
            }, preset: .fast)
            userLabels = own.map { ($0.labels, $0.example.slices) }
            title = "the volume from \(others.count) other image\(others.count == 1 ? "" : "s") and your labels (\(own.map(\.what).joined(separator: "; ")))"
            if target == .slice { note = " (across images the whole volume is predicted)" }
        } else if !within.isEmpty {
            var supports: [(labels: LabelVolume, indices: [Int])] = []
            for e in within {
                let keep = e.example.slices!.indices.filter { !(target == .slice && $0 == here) }
                if !keep.isEmpty { supports.append((e.labels, keep)) }
            }
            guard !supports.isEmpty else {
                state.message = "\(plane.rawValue) slice \(here) is the only support in this plane: add another (A) to predict it"; break
            }
            if target == .slice && within.contains(where: { $0.example.slices!.indices.contains(here) }) {
                note = " (leaving this support slice out)"
            }
            method = .slices(axis: axis, supports: supports, registrationWeight: c.fillWeight)
            if target == .slice { scope = .slice(axis: axis, index: here) }
            title = target == .slice ? "\(plane.rawValue) slice \(here)" : "all \(plane.rawValue) slices"
        } else if !others.isEmpty {
            method = .volumes(others.map {
                LoadedSupport(image: $0.image, labels: $0.labels, slices: $0.example.slices, name: $0.name)
            }, preset: .fast)
            title = "the volume from \(others.count) other image\(others.count == 1 ? "" : "s")"
            if target == .slice { note = " (across images the whole volume is predicted)" }
        } else {
            state.message = "no support in the \(plane.rawValue) plane of this image: add slices here (A) or load other images (O)"
            break
        }
        let truth = state.scoringTruth
        let request = PredictionRequest(scope: scope, query: doc.image, method: method, truth: truth?.labels, truthName: truth?.name,
                                        userLabels: userLabels)
        let effect = state.jobs.start(.prediction(Shared(request)))
        guard case .startJob(let id, _) = effect else { break }
        c.running = RunningPrediction(id: id, title: title, progress: nil)
        state.message = "predicting \(title)\(note) · Esc cancels"
        return [effect]

    case .cycleDisplay:
        guard c.outcome != nil else { state.message = "no prediction yet: i predicts the current slice"; break }
        var order = PredictionDisplay.allCases
        if c.outcome!.dice.isEmpty { order.removeAll { $0 == .comparison } }
        c.display = order[((order.firstIndex(of: c.display) ?? -1) + 1) % order.count]
        state.overlay.visible = true
        state.message = "showing " + (c.display == .comparison ? "prediction vs \(c.outcome!.truthName ?? "truth"): green TP, red FP, blue FN"
            : c.display == .confidence ? "confidence: clear where the supports agree, red to yellow where they disagree" : c.display.rawValue)

    case .jumpToDisagreement:
        guard let o = c.outcome else { state.message = "no prediction yet: i predicts the current slice"; break }
        let axis = state.activeSliceAxis
        let ranking = o.disagreement[axis] ?? []
        guard !ranking.isEmpty else {
            state.message = "the prediction has no predicted \(state.plane.rawValue) slices to rank"
                + (o.scope == .volume ? "" : " (I predicts the volume)"); break
        }
        c.disagreementStep = (c.disagreementStep + 1) % ranking.count
        let s = ranking[c.disagreementStep]
        state.plane = state.displayPlane(forAxis: axis)
        state.cursor[axis] = s.index
        state.message = String(format: "%@ slice %d: mean confidence %.2f (%@ of %d to label next) · d for the next",
                               state.plane.rawValue, s.index, s.meanConfidence, ordinal(c.disagreementStep + 1), ranking.count)

    case .savePrediction:
        guard let o = c.outcome else { state.message = "no prediction to save: i predicts the current slice"; break }
        let stem = FileIO.imageStem(doc.imageName)
        let inputs = [doc.imagePath, doc.labelsPath, doc.labelTablePath, doc.comparePath].compactMap { $0 }
            + c.entries.flatMap { [$0.example.image, $0.example.labels] }
        return [.curation(.writePrediction(o, directory: c.outputDirectory, stem: stem, inputs: inputs))]
    }
    return []
}

extension WorkbenchState {
    /// The one entry point of the prediction job's events.
    mutating func reducePredictionJob(_ id: JobID, _ event: JobEvent) -> [Effect] {
        switch event {
        case .cancelling: predictionJobCancelling(); return []
        case .progress(let p): return predictionJobProgress(id, p)
        case .finished(let o): return predictionJobFinished(id, o)
        }
    }

    /// Esc while predicting: the job ends with `.cancelled` shortly.
    private mutating func predictionJobCancelling() {
        if let r = curation.running { curation.running!.title = r.title + " (cancelling)" }
    }

    /// A prediction job's progress.
    private mutating func predictionJobProgress(_ id: JobID, _ progress: JobProgress) -> [Effect] {
        if let p = progress.as(SegmentationProgress.self), curation.running?.id == id { curation.running!.progress = p }
        return []
    }

    /// A prediction job ended (already removed from `jobs`): show the outcome, or why not.
    private mutating func predictionJobFinished(_ id: JobID, _ outcome: JobOutcome) -> [Effect] {
        guard let running = curation.running, running.id == id else { return [] }
        curation.running = nil
        switch outcome {
        case .finished(let value):
            guard let o = value.as(Shared<PredictionOutcome>.self)?.value else { break }
            curation.outcome = o
            curation.display = document.truth != nil && !o.dice.isEmpty ? .comparison : .labels
            curation.disagreementStep = -1
            overlay.visible = true
            // Over an image without labels the label panel lists the predicted labels, named by the
            // supports' table, with their Dice and the TP/FP/FN legend (u shows the supports again).
            if document.labels == nil {
                document.presentLabels = o.presentLabels
                labelSelection = 0
                showLabelPanel = true
                curation.showPanel = false
            }
            message = outcomeSummary(o) + " · C cycles the display, E saves"
            // A truth (or label map) was loaded while it ran: scored against that, not the one (or
            // none) the job started with.
            if running.truthReplaced, let t = scoringTruth,
               let effect = scoreShownPrediction(against: t.labels, name: t.name, announce: .prediction) {
                message = outcomeSummary(o) + " · scoring against \(t.name)…"
                return [effect]
            }
        case .cancelled: message = "prediction cancelled"
        case .failed(let why): message = "prediction failed: \(why)"
        }
        return []
    }
}

/// "predicted axial slice 46 in 2.1 s: mean Dice 0.812 over 40 labels vs colin27_2mm_aal.nii.gz".
func outcomeSummary(_ o: PredictionOutcome) -> String {
    var s = "predicted \(scopeText(o.scope)) in " + String(format: "%.1f s", o.seconds)
    if let m = o.meanDiceScore {
        s += String(format: ": mean Dice %.3f over %d labels vs %@", m, o.dice.count, o.truthName ?? "truth")
    }
    return s
}

/// "axial slice 46" or "the volume".
func scopeText(_ scope: PredictionScope) -> String {
    switch scope {
    case .volume: "the volume"
    case .slice(let axis, let index): "\(VoxelAxisPlane(axis: axis).rawValue) slice \(index)"
    }
}

/// "1st", "2nd", "3rd", "4th", ...
func ordinal(_ n: Int) -> String {
    let suffix = (11...13).contains(n % 100) ? "th" : (n % 10 == 1 ? "st" : (n % 10 == 2 ? "nd" : (n % 10 == 3 ? "rd" : "th")))
    return "\(n)\(suffix)"
}
