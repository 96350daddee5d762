import VoxtermModel
import SliceRendering
import Terminal

/// Applies `action` to `state` and returns what the run loop must do besides redrawing.
/// Pure: no I/O, no terminal; the same action on the same state gives the same result.
public func reduce(_ state: inout WorkbenchState, _ action: Action) -> [Effect] {
    if let effects = reduceCommandPrelude(&state, action) { return effects }
    return reduceCore(&state, action)
}

/// `reduce` without the command-line prelude (counts, brush moves, quit question).
func reduceCore(_ state: inout WorkbenchState, _ action: Action) -> [Effect] {
    let size = state.document.image.geometry.size
    switch action {
    case .moveCursor(let dir):
        let m = state.mapping(state.plane)
        var d = m.display(ofVoxel: SIMD3<Double>(state.cursor))
        switch dir {
        case .left: d.column -= 1
        case .right: d.column += 1
        case .up: d.row -= 1
        case .down: d.row += 1
        }
        let c = min(max(Int(d.column.rounded()), 0), m.width - 1), r = min(max(Int(d.row.rounded()), 0), m.height - 1)
        state.cursor = m.voxel(column: c, row: r, slice: Int(d.slice.rounded()))
        state.keepCursorVisible(in: state.plane)

    case .changeSlice(let delta):
        state.changeSlice(in: state.plane, by: delta)

    case .selectPlane(let p):
        state.plane = p

    case .toggleLayout:
        state.layout = state.layout == .single ? .ortho : .single

    case .zoomIn:
        state.zoom = min(16, state.zoom * 1.5)
        if state.zoom > 1 { for p in state.visiblePlanes { state.keepCursorVisible(in: p, recentre: true) } }
    case .zoomOut:
        state.zoom = max(1, state.zoom / 1.5)
        if state.zoom <= 1.0001 { state.zoom = 1; state.pan = [:] }
        for p in state.visiblePlanes { state.clampPan(p) }
    case .resetZoom:
        state.zoom = 1
        state.pan = [:]

    case .pan(let dir):
        guard state.zoom > 1 else { state.message = "pan works when zoomed in (+)"; break }
        let m = state.mapping(state.plane)
        // A quarter of the visible extent.
        let visible = SIMD2(Double(m.width), Double(m.height)) / state.zoom
        var p = state.pan[state.plane] ?? .zero
        switch dir {
        case .left: p.x -= visible.x / 4
        case .right: p.x += visible.x / 4
        case .up: p.y -= visible.y / 4
        case .down: p.y += visible.y / 4
        }
        state.pan[state.plane] = p
        state.clampPan(state.plane)

    case .scaleWindowWidth(let f):
        let c = (state.window.low + state.window.high) / 2
        let w = max((state.window.high - state.window.low) * f, 1e-6 * max(1, abs(c)))
        state.window = IntensityWindow(low: c - w / 2, high: c + w / 2) ?? state.window
    case .shiftWindowLevel(let f):
        let w = state.window.high - state.window.low
        state.window = IntensityWindow(low: state.window.low + f * w, high: state.window.high + f * w) ?? state.window
    case .autoWindow:
        state.window = state.automaticWindow
        state.message = "automatic window \(state.window)"

    case .cycleColorMap:
        let maps: [ColorMap] = [.gray, .hot, .viridis, .jet, .inverted]
        let i = maps.firstIndex(of: state.colorMap) ?? -1
        state.colorMap = maps[(i + 1) % maps.count]
        state.message = "colour map \(state.colorMap.rawValue)" + compareColorMapNote(state)

    case .toggleConvention:
        state.convention = state.convention == .neurological ? .radiological : .neurological
        state.pan = [:]
        state.message = state.convention == .neurological ? "neurological: subject's left on the left"
            : "radiological: subject's left on the right"

    case .toggleOverlay:
        guard state.document.labels != nil || state.curation.outcome != nil else { state.message = "no labels loaded (--labels FILE)"; break }
        state.overlay.visible.toggle()
    case .changeOpacity(let d):
        state.overlay.opacity = min(1, max(0.1, ((state.overlay.opacity + d) * 10).rounded() / 10))
        state.overlay.visible = true
        state.message = "label opacity \(Int((state.overlay.opacity * 100).rounded())) %"
    case .toggleOutline:
        state.overlay.outline.toggle()
        state.overlay.visible = true
    case .toggleLabelPanel:
        guard state.document.labels != nil else { state.message = "no labels loaded (--labels FILE)"; break }
        state.showLabelPanel.toggle()
    case .moveLabelSelection(let d):
        let n = state.document.presentLabels.count
        guard n > 0 else { break }
        state.labelSelection = ((state.labelSelection + d) % n + n) % n
        state.showLabelPanel = true
    case .toggleSelectedLabel:
        guard let v = state.selectedLabel else { break }
        if state.overlay.hidden.contains(v) { state.overlay.hidden.remove(v) } else { state.overlay.hidden.insert(v) }
        state.message = "\(state.document.labelTable.name(of: v)) \(state.overlay.hidden.contains(v) ? "hidden" : "shown")"
    case .showAllLabels:
        state.overlay.hidden = []
        state.overlay.visible = true
    case .goToSelectedLabel:
        guard let v = state.selectedLabel, let labels = state.labelsOnScreen,
              let target = nearestVoxelToCentroid(of: v, in: labels) else { break }
        state.cursor = target
        for p in state.visiblePlanes { state.keepCursorVisible(in: p, recentre: true) }
        state.message = "crosshair to \(state.document.labelTable.name(of: v))"

    case .cycleFieldMode:
        guard state.document.field != nil else {
            state.message = state.registration != nil ? "no field yet: G registers" : "no field loaded (--field FILE)"
            break
        }
        let order: [FieldDisplayMode?] = [.arrows, .magnitude, .jacobian, .grid, nil]
        let i = order.firstIndex(of: state.fieldMode) ?? order.count - 1
        state.fieldMode = order[(i + 1) % order.count]
        state.message = "field: \(state.fieldMode?.rawValue ?? "off")"
    case .cycleCompareMode:
        guard state.hasCompare else { state.message = "no second image (--compare FILE)"; break }
        let all = CompareMode.allCases
        state.compareMode = all[(all.firstIndex(of: state.compareMode)! + 1) % all.count]
        state.flickerShowsCompare = false
        state.message = "compare: \(state.compareMode.rawValue)"
    case .tick:
        if state.hasCompare && state.compareMode == .flicker { state.flickerShowsCompare.toggle() }

    case .centreCursor:
        state.cursor = SIMD3((size.x - 1) / 2, (size.y - 1) / 2, (size.z - 1) / 2)
        state.pan = [:]

    case .click(let column, let row):
        let layout = ScreenLayout(state)
        if let panel = layout.labelPanel, panel.contains(column, row) {
            let index = LabelPanel.labelIndex(atRow: row, state: state, rect: panel)
            if let index { state.labelSelection = index }
            break
        }
        if let panel = layout.supportPanel, panel.contains(column, row) {
            if let index = SupportPanel.entryIndex(atRow: row, state: state, rect: panel) { state.curation.selection = index }
            break
        }
        // The voxel drawn at the cell's centre, on the pane's canvas (half blocks or screen pixels).
        guard let pane = layout.pane(atColumn: column, row: row),
              let voxel = state.voxel(underCell: column, row: row, in: pane) else { break }
        state.cursor = voxel
        state.plane = pane.plane

    case .scroll(let column, let row, let delta):
        let layout = ScreenLayout(state)
        if let panel = layout.labelPanel, panel.contains(column, row) {
            return reduce(&state, .moveLabelSelection(delta > 0 ? -1 : 1))
        }
        if let panel = layout.supportPanel, panel.contains(column, row) {
            return reduceCuration(&state, .moveSelection(delta > 0 ? -1 : 1))
        }
        guard let pane = layout.pane(atColumn: column, row: row) else { break }
        state.changeSlice(in: pane.plane, by: delta)

    case .export:
        return [.exportPNG]
    case .showHelp:
        state.mode = .help
        state.helpScroll = 0
    case .stepVolume(let d):
        stepVolume(&state, by: d)
    case .cycleCompareColorMap:
        cycleCompareColorMap(&state)
    case .layers(let a):
        reduceLayers(&state, a)
    case .scrollHelp(let rows):
        state.helpScroll = max(0, state.helpScroll + rows)   // the help screen clamps the bottom
    case .closeHelp:
        state.mode = .normal
        state.navigation.helpPage = 0
    case .showMessage(let text):
        state.message = text
    case .resize(let s):
        state.size = s
    case .quit:
        state.quitRequested = true
        return [.quit]
    case .curation(let a):
        return reduceCuration(&state, a)
    case .editing(let a):
        return reduceEditing(&state, a)
    case .command(let a):
        return reduceCommand(&state, a)
    case .cohort(let a):
        return reduceCohort(&state, a)
    case .interrupt:
        state.quitRequested = true
        state.interrupted = true
        return [.quit]
    case .startRegistration, .cycleRegistrationPreset, .saveRegistration, .nextFoldingSlice:
        return state.reduceRegistration(action)
    // Background jobs (Jobs.swift): generic bookkeeping here, then the kind's own entry point (`reduceJob`).
    case .cancelJobs:
        var effects: [Effect] = []
        for (kind, id) in state.jobs.running.sorted(by: { $0.value < $1.value }) {
            effects.append(.cancelJob(id))
            effects += state.reduceJob(kind, id, .cancelling)
        }
        state.message = effects.isEmpty ? "nothing to cancel" : "cancelling…"
        return effects
    case .jobProgress(let id, let progress):
        guard let kind = state.jobs.kind(of: id) else { break }   // a stale job: ignore
        return state.reduceJob(kind, id, .progress(progress))
    case .jobFinished(let id, let outcome):
        guard let kind = state.jobs.finish(id) else { break }     // a stale job: ignore
        return state.reduceJob(kind, id, .finished(outcome))
    }
    return []
}

extension WorkbenchState {
    /// Hands an event of job `id` to the entry point of its kind (declared by the feature that owns it).
    mutating func reduceJob(_ kind: JobKind, _ id: JobID, _ event: JobEvent) -> [Effect] {
        kind.reduce(&self, id, event)
    }
}
