import Testing
import VoxtermModel
import SliceRendering
import Terminal
@testable import Workbench

/// Views on terminals without UTF-8, the too-small screen, and the loading screen.
@Suite("Fallback, too-small and loading views")
struct FallbackAndLoadingViewTests {
    /// Every screen the workbench draws, in a few states, with Unicode on.
    func screens() -> [CellGrid] {
        var grids: [CellGrid] = []
        let size = TerminalSize(columns: 140, rows: 44)
        for doc in [phantomDocument(), phantomDocument(compare: true, field: true)] {
            var s = WorkbenchState(document: doc, size: size, capabilities: trueColour)
            s.zoom = 2
            grids.append(WorkbenchView.render(s, cache: SliceCache()))
            _ = reduce(&s, .toggleLayout)
            _ = reduce(&s, .cycleCompareMode); _ = reduce(&s, .cycleCompareMode)
            _ = reduce(&s, .toggleOverlay)
            _ = reduce(&s, .toggleSelectedLabel)
            grids.append(WorkbenchView.render(s, cache: SliceCache()))
            _ = reduce(&s, .showHelp)
            grids.append(WorkbenchView.render(s, cache: SliceCache()))
            _ = reduce(&s, .resize(TerminalSize(columns: 20, rows: 6)))
            grids.append(WorkbenchView.render(s, cache: SliceCache()))
        }
        grids.append(LoadingView.render(size: size, files: ["/data/a.nii.gz", "/data/b.nii.gz"]))
        return grids
    }

    @Test func everyGlyphOfTheChromeHasAnASCIIStandIn() {
        // Image cells (block elements) become background colours; every other non-ASCII glyph
        // must have a readable ASCII form rather than '?'.
        var missing: Set<String> = []
        for g in screens() {
            for c in g.cells where c.character.value > 0x7E && !(0x2580...0x259F).contains(c.character.value) {
                if ScreenEncoder.asciiFallback(c.character) == "?" { missing.insert(String(c.character)) }
            }
        }
        #expect(missing.isEmpty, "no ASCII stand-in for \(missing.sorted())")
    }

    @Test func tooSmallMessageWrapsToShowTheSize() {
        var s = WorkbenchState(document: phantomDocument(), size: TerminalSize(columns: 20, rows: 6))
        let g = WorkbenchView.render(s, cache: SliceCache())
        #expect(g.text.contains("Terminal too small"))
        #expect(g.text.contains("20x6"), "\(g.text)")
        #expect(g.text.contains("40x12"))
        s.size = TerminalSize(columns: 8, rows: 3)
        let tiny = WorkbenchView.render(s, cache: SliceCache())
        #expect(tiny.text.contains("Terminal"))
        #expect(WorkbenchView.wordWrap("aaa bbb ccc", width: 7) == ["aaa bbb", "ccc"])
        #expect(WorkbenchView.wordWrap("abcdefghij", width: 4) == ["abcd"])
        #expect(WorkbenchView.wordWrap("x", width: 0) == [])
    }

    @Test func loadingScreenNamesTheFilesAndFitsAnySize() {
        let g = LoadingView.render(size: TerminalSize(columns: 80, rows: 24), files: ["/data/brain.nii.gz", "/x/labels.nii.gz"])
        #expect(g.text.contains("Loading brain.nii.gz, labels.nii.gz"))
        #expect(g.text.contains("Ctrl-C cancels"))
        #expect(g.text(row: 0).contains("voxterm"))
        for size in [TerminalSize(columns: 1, rows: 1), TerminalSize(columns: 10, rows: 2), TerminalSize(columns: 0, rows: 0)] {
            let small = LoadingView.render(size: size, files: ["/data/brain.nii.gz"])
            #expect(small.size == size)
        }
    }
}
