import Foundation
import VoxtermModel
import Terminal

/// The command line in the bottom row: prompt, text, cursor, Tab candidates.
enum CommandLineView {
    static func draw(_ line: CommandLineState, row: Int, into grid: inout CellGrid) {
        grid.fill(CellRect(x: 0, y: row, width: grid.width, height: 1), with: Cell(" "))
        let chars = Array(line.text)
        // Scroll so the cursor stays visible.
        let room = Swift.max(1, grid.width - 2)
        let start = Swift.max(0, line.cursor - room + 1)
        var x = grid.put(String(line.prompt), x: 0, y: row, foreground: Theme.accent, attributes: [.bold])
        let shown = String(chars[Swift.min(start, chars.count)...].prefix(room))
        x += grid.put(shown, x: x, y: row, attributes: [.bold])
        let cx = 1 + line.cursor - start
        if cx < grid.width {
            let under = line.cursor < chars.count ? String(chars[line.cursor]) : " "
            grid.put(under, x: cx, y: row, attributes: [.reverse, .bold])
        }
        if !line.candidates.isEmpty && x + 4 < grid.width {
            let list = "   " + line.candidates.prefix(40).joined(separator: "  ") + (line.candidates.count > 40 ? "  …" : "")
            grid.put(list, x: Swift.max(x, cx + 1), y: row, foreground: Theme.dimText)
        }
    }

    /// "PAINT Hippocampus_L r=2", "ERASE r=2", "count 10", "distance 23.4 mm", or nil.
    static func brushText(_ state: WorkbenchState) -> String? {
        var parts: [String] = []
        if let n = state.navigation.count { parts.append("count \(n)") }
        if state.navigation.measure.count == 2 { parts.append(distanceText(state).components(separatedBy: " (").first ?? "") }
        switch state.editing.brush {
        case .off: break
        case .paint: parts.append("PAINT \(state.document.labelTable.name(of: state.activeLabel)) r=\(state.editing.radius)")
        case .erase: parts.append("ERASE r=\(state.editing.radius)")
        }
        if state.editing.unsaved { parts.append("unsaved") }
        return parts.isEmpty ? nil : " " + parts.joined(separator: " · ") + " "
    }
}

/// Statistics of the selected label, in the current slice and the whole volume (`T`), of the
/// labels on screen (a whole-volume prediction while it is shown, else the label map).
///
/// Only what is shown is computed: the slice's statistics pass over one slice; the volume's come
/// from per-label running sums (`LabelMoments`) built once per label map and moved along by the
/// edits journaled in `EditingState.journal` (a brush step costs its own voxels, not a pass over
/// the volume). Anything not journaled (new labels, another 4-D volume) builds them again. The sums
/// live in the session's `SliceCache` (`StatisticsMemo`), one set for the label map and one for the
/// prediction shown, so `C` flipping between them builds neither again; another document (`:open
/// image`, cohort paging) drops both, and with them the intensities they hold.
enum StatisticsPanel {
    /// The labels the panel describes and a key naming them: a whole-volume prediction while it is
    /// shown (`-1 - id`), else the label map (0).
    static func shownLabels(_ state: WorkbenchState) -> (LabelVolume, key: Int)? {
        guard let labels = state.labelsOnScreen else { return nil }
        if let o = state.shownPrediction, o.scope == .volume { return (labels, -1 - o.id) }
        return (labels, 0)
    }

    static func statistics(_ state: WorkbenchState, cache: SliceCache, label: Int32) -> (slice: LabelStatistics?, volume: LabelStatistics?) {
        guard let (labels, which) = shownLabels(state) else { return (nil, nil) }
        let image = state.document.image
        let axis = state.mapping(state.plane).sliceAxis, index = state.cursor[axis]
        let memo = cache.statistics
        // Another document, or another volume of a 4-D image: every set of sums is of the old one.
        let document = StatisticsMemo.Document(id: state.documentID, volume: state.document.series?.index ?? 0)
        if memo.document != document { memo.entries = [:]; memo.document = document }
        // Besides the label map's, only the sums of the current prediction (shown or not) are kept.
        let current = state.curation.outcome.map { -1 - $0.id }
        for key in memo.entries.keys where key != 0 && key != current { memo.entries[key] = nil }
        let revision = state.document.revision
        var entry = memo.entries[which] ?? StatisticsMemo.Entry()
        if entry.moments == nil || entry.voxelCount != labels.labels.count {
            entry.moments = LabelMoments(labels: labels, image: image)
            memo.builds += 1
        } else if entry.revision != revision && which == 0 {
            // The label map follows edits; a prediction does not change (its image is the document's).
            if let changes = state.editing.journal.changes(from: entry.revision, to: revision) {
                for c in changes { entry.moments!.change(indices: c.indices, before: c.before, after: c.after) }
                memo.updates += 1
            } else {
                entry.moments = LabelMoments(labels: labels, image: image)
                memo.builds += 1
            }
        }
        entry.voxelCount = labels.labels.count
        entry.revision = revision
        let sliceKey = [which, revision, axis, index]
        if entry.sliceKey != sliceKey {
            entry.slice = labelStatistics(labels: labels, image: image, region: .slice(axis: axis, index: index))
            entry.sliceKey = sliceKey
        }
        memo.entries[which] = entry
        return (entry.slice.first { $0.label == label }, entry.moments!.statistics(of: label))
    }

    static func draw(_ state: WorkbenchState, cache: SliceCache, rect: CellRect, into grid: inout CellGrid) {
        for y in rect.y..<(rect.y + rect.height) { grid[rect.x - 1, y] = Cell("│", foreground: Theme.dimText) }
        grid.fill(CellRect(x: rect.x, y: rect.y, width: rect.width, height: rect.height), with: Cell(" "))
        grid.fill(CellRect(x: rect.x, y: rect.y, width: rect.width, height: 1), with: Cell(" ", background: Theme.barBackground))
        grid.put(" Statistics (T hides)", x: rect.x, y: rect.y, foreground: Theme.barText, background: Theme.barBackground,
                 attributes: [.bold])
        var y = rect.y + 1
        func line(_ s: String, _ color: CellColor = .default, bold: Bool = false) {
            guard y < rect.y + rect.height else { return }
            grid.put(s, x: rect.x, y: y, foreground: color, attributes: bold ? [.bold] : [], maxWidth: rect.width)
            y += 1
        }
        guard let label = state.selectedLabel else { line(" no label selected"); return }
        line(" \(state.document.labelTable.name(of: label)) (\(label))", Theme.accent, bold: true)
        let (s, v) = statistics(state, cache: cache, label: label)
        let axis = state.mapping(state.plane).sliceAxis
        for (title, st) in [("\(state.plane.rawValue) slice \(state.cursor[axis])", s), ("whole volume", v)] {
            y += 1
            line(" " + title, Theme.dimText, bold: true)
            guard let st else { line("  not present"); continue }
            line("  voxels  \(st.voxelCount)")
            line(String(format: "  volume  %.1f mm³", st.volumeMM3))
            line(String(format: "          %.3f ml", st.volumeML))
            line("  mean    \(fmt(st.meanIntensity)) ± \(fmt(st.sdIntensity))")
            let c = st.centroidMM
            line(String(format: "  centre  %.1f, %.1f, %.1f mm", c.x, c.y, c.z))
        }
        y += 1
        if state.navigation.measure.count == 2 {
            line(" " + (distanceText(state).components(separatedBy: " (").first ?? ""), Theme.accent)
        }
        line(" n/N label · @ distance", Theme.dimText)
    }
}

/// The statistics panel's running sums for one session (held by `SliceCache`, used on the UI
/// thread only): per shown map (0 the label map, `-1 - id` a prediction), the sums and the
/// current slice's statistics, with the document revision they are at.
final class StatisticsMemo {
    struct Entry {
        var voxelCount = 0
        var revision = -1
        var moments: LabelMoments?
        var sliceKey: [Int] = []
        var slice: [LabelStatistics] = []
    }
    /// The document and 4-D volume the entries are of.
    struct Document: Equatable {
        var id: DocumentID
        var volume: Int
    }
    var document: Document?
    var entries: [Int: Entry] = [:]
    /// Full builds and journal updates so far (tests read them).
    var builds = 0, updates = 0
}
