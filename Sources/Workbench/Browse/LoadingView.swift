import Foundation
import Terminal

/// The screen shown while the workbench reads its files, after the terminal was taken over
/// (headers were checked before; the voxel data, which can take seconds, is read now).
public enum LoadingView {
    /// "Loading FILE, FILE …" centred on a `size` screen, under the title bar.
    public static func render(size: TerminalSize, files: [String]) -> CellGrid {
        var grid = CellGrid(size: size)
        guard size.columns > 0, size.rows > 0 else { return grid }
        grid.fill(CellRect(x: 0, y: 0, width: size.columns, height: 1), with: Cell(" ", background: Theme.barBackground))
        grid.put(" voxterm", x: 0, y: 0, foreground: Theme.barText, background: Theme.barBackground, attributes: [.bold])
        let names = files.map { ($0 as NSString).lastPathComponent }
        let lines = ["Loading " + names.joined(separator: ", ") + " …", "Ctrl-C cancels."]
        for (i, line) in lines.enumerated() {
            let y = Swift.min(size.rows - 1, Swift.max(1, size.rows / 2 - 1 + i))
            grid.put(line, x: Swift.max(0, (size.columns - line.count) / 2), y: y,
                     foreground: i == 0 ? .default : Theme.dimText, attributes: i == 0 ? [.bold] : [],
                     maxWidth: size.columns)
        }
        return grid
    }
}
