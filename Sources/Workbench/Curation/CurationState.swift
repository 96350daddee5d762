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
    /// The labels present in the prediction (found where it is made, off the UI thread).
    public var presentLabels: [Int32]
    /// Where `dice` is measured, to score the prediction again against a truth loaded later.
    public var scoredRegion = ScoredRegion()
    /// How many times it was scored again (a truth loaded later): the comparison overlay follows it.
    public var scoreGeneration = 0

    public init(id: Int, scope: PredictionScope, prediction: Prediction, method: String, dice: [Int32: Double] = [:],
                truthName: String? = nil, seconds: Double = 0, disagreement: [Int: [SliceConfidence]] = [:]) {
        self.id = id; self.scope = scope; self.prediction = prediction; self.method = method; self.dice = dice
        self.truthName = truthName; self.seconds = seconds; self.disagreement = disagreement
        presentLabels = prediction.labels.presentLabels
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
    /// A truth map was loaded while it ran: its outcome is scored against that truth when it ends.
    public var truthReplaced = false
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
    /// Whether `manifestPath` is this session's own manifest (given with `--support-set`, loaded,
    /// or saved here), which `M` rewrites in place; any other existing file is replaced only by
    /// `:save! support PATH`, and the session's inputs never.
    public var manifestOwned = false
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
    /// The slice filler's image share for the next slice predictions (`:set fill-weight`); nil =
    /// automatic, as `voxterm segment` without `--registration-weight`.
    public var fillWeight: Float?

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
    /// The user's own labels of the open image (its support slices, or the whole volume when
    /// `slices` is nil): with `.volumes`, they replace the fused prediction there (confidence 1),
    /// so a corrected slice added back as a support is kept as corrected.
    public var userLabels: [(labels: LabelVolume, slices: SliceSelection?)]

    public init(scope: PredictionScope, query: Volume, method: PredictionMethod, truth: LabelVolume? = nil, truthName: String? = nil,
                userLabels: [(labels: LabelVolume, slices: SliceSelection?)] = []) {
        self.scope = scope; self.query = query; self.method = method; self.truth = truth; self.truthName = truthName
        self.userLabels = userLabels
    }
}

/// Which predictor a request uses.
public enum PredictionMethod: Sendable {
    /// Labelled slices of the open volume fill the others (`SlicePropagator.standard`, as `voxterm segment` does):
    /// each support's labels are read on its slices only.
    /// `registrationWeight`: the filler's image share (nil = automatic; `:set fill-weight`).
    case slices(axis: Int, supports: [(labels: LabelVolume, indices: [Int])], registrationWeight: Float? = nil)
    /// Other volumes are registered to the open one and their labels fused (`RegistrationPropagationPredictor`).
    case volumes([LoadedSupport], preset: RegistrationPlan.Preset)
}

/// Work the curation reducer asks the run loop to do.
public enum CurationEffect: Equatable, Sendable {
    /// Write the manifest (atomically) and report back.
    /// `inputs`: files never written over; `replace`: an existing file may be replaced.
    case saveManifest(path: String, set: SupportSet, inputs: [String], replace: Bool)
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
    /// The manifest was written to `path` (it is the session's own from now on).
    case manifestSaved(path: String, message: String)
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

extension WorkbenchState {
    /// The prediction on screen: the finished prediction while `C` shows it (any display but the
    /// loaded labels), else nil. The one test of "a prediction is shown" (drawing, statistics,
    /// editing, saving, `shownLabel(at:)`).
    public var shownPrediction: PredictionOutcome? { curation.display == .off ? nil : curation.outcome }
}
