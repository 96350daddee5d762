import Testing
import VoxtermModel
import SliceRendering
import Terminal
import TestSupport
@testable import Workbench

/// The support panel's focus mode: while the panel is on screen, n/N/g act on its rows (an explicit
/// table in `KeyTable`, shown in the help), not through a hidden remap in the reducer.
@Suite struct KeyFocusTests {
    @Test func panelShownSwitchesTheFocusAndTheKeys() {
        var state = WorkbenchState(document: phantomDocument(), size: TerminalSize(columns: 120, rows: 40))
        #expect(state.keyFocus == .images)
        #expect(WorkbenchApp.action(for: .key(.character("n")), state: state) == .moveLabelSelection(1))
        _ = reduce(&state, .curation(.togglePanel))
        #expect(state.keyFocus == .supportPanel)
        #expect(WorkbenchApp.action(for: .key(.character("n")), state: state) == .curation(.moveSelection(1)))
        #expect(WorkbenchApp.action(for: .key(.character("N")), state: state) == .curation(.moveSelection(-1)))
        #expect(WorkbenchApp.action(for: .key(.character("g")), state: state) == .curation(.goToSelected))
        // Other keys keep their normal meaning.
        #expect(WorkbenchApp.action(for: .key(.character("h")), state: state) == .moveCursor(.left))
        // Too narrow for the panel: the focus falls back to the images.
        _ = reduce(&state, .resize(TerminalSize(columns: 60, rows: 30)))
        #expect(state.keyFocus == .images)
        #expect(WorkbenchApp.action(for: .key(.character("n")), state: state) == .moveLabelSelection(1))
    }

    @Test func helpListsThePanelFocusKeys() {
        var state = WorkbenchState(document: phantomDocument(), size: TerminalSize(columns: 200, rows: 60))
        _ = reduce(&state, .showHelp)
        let text = WorkbenchView.render(state, cache: SliceCache()).text
        for b in KeyTable.supportPanel { #expect(text.contains(b.help), "help lacks \(b.help)") }
        #expect(text.contains("Support panel (while shown)"))
    }
}
