import Synchronization
import VoxtermModel
import SliceRendering
import Terminal

/// Names the document a state shows. Every state made for a document (the first one, `:open image`,
/// cohort paging: `WorkbenchState.init`) gets a new one, while changes to the open document
/// (edits, `:open labels`, a moving image) keep it; so work asked for one document (a file read
/// for `:open labels`, a save) is recognised when it ends after another was opened, even one on
/// the same grid (the subjects of a registration cohort share the fixed image's).
public struct DocumentID: Hashable, Sendable, CustomStringConvertible {
    let value: Int
    public var description: String { "document \(value)" }

    private static let counter = Mutex(0)
    /// A number never handed out before in this process.
    static func next() -> DocumentID { DocumentID(value: counter.withLock { $0 += 1; return $0 }) }
}

/// How the image panes are arranged.
public enum ViewLayout: String, Sendable, CaseIterable {
    /// One large view of the active plane.
    case single
    /// Axial, coronal and sagittal views side by side, crosshair linked.
    case ortho
}

/// How a second image (`--compare`) is shown against the first.
public enum CompareMode: String, Sendable, CaseIterable {
    case sideBySide = "side by side"
    case checkerboard
    case difference
    case flicker
    /// The second image over the image: in magenta over the image in green (grey where they agree),
    /// or through its own colour map (`compareColorMap`) over the image's colours.
    case overlay
}

/// What has the keyboard.
public enum WorkbenchMode: String, Sendable {
    /// Browsing the images.
    case normal
    /// The help screen is shown.
    case help
}

/// Label overlay settings.
public struct OverlaySettings: Equatable, Sendable {
    /// Whether labels are drawn.
    public var visible = true
    /// Fill opacity, 0...1.
    public var opacity = 0.5
    /// Outline only instead of filled regions.
    public var outline = false
    /// Labels hidden individually from the label panel.
    public var hidden: Set<Int32> = []
    public init() {}
}

/// Everything the workbench shows, as a value: the reducer changes it, views draw it.
public struct WorkbenchState: Sendable {
    /// The loaded volumes.
    public var document: WorkbenchDocument
    /// Names `document` (see `DocumentID`): new for each state made with `init(document:)`.
    public let documentID = DocumentID.next()
    /// Crosshair position: a voxel of the image grid.
    public var cursor: SIMD3<Int>
    /// The plane of the single view, and the active pane of the ortho layout.
    public var plane: SlicePlane = .axial
    public var layout: ViewLayout = .single
    /// Left-right convention of axial and coronal views (as PNG export).
    public var convention: DisplayConvention = .neurological
    /// Magnification relative to fitting the pane (1...16).
    public var zoom = 1.0
    /// View centre offset per plane, in display pixels from the image centre (used when zoomed).
    public var pan: [SlicePlane: SIMD2<Double>] = [:]
    /// Intensity window of the image.
    public var window: IntensityWindow
    /// The automatic window (2–99.5 percentiles of the foreground) of the volume shown, restored
    /// by the auto-window key; recomputed when a 4-D image steps to another volume.
    public internal(set) var automaticWindow: IntensityWindow
    public var colorMap: ColorMap = .gray
    public var overlay = OverlaySettings()
    /// Field display, or nil when hidden.
    public var fieldMode: FieldDisplayMode?
    /// How `--compare` is shown (only with a second image).
    public var compareMode: CompareMode = .sideBySide
    /// Colour map of the second image in the overlay compare mode; nil for the green/magenta fusion.
    public var compareColorMap: ColorMap?
    /// Flicker phase: true while the second image is shown.
    public var flickerShowsCompare = false
    /// Whether the label side panel is shown.
    public var showLabelPanel: Bool
    /// Index into `document.presentLabels` of the selected panel row.
    public var labelSelection = 0
    public var mode: WorkbenchMode = .normal
    /// First row of the help screen shown when it does not fit (scrolled with the arrows and PgUp/PgDn).
    public var helpScroll = 0
    /// The image layer the layer keys act on.
    public var selectedLayer = 0
    /// One-line feedback in the status bar (e.g. where an export went).
    public var message: String?
    /// Terminal size the views are laid out for.
    public var size: TerminalSize
    /// Colour depth and Unicode support the views draw for.
    public var capabilities: TerminalCapabilities
    /// Set when the user asked to quit.
    public var quitRequested = false
    /// Support set, prediction and their display.
    public var curation = CurationState()
    /// Background jobs the reducer started and that have not finished.
    public var jobs = JobTable()
    /// Live registration of `document.moving` to the image, when a moving image is loaded.
    public var registration: LiveRegistrationState?
    /// Set when the user quit with Ctrl-C: the program then exits with status 130, as for SIGINT.
    public var interrupted = false
    /// Label editing (Editing/).
    public var editing = EditingState()
    /// Counts, label search, crosshair display, distance, statistics panel (CommandLine/).
    public var navigation = NavigationState()
    /// The `:` command line and its history (CommandLine/).
    public var commandLine = CommandLineFeature()
    /// The batch folder being paged through (`voxterm view --cohort DIR`), else nil (Cohort/).
    public var cohort: CohortState?

    /// A state at the middle of the volume, axial single view, automatic window.
    public init(document: WorkbenchDocument, size: TerminalSize,
                capabilities: TerminalCapabilities = .init(colorDepth: .trueColor, unicode: true)) {
        self.document = document
        self.size = size
        self.capabilities = capabilities
        let s = document.image.geometry.size
        cursor = SIMD3((s.x - 1) / 2, (s.y - 1) / 2, (s.z - 1) / 2)
        // Computed where the document was read; only a document made in memory costs a pass here.
        automaticWindow = document.automaticWindow ?? IntensityWindow.automatic(document.image)
        window = automaticWindow
        showLabelPanel = document.labels != nil
        fieldMode = document.field != nil ? .arrows : nil
        if document.compare != nil { layout = .single }
        message = document.notes.isEmpty ? "? help · q quit" : document.notes.joined(separator: "; ")
        if document.moving != nil {
            registration = LiveRegistrationState(outputDirectory: LiveRegistrationState.defaultOutputDirectory(fixedPath: document.imagePath))
            compareMode = .checkerboard
            message = "G registers the moving image in the background · P preset · b compare mode · ? help"
        }
    }

    /// The display mapping of `plane` under the current convention.
    public func mapping(_ plane: SlicePlane) -> SliceMapping {
        SliceMapping(geometry: document.image.geometry, plane: plane, convention: convention)
    }

    /// The slice index the crosshair is on in `plane`.
    public func slice(in plane: SlicePlane) -> Int {
        let m = mapping(plane)
        return Int(m.display(ofVoxel: SIMD3<Double>(cursor)).slice.rounded())
    }

    /// The planes shown by the current layout, active first in single layout.
    public var visiblePlanes: [SlicePlane] { layout == .single ? [plane] : [.axial, .coronal, .sagittal] }

    /// Whether a second image is loaded.
    public var hasCompare: Bool { document.compare != nil }

    /// World position (mm, RAS+) of the crosshair.
    public var cursorWorld: SIMD3<Double> { document.image.geometry.world(ofVoxel: SIMD3<Double>(cursor)) }
}
