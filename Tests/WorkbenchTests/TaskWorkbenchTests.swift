import Foundation
import Testing
import VoxtermModel
import TestSupport
import SliceRendering
import Terminal
@testable import Workbench

/// Issue 14 in the reducer and views: command line, counts, search, label editing, quitting with
/// unsaved edits, a prediction turned into labels.
@Suite("Command line, navigation and label editing in the workbench")
struct TaskWorkbenchTests {
    let size = TerminalSize(columns: 120, rows: 40)
    func type(_ s: String) -> [InputEvent] { [.key(.character(":"))] + s.map { .key(.character($0)) } + [.key(.enter)] }

    @Test func commandsGotoVoxelSliceAndLabelAndShowErrorsInTheStatusRow() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        var t = runRecorded(&state, type("goto 3,4,5"))
        #expect(state.cursor == [3, 4, 5])
        t = runRecorded(&state, type("goto 7"))
        #expect(state.cursor.z == 7)
        #expect(t.screen!.text(row: 38).contains("axial slice 7/9"))
        // Right half (label 2) by a prefix of its name: the voxel nearest its centroid.
        _ = runRecorded(&state, type("goto right"))
        let expected = referenceNearestToCentroid(2, state.document.labels!)
        #expect(state.cursor == expected && state.selectedLabel == 2)
        t = runRecorded(&state, type("goto 3,4,99"))
        #expect(t.screen!.text(row: 39).contains("error: goto: voxel 3,4,99 is outside"), "\(t.screen!.text(row: 39))")
        // While the line is open it is drawn in the bottom row with its prompt.
        t = runRecorded(&state, [.key(.character(":")), .key(.character("g")), .key(.character("o"))])
        #expect(t.screen!.text(row: 39).hasPrefix(":go"))
    }

    @Test func countsRepeatKeysAndScaleSliceSteps() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        state.cursor = [5, 5, 0]
        _ = runRecorded(&state, keys("3]"))
        #expect(state.cursor.z == 3)
        _ = runRecorded(&state, keys("4l"))
        #expect(state.cursor.x == 9)
        // 0 continues a count, alone it fits the view.
        state.zoom = 2
        _ = runRecorded(&state, keys("10["))
        #expect(state.cursor.z == 0 && state.zoom == 2)
        _ = runRecorded(&state, keys("0"))
        #expect(state.zoom == 1)
    }

    @Test func searchSelectsMatchingLabelsAndNCycles() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        _ = runRecorded(&state, [.key(.character("/"))] + keys("half") + [.key(.enter)])
        #expect(state.selectedLabel == 1 && state.navigation.search == "half")
        _ = runRecorded(&state, keys("n"))
        #expect(state.selectedLabel == 2)
        _ = runRecorded(&state, keys("n"))
        #expect(state.selectedLabel == 1)
    }

    @Test func paintModePaintsAlongMovesUndoRedoAndQuitAsksOnce() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        let before = state.document.labels!.labels
        state.cursor = [2, 2, 4]
        _ = reduce(&state, .command(.run(.set(.brush(0)))))
        _ = reduce(&state, .command(.run(.selectLabel("2"))))
        _ = runRecorded(&state, keys("B") + keys("3l") + keys("B"))
        let l = state.document.labels!
        #expect((2...5).allSatisfy { l[$0, 2, 4] == 2 })
        #expect(l[6, 2, 4] == 0 && l[2, 3, 4] == 0)
        #expect(state.editing.history.undoStack.count == 4 && state.editing.unsaved)
        _ = runRecorded(&state, keys("UUUU"))
        #expect(state.document.labels!.labels == before)
        _ = runRecorded(&state, [.key(.control("r")), .key(.control("y"))])
        #expect(state.document.labels![3, 2, 4] == 2 && state.document.labels![4, 2, 4] == 0)
        // Quit with unsaved edits: asked once, the second quits (input ending quits without asking).
        _ = reduce(&state, .editing(.stampAtCursor))
        state.quitRequested = false
        #expect(reduce(&state, .quit).isEmpty && !state.quitRequested)
        #expect(state.message?.contains("unsaved label edits") == true)
        #expect(reduce(&state, .quit) == [.quit] && state.quitRequested)
    }

    @Test func fillAndReplaceOnTheSliceOrTheVolume() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        state.cursor = [2, 10, 4]          // inside label 1 (left half)
        _ = reduce(&state, .command(.run(.selectLabel("2"))))
        _ = reduce(&state, .editing(.fill))
        let l = state.document.labels!
        #expect((0..<10).allSatisfy { l[$0, 10, 4] == 2 } && l[2, 10, 3] == 1)
        _ = reduce(&state, .command(.run(.replace(old: "2", new: "0", volume: true))))
        #expect(!state.document.labels!.labels.contains(2))
        _ = reduce(&state, .editing(.undo))
        _ = reduce(&state, .editing(.undo))
        #expect(state.document.labels!.labels == phantomDocument().labels!.labels)
    }

    @Test func editingAShownPredictionMakesItTheLabels() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        let g = state.document.image.geometry
        var predicted = LabelVolume(geometry: g)
        for n in 0..<predicted.labels.count where n % 2 == 0 { predicted.labels[n] = 2 }
        state.curation.outcome = PredictionOutcome(id: 1, scope: .volume,
                                                   prediction: Prediction(labels: predicted, confidence: Volume(geometry: g)),
                                                   method: "test")
        state.curation.display = .labels
        state.cursor = [1, 1, 1]
        _ = reduce(&state, .command(.run(.set(.brush(0)))))
        _ = reduce(&state, .command(.run(.selectLabel("1"))))
        _ = reduce(&state, .editing(.stampAtCursor))
        #expect(state.curation.outcome == nil && state.document.labelsPath == nil && state.editing.unsaved)
        var expected = predicted
        expected[1, 1, 1] = 1
        #expect(state.document.labels!.labels == expected.labels)
    }

    @Test func helpListsKeysWithTheirCommandNamesAndTheCommands() {
        var state = WorkbenchState(document: phantomDocument(), size: TerminalSize(columns: 240, rows: 80))
        var t = runRecorded(&state, keys("?"), size: TerminalSize(columns: 240, rows: 80))
        var text = t.screen!.text
        #expect(text.contains("Find & measure") && text.contains("Edit labels"))
        t = runRecorded(&state, [.key(.tab)], size: TerminalSize(columns: 240, rows: 80))
        text = t.screen!.text
        // The commands page scrolls when it does not fit (issue 18's help scrolling): read it to the end.
        for _ in 0..<4 { text += "\n" + runRecorded(&state, [.key(.pageDown)], size: TerminalSize(columns: 240, rows: 80)).screen!.text }
        #expect(text.contains(":zoom-in") && text.contains(":paint") && text.contains(":goto") && text.contains(":support"), "\(text)")
        // Every key-table action that has a name is listed by it.
        for b in KeyTable.table(for: .normal) {
            if let n = CommandNames.name(of: b.action) { #expect(text.contains(":" + n), "help lacks :\(n)") }
        }
    }
}

extension TaskWorkbenchTests {
    @Test func shiftArrowsMoveTenVoxelsAndOpenLabelsReadsAFileWithItsTable() throws {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        state.cursor = [2, 5, 4]
        _ = runRecorded(&state, [.key(.shiftRight)])
        #expect(state.cursor.x == 12)
        // :open labels PATH, as the run loop does it: the file work, then its action.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("task-open-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var l = LabelVolume(geometry: state.document.image.geometry)
        l[1, 1, 1] = 7
        let path = dir.appendingPathComponent("x_atlas.nii.gz").path
        try NIfTIWriter.write(l, to: path)
        try "7 Seven\n".write(toFile: dir.appendingPathComponent("atlas.txt").path, atomically: true, encoding: .utf8)
        let effects = reduce(&state, .command(.run(.open(.labels, path))))
        guard case .command(let e)? = effects.first else { Issue.record("no file work: \(effects)"); return }
        for a in CommandIO.perform(e) { _ = reduce(&state, a) }
        #expect(state.document.presentLabels == [7] && state.document.labelsPath == path)
        #expect(state.document.labelTable.name(of: 7) == "Seven")
        // :save labels refuses to replace an existing file without !, and never an input.
        let out = reduce(&state, .command(.run(.save(.labels, path, force: true))))
        guard case .command(let s)? = out.first else { Issue.record("no save work"); return }
        for a in CommandIO.perform(s) { _ = reduce(&state, a) }
        #expect(state.message?.contains("refusing to overwrite an input") == true, "\(state.message ?? "")")
    }
}
