import Foundation
import VoxtermModel
import SliceRendering
import Terminal

/// The workbench's event loop: events in, actions through `reduce`, effects run, screen redrawn.
public enum WorkbenchApp {
    /// Interval of flicker compare mode, milliseconds.
    public static let flickerMilliseconds = 600

    /// The action an input event means in the current mode, if any.
    public static func action(for event: InputEvent, state: WorkbenchState) -> Action? {
        switch event {
        case .key(let key):
            if let a = KeyTable.action(for: key, in: state.mode) { return a }
            if state.mode == .help { return .closeHelp }
            return .showMessage("key \(key) does nothing; ? shows the keys")
        case .mouse(let m):
            guard state.mode == .normal else { return m.kind == .press ? .closeHelp : nil }
            switch m.kind {
            case .press, .drag: return m.button == 1 ? .click(column: m.column, row: m.row) : nil
            case .wheelUp: return .scroll(column: m.column, row: m.row, delta: 1)
            case .wheelDown: return .scroll(column: m.column, row: m.row, delta: -1)
            case .release: return nil
            }
        case .resize(let size): return .resize(size)
        case .closed: return .quit
        }
    }

    /// Runs the workbench on `terminal` until the user quits or input ends.
    ///
    /// Events that are already waiting are applied together before one redraw (key repeat
    /// does not queue frames). `export` is called for the `e` key and returns a message.
    public static func run(_ state: inout WorkbenchState, terminal: some TerminalDevice, cache: SliceCache,
                           export: (WorkbenchState, SliceCache) -> String) {
        state.quitRequested = false
        state.size = terminal.size
        state.capabilities = terminal.capabilities
        terminal.present(WorkbenchView.render(state, cache: cache))
        while !state.quitRequested {
            let flicker = state.hasCompare && state.compareMode == .flicker && state.mode == .normal
            var event = terminal.nextEvent(timeoutMilliseconds: flicker ? flickerMilliseconds : nil)
            if event == nil {
                _ = reduce(&state, .tick)
            }
            var handled = 0
            while let e = event {
                if let a = action(for: e, state: state) {
                    for effect in reduce(&state, a) {
                        switch effect {
                        case .exportPNG: _ = reduce(&state, .showMessage(export(state, cache)))
                        case .quit: break
                        case .curation(let c):
                            for a in CurationIO.perform(c, state: state) { _ = reduce(&state, a) }
                        }
                    }
                }
                handled += 1
                if state.quitRequested || handled >= 64 { break }
                event = terminal.nextEvent(timeoutMilliseconds: 0)
            }
            if state.quitRequested { break }
            terminal.present(WorkbenchView.render(state, cache: cache))
        }
    }
}

/// Writes the active view as a PNG through the renderer's export path (`SliceScene.render` and
/// `PNGCodec`, as `voxterm export` uses): native resolution, square pixels, orientation letters.
public enum WorkbenchExport {
    /// File name for the active view, e.g. `colin27_2mm_axial046.png`.
    public static func fileName(_ state: WorkbenchState) -> String {
        var stem = state.document.imageName
        for ext in [".nii.gz", ".nii", ".hdr", ".img"] where stem.hasSuffix(ext) { stem.removeLast(ext.count); break }
        let slice = state.slice(in: state.plane)
        let digits = String(state.mapping(state.plane).sliceCount - 1).count
        let n = String(slice)
        return "\(stem)_\(state.plane.rawValue)\(String(repeating: "0", count: max(0, digits - n.count)) + n).png"
    }

    /// Renders and writes the active view into `directory`; returns the path written.
    public static func write(_ state: WorkbenchState, cache: SliceCache, directory: String) throws -> String {
        var variant = RasterVariant.main
        if state.hasCompare {
            switch state.compareMode {
            case .checkerboard: variant = .checkerboard
            case .difference: variant = .difference
            case .flicker: variant = state.flickerShowsCompare ? .compare : .main
            case .sideBySide: variant = .main
            }
        }
        let slice = state.slice(in: state.plane)
        let raster = cache.raster(state, plane: state.plane, slice: slice, variant: variant, scale: 1,
                                  orientationLetters: true)
        let w = state.cursorWorld
        let text: [(key: String, value: String)] = [
            ("Software", "voxterm"),
            ("Source", state.document.imagePath),
            ("Description", "\(state.plane.rawValue) slice \(slice) of \(state.mapping(state.plane).sliceCount), "
                + "\(state.convention.rawValue), window \(state.window), \(state.colorMap.rawValue), crosshair "
                + String(format: "%.1f,%.1f,%.1f mm", w.x, w.y, w.z)),
        ]
        let png = try PNGCodec.encode(raster.image, text: text)
        let path = (directory as NSString).appendingPathComponent(fileName(state))
        try FileIO.writeAtomically(path, png)
        return path
    }

    /// `write`, as a status-bar message.
    public static func message(_ state: WorkbenchState, cache: SliceCache, directory: String) -> String {
        do {
            let path = try write(state, cache: cache, directory: directory)
            return "exported \(path)"
        } catch {
            return "export failed: \(error)"
        }
    }
}
