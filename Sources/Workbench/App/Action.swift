import SliceRendering
import Terminal

/// A screen direction, for crosshair moves and panning.
public enum ScreenDirection: String, Sendable, CaseIterable {
    case left, right, up, down
}

/// Everything the user can do, as values (htop's action model): keys and mouse map to actions,
/// `reduce` applies them to the state.
public enum Action: Equatable, Sendable {
    /// Moves the crosshair one voxel on screen in the active view.
    case moveCursor(ScreenDirection)
    /// Changes the active view's slice by `delta` (positive = PgUp/`]`).
    case changeSlice(Int)
    /// Shows `plane` (single layout) or makes it the active pane (ortho layout).
    case selectPlane(SlicePlane)
    /// Switches between single and three-view layouts.
    case toggleLayout
    case zoomIn, zoomOut, resetZoom
    /// Moves the view (when zoomed) by a quarter of the pane.
    case pan(ScreenDirection)
    /// Multiplies the window width by `factor` around its centre.
    case scaleWindowWidth(Double)
    /// Moves the window centre by `fraction` of its width.
    case shiftWindowLevel(Double)
    /// Restores the automatic (percentile) window.
    case autoWindow
    case cycleColorMap
    case toggleConvention
    case toggleOverlay
    /// Adds `delta` to the label opacity (clamped to 0.1...1).
    case changeOpacity(Double)
    case toggleOutline
    case toggleLabelPanel
    /// Moves the label panel selection by `delta` rows.
    case moveLabelSelection(Int)
    /// Shows or hides the selected label.
    case toggleSelectedLabel
    /// Shows every label again.
    case showAllLabels
    /// Moves the crosshair to the selected label's centre of mass.
    case goToSelectedLabel
    /// Cycles the field display: arrows, magnitude, Jacobian, grid, off.
    case cycleFieldMode
    /// Cycles side by side, checkerboard, difference, flicker.
    case cycleCompareMode
    /// Cycles the second image's colour map in overlay compare mode (green/magenta fusion, hot, …).
    case cycleCompareColorMap
    /// Timer tick: flicker mode alternates the images.
    case tick
    /// Moves the crosshair to the centre of the volume.
    case centreCursor
    /// Sets the crosshair from a click at a terminal cell.
    case click(column: Int, row: Int)
    /// Scrolls slices of the pane under a terminal cell.
    case scroll(column: Int, row: Int, delta: Int)
    /// Writes the active view to a PNG file.
    case export
    case showHelp, closeHelp
    /// Scrolls the help screen by this many rows (negative: up).
    case scrollHelp(Int)
    /// Shows a message in the status bar.
    case showMessage(String)
    case resize(TerminalSize)
    case quit
    /// Support-set curation and prediction.
    case curation(CurationAction)
    /// Image layer keys (Layers/).
    case layers(LayerAction)
    /// Shows another volume of a 4-D image (by this many steps).
    case stepVolume(Int)
    /// Starts registering the moving image to the image in the background (`--moving`).
    case startRegistration
    /// Cycles the registration preset (fast, default, accurate) used by the next start.
    case cycleRegistrationPreset
    /// Saves the finished registration's outputs (the files of `voxterm register`) to the output folder.
    case saveRegistration
    /// Moves to the next slice of the active plane where the shown field folds (Jacobian ≤ 0).
    case nextFoldingSlice
    /// Cancels the running background jobs (Esc).
    case cancelJobs
    /// A running job reports progress (posted by background work).
    case jobProgress(JobID, JobProgress)
    /// A job ended (posted by the job runner).
    case jobFinished(JobID, JobOutcome)
    /// Ctrl-C: quits, and the program exits with the interrupted status (130).
    case interrupt
    /// Label editing: brush, fill, replace, undo/redo (Editing/).
    case editing(EditingAction)
    /// The `:` command line, counts, label search, crosshair, distance and statistics (CommandLine/).
    case command(CommandAction)
    /// Paging through a batch folder's subjects (`voxterm view --cohort DIR`, Cohort/).
    case cohort(CohortAction)
}

/// Work the reducer asks the run loop to do outside the pure state update.
public enum Effect: Equatable, Sendable {
    /// Render the active view through the PNG export path and report where it went.
    case exportPNG
    /// Stop the loop and restore the terminal.
    case quit
    /// Support-set file I/O and prediction work.
    case curation(CurationEffect)
    /// Start background work as job `id` (see `JobRunner`).
    case startJob(JobID, JobRequest)
    /// Ask job `id` to stop.
    case cancelJob(JobID)
    /// File work of a typed command (`:open`, `:save`, `:support add`).
    case command(CommandEffect)
}
