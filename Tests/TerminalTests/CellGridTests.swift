import Testing
@testable import Terminal

@Suite("CellGrid")
struct CellGridTests {
    @Test func putClipsAtTheRightEdgeAndReturnsWidth() {
        var g = CellGrid(size: TerminalSize(columns: 5, rows: 2))
        let n = g.put("abcdefg", x: 2, y: 1)
        #expect(n == 3)
        #expect(g.text == "\n  abc")
    }

    @Test func wideCharactersBecomeQuestionMarksSoColumnsStayAligned() {
        var g = CellGrid(size: TerminalSize(columns: 6, rows: 1))
        g.put("a漢b▀", x: 0, y: 0)
        #expect(g.text(row: 0) == "a?b▀  ")
    }

    @Test func outOfRangeWritesAreIgnoredAndReadsAreBlank() {
        var g = CellGrid(size: TerminalSize(columns: 2, rows: 2))
        g[5, 5] = Cell("x")
        g[-1, 0] = Cell("x")
        #expect(g[5, 5] == .blank)
        #expect(g.cells.allSatisfy { $0 == .blank })
    }

    @Test func fillAndChangedCellCount() {
        var a = CellGrid(size: TerminalSize(columns: 4, rows: 3))
        var b = a
        b.fill(CellRect(x: 1, y: 1, width: 10, height: 1), with: Cell("#"))
        #expect(b.changedCellCount(from: a) == 3)
        a.blit(b, x: 0, y: 0)
        #expect(a == b)
        #expect(b.changedCellCount(from: CellGrid(size: TerminalSize(columns: 1, rows: 1))) == 12)
    }
}

@Suite("Capabilities")
struct CapabilityTests {
    @Test func colortermTruecolorWinsOverA256ColourTerminfo() {
        let c = TerminalCapabilities.detect(environment: ["COLORTERM": "truecolor"], terminfoColors: 256,
                                            terminfoRGB: false, codesetIsUTF8: true)
        #expect(c == TerminalCapabilities(colorDepth: .trueColor, unicode: true))
    }

    @Test func terminfoDecidesWithoutColorterm() {
        #expect(TerminalCapabilities.detect(environment: [:], terminfoColors: 256, terminfoRGB: false, codesetIsUTF8: true).colorDepth == .palette256)
        #expect(TerminalCapabilities.detect(environment: [:], terminfoColors: 8, terminfoRGB: false, codesetIsUTF8: true).colorDepth == .palette16)
        #expect(TerminalCapabilities.detect(environment: [:], terminfoColors: -1, terminfoRGB: false, codesetIsUTF8: true).colorDepth == .monochrome)
        #expect(TerminalCapabilities.detect(environment: [:], terminfoColors: 256, terminfoRGB: true, codesetIsUTF8: true).colorDepth == .trueColor)
    }

    @Test func overridesAndNonUTF8() {
        let c = TerminalCapabilities.detect(environment: ["COLORTERM": "truecolor", "VOXTERM_COLOR": "16", "VOXTERM_ASCII": "1"],
                                            terminfoColors: 256, terminfoRGB: false, codesetIsUTF8: true)
        #expect(c == TerminalCapabilities(colorDepth: .palette16, unicode: false))
        #expect(!TerminalCapabilities.detect(environment: [:], terminfoColors: 256, terminfoRGB: false, codesetIsUTF8: false).unicode)
    }
}

@Suite("RecordingTerminal")
struct RecordingTerminalTests {
    @Test func replaysEventsThenReportsClosedAndTracksResize() {
        let t = RecordingTerminal(size: TerminalSize(columns: 10, rows: 4),
                                  events: [.key(.character("a")), .resize(TerminalSize(columns: 20, rows: 5))])
        #expect(t.nextEvent(timeoutMilliseconds: nil) == .key(.character("a")))
        #expect(t.nextEvent(timeoutMilliseconds: nil) == .resize(TerminalSize(columns: 20, rows: 5)))
        #expect(t.size == TerminalSize(columns: 20, rows: 5))
        #expect(t.nextEvent(timeoutMilliseconds: 10) == nil)
        #expect(t.nextEvent(timeoutMilliseconds: nil) == .closed)
    }
}
