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

    /// Milliseconds the loop waits for input while a background job runs, before it looks at the
    /// job inbox (keys still wake it at once).
    public static let jobPollMilliseconds = 30

    /// Runs the workbench on `terminal` until the user quits or input ends.
    ///
    /// Events that are already waiting are applied together before one redraw (key repeat
    /// does not queue frames). `export` is called for the `e` key and returns a message.
    /// Background jobs run on `jobs`; while one runs the loop polls its inbox every
    /// `jobPollMilliseconds` and applies the posted actions; on quit, running jobs are cancelled.
    public static func run(_ state: inout WorkbenchState, terminal: some TerminalDevice, cache: SliceCache,
                           jobs: JobRunner = JobRunner(), export: (WorkbenchState, SliceCache) -> String) {
        state.quitRequested = false
        state.size = terminal.size
        state.capabilities = terminal.capabilities
        terminal.present(WorkbenchView.render(state, cache: cache))
        var lastTick = now()
        func perform(_ effects: [Effect]) {
            for effect in effects {
                switch effect {
                case .exportPNG: _ = reduce(&state, .showMessage(export(state, cache)))
                case .quit: break
                case .startJob(let id, let request): jobs.start(id, work: JobWorkers.work(for: request, state: state))
                case .cancelJob(let id): jobs.cancel(id)
                }
            }
        }
        while !state.quitRequested {
            let flicker = state.hasCompare && state.compareMode == .flicker && state.mode == .normal
            let busy = jobs.isBusy
            var timeout: Int? = flicker ? flickerMilliseconds : nil
            if busy { timeout = min(timeout ?? jobPollMilliseconds, jobPollMilliseconds) }
            var event = terminal.nextEvent(timeoutMilliseconds: timeout)
            var changed = event != nil
            if flicker && now() - lastTick >= Double(flickerMilliseconds) / 1000 {
                _ = reduce(&state, .tick)
                lastTick = now()
                changed = true
            }
            var handled = 0
            while let e = event {
                if let a = action(for: e, state: state) { perform(reduce(&state, a)) }
                handled += 1
                if state.quitRequested || handled >= 64 { break }
                event = terminal.nextEvent(timeoutMilliseconds: 0)
            }
            if state.quitRequested { break }
            for a in jobs.drain() {
                perform(reduce(&state, a))
                changed = true
            }
            if changed { terminal.present(WorkbenchView.render(state, cache: cache)) }
        }
        jobs.cancelAll()
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
