import Testing
import VoxtermModel
import SliceRendering
import Terminal
@testable import Workbench

@Suite("Workbench state and actions")
struct WorkbenchStateTests {
    let size = TerminalSize(columns: 120, rows: 40)

    @Test func startsInTheMiddleWithTheStatusBarSayingSo() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        #expect(state.cursor == [9, 14, 4])
        let t = runRecorded(&state, [])
        let screen = t.screen!
        let status = screen.text(row: 38)
        #expect(status.contains("axial slice 4/9"), "\(status)")
        #expect(status.contains("voxel 9,14,4"))
        #expect(status.contains("-1.0, -1.0, -2.0 mm"))
        #expect(status.contains("value 1000"))
        #expect(status.contains("Left half (1)"))
        #expect(screen.text(row: 0).contains("phantom.nii.gz"))
    }

    @Test func pageUpAndBracketsChangeTheSliceAndTheStatusBar() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        let t = runRecorded(&state, [.key(.pageUp), .key(.pageUp), .key(.character("[")), .key(.character("]")), .key(.character("]"))])
        #expect(state.cursor.z == 7)
        #expect(t.screen!.text(row: 38).contains("axial slice 7/9"))
        // Clamped at the last slice.
        _ = reduce(&state, .changeSlice(10))
        #expect(state.cursor.z == 9)
        _ = reduce(&state, .changeSlice(-100))
        #expect(state.cursor.z == 0)
    }

    @Test func planeKeysSwitchTheViewAndSliceCountsFollow() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        var t = runRecorded(&state, keys("c"))
        #expect(state.plane == .coronal)
        #expect(t.screen!.text(row: 38).contains("coronal slice 14/29"))
        #expect(t.screen!.text(row: 1).contains("coronal 14/29"))
        t = runRecorded(&state, keys("s") + [.key(.pageDown)])
        #expect(t.screen!.text(row: 38).contains("sagittal slice 8/19"))
        #expect(state.cursor.x == 8)
    }

    @Test func arrowsMoveTheCrosshairInScreenDirectionsUnderBothConventions() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        _ = reduce(&state, .moveCursor(.right))   // neurological: screen right is the subject's right (+x)
        #expect(state.cursor == [10, 14, 4])
        _ = reduce(&state, .moveCursor(.up))      // axial: up is anterior (+y)
        #expect(state.cursor == [10, 15, 4])
        _ = reduce(&state, .toggleConvention)
        _ = reduce(&state, .moveCursor(.right))   // radiological: screen right is the subject's left
        #expect(state.cursor == [9, 15, 4])
        _ = reduce(&state, .selectPlane(.coronal))
        _ = reduce(&state, .moveCursor(.down))    // coronal: down is inferior (-z)
        #expect(state.cursor == [9, 15, 3])
        for _ in 0..<50 { _ = reduce(&state, .moveCursor(.down)) }
        #expect(state.cursor.z == 0)
        // hjkl are the same actions as the arrows.
        #expect(KeyTable.action(for: .character("h"), in: .normal) == .moveCursor(.left))
        #expect(KeyTable.action(for: .left, in: .normal) == .moveCursor(.left))
        #expect(KeyTable.action(for: .character("k"), in: .normal) == .moveCursor(.up))
    }

    @Test func labelNameUnderTheCrosshairFollowsIt() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        state.cursor = [15, 14, 4]
        var t = runRecorded(&state, [])
        #expect(t.screen!.text(row: 38).contains("Right half (2)"))
        state.cursor = [15, 2, 4]
        t = runRecorded(&state, [])
        #expect(t.screen!.text(row: 38).contains("background"))
        // The panel lists both labels and marks the one under the crosshair.
        state.cursor = [3, 14, 4]
        t = runRecorded(&state, [])
        let panelRows = t.screen!.rows(containing: "Left half")
        #expect(panelRows.count == 2)  // panel row and status bar
        #expect(t.screen!.text(row: panelRows[0]).contains("▶██   1 Left half"))
    }

    @Test func helpIsGeneratedFromTheKeyTableAndAnyKeyClosesIt() {
        // 160x50: with the command-line and editing keys the key page needs more than 120x40.
        let size = TerminalSize(columns: 160, rows: 50)
        var state = WorkbenchState(document: phantomDocument(), size: size)
        // Scrolled to the end (the help scrolls when it does not fit), every binding was on screen.
        var t = runRecorded(&state, keys("?"), size: size)
        var text = t.screen!.text
        for _ in 0..<4 { t = runRecorded(&state, [.key(.pageDown)], size: size); text += "\n" + t.screen!.text }
        #expect(state.mode == .help)
        #expect(text.contains("voxterm keys"))
        for b in KeyTable.normal { #expect(text.contains(b.help), "help lacks \(b.help)") }
        #expect(text.contains("PgUp ]"))
        t = runRecorded(&state, [.key(.escape)], size: size)
        #expect(state.mode == .normal)
        #expect(t.screen!.text(row: 48).contains("axial slice"))
    }

    @Test func quitKeysAndEndOfInputStopTheLoop() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        let t = RecordingTerminal(size: size, events: keys("q") + keys("c"))
        WorkbenchApp.run(&state, terminal: t, cache: SliceCache()) { _, _ in "" }
        #expect(state.quitRequested)
        #expect(t.pendingEvents == keys("c"))  // nothing after q was read
        var s2 = WorkbenchState(document: phantomDocument(), size: size)
        runRecorded(&s2, [.key(.control("c"))])
        #expect(s2.quitRequested)
        #expect(s2.interrupted)  // Ctrl-C exits with 130, q with 0
        #expect(!state.interrupted)
    }

    @Test func tooSmallTerminalSaysSoAndResizeRecovers() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        var t = runRecorded(&state, [.resize(TerminalSize(columns: 30, rows: 8))], size: size)
        #expect(t.screen!.text.contains("Terminal too small: 30x8"))
        #expect(t.screen!.text.contains("at least 40x12"))
        t = runRecorded(&state, [.resize(TerminalSize(columns: 100, rows: 30))], size: TerminalSize(columns: 30, rows: 8))
        #expect(t.screen!.size == TerminalSize(columns: 100, rows: 30))
        #expect(t.screen!.text(row: 28).contains("axial slice 4/9"))
    }

    @Test func windowKeysNarrowShiftAndRestore() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        let auto = state.window
        _ = reduce(&state, KeyTable.action(for: .character("w"), in: .normal)!)
        #expect(abs((state.window.high - state.window.low) - 0.8 * (auto.high - auto.low)) < 1e-9)
        _ = reduce(&state, KeyTable.action(for: .character(">"), in: .normal)!)
        #expect(state.window.low > auto.low)
        _ = reduce(&state, .autoWindow)
        #expect(state.window == auto)
    }

    @Test func zoomPansToKeepTheCrosshairVisible() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        _ = reduce(&state, .zoomIn); _ = reduce(&state, .zoomIn); _ = reduce(&state, .zoomIn)
        #expect(state.zoom > 3)
        for _ in 0..<9 { _ = reduce(&state, .moveCursor(.left)) }
        #expect(state.cursor.x == 0)
        let layout = ScreenLayout(state)
        let t = state.viewTransform(for: layout.panes[0])
        let p = t.pixel(ofDisplay: SIMD2(0, 15))
        #expect(p.x >= 0 && p.x < Double(t.pixelWidth), "crosshair at pixel \(p.x) of \(t.pixelWidth)")
        _ = reduce(&state, .resetZoom)
        #expect(state.zoom == 1 && state.pan.isEmpty)
    }
}
