import VoxtermModel
import SliceRendering

extension WorkbenchState {
    /// The label painted with: the label selected in the panel (1 when none is present yet).
    public var activeLabel: Int32 { selectedLabel ?? 1 }

    /// Makes `document.labels` the map edits go to, once: an empty map on the image grid when none
    /// is loaded; the prediction merged over the loaded labels when a prediction is shown (edits to a
    /// prediction turn it into the user's labels, named by the supports' label table).
    mutating func prepareLabelsForEditing() {
        let g = document.image.geometry
        let active = activeLabel
        defer {
            // The label painted with stays selected, present in the map or not.
            if !document.presentLabels.contains(active) { document.presentLabels = (document.presentLabels + [active]).sorted() }
            labelSelection = document.presentLabels.firstIndex(of: active) ?? 0
        }
        if let o = shownPrediction {
            var merged = document.labels ?? LabelVolume(geometry: g)
            switch o.scope {
            case .volume: merged = o.prediction.labels
            case .slice(let axis, let index):
                let src = o.prediction.labels.labels
                for i in SliceAccess.indices(g, axis: axis, index: index) { merged.labels[i] = src[i] }
            }
            document.labels = merged
            document.revision += 1   // a new map: views following edits start again from it
            document.labelsPath = nil
            document.labelsFollowMoving = false
            // A whole-volume prediction brought its labels present; one slice over the labels needs a pass.
            document.presentLabels = o.scope == .volume ? o.presentLabels : merged.presentLabels
            curation.outcome = nil
            curation.display = .labels
            editing.unsaved = true
            editing.history = LabelEditHistory()
            message = "the prediction is now your labels: edits, undo (U) and :save labels PATH work on it"
        } else if document.labels == nil {
            document.labels = LabelVolume(geometry: g)
            document.revision += 1
            document.presentLabels = []
        }
        overlay.visible = true
        showLabelPanel = true
    }

    /// After an edit: the slice cache redraws, the label list learns new labels, the file is unsaved.
    /// `change` is what this revision changed in the map (journaled while the statistics panel follows it).
    mutating func labelsChanged(_ edit: LabelEdit?, change: LabelEdit?) {
        document.revision += 1
        if navigation.showStatistics, let change { editing.journal.record(document.revision, change) }
        editing.unsaved = true
        editing.quitWarned = false
        editing.discardWarned = false
        if let e = edit {
            var present = Set(document.presentLabels)
            let before = present.count
            for l in e.after where l != 0 { present.insert(l) }
            if present.count != before {
                let selected = selectedLabel
                document.presentLabels = present.sorted()
                if let s = selected, let i = document.presentLabels.firstIndex(of: s) { labelSelection = i }
            }
        }
    }

    /// Name of a label value for messages: "Hippocampus_L (37)" or "background".
    func labelName(_ v: Int32) -> String { v == 0 ? "background" : "\(document.labelTable.name(of: v)) (\(v))" }
}

/// Mouse stroke steps, internal to `.mouse`.
extension EditingAction {
    static func mouseDown(voxel: SIMD3<Int>, axis: Int, erase: Bool) -> EditingAction { .stroke(.down(voxel, axis, erase)) }
    static func mouseDrag(voxel: SIMD3<Int>) -> EditingAction { .stroke(.drag(voxel)) }
    static var mouseUp: EditingAction { .stroke(.up) }
}

extension WorkbenchState {
    /// The voxel under terminal cell (column, row) in an image pane, and the pane's plane.
    public func voxel(atColumn column: Int, row: Int) -> (SIMD3<Int>, SlicePlane)? {
        let layout = ScreenLayout(self)
        guard let pane = layout.pane(atColumn: column, row: row), let v = voxel(underCell: column, row: row, in: pane) else { return nil }
        return (v, pane.plane)
    }
}

/// Applies a label-editing action; pure like `reduce` (the edits change `state.document.labels` in place).
func reduceEditing(_ state: inout WorkbenchState, _ action: EditingAction) -> [Effect] {
    let g = state.document.image.geometry
    let axis = state.mapping(state.plane).sliceAxis
    func paint(at voxel: SIMD3<Int>, from: SIMD3<Int>? = nil, erase: Bool, name: String) {
        state.prepareLabelsForEditing()
        var rec = LabelEditRecorder(name: name)
        let label: Int32 = erase ? 0 : state.activeLabel
        LabelEditing.stroke(&state.document.labels!.labels, geometry: g, from: from ?? voxel, to: voxel, sliceAxis: axis,
                            radius: state.editing.radius, label: label, recorder: &rec)
        let edit = rec.finish(labels: state.document.labels!.labels)
        state.editing.history.record(edit)
        state.labelsChanged(edit, change: edit)
    }
    switch action {
    case .togglePaint, .toggleErase:
        let target: BrushMode = action == .togglePaint ? .paint : .erase
        if state.editing.brush == target { state.editing.brush = .off; state.message = "brush off"; break }
        state.editing.brush = target
        paint(at: state.cursor, erase: target == .erase, name: target == .paint ? "paint" : "erase")
        state.message = target == .paint
            ? "painting \(state.labelName(state.activeLabel)), radius \(state.editing.radius): move to paint, | \\ size, U undo, B stops"
            : "erasing, radius \(state.editing.radius): move to erase, U undo, Y stops"
    case .brushOff:
        state.editing.brush = .off
        state.message = "brush off"
    case .changeRadius(let d):
        state.editing.radius = min(50, max(0, state.editing.radius + d))
        state.message = "brush radius \(state.editing.radius) voxels"
    case .setRadius(let r):
        state.editing.radius = min(50, max(0, r))
        state.message = "brush radius \(state.editing.radius) voxels"
    case .stampAtCursor:
        paint(at: state.cursor, erase: state.editing.brush == .erase, name: state.editing.brush == .erase ? "erase" : "paint")
    case .strokeMoved(let from):
        guard state.editing.brush != .off else { break }
        paint(at: state.cursor, from: from, erase: state.editing.brush == .erase, name: state.editing.brush == .erase ? "erase" : "paint")
    case .fill:
        state.prepareLabelsForEditing()
        var rec = LabelEditRecorder(name: "fill")
        let n = LabelEditing.fill(&state.document.labels!.labels, geometry: g, seed: state.cursor, sliceAxis: axis,
                                  label: state.activeLabel, recorder: &rec)
        let edit = rec.finish(labels: state.document.labels!.labels)
        state.editing.history.record(edit)
        state.labelsChanged(edit, change: edit)
        state.message = n == 0 ? "already \(state.labelName(state.activeLabel)) here"
            : "filled \(n) voxels with \(state.labelName(state.activeLabel)) on this slice · U undoes"
    case .replace(let old, let new, let volume):
        state.prepareLabelsForEditing()
        var rec = LabelEditRecorder(name: "replace")
        let n = LabelEditing.replace(&state.document.labels!.labels, geometry: g, old: old, new: new,
                                     slice: volume ? nil : (axis, state.cursor[axis]), recorder: &rec)
        let edit = rec.finish(labels: state.document.labels!.labels)
        state.editing.history.record(edit)
        state.labelsChanged(edit, change: edit)
        state.message = "replaced \(state.labelName(old)) by \(state.labelName(new)) in \(n) voxels of the \(volume ? "volume" : "slice")"
    case .undo:
        guard state.document.labels != nil, let e = state.editing.history.undo(&state.document.labels!.labels) else {
            state.message = "nothing to undo"; break
        }
        state.labelsChanged(nil, change: LabelEdit(indices: e.indices, before: e.after, after: e.before, name: e.name))
        state.message = "undid \(e.name) (\(e.count) voxels) · Ctrl-R redoes"
    case .redo:
        guard state.document.labels != nil, let e = state.editing.history.redo(&state.document.labels!.labels) else {
            state.message = "nothing to redo"; break
        }
        state.labelsChanged(e, change: e)
        state.message = "redid \(e.name) (\(e.count) voxels)"
    case .mouse(let m):
        switch m.kind {
        case .press:
            guard let (voxel, plane) = state.voxel(atColumn: m.column, row: m.row) else { break }
            if state.editing.stroke != nil { _ = reduceEditing(&state, .mouseUp) }
            state.plane = plane
            state.cursor = voxel
            return reduceEditing(&state, .mouseDown(voxel: voxel, axis: state.mapping(plane).sliceAxis,
                                                    erase: m.button == 3 || state.editing.brush == .erase))
        case .drag:
            guard state.editing.stroke != nil, let (voxel, _) = state.voxel(atColumn: m.column, row: m.row) else { break }
            return reduceEditing(&state, .mouseDrag(voxel: voxel))
        case .release:
            return reduceEditing(&state, .mouseUp)
        default: break
        }
    case .stroke(.down(let voxel, let a, let erase)):
        state.prepareLabelsForEditing()
        var rec = LabelEditRecorder(name: erase ? "erase" : "paint")
        LabelEditing.brush(&state.document.labels!.labels, geometry: g, centre: voxel, sliceAxis: a,
                           radius: state.editing.radius, label: erase ? 0 : state.activeLabel, recorder: &rec)
        state.editing.stroke = (rec, a, voxel)
        state.document.revision += 1
        if state.navigation.showStatistics { state.editing.journal.record(state.document.revision, rec.finish(labels: state.document.labels!.labels)) }
    case .stroke(.drag(let voxel)):
        guard var s = state.editing.stroke else { break }
        var v = voxel
        v[s.axis] = s.last[s.axis]   // a stroke stays on its slice
        // The step is recorded on its own (what this revision changed), then joins the stroke.
        var step = LabelEditRecorder(name: s.recorder.name)
        LabelEditing.stroke(&state.document.labels!.labels, geometry: g, from: s.last, to: v, sliceAxis: s.axis,
                            radius: state.editing.radius, label: s.recorder.name == "erase" ? 0 : state.activeLabel,
                            recorder: &step)
        let change = step.finish(labels: state.document.labels!.labels)
        s.recorder.absorb(change)
        s.last = v
        state.editing.stroke = s
        state.cursor = v
        state.document.revision += 1
        if state.navigation.showStatistics { state.editing.journal.record(state.document.revision, change) }
    case .stroke(.up):
        guard let s = state.editing.stroke else { break }
        state.editing.stroke = nil
        let edit = s.recorder.finish(labels: state.document.labels!.labels)
        state.editing.history.record(edit)
        state.labelsChanged(edit, change: LabelEdit(indices: [], before: [], after: [], name: edit.name))
        state.message = "\(edit.name) \(edit.count) voxels · U undoes"
    case .saved(let path, let document, let revision, let note):
        // Written for a document no longer open (`:open image`, cohort paging during the write):
        // the file is there, but it holds none of the open document's labels.
        guard document == state.documentID else {
            state.message = "saved the previous image's labels to \(path)\(note)"
            break
        }
        state.editing.savedPath = path
        // The map written is the one of `revision`: painted on (or replaced) while it was being
        // written, the labels in memory are newer than the file and stay unsaved.
        guard revision == state.document.revision else {
            state.message = "saved labels to \(path)\(note) as they were at :save; later edits are not saved (:save labels again)"
            break
        }
        state.editing.unsaved = false
        state.editing.quitWarned = false
        state.document.labelsPath = path
        state.message = "saved labels to \(path)\(note)"
    }
    return []
}

extension WorkbenchState {
    /// The label drawn at voxel `v`: the prediction's where one is shown and covers `v`, else the
    /// label map's; nil without either.
    public func shownLabel(at v: SIMD3<Int>) -> Int32? {
        if let o = shownPrediction, o.prediction.labels.geometry.contains(v) {
            var covered = true
            if case .slice(let a, let i) = o.scope { covered = v[a] == i }
            if covered { return o.prediction.labels[v.x, v.y, v.z] }
        }
        return document.label(at: v)
    }
}
