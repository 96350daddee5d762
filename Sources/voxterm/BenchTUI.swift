import ArgumentParser
import Foundation
import VoxtermModel
import Terminal
import Workbench

/// `voxterm bench tui [IMAGE]`: full redraw time and bytes per slice change of the workbench.
struct BenchTUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tui",
        abstract: "Time a full workbench redraw after a slice change (in-process) and count the bytes sent.",
        discussion: """
        Opens IMAGE (default: the bundled sample with its labels) in a recorded terminal of the given \
        size, then repeatedly presses PgUp: each step renders a slice not seen before (no cache hit), \
        builds the cell grid and encodes the changed cells. Reports the median time and bytes per step.
        """)

    @Argument(help: "NIfTI image. Default: the bundled sample (with its labels).")
    var image: String?

    @Option(help: "Terminal width in cells.") var columns = 200
    @Option(help: "Terminal height in cells.") var rows = 60
    @Option(help: "Slice changes to time.") var steps = 30
    @Option(help: "Colour depth: truecolor, 256, 16 or mono.") var color = "truecolor"
    @Flag(help: "Time the three-view layout instead of one view.") var ortho = false

    func run() throws {
        var path = image, labels: String? = nil, names: String? = nil
        if path == nil {
            guard let dir = SampleLocator.find() else {
                printError(WorkbenchError(path: "Samples", reason: "bundled sample not found; pass IMAGE"))
                throw ExitCode(ExitCodes.badInput)
            }
            path = dir + "/colin27_2mm.nii.gz"; labels = dir + "/colin27_2mm_aal.nii.gz"; names = dir + "/aal.txt"
        }
        guard let depth = ColorDepth(rawValue: color) else { throw ValidationError("--color must be truecolor, 256, 16 or mono") }
        let doc: WorkbenchDocument
        do { doc = try WorkbenchDocument.load(image: path!, labels: labels, labelNames: names) } catch {
            printError(error)
            throw ExitCode(ExitCodes.badInput)
        }
        let size = TerminalSize(columns: columns, rows: rows)
        let caps = TerminalCapabilities(colorDepth: depth, unicode: true)
        let terminal = RecordingTerminal(size: size, capabilities: caps)
        var state = WorkbenchState(document: doc, size: size, capabilities: caps)
        state.layout = ortho ? .ortho : .single
        let cache = SliceCache()
        // Start low so every step goes to a new slice.
        state.cursor[state.mapping(state.plane).sliceAxis] = 0
        terminal.present(WorkbenchView.render(state, cache: cache))
        var times: [Double] = [], bytes: [Int] = [], changed: [Int] = []
        let n = min(max(1, steps), state.mapping(state.plane).sliceCount - 1)
        for _ in 0..<n {
            let before = terminal.screen!
            let t0 = now()
            _ = reduce(&state, .changeSlice(1))
            let grid = WorkbenchView.render(state, cache: cache)
            let b = terminal.present(grid)
            times.append(now() - t0)
            bytes.append(b)
            changed.append(grid.changedCellCount(from: before))
        }
        let mb = median(bytes.map(Double.init)), mc = median(changed.map(Double.init))
        print("voxterm bench tui \(path!): \(columns)x\(rows) cells, \(depth.rawValue), \(ortho ? "3 views" : "1 view"), \(n) slice changes")
        print(String(format: "  full redraw after a slice change: median %.2f ms (min %.2f, max %.2f)",
                     median(times) * 1000, times.min()! * 1000, times.max()! * 1000))
        print(String(format: "  bytes written per slice change: median %.0f (%.0f of %d cells changed); an unchanged frame writes %d",
                     mb, mc, columns * rows, terminal.present(terminal.screen!)))
    }
}
