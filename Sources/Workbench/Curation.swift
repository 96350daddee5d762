import Foundation
import VoxtermModel
import SliceRendering

/// One support example of the support-set panel, with its volumes in memory.
public struct SupportEntry: Sendable, Equatable {
    /// The example as the manifest stores it.
    public var example: SupportExample
    /// The example's image (the open image itself when `isOpenImage`).
    public var image: Volume
    /// Its labels on the image grid (outside `example.slices`, when set, not used).
    public var labels: LabelVolume
    /// True when the example's image is the open image: its slices can be propagated within the volume.
    public var isOpenImage: Bool

    public init(example: SupportExample, image: Volume, labels: LabelVolume, isOpenImage: Bool) {
        self.example = example; self.image = image; self.labels = labels; self.isOpenImage = isOpenImage
    }

    /// The image's file name without folders.
    public var name: String { (example.image as NSString).lastPathComponent }

    /// "axial 45", "axial 30,40" (0-based voxel indices, as the captions and the manifest) or "whole volume".
    public var what: String {
        guard let s = example.slices else { return "whole volume" }
        return "\(s.plane.rawValue) " + s.indices.map(String.init).joined(separator: ",")
    }

    /// The voxel indices as the manifest stores them, e.g. "k=45" or "k=30,40" (empty for a volume).
    public var voxelIndices: String {
        guard let s = example.slices else { return "" }
        return ["i", "j", "k"][s.plane.axis] + "=" + s.indices.map(String.init).joined(separator: ",")
    }

    public static func == (a: SupportEntry, b: SupportEntry) -> Bool {
        a.example == b.example && a.isOpenImage == b.isOpenImage
    }
}

/// What a prediction is asked to segment.
public enum PredictionTarget: String, Sendable, CaseIterable {
    /// The slice under the crosshair in the active plane.
    case slice
    /// The whole open volume.
    case volume
}

/// What a finished prediction covers.
public enum PredictionScope: Equatable, Sendable {
    /// One slice perpendicular to voxel axis `axis` (0 = i, 1 = j, 2 = k) at `index`.
    case slice(axis: Int, index: Int)
    /// Every voxel of the open volume.
    case volume

    /// Whether slice `index` perpendicular to voxel axis `axis` is predicted.
    public func covers(axis: Int, index: Int) -> Bool {
        switch self {
        case .volume: true
        case .slice(let a, let i): a == axis && i == index
        }
    }
}

/// How the prediction is drawn over the image (cycled by `C`).
public enum PredictionDisplay: String, Sendable, CaseIterable {
    /// Predicted labels in the label table's colours.
    case labels = "prediction"
    /// True positives green, false positives red, false negatives blue, against the truth map.
    case comparison = "vs truth"
    /// Where the supports disagree, as a colour map (transparent where they all agree).
    case confidence
    /// The loaded labels, as before the prediction.
    case off = "loaded labels"
}

/// Mean confidence of the predicted (non-background) voxels of one slice.
public struct SliceConfidence: Sendable, Equatable {
    /// Voxel index along the slice axis.
    public var index: Int
    /// Mean confidence, 0...1 (1 = every support agrees everywhere on the slice).
    public var meanConfidence: Double
}

/// A finished prediction with its evaluation.
public struct PredictionOutcome: Sendable, Equatable {
    /// The job's identifier (distinguishes outcomes for caching).
    public var id: Int
    /// What was predicted.
    public var scope: PredictionScope
    /// Predicted labels and per-voxel confidence on the open image's grid.
    public var prediction: Prediction
    /// How it was made, e.g. "slice propagation from axial 40,50".
    public var method: String
    /// Dice per truth label over the predicted region (empty without truth).
    public var dice: [Int32: Double]
    /// File name of the truth map scored against, if any.
    public var truthName: String?
    /// Wall-clock seconds of the prediction.
    public var seconds: Double
    /// Per voxel axis (0, 1, 2): predicted slices from the lowest mean confidence up (support slices left out).
    public var disagreement: [Int: [SliceConfidence]]

    public init(id: Int, scope: PredictionScope, prediction: Prediction, method: String, dice: [Int32: Double] = [:],
                truthName: String? = nil, seconds: Double = 0, disagreement: [Int: [SliceConfidence]] = [:]) {
        self.id = id; self.scope = scope; self.prediction = prediction; self.method = method; self.dice = dice
        self.truthName = truthName; self.seconds = seconds; self.disagreement = disagreement
    }

    /// Mean of the per-label Dice, nil without truth.
    public var meanDiceScore: Double? { dice.isEmpty ? nil : meanDice(dice) }

    public static func == (a: PredictionOutcome, b: PredictionOutcome) -> Bool { a.id == b.id }
}

/// A prediction in progress.
public struct RunningPrediction: Sendable, Equatable {
    /// Its background job.
    public var id: JobID
    /// What is being predicted, e.g. "axial slice 46".
    public var title: String
    /// The latest progress report.
    public var progress: SegmentationProgress?
}

/// Support-set curation and prediction: the examples, the running and the last prediction.
public struct CurationState: Sendable {
    /// The support examples, in the order added.
    public var entries: [SupportEntry] = []
    /// Selected row of the support panel.
    public var selection = 0
    /// Whether the support panel replaces the label panel on the right.
    public var showPanel = false
    /// Where `M` saves and `O` loads the manifest.
    public var manifestPath = "support.json"
    /// Folder the prediction is written to by `E`.
    public var outputDirectory = "."
    /// The prediction being computed, if any.
    public var running: RunningPrediction?
    /// The last finished prediction.
    public var outcome: PredictionOutcome?
    /// How the prediction is drawn.
    public var display: PredictionDisplay = .labels
    /// Position in the disagreement ranking of the last `d` jump.
    public var disagreementStep = -1

    public init() {}

    /// The support set of the entries (what `M` saves).
    public var supportSet: SupportSet { SupportSet(examples: entries.map(\.example)) }
}

/// What a background prediction computes from: a value, so the reducer stays pure.
public struct PredictionRequest: Sendable {
    /// The slice or the volume to predict.
    public var scope: PredictionScope
    /// The open image.
    public var query: Volume
    /// The predictor and its supports.
    public var method: PredictionMethod
    /// Labels to score against (on the query grid), if any.
    public var truth: LabelVolume?
    /// File name of the truth map.
    public var truthName: String?

    public init(scope: PredictionScope, query: Volume, method: PredictionMethod, truth: LabelVolume? = nil, truthName: String? = nil) {
        self.scope = scope; self.query = query; self.method = method; self.truth = truth; self.truthName = truthName
    }
}

/// Which predictor a request uses.
public enum PredictionMethod: Sendable {
    /// Labelled slices of the open volume fill the others (`SlicePropagator`, chained, majority):
    /// each support's labels are read on its slices only.
    case slices(axis: Int, supports: [(labels: LabelVolume, indices: [Int])])
    /// Other volumes are registered to the open one and their labels fused (`RegistrationPropagationPredictor`).
    case volumes([LoadedSupport], preset: RegistrationPlan.Preset)
}

/// Work the curation reducer asks the run loop to do.
public enum CurationEffect: Equatable, Sendable {
    /// Write the manifest (atomically) and report back.
    case saveManifest(path: String, set: SupportSet)
    /// Read a manifest and its volumes, then post `.manifestLoaded` (or a message).
    case loadManifest(path: String)
    /// Write the prediction (labels and confidence NIfTI) into `directory`, never over an input.
    case writePrediction(PredictionOutcome, directory: String, stem: String, inputs: [String])
}

/// Curation and prediction actions (wrapped in `Action.curation`).
public enum CurationAction: Equatable, Sendable {
    /// Shows or hides the support-set panel (it takes the label panel's place).
    case togglePanel
    /// Adds the slice under the crosshair in the active plane, with its labels from the loaded label map.
    case addSlice
    /// Adds the whole open volume with its labels.
    case addVolume
    /// Removes the selected example.
    case removeSelected
    /// Moves the panel selection by `delta` rows (wrapping).
    case moveSelection(Int)
    /// Moves the crosshair (plane and slice) to the selected example.
    case goToSelected
    /// Saves the manifest to `CurationState.manifestPath`.
    case saveManifest
    /// Loads the manifest from `CurationState.manifestPath`.
    case loadManifest
    /// A manifest was read: its examples replace the panel's.
    case manifestLoaded(path: String, entries: [SupportEntry])
    /// Segments the current slice or the open volume from the support set (a background job;
    /// `Action.jobProgress` / `.jobFinished` report back, Esc cancels).
    case predict(PredictionTarget)
    /// Cycles prediction / vs truth / confidence / loaded labels.
    case cycleDisplay
    /// Moves to the next slice (of the active plane) where the supports disagree most.
    case jumpToDisagreement
    /// Writes the prediction as NIfTI.
    case savePrediction
}

/// The support plane of voxel axis `axis` (the plane perpendicular to it).
func supportPlane(axis: Int) -> SupportPlane { axis == 0 ? .sagittal : (axis == 1 ? .coronal : .axial) }

extension WorkbenchState {
    /// Whether the support panel is on screen (it needs 80 columns).
    var layoutHasSupportPanel: Bool { ScreenLayout(self).supportPanel != nil }

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
            slices = SliceSelection(plane: supportPlane(axis: axis), indices: [index])
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
        return [.curation(.saveManifest(path: c.manifestPath, set: c.supportSet))]
    case .loadManifest:
        return [.curation(.loadManifest(path: c.manifestPath))]
    case .manifestLoaded(let path, let entries):
        c.entries = entries
        c.selection = 0
        c.showPanel = true
        state.message = "loaded \(entries.count) support example\(entries.count == 1 ? "" : "s") from \(path)"

    case .predict(let target):
        if c.running != nil || state.jobs.isRunning(.prediction) { state.message = "a prediction is running (Esc cancels)"; break }
        guard !c.entries.isEmpty else {
            state.message = "the support set is empty: A adds the current slice, V the volume, O loads \(c.manifestPath)"; break
        }
        let axis = state.activeSliceAxis, here = state.cursor[axis]
        let plane = supportPlane(axis: axis)
        let within = c.entries.filter { $0.isOpenImage && $0.example.slices?.plane == plane }
        let others = c.entries.filter { !$0.isOpenImage }
        var scope = PredictionScope.volume
        let method: PredictionMethod
        var title: String
        var note = ""
        if !within.isEmpty {
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
            method = .slices(axis: axis, supports: supports)
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
        let request = PredictionRequest(scope: scope, query: doc.image, method: method, truth: truth?.labels, truthName: truth?.name)
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
        state.message = String(format: "%@ slice %d: mean confidence %.2f (%@ lowest of %d) · d for the next",
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
    /// Esc while predicting: the job ends with `.cancelled` shortly.
    mutating func predictionJobCancelling() {
        if let r = curation.running { curation.running!.title = r.title + " (cancelling)" }
    }

    /// A prediction job's progress.
    mutating func predictionJobProgress(_ id: JobID, _ progress: JobProgress) -> [Effect] {
        if case .prediction(let p) = progress, curation.running?.id == id { curation.running!.progress = p }
        return []
    }

    /// A prediction job ended (already removed from `jobs`): show the outcome, or why not.
    mutating func predictionJobFinished(_ id: JobID, _ outcome: JobOutcome) -> [Effect] {
        guard curation.running?.id == id else { return [] }
        curation.running = nil
        switch outcome {
        case .prediction(let shared):
            let o = shared.value
            curation.outcome = o
            curation.display = document.truth != nil && !o.dice.isEmpty ? .comparison : .labels
            curation.disagreementStep = -1
            overlay.visible = true
            // Over an image without labels the label panel lists the predicted labels, named by the
            // supports' table, with their Dice and the TP/FP/FN legend (u shows the supports again).
            if document.labels == nil {
                document.presentLabels = o.prediction.labels.presentLabels
                labelSelection = 0
                showLabelPanel = true
                curation.showPanel = false
            }
            message = outcomeSummary(o) + " · C cycles the display, E saves"
        case .cancelled: message = "prediction cancelled"
        case .failed(let why): message = "prediction failed: \(why)"
        default: break
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
    case .slice(let axis, let index): "\(supportPlane(axis: axis).rawValue) slice \(index)"
    }
}

/// "1st", "2nd", "3rd", "4th", ...
func ordinal(_ n: Int) -> String {
    let suffix = (11...13).contains(n % 100) ? "th" : (n % 10 == 1 ? "st" : (n % 10 == 2 ? "nd" : (n % 10 == 3 ? "rd" : "th")))
    return "\(n)\(suffix)"
}

extension KeyTable {
    /// Support-set and prediction keys, active in normal mode after `normal` (listed in the help under their own section).
    public static let curation: [KeyBinding] = [
        KeyBinding([.character("u")], .curation(.togglePanel), "Support set & prediction", "support-set panel show / hide"),
        KeyBinding([.character("A")], .curation(.addSlice), "Support set & prediction", "add this slice (with its labels) as a support"),
        KeyBinding([.character("V")], .curation(.addVolume), "Support set & prediction", "add the whole volume as a support"),
        KeyBinding([.character("D"), .delete], .curation(.removeSelected), "Support set & prediction", "remove the selected support"),
        KeyBinding([.character("M")], .curation(.saveManifest), "Support set & prediction", "save the support-set manifest"),
        KeyBinding([.character("O")], .curation(.loadManifest), "Support set & prediction", "load the support-set manifest"),
        KeyBinding([.character("i")], .curation(.predict(.slice)), "Support set & prediction", "predict this slice from the supports"),
        KeyBinding([.character("I")], .curation(.predict(.volume)), "Support set & prediction", "predict the whole volume"),
        KeyBinding([.character("C")], .curation(.cycleDisplay), "Support set & prediction", "show prediction / vs truth / confidence / labels"),
        KeyBinding([.character("d")], .curation(.jumpToDisagreement), "Support set & prediction", "next slice where the supports disagree most"),
        KeyBinding([.character("E")], .curation(.savePrediction), "Support set & prediction", "save the prediction as NIfTI"),
    ]
}
