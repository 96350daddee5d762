import Foundation
import VoxtermModel
import SliceRendering
import Terminal

/// A file read for a command, handed back to the reducer (posted by `CommandIO`). What was read
/// for the open document names it (`document`): a file read for a document that is no longer
/// open (`:open image`, cohort paging while it was read) is dropped, whatever its grid.
public enum LoadedFile: Equatable, Sendable {
    /// A new document for `:open image`.
    case image(Shared<WorkbenchDocument>)
    /// A label map (on the image grid) with the labels present in it and its table, if one was found.
    case labels(path: String, Shared<LabelVolume>, present: [Int32], table: LabelTable?, tablePath: String?, document: DocumentID)
    /// A truth map (on the image grid).
    case truth(path: String, Shared<LabelVolume>, resampled: Bool, document: DocumentID)
    /// A support example read from another image, with the number of labels in it and its label
    /// table (supports belong to the session, not to a document).
    case support(Shared<SupportEntry>, labelCount: Int, table: LabelTable?, tablePath: String?)
    /// A moving image (and its labels, on its own grid) for live registration, already resampled
    /// onto the image grid, with the labels' table.
    case moving(path: String, Shared<MovingImage>, labelsPath: String?, table: LabelTable?, tablePath: String?, document: DocumentID)
    /// An image layer, already on the image grid (`:open overlay`).
    case overlay(Shared<ImageLayer>, path: String, document: DocumentID)

    /// The document the file was read for, nil for what is not tied to one (a new image, a support).
    public var document: DocumentID? {
        switch self {
        case .labels(_, _, _, _, _, let d), .truth(_, _, _, let d), .moving(_, _, _, _, _, let d), .overlay(_, _, let d): d
        case .image, .support: nil
        }
    }
}

/// Command-line, navigation and measurement actions (wrapped in `Action.command`).
public enum CommandAction: Equatable, Sendable {
    /// Opens the command line (`:`) or the label search (`/`), with text already typed.
    case begin(Character, prefill: String)
    /// A key while the command line has the keyboard.
    case key(Key)
    /// A digit of a count (`10]`).
    case digit(Int)
    /// Runs a parsed command (also what Enter does after parsing).
    case run(Command)
    /// Crosshair lines on / off.
    case toggleCrosshair
    /// Next (previous) slice of the active plane holding the selected label.
    case labelSlice(forward: Bool)
    /// Marks a point of the two-point distance (third press clears).
    case measurePoint
    /// Statistics panel on / off.
    case toggleStatistics
    /// A file was read for `:open` / `:support add`.
    case loaded(LoadedFile)
    /// The help's other page (keys / commands).
    case helpPage
}

/// File work commands ask for (run off the UI thread by the run loop).
public enum CommandEffect: Equatable, Sendable {
    /// Read `path` as `target` (image, labels, truth, overlay) for `document`, whose image grid is `grid`.
    case load(OpenTarget, path: String, grid: VolumeGeometry, document: DocumentID)
    /// Read another image and its labels as a support example.
    case loadSupport(image: String, labels: String)
    /// Read a moving image (and its labels) for live registration of `document`, and resample them
    /// onto its grid `grid`.
    case loadMoving(path: String, labels: String?, grid: VolumeGeometry, document: DocumentID)
    /// Write the label map (and its table beside it, when named) to `path`, atomically;
    /// `revision` is the revision of `document` the map was taken at (only if that document is
    /// still open at that revision when the write ends are the labels "saved").
    case saveLabels(Shared<LabelVolume>, path: String, table: LabelTable?, force: Bool, inputs: [String],
                    document: DocumentID, revision: Int)
    /// Write the view as PNG to `path` (needs the slice cache: run on the UI thread).
    case savePNG(path: String, force: Bool, inputs: [String])
}

/// Command names of key-table actions (`:zoom-in 3`), so everything a key does has a command.
public enum CommandNames {
    /// Name and action of each key-table action that takes no argument but a count.
    public static let actions: [(name: String, action: Action)] = [
        ("left", .moveCursor(.left)), ("right", .moveCursor(.right)), ("up", .moveCursor(.up)), ("down", .moveCursor(.down)),
        ("next-slice", .changeSlice(1)), ("previous-slice", .changeSlice(-1)),
        ("axial", .selectPlane(.axial)), ("coronal", .selectPlane(.coronal)), ("sagittal", .selectPlane(.sagittal)),
        ("layout", .toggleLayout), ("centre", .centreCursor),
        ("zoom-in", .zoomIn), ("zoom-out", .zoomOut), ("fit", .resetZoom),
        ("pan-left", .pan(.left)), ("pan-right", .pan(.right)), ("pan-up", .pan(.up)), ("pan-down", .pan(.down)),
        ("narrower", .scaleWindowWidth(0.8)), ("wider", .scaleWindowWidth(1.25)),
        ("brighter", .shiftWindowLevel(-0.1)), ("darker", .shiftWindowLevel(0.1)), ("auto-window", .autoWindow),
        ("next-colormap", .cycleColorMap), ("flip-convention", .toggleConvention),
        ("labels", .toggleOverlay), ("more-transparent", .changeOpacity(-0.1)), ("more-opaque", .changeOpacity(0.1)),
        ("outline", .toggleOutline), ("label-panel", .toggleLabelPanel),
        ("next-label", .moveLabelSelection(1)), ("previous-label", .moveLabelSelection(-1)),
        ("hide-label", .toggleSelectedLabel), ("show-all-labels", .showAllLabels), ("go-label", .goToSelectedLabel),
        ("field-mode", .cycleFieldMode), ("compare-mode", .cycleCompareMode), ("compare-colormap", .cycleCompareColorMap),
        ("register", .startRegistration), ("preset", .cycleRegistrationPreset), ("cancel", .cancelJobs),
        ("save-registration", .saveRegistration), ("next-folding", .nextFoldingSlice),
        ("export", .export), ("support-panel", .curation(.togglePanel)), ("support-add-slice", .curation(.addSlice)),
        ("support-add-volume", .curation(.addVolume)), ("support-remove", .curation(.removeSelected)),
        ("save-manifest", .curation(.saveManifest)), ("load-manifest", .curation(.loadManifest)),
        ("predict-slice", .curation(.predict(.slice))), ("predict-volume", .curation(.predict(.volume))),
        ("prediction-display", .curation(.cycleDisplay)), ("next-disagreement", .curation(.jumpToDisagreement)),
        ("save-prediction", .curation(.savePrediction)),
        ("paint", .editing(.togglePaint)), ("erase", .editing(.toggleErase)), ("fill", .editing(.fill)),
        ("bigger-brush", .editing(.changeRadius(1))), ("smaller-brush", .editing(.changeRadius(-1))),
        ("crosshair", .command(.toggleCrosshair)), ("next-label-slice", .command(.labelSlice(forward: true))),
        ("previous-label-slice", .command(.labelSlice(forward: false))), ("mark", .command(.measurePoint)),
        ("next-volume", .stepVolume(1)), ("previous-volume", .stepVolume(-1)),
        ("next-layer", .layers(.selectNext)), ("layer", .layers(.toggleVisible)),
        ("layer-threshold-down", .layers(.threshold(-1))), ("layer-threshold-up", .layers(.threshold(1))),
        ("layer-colormap", .layers(.cycleColorMap)), ("layer-opacity", .layers(.cycleOpacity)),
        ("next-support", .curation(.moveSelection(1))), ("previous-support", .curation(.moveSelection(-1))),
        ("go-support", .curation(.goToSelected)),
        ("next-subject", .cohort(.step(1))), ("previous-subject", .cohort(.step(-1))), ("first-subject", .cohort(.step(Int.min))),
    ]

    /// Keys that have no command of their own, and why: the prompts themselves, count digits
    /// (`:NAME COUNT` is the command form of a count) and Ctrl-C (`:q!` quits; Ctrl-C also sets the
    /// interrupted exit status).
    public static func hasNoCommand(_ action: Action) -> Bool {
        switch action {
        case .command(.begin), .command(.digit), .interrupt: true
        default: false
        }
    }

    /// The command name of `action`, if it has one.
    public static func name(of action: Action) -> String? {
        switch action {
        case .showHelp: return "help"
        case .quit: return "quit"
        case .editing(.undo): return "undo"
        case .editing(.redo): return "redo"
        case .command(.toggleStatistics): return "stats"
        case .command(.begin(":", _)), .command(.begin("/", _)): return nil
        case .changeSlice(let d) where abs(d) > 1: return (d > 0 ? "next-slice " : "previous-slice ") + String(abs(d))
        // Shift+arrows: one help row for the four keys.
        case .command(.run(.action(_, let count))) where count > 1: return "left|right|up|down \(count)"
        default: return actions.first { $0.action == action }?.name
        }
    }
}

extension WorkbenchState {
    /// The label map on screen: a whole-volume prediction while it is shown, else the label map
    /// (what `:goto LABEL`, `/search`, `z`/`Z`, `g` and the statistics panel look in).
    public var labelsOnScreen: LabelVolume? {
        if let o = shownPrediction, o.scope == .volume { return o.prediction.labels }
        return document.labels
    }

    /// What Tab completes from now.
    var completionSource: CompletionSource {
        var names = document.presentLabels.map { document.labelTable.name(of: $0) }
        for v in document.labelTable.entries.keys.sorted() where !document.presentLabels.contains(v) {
            names.append(document.labelTable.name(of: v))
        }
        return CompletionSource(labelNames: names, actionNames: CommandNames.actions.map(\.name))
    }

    /// Centres the crosshair's views on it (after a jump).
    mutating func recentreViews() {
        for p in visiblePlanes { keepCursorVisible(in: p, recentre: true) }
    }
}

/// Handles the command line, counts, label search, crosshair, distance and statistics; and, before
/// the other reducers, what those change about any action (counts repeat it, the brush paints along
/// crosshair moves, quitting with unsaved edits asks once). Returns nil when `action` is for `reduce`.
func reduceCommandPrelude(_ state: inout WorkbenchState, _ action: Action) -> [Effect]? {
    // `0` after a digit is part of the count, not "fit to pane".
    if action == .resetZoom, state.navigation.count != nil { return reduceCommand(&state, .digit(0)) }
    // A count before a key repeats it (or scales a slice step).
    if let n = state.navigation.count {
        if case .command(.digit) = action {} else {
            state.navigation.count = nil
            let times = min(n, 10_000)
            switch action {
            case .changeSlice(let d): return reduce(&state, .changeSlice(d * times))
            case .stepVolume(let d): return reduce(&state, .stepVolume(d * times))
            case .moveCursor, .moveLabelSelection, .pan, .zoomIn, .zoomOut, .scaleWindowWidth, .shiftWindowLevel,
                 .changeOpacity, .editing(.changeRadius), .command(.labelSlice), .curation(.jumpToDisagreement),
                 .layers(.threshold), .layers(.selectNext), .curation(.moveSelection):
                var effects: [Effect] = []
                for _ in 0..<times { effects += reduce(&state, action) }
                return effects
            case .goToSelectedLabel:
                // `37g`: go to label 37.
                return reduceCommand(&state, .run(.goto(.label(String(n)))))
            default: break
            }
        }
    }
    switch action {
    case .command(let c):
        return reduceCommand(&state, c)
    case .moveCursor where state.editing.brush != .off:
        let from = state.cursor
        var effects = reduceCore(&state, action)
        effects += reduceEditing(&state, .strokeMoved(from: from))
        return effects
    case .moveLabelSelection(let d) where state.navigation.search != nil && !(state.curation.showPanel && state.layoutHasSupportPanel):
        return reduceCommand(&state, .run(.search(state.navigation.search!)), step: d)
    case .quit where state.editing.unsaved && !state.editing.quitWarned:
        state.editing.quitWarned = true
        state.message = "unsaved label edits: :save labels PATH keeps them; q again quits without saving"
        return []
    case .cancelJobs where state.editing.brush != .off && state.jobs.running.isEmpty:
        return reduceEditing(&state, .brushOff)
    default:
        return nil
    }
}

/// Applies a command-line action.
func reduceCommand(_ state: inout WorkbenchState, _ action: CommandAction, step: Int = 0) -> [Effect] {
    switch action {
    case .begin(let prompt, let prefill):
        var line = CommandLineState(prompt: prompt)
        line.text = prefill
        line.cursor = prefill.count
        state.commandLine.line = line
        state.commandLine.error = nil
    case .key(let key):
        guard var line = state.commandLine.line else { break }
        let history = line.prompt == ":" ? state.commandLine.history.entries : state.commandLine.searchHistory.entries
        let outcome = line.handle(key, history: history, completion: state.completionSource)
        state.commandLine.line = line
        switch outcome {
        case .editing:
            // Typing a search moves to the first match as you type (as less and vim's incsearch).
            if line.prompt == "/" && !line.text.isEmpty {
                let m = LabelLookup.matches(line.text, table: state.document.labelTable, present: state.document.presentLabels)
                if let first = m.first { state.labelSelection = first; state.showLabelPanel = true }
            }
        case .cancel:
            state.commandLine.line = nil
        case .submit(let text):
            state.commandLine.line = nil
            if line.prompt == "/" {
                state.commandLine.searchHistory.add(text)
                guard !text.isEmpty else { state.navigation.search = nil; break }
                return reduceCommand(&state, .run(.search(text)))
            }
            state.commandLine.history.add(text)
            guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { break }
            do {
                let cmd = try CommandParser.parse(text, actionNames: Set(CommandNames.actions.map(\.name)),
                                                  home: ProcessInfo.processInfo.environment["HOME"])
                return reduceCommand(&state, .run(cmd))
            } catch {
                state.commandLine.error = "\(error)"
                state.message = "error: \(error)"
            }
        }
    case .digit(let d):
        if d == 0 && state.navigation.count == nil { return reduce(&state, .resetZoom) }
        state.navigation.count = min(99_999, (state.navigation.count ?? 0) * 10 + d)
        state.message = "count \(state.navigation.count!)"
    case .run(let cmd):
        return runCommand(&state, cmd, step: step)
    case .toggleCrosshair:
        state.navigation.crosshairHidden.toggle()
        state.message = state.navigation.crosshairHidden ? "crosshair hidden (X shows it)" : "crosshair shown"
    case .labelSlice(let forward):
        guard let label = state.selectedLabel, let labels = state.labelsOnScreen else {
            state.message = "no label selected (n/N or /NAME selects one)"; break
        }
        let m = state.mapping(state.plane)
        if let s = LabelLookup.nextSlice(containing: label, in: labels, axis: m.sliceAxis, from: state.cursor[m.sliceAxis], forward: forward) {
            state.cursor[m.sliceAxis] = s
            state.message = "\(state.plane.rawValue) slice \(s): \(state.labelName(label))"
        } else {
            state.message = "no \(forward ? "later" : "earlier") \(state.plane.rawValue) slice holds \(state.labelName(label))"
        }
    case .measurePoint:
        if state.navigation.measure.count >= 2 { state.navigation.measure = [] ; state.message = "distance cleared"; break }
        state.navigation.measure.append(state.cursor)
        if state.navigation.measure.count == 1 {
            state.message = "distance: first point at voxel \(state.cursor.x),\(state.cursor.y),\(state.cursor.z); move and press @ again"
        } else {
            state.message = distanceText(state)
        }
    case .toggleStatistics:
        state.navigation.showStatistics.toggle()
        // Edits are journaled only while the panel follows them.
        if !state.navigation.showStatistics { state.editing.journal = LabelJournal() }
        if state.navigation.showStatistics && state.labelsOnScreen == nil {
            state.message = "no labels: the statistics panel needs a label map (--labels or :open labels)"
        }
    case .loaded(let file):
        return applyLoaded(&state, file)
    case .helpPage:
        state.navigation.helpPage = 1 - state.navigation.helpPage
    }
    return []
}

/// "distance 23.4 mm (voxels 10,20,30 → 12,25,30)".
func distanceText(_ state: WorkbenchState) -> String {
    let p = state.navigation.measure
    guard p.count == 2 else { return "" }
    let g = state.document.image.geometry
    let a = g.world(ofVoxel: SIMD3<Double>(p[0])), b = g.world(ofVoxel: SIMD3<Double>(p[1]))
    let d = ((a - b) * (a - b)).sum().squareRoot()
    return String(format: "distance %.2f mm", d) + " (voxel \(p[0].x),\(p[0].y),\(p[0].z) → \(p[1].x),\(p[1].y),\(p[1].z)) · @ clears"
}

/// Runs one parsed command.
func runCommand(_ state: inout WorkbenchState, _ cmd: Command, step: Int = 0) -> [Effect] {
    let doc = state.document
    let g = doc.image.geometry
    func fail(_ s: String) -> [Effect] { state.commandLine.error = s; state.message = "error: " + s; return [] }
    switch cmd {
    case .goto(let target):
        switch target {
        case .slice(let n):
            let m = state.mapping(state.plane)
            guard n >= 0 && n < m.sliceCount else { return fail("goto: slice \(n) is outside 0...\(m.sliceCount - 1) of the \(state.plane.rawValue) plane") }
            state.cursor[m.sliceAxis] = n
            state.message = "\(state.plane.rawValue) slice \(n)"
        case .voxel(let v):
            guard g.contains(v) else { return fail("goto: voxel \(v.x),\(v.y),\(v.z) is outside 0...\(g.size.x - 1), 0...\(g.size.y - 1), 0...\(g.size.z - 1)") }
            state.cursor = v
            state.message = "voxel \(v.x),\(v.y),\(v.z)"
        case .world(let p):
            let c = g.voxel(ofWorld: p)
            let v = SIMD3<Int>(Int(c.x.rounded()), Int(c.y.rounded()), Int(c.z.rounded()))
            guard g.contains(v) else { return fail(String(format: "goto: %.1f,%.1f,%.1f mm is outside the image", p.x, p.y, p.z)) }
            state.cursor = v
            let w = g.world(ofVoxel: SIMD3<Double>(v))
            state.message = String(format: "%.1f, %.1f, %.1f mm → voxel %d,%d,%d (%.1f, %.1f, %.1f mm)", p.x, p.y, p.z, v.x, v.y, v.z, w.x, w.y, w.z)
        case .label(let name):
            let value: Int32
            switch LabelLookup.resolve(name, table: doc.labelTable, present: doc.presentLabels) {
            case .success(let v): value = v
            case .failure(let e): return fail("goto: \(e.message)")
            }
            guard let labels = state.labelsOnScreen, let v = nearestVoxelToCentroid(of: value, in: labels) else {
                return fail("goto: \(state.labelName(value)) is not in the label map")
            }
            state.cursor = v
            if let i = doc.presentLabels.firstIndex(of: value) { state.labelSelection = i; state.showLabelPanel = true }
            state.message = "\(state.labelName(value)): voxel \(v.x),\(v.y),\(v.z) nearest its centre"
        }
        state.recentreViews()
    case .search(let text):
        let m = LabelLookup.matches(text, table: doc.labelTable, present: doc.presentLabels)
        guard !m.isEmpty else { state.navigation.search = nil; return fail("no label name contains '\(text)'") }
        state.navigation.search = text
        let cur = state.labelSelection
        let next: Int
        if step > 0 { next = m.first { $0 > cur } ?? m[0] }
        else if step < 0 { next = m.last { $0 < cur } ?? m[m.count - 1] }
        else { next = m.first { $0 >= cur } ?? m[0] }
        state.labelSelection = next
        state.showLabelPanel = true
        let value = doc.presentLabels[next]
        if let labels = state.labelsOnScreen, let v = nearestVoxelToCentroid(of: value, in: labels) { state.cursor = v; state.recentreViews() }
        state.message = "/\(text): \(state.labelName(value)) (\((m.firstIndex(of: next) ?? 0) + 1) of \(m.count)) · n/N next/previous"
    case .set(let s):
        switch s {
        case .window(let lo, let hi): state.window = IntensityWindow(low: lo, high: hi) ?? state.window; state.message = "window \(state.window)"
        case .colorMap(let m): state.colorMap = m; state.message = "colour map \(m.rawValue)" + compareColorMapNote(state)
        case .compareColorMap(let m): setCompareColorMap(&state, m)
        case .opacity(let a): state.overlay.opacity = a; state.overlay.visible = true; state.message = "label opacity \(Int((a * 100).rounded())) %"
        case .brush(let r): return reduceEditing(&state, .setRadius(r))
        case .convention(let c): if c != state.convention { return reduce(&state, .toggleConvention) }
        case .fillWeight(let w):
            state.curation.fillWeight = w
            state.message = w.map { String(format: "slice fill: image share %.2g for the next predictions (shape %.2g)", $0, 1 - $0) }
                ?? "slice fill: image share automatic, \(SlicePropagator.automaticRegistrationWeightText)"
        }
    case .selectLabel(let name):
        switch LabelLookup.resolve(name, table: doc.labelTable, present: doc.presentLabels) {
        case .failure(let e): return fail("label: \(e.message)")
        case .success(let v):
            guard v != 0 else { return fail("label: background is painted with the eraser (Y)") }
            if !doc.presentLabels.contains(v) { state.document.presentLabels = (doc.presentLabels + [v]).sorted() }
            state.labelSelection = state.document.presentLabels.firstIndex(of: v)!
            state.showLabelPanel = true
            state.message = "painting with \(state.labelName(v)) · B paints, Y erases, y fills"
        }
    case .replace(let a, let b, let volume):
        var values: [Int32] = []
        for t in [a, b] {
            switch LabelLookup.resolve(t, table: doc.labelTable, present: doc.presentLabels) {
            case .failure(let e): return fail("replace: \(e.message)")
            case .success(let v): values.append(v)
            }
        }
        return reduceEditing(&state, .replace(old: values[0], new: values[1], volume: volume))
    case .undo: return reduceEditing(&state, .undo)
    case .redo: return reduceEditing(&state, .redo)
    case .measure: return reduceCommand(&state, .measurePoint)
    case .stats: return reduceCommand(&state, .toggleStatistics)
    case .help:
        state.navigation.helpPage = 1
        return reduce(&state, .showHelp)
    case .quit(let force):
        if force { state.editing.quitWarned = true }
        return reduce(&state, .quit)
    case .action(let name, let count):
        guard let a = CommandNames.actions.first(where: { $0.name == name })?.action else { return fail("unknown command '\(name)'") }
        if count > 1 { state.navigation.count = count }
        return reduce(&state, a)
    case .predict(let volume):
        return reduce(&state, .curation(.predict(volume ? .volume : .slice)))
    case .supportAddCurrent(let volume):
        if doc.labelsPath == nil && doc.labels != nil {
            return fail("support add: the labels are not saved yet; :save labels PATH first (a support names its label file)")
        }
        return reduce(&state, .curation(volume ? .addVolume : .addSlice))
    case .supportAdd(let image, let labels):
        for p in [image, labels] where !FileIO.exists(p) { return fail("support add: \(p): no such file") }
        state.message = "reading \(image) and \(labels)…"
        return [.command(.loadSupport(image: image, labels: labels))]
    case .supportRemove(let n):
        if let n {
            guard n <= state.curation.entries.count else { return fail("support remove: there are \(state.curation.entries.count) supports") }
            state.curation.selection = n - 1
        }
        return reduce(&state, .curation(.removeSelected))
    case .open(let target, let spec):
        if target == .support {
            if spec != state.curation.manifestPath { state.curation.manifestPath = spec; state.curation.manifestOwned = false }
            return reduce(&state, .curation(.loadManifest))
        }
        if target == .moving { return runCommand(&state, .openMoving(path: spec, labels: nil)) }
        let path = target == .overlay ? (ImageLayer.parseSpec(spec)?.path ?? spec) : spec
        guard FileIO.exists(path) || DICOM.isSeriesSelector(path) else { return fail("open: \(path): no such file") }
        // Opening another image or label map drops unsaved edits: asked once, as quitting does.
        if (target == .image || target == .labels) && state.editing.unsaved && !state.editing.discardWarned {
            state.editing.discardWarned = true
            return fail("open \(target.rawValue): unsaved label edits; :save labels PATH keeps them, :open \(target.rawValue) again discards them")
        }
        state.message = "reading \(path)…"
        return [.command(.load(target, path: spec, grid: g, document: state.documentID))]
    case .openMoving(let path, let labels):
        if state.jobs.isRunning(.registration) { return fail("open moving: a registration is running; Esc cancels it first") }
        for p in [path] + (labels.map { [$0] } ?? []) where !FileIO.exists(p) { return fail("open moving: \(p): no such file") }
        state.message = "reading \(path)…"
        return [.command(.loadMoving(path: path, labels: labels, grid: g, document: state.documentID))]
    case .save(let target, let path, let force):
        let inputs = doc.inputPaths + state.curation.entries.flatMap { [$0.example.image, $0.example.labels] }
        switch target {
        case .labels:
            guard let p = path else { return reduceCommand(&state, .begin(":", prefill: "save labels " + defaultLabelsPath(state))) }
            if state.editing.brush != .off || state.editing.stroke != nil { state.editing.stroke = nil }
            // A prediction shown is saved as what is on screen, and becomes the labels (as a first
            // edit makes it), so the saved file and the labels in memory are the same map.
            if state.shownPrediction != nil { state.prepareLabelsForEditing() }
            let doc = state.document
            guard let l = doc.labels else { return fail("save labels: no labels to save") }
            return [.command(.saveLabels(Shared(l), path: p, table: doc.labelTable.entries.isEmpty ? nil : doc.labelTable,
                                         force: force, inputs: inputs, document: state.documentID, revision: doc.revision))]
        case .prediction:
            guard state.curation.outcome != nil else { return fail("save prediction: no prediction yet (:predict)") }
            if let p = path { state.curation.outputDirectory = p }
            return reduce(&state, .curation(.savePrediction))
        case .support:
            if let p = path, p != state.curation.manifestPath { state.curation.manifestPath = p; state.curation.manifestOwned = false }
            // `:save! support` replaces an existing file (never an input), which is then the session's manifest.
            if force { state.curation.manifestOwned = true }
            return reduce(&state, .curation(.saveManifest))
        case .registration:
            if let p = path {
                guard state.registration != nil else { return fail("save registration: no moving image (:open moving PATH, then G)") }
                state.registration!.outputDirectory = p
            }
            // `:save! registration` replaces an earlier run's files this once.
            let replaces = state.registration?.replacesOutputs ?? false
            if force { state.registration?.replacesOutputs = true }
            defer { state.registration?.replacesOutputs = replaces }
            return reduce(&state, .saveRegistration)
        case .png:
            guard let p = path else { return reduce(&state, .export) }
            guard p.lowercased().hasSuffix(".png") else { return fail("save png: \(p) must end in .png") }
            return [.command(.savePNG(path: p, force: force, inputs: inputs))]
        }
    }
    return []
}

/// `<image stem>_labels.nii.gz` beside the image (the default `:save labels` offers).
func defaultLabelsPath(_ state: WorkbenchState) -> String {
    if let p = state.editing.savedPath { return p }
    let dir = (state.document.imagePath as NSString).deletingLastPathComponent
    let name = FileIO.imageStem(state.document.imageName) + "_labels.nii.gz"
    return dir.isEmpty ? name : (dir as NSString).appendingPathComponent(name)
}

/// A file read for a command arrived.
func applyLoaded(_ state: inout WorkbenchState, _ file: LoadedFile) -> [Effect] {
    // Files read for the document open when the command ran (and resampled onto its grid): if
    // another was opened meanwhile (`:open image`, cohort paging), they belong to the old one,
    // even when both share a grid (the subjects of a registration cohort).
    if let document = file.document, document != state.documentID {
        state.message = "a file read for the previous image was dropped: open it again"
        return []
    }
    switch file {
    case .image(let doc):
        let replaced = state.replacingDocument(doc.value)
        var next = replaced.0
        let effects = replaced.1
        // The supports stay; which of them is the open image is decided again (slices of the image
        // left behind become supports from another image).
        next.curation.entries = state.curation.entries.map { e in
            var e = e
            e.isOpenImage = CurationIO.same(e.example.image, doc.value.imagePath)
            return e
        }
        // Predictions of the new image carry the supports' label names, as on the first image.
        if !next.curation.entries.isEmpty, next.document.labelTablePath == nil, let table = state.document.labelTablePath {
            next.document.labelTable = state.document.labelTable
            next.document.labelTablePath = table
        }
        let n = next.curation.entries.count
        next.message = "opened \(doc.value.imagePath)" + (n == 0 ? "" : " · \(n) support\(n == 1 ? "" : "s") kept: :predict")
        state = next
        return effects
    case .labels(let path, let labels, let present, let table, let tablePath, _):
        state.document.labels = labels.value
        state.document.labelsPath = path
        state.document.labelsFollowMoving = false
        state.document.presentLabels = present
        if let table { state.document.labelTable = table; state.document.labelTablePath = tablePath }
        state.document.revision += 1
        state.editing = EditingState()
        state.labelSelection = 0
        state.showLabelPanel = true
        state.overlay.visible = true
        state.message = "labels \(path): \(state.document.presentLabels.count) labels" + (tablePath.map { ", names from \($0)" } ?? "")
        // Without a truth the label map is what predictions are scored against (`scoringTruth`):
        // the shown or running prediction is scored again against the new one.
        if state.document.truth == nil {
            state.curation.running?.truthReplaced = true
            let name = (path as NSString).lastPathComponent
            if let effect = state.scoreShownPrediction(against: labels.value, name: name, announce: .loaded(state.message!)) { return [effect] }
        }
    case .truth(let path, let truth, let resampled, _):
        // The message is set here, not by the read: a truth dropped for another document must not
        // be announced as loaded.
        state.document.truth = truth.value
        state.document.otherInputPaths.append(path)
        state.document.revision += 1
        let message = "truth \(path)" + (resampled ? " (resampled onto the image grid)" : "") + ": predictions are scored against it"
        state.message = message
        // A prediction already shown (or still running) is scored against the truth just loaded, so
        // "open truth" typed before or after "predict" gives the same Dice (in a job: a volume pass).
        state.curation.running?.truthReplaced = true
        if let effect = state.scoreShownPrediction(against: truth.value, name: "truth", announce: .loaded(message)) { return [effect] }
    case .support(let entry, let labelCount, let table, let tablePath):
        state.curation.entries.append(entry.value)
        state.curation.selection = state.curation.entries.count - 1
        state.curation.showPanel = true
        // Predicted labels carry the supports' names: adopt the first support's table when the open
        // image has none of its own.
        if state.document.labelTablePath == nil, let table {
            state.document.labelTable = table
            state.document.labelTablePath = tablePath
            state.document.revision += 1
        }
        let n = state.curation.entries.count
        state.message = "support \(n): \(entry.value.name) (whole volume, \(labelCount) labels) · :predict"
    case .moving(let path, let moving, let labelsPath, let table, let tablePath, _):
        var doc = state.document
        // A new moving image replaces the previous one and whatever its registration showed.
        if doc.labelsFollowMoving { doc.labels = nil; doc.presentLabels = []; doc.labelsFollowMoving = false }
        doc.field = nil
        doc.preparedFieldOverlay = nil
        doc.notes.removeAll { $0.hasPrefix("moving image shown resampled") }
        if doc.labelTablePath == nil, let table { doc.labelTable = table; doc.labelTablePath = tablePath }
        doc.setMoving(moving.value, path: path, labelsPath: labelsPath)
        state.document = doc
        let previous = state.registration
        var r = LiveRegistrationState(outputDirectory: previous?.outputDirectory
                                      ?? LiveRegistrationState.defaultOutputDirectory(fixedPath: doc.imagePath))
        r.preset = previous?.preset ?? .default
        r.replacesOutputs = previous?.replacesOutputs ?? false
        state.registration = r
        state.fieldMode = nil
        state.compareMode = .checkerboard
        if doc.labelsFollowMoving { state.labelSelection = 0; state.showLabelPanel = true }
        let g = moving.value.moving.geometry.size
        state.message = "moving \((path as NSString).lastPathComponent) (\(g.x)x\(g.y)x\(g.z))"
            + (labelsPath.map { " with labels \(($0 as NSString).lastPathComponent)" } ?? "")
            + ": G registers it to the image in the background · P preset · b compare mode"
    case .overlay(let layer, let path, _):
        state.document.layers.append(layer.value)
        state.document.otherInputPaths.append(path)
        state.selectedLayer = state.document.layers.count - 1
        let n = state.document.layers.count
        state.message = "layer \(n)/\(n) " + LayerPanel.describe(layer.value) + " · # next layer, ! show/hide, $ % threshold, & colours, ~ opacity"
    }
    return []
}

/// Reads and writes files for commands, off the UI thread.
public enum CommandIO {
    /// Performs `effect`; returns the actions to post.
    public static func perform(_ effect: CommandEffect) -> [Action] {
        switch effect {
        case .load(let target, let path, let grid, let document):
            do {
                switch target {
                case .image:
                    let doc = try WorkbenchDocument.load(image: path)
                    return [.command(.loaded(.image(Shared(doc))))]
                case .labels, .truth:
                    var l = try ImageFile.read(path).labelVolume()
                    var note = ""
                    if l.geometry != grid { l = l.resampled(to: grid); note = " (resampled onto the image grid)" }
                    if target == .truth { return [.command(.loaded(.truth(path: path, Shared(l), resampled: !note.isEmpty, document: document)))] }
                    let sidecar = try LabelTable.readSidecar(forLabels: path)
                    let (table, tp) = (sidecar?.table, sidecar?.path)
                    return [.command(.loaded(.labels(path: path, Shared(l), present: l.presentLabels, table: table, tablePath: tp, document: document)))]
                case .overlay:
                    guard let spec = ImageLayer.parseSpec(path) else { return [.showMessage("error: open overlay: '\(path)' is not PATH[:COLORMAP[:LOW,HIGH]]")] }
                    let layer = try ImageLayer.read(spec.path, onto: grid, colorMap: spec.colorMap, window: spec.window)
                    return [.command(.loaded(.overlay(Shared(layer), path: spec.path, document: document)))]
                case .support, .moving:
                    return [.showMessage("open \(target.rawValue): not read here")]
                }
            } catch {
                return [.showMessage("error: \(error)")]
            }
        case .loadSupport(let image, let labels):
            do {
                let img = try ImageFile.read(image)
                if img.isVectorField { throw WorkbenchError(path: image, reason: "is a vector field, not an image") }
                let v = try img.volume()
                let l = try ImageFile.read(labels).labelVolume()
                guard l.geometry.size == v.geometry.size else {
                    throw WorkbenchError(path: labels, reason: "labels are not on the grid of \(image)")
                }
                let sidecar = try LabelTable.readSidecar(forLabels: labels)
                let (table, tp) = (sidecar?.table, sidecar?.path)
                let entry = SupportEntry(example: SupportExample(image: image, labels: labels), image: v, labels: l, isOpenImage: false)
                return [.command(.loaded(.support(Shared(entry), labelCount: l.presentLabels.count, table: table, tablePath: tp)))]
            } catch {
                return [.showMessage("error: support add: \(error)")]
            }
        case .loadMoving(let path, let labelsPath, let grid, let document):
            do {
                let (moving, labels) = try WorkbenchDocument.readMoving(path, labels: labelsPath)
                let sidecar = try LabelTable.readSidecar(forLabels: labelsPath)
                let (table, tp) = (sidecar?.table, sidecar?.path)
                let prepared = MovingImage(moving, labels: labels, onto: grid)
                return [.command(.loaded(.moving(path: path, Shared(prepared), labelsPath: labelsPath, table: table, tablePath: tp, document: document)))]
            } catch {
                return [.showMessage("error: open moving: \(error)")]
            }
        case .saveLabels(let labels, let path, let table, let force, let inputs, let document, let revision):
            let lower = path.lowercased()
            guard lower.hasSuffix(".nii") || lower.hasSuffix(".nii.gz") else {
                return [.showMessage("error: save labels: \(path) must end in .nii or .nii.gz")]
            }
            do {
                // The inputs' data files are protected by `ImageFile` (found once here for the three calls).
                let options = NIfTIWriter.Options(protectedPaths: inputs, overwrite: force, description: "voxterm labels").protectingDataFiles()
                // The label names go beside, as <stem>.txt (unless that is an input, e.g. the table
                // the labels were opened with): both destinations are checked before either is written.
                var names: (path: String, text: String)?
                if let table {
                    let tablePath = FileIO.imageStem(path) + ".txt"
                    let present = Set(labels.value.presentLabels)
                    let lines = table.entries.keys.sorted().filter { present.contains($0) }.map { "\($0) \(table.name(of: $0))" }
                    if !lines.isEmpty, !inputs.contains(where: { CurationIO.same($0, tablePath) }) {
                        names = (tablePath, lines.joined(separator: "\n") + "\n")
                    }
                }
                try ImageFile.checkDestination(path, options: options)
                if let names { try ImageFile.checkDestination(names.path, options: options) }
                // Labels and names appear together (one output set): a failure while writing either
                // leaves neither (with :save!, a failure while placing them, a rename race, may leave the new labels).
                var staged = options
                let set = OutputSet(overwrite: force)
                staged.set = set
                try ImageFile.write(labels.value, to: path, options: staged)
                var note = ""
                if let names {
                    try set.write(names.path, bytes: Array(names.text.utf8))
                    note = " (names in \((names.path as NSString).lastPathComponent))"
                }
                try set.commit()
                return [.editing(.saved(path: path, document: document, revision: revision, note: note))]
            } catch {
                let text = "\(error)".replacingOccurrences(of: "pass --force to replace it", with: ":save! labels PATH replaces it")
                return [.showMessage("error: save labels: \(text)")]
            }
        case .savePNG:
            return []   // needs the slice cache: the run loop writes it
        }
    }
}

extension WorkbenchState {
    /// A state for another document (`:open image`, cohort paging) that keeps what belongs to
    /// the session rather than to the image: the terminal, command and search history, plane,
    /// layout and convention, the curation's paths, and the job table. Jobs of the image left
    /// behind are cancelled (the effects to run); job ids go on from where they were, so a late
    /// report of an old job is never taken for a new one.
    func replacingDocument(_ document: WorkbenchDocument) -> (WorkbenchState, [Effect]) {
        var next = WorkbenchState(document: document, size: size, capabilities: capabilities)
        next.commandLine.history = commandLine.history
        next.commandLine.searchHistory = commandLine.searchHistory
        next.plane = plane
        next.layout = layout
        next.convention = convention
        next.curation.manifestPath = curation.manifestPath
        next.curation.manifestOwned = curation.manifestOwned
        next.curation.outputDirectory = curation.outputDirectory
        next.jobs = jobs
        var effects: [Effect] = []
        for (_, id) in jobs.running.sorted(by: { $0.value < $1.value }) {
            _ = next.jobs.finish(id)
            effects.append(.cancelJob(id))
        }
        return (next, effects)
    }
}
