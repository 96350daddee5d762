import Foundation
import VoxtermModel
import SliceRendering
import Terminal

/// The label side panel: one row per label present, with its colour, value and name.
enum LabelPanel {
    /// First list row (below the header).
    static func firstVisibleIndex(_ state: WorkbenchState, rows: Int) -> Int {
        let n = state.document.presentLabels.count
        guard n > rows else { return 0 }
        return Swift.min(Swift.max(0, state.labelSelection - rows / 2), n - rows)
    }

    static func labelIndex(atRow row: Int, state: WorkbenchState, rect: CellRect) -> Int? {
        let listRows = rect.height - 2
        let i = firstVisibleIndex(state, rows: listRows) + (row - rect.y - 1)
        return row > rect.y && i >= 0 && i < state.document.presentLabels.count ? i : nil
    }

    static func draw(_ state: WorkbenchState, rect: CellRect, into grid: inout CellGrid) {
        let doc = state.document
        let labels = doc.presentLabels
        // A thin separator to the left.
        for y in rect.y..<(rect.y + rect.height) { grid[rect.x - 1, y] = Cell("│", foreground: Theme.dimText) }
        let header = " Labels (\(labels.count))" + (state.overlay.visible ? "" : " off")
        grid.fill(CellRect(x: rect.x, y: rect.y, width: rect.width, height: 1), with: Cell(" ", background: Theme.barBackground))
        grid.put(header, x: rect.x, y: rect.y, foreground: Theme.barText, background: Theme.barBackground, attributes: [.bold])
        let here = state.shownLabel(at: state.cursor)
        let listRows = rect.height - 2
        let first = firstVisibleIndex(state, rows: listRows)
        for r in 0..<Swift.max(0, listRows) {
            let i = first + r
            guard i < labels.count else { break }
            let v = labels[i]
            let y = rect.y + 1 + r
            let hidden = state.overlay.hidden.contains(v)
            let selected = i == state.labelSelection
            let c = doc.labelTable.color(of: v)
            let attrs: CellAttributes = selected ? [.reverse] : []
            grid.put(v == here ? "▶" : " ", x: rect.x, y: y, foreground: Theme.accent, attributes: attrs)
            grid.put(hidden ? "··" : "██", x: rect.x + 1, y: y, foreground: hidden ? Theme.dimText : .rgb(RGB(c.r, c.g, c.b)))
            let name = String(String(v).leftPadded(4)) + " " + doc.labelTable.name(of: v)
            grid.fill(CellRect(x: rect.x + 3, y: y, width: rect.width - 3, height: 1), with: Cell(" ", attributes: attrs))
            grid.put(name, x: rect.x + 3, y: y, foreground: hidden ? Theme.dimText : .default,
                     attributes: attrs.union(v == here ? [.bold] : []), maxWidth: rect.width - 3)
            // Dice of the last prediction for this label, right-aligned.
            if let d = state.curation.outcome?.dice[v] {
                let text = String(format: " %.2f", d)
                grid.put(text, x: rect.x + rect.width - text.count, y: y, foreground: Theme.accent, attributes: attrs)
            }
        }
        if let o = state.curation.outcome, state.curation.display == .comparison {
            // Legend of the prediction-vs-truth colours; Dice per label is right-aligned in the rows.
            var x = rect.x
            for (name, c) in [("TP", ComparisonColors.truePositive), ("FP", ComparisonColors.falsePositive),
                              ("FN", ComparisonColors.falseNegative)] {
                x += grid.put(" ■", x: x, y: rect.y + rect.height - 1, foreground: .rgb(RGB(c.r, c.g, c.b)))
                x += grid.put(" " + name, x: x, y: rect.y + rect.height - 1, foreground: Theme.dimText)
            }
            grid.put("  Dice vs \(o.truthName ?? "truth")", x: x, y: rect.y + rect.height - 1, foreground: Theme.dimText,
                     maxWidth: rect.x + rect.width - x)
        } else {
            let hint = " n/N select · Space hide · g go"
            grid.put(hint, x: rect.x, y: rect.y + rect.height - 1, foreground: Theme.dimText, maxWidth: rect.width)
        }
    }
}
