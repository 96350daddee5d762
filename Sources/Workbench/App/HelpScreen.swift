import Foundation
import VoxtermModel
import SliceRendering
import Terminal

/// The `?` screen, generated from the key table so it cannot drift from the real bindings.
enum HelpScreen {
    static func draw(_ state: WorkbenchState, into grid: inout CellGrid) {
        grid.fill(CellRect(x: 0, y: 0, width: grid.width, height: 1), with: Cell(" ", background: Theme.barBackground))
        let commandsPage = state.navigation.helpPage == 1
        grid.put(commandsPage ? " voxterm commands   (Tab: keys · ? or Esc closes this help)"
                              : " voxterm keys   (Tab: commands · ? or Esc closes this help)", x: 0, y: 0,
                 foreground: Theme.barText, background: Theme.barBackground, attributes: [.bold])
        var lines: [(String, String, Bool)] = []  // keys, text, isHeader
        if commandsPage {
            lines = commandLines()
        } else {
            var section = ""
            for b in KeyTable.table(for: .normal) + KeyTable.supportPanel {
                if b.section != section {
                    if !lines.isEmpty { lines.append(("", "", false)) }
                    lines.append((b.section, "", true))
                    section = b.section
                }
                lines.append((b.keys.map(\.description).joined(separator: " "), b.help, false))
            }
            lines.append(("", "", false))
            lines.append(("Mouse", "", true))
            lines.append(("click", "set the crosshair; in paint mode drag paints", false))
            lines.append(("wheel", "scroll slices", false))
        }
        let rowsAvailable = Swift.max(1, grid.height - 3)
        let keyWidth = Swift.min(commandsPage ? 24 : 16, lines.map { $0.2 ? 0 : $0.0.count }.max() ?? 0)
        let helpWidth = Swift.min(Swift.max(10, grid.width - keyWidth - 4), lines.map { $0.2 ? $0.0.count : $0.1.count }.max() ?? 0)
        let columnWidth = keyWidth + helpWidth + 4
        // Blank lines between sections go first when the columns would not fit.
        if (lines.count + rowsAvailable - 1) / rowsAvailable * columnWidth > grid.width {
            lines.removeAll { !$0.2 && $0.0.isEmpty && $0.1.isEmpty }
        }
        // As many columns as fit; what does not fit scrolls (arrows, PgUp/PgDn) instead of being cut.
        let fit = Swift.max(1, Swift.min((lines.count + rowsAvailable - 1) / rowsAvailable, grid.width / Swift.max(1, columnWidth)))
        let perColumn = (lines.count + fit - 1) / fit
        let scrolls = perColumn > rowsAvailable
        let first = scrolls ? Swift.min(state.helpScroll, perColumn - rowsAvailable) : 0
        for (i, l) in lines.enumerated() {
            let col = i / perColumn, row = i % perColumn - first
            guard row >= 0, row < rowsAvailable else { continue }
            let x = 1 + col * columnWidth, y = 2 + row
            if l.2 {
                grid.put(l.0, x: x, y: y, foreground: Theme.accent, attributes: [.bold], maxWidth: columnWidth - 1)
            } else {
                grid.put(l.0, x: x, y: y, foreground: Theme.barText, attributes: [.bold], maxWidth: keyWidth)
                grid.put(l.1, x: x + keyWidth + 2, y: y, maxWidth: Swift.min(helpWidth, grid.width - x - keyWidth - 2))
            }
        }
        if scrolls {
            let note = "↑↓ PgUp PgDn scroll · rows \(first + 1)-\(first + rowsAvailable) of \(perColumn) "
            grid.put(note, x: Swift.max(0, grid.width - note.count), y: 0, foreground: Theme.accent, background: Theme.barBackground)
        }
    }
}

extension HelpScreen {
    /// The commands page: every `:` command with its arguments, then every key's action by name.
    static func commandLines() -> [(String, String, Bool)] {
        var lines: [(String, String, Bool)] = [("Commands (: then Enter; Tab completes)", "", true)]
        for c in CommandParser.commands { lines.append((":" + c.name, c.usage + " — " + c.help, false)) }
        lines.append(("", "", false))
        lines.append(("Keys by name (:NAME [COUNT])", "", true))
        for b in KeyTable.table(for: .normal) + KeyTable.supportPanel {
            guard let name = CommandNames.name(of: b.action) else { continue }
            lines.append((":" + name, b.keys.map(\.description).joined(separator: " ") + "  " + b.help, false))
        }
        return lines
    }
}
