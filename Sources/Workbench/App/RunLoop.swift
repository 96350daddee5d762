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
            // The command line has the keyboard while it is open.
            if state.commandLine.line != nil && state.mode == .normal { return .command(.key(key)) }
            if let a = KeyTable.action(for: key, in: state.mode, focus: state.keyFocus) { return a }
            if state.mode == .help { return .closeHelp }
            return .showMessage("key \(key) does nothing; ? shows the keys")
        case .mouse(let m):
            guard state.mode == .normal else { return m.kind == .press ? .closeHelp : nil }
            // In paint / erase mode the left button paints (the right one erases), press to release.
            if state.editing.brush != .off || state.editing.stroke != nil {
                switch m.kind {
                case .press, .drag, .release: return .editing(.mouse(m))
                default: break
                }
            }
            switch m.kind {
            case .press, .drag: return m.button == 1 ? .click(column: m.column, row: m.row) : nil
            case .wheelUp: return .scroll(column: m.column, row: m.row, delta: 1)
            case .wheelDown: return .scroll(column: m.column, row: m.row, delta: -1)
            case .release: return nil
            }
        case .resize(let size): return .resize(size)
        case .closed: return .command(.run(.quit(force: true)))   // input ended: no question to answer
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
        var lastTick = monotonicSeconds()
        func perform(_ effects: [Effect]) {
            for effect in effects {
                switch effect {
                case .exportPNG: _ = reduce(&state, .showMessage(export(state, cache)))
                case .quit: break
                case .startJob(let id, let request): jobs.start(id, work: request.work(state: state))
                case .cancelJob(let id): jobs.cancel(id)
                case .curation(let c):
                    // Manifests and predictions are read and written off the UI thread.
                    let snapshot = state
                    jobs.runFileWork { CurationIO.perform(c, state: snapshot) }
                case .command(.savePNG(let path, let force, let inputs)):
                    _ = reduce(&state, .showMessage(WorkbenchExport.message(state, cache: cache, path: path, force: force, inputs: inputs)))
                case .command(let c):
                    jobs.runFileWork { CommandIO.perform(c) }
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
            if flicker && monotonicSeconds() - lastTick >= Double(flickerMilliseconds) / 1000 {
                _ = reduce(&state, .tick)
                lastTick = monotonicSeconds()
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
