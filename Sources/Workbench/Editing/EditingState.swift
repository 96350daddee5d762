import VoxtermModel
import Terminal

/// What moving the crosshair does to the labels.
public enum BrushMode: String, Sendable, CaseIterable {
    /// Nothing: browsing.
    case off
    /// Paints the active label under a round brush.
    case paint
    /// Erases (paints background) under the brush.
    case erase
}

/// Label editing: brush, undo/redo history and whether the labels are saved.
public struct EditingState: Sendable {
    /// The brush the crosshair and mouse drags paint with.
    public var brush: BrushMode = .off
    /// Brush radius in voxels (0 = one voxel; see `LabelEditing.brush`).
    public var radius = 2
    /// Every edit since the labels were loaded, as sparse diffs.
    public var history = LabelEditHistory()
    /// Edits not yet written to a file.
    public var unsaved = false
    /// Set after the first quit with unsaved edits: the next quit goes through.
    public var quitWarned = false
    /// Set after the first `:open image|labels` with unsaved edits: the next one goes through.
    public var discardWarned = false
    /// Where the labels were last saved (`:save labels PATH`).
    public var savedPath: String?
    /// A mouse stroke in progress (press to release): its recorder, slice axis and last voxel.
    var stroke: (recorder: LabelEditRecorder, axis: Int, last: SIMD3<Int>)?
    /// The label changes behind the latest document revisions, for views that follow edits
    /// instead of recomputing (the statistics panel).
    public var journal = LabelJournal()

    public init() {}
}

/// The voxels each recent document revision changed in the label map: revision `r` maps to the
/// change from revision `r - 1` (empty when it changed no label). A revision missing here changed
/// the labels in a way not recorded (a new map, a prediction taken over): start again from the map.
public struct LabelJournal: Sendable {
    /// Oldest first.
    public private(set) var entries: [(revision: Int, change: LabelEdit)] = []
    /// At most this many entries and changed voxels are kept (older ones are dropped).
    public static let maxEntries = 256, maxVoxels = 4_000_000
    private var voxels = 0

    public init() {}

    /// Records that `revision` changed `change` (after the previous revision).
    public mutating func record(_ revision: Int, _ change: LabelEdit) {
        entries.append((revision, change))
        voxels += change.count
        var drop = 0
        while drop < entries.count - 1 && (entries.count - drop > Self.maxEntries || voxels > Self.maxVoxels) {
            voxels -= entries[drop].change.count
            drop += 1
        }
        if drop > 0 { entries.removeFirst(drop) }
    }

    /// The changes from revision `from` to `to` in order, or nil when one of them is not recorded.
    public func changes(from: Int, to: Int) -> [LabelEdit]? {
        guard to >= from else { return nil }
        if to == from { return [] }
        guard let start = entries.firstIndex(where: { $0.revision == from + 1 }) else { return nil }
        var out: [LabelEdit] = []
        var r = from + 1, i = start
        while r <= to {
            guard i < entries.count, entries[i].revision == r else { return nil }
            out.append(entries[i].change)
            r += 1; i += 1
        }
        return out
    }
}

/// Label editing actions (wrapped in `Action.editing`).
public enum EditingAction: Equatable, Sendable {
    /// Paint mode on/off (on: paints a disc at the crosshair at once, then wherever it moves).
    case togglePaint
    /// Erase mode on/off.
    case toggleErase
    /// Leaves paint/erase mode.
    case brushOff
    /// Adds `delta` to the brush radius (0...50).
    case changeRadius(Int)
    case setRadius(Int)
    /// Stamps the brush at the crosshair (paint or erase per mode).
    case stampAtCursor
    /// The crosshair moved from `from` in brush mode: paint along the way.
    case strokeMoved(from: SIMD3<Int>)
    /// 2-D flood fill of the region under the crosshair with the active label.
    case fill
    /// Replaces label `old` by `new` in the current slice (or the whole volume).
    case replace(old: Int32, new: Int32, volume: Bool)
    case undo, redo
    /// Mouse in paint / erase mode: press starts a stroke (the right button erases), drags paint
    /// along, release makes the stroke one undo step.
    case mouse(MouseEvent)
    /// The labels of `document` at its revision `revision` were written to `path` (posted by the
    /// save work; `note` names the label-name file written beside them, or is empty).
    case saved(path: String, document: DocumentID, revision: Int, note: String)
    /// A step of a mouse stroke (made from `.mouse`).
    case stroke(StrokeStep)
}

/// A step of a mouse stroke.
public enum StrokeStep: Equatable, Sendable {
    /// Press at a voxel, on slices across voxel axis `axis`; erase or paint.
    case down(SIMD3<Int>, Int, Bool)
    /// Drag to a voxel.
    case drag(SIMD3<Int>)
    /// Release.
    case up
}
