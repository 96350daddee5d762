import Testing
@testable import Terminal

private func string(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

@Suite("ScreenEncoder")
struct ScreenEncoderTests {
    let size = TerminalSize(columns: 8, rows: 3)

    @Test func firstFrameClearsAndDrawsOnlyNonBlankCells() {
        var e = ScreenEncoder(capabilities: .init(colorDepth: .trueColor, unicode: true))
        var g = CellGrid(size: size)
        g.put("hi", x: 3, y: 1)
        let s = string(e.encode(g))
        #expect(s.hasPrefix("\u{1B}[0m\u{1B}[H\u{1B}[2J"))
        #expect(s.contains("\u{1B}[2;4Hhi"))
    }

    @Test func unchangedFrameWritesNothingAndOneChangedCellWritesLittle() {
        var e = ScreenEncoder(capabilities: .init(colorDepth: .trueColor, unicode: true))
        var g = CellGrid(size: size, fill: Cell("▀", foreground: .rgb(RGB(10, 20, 30)), background: .rgb(.white)))
        _ = e.encode(g)
        #expect(e.encode(g).isEmpty)
        g[7, 2] = Cell("x", foreground: .rgb(RGB(255, 0, 0)))
        let s = string(e.encode(g))
        #expect(s == "\u{1B}[3;8H\u{1B}[0m\u{1B}[38;2;255;0;0mx\u{1B}[0m")
    }

    @Test func consecutiveChangedCellsShareOneCursorMoveAndPen() {
        var e = ScreenEncoder(capabilities: .init(colorDepth: .palette256, unicode: true))
        var g = CellGrid(size: size)
        _ = e.encode(g)
        g.put("abc", x: 1, y: 0, foreground: .indexed(200), background: .indexed(16))
        let s = string(e.encode(g))
        #expect(s == "\u{1B}[1;2H\u{1B}[0m\u{1B}[38;5;200;48;5;16mabc\u{1B}[0m")
    }

    @Test func colourDepthsUseTheirOwnSGRForms() {
        var g = CellGrid(size: TerminalSize(columns: 1, rows: 1))
        g[0, 0] = Cell("▀", foreground: .rgb(RGB(255, 0, 0)), background: .rgb(RGB(128, 128, 128)))
        var t = ScreenEncoder(capabilities: .init(colorDepth: .trueColor, unicode: true))
        #expect(string(t.encode(g)).contains("38;2;255;0;0;48;2;128;128;128m▀"))
        var p = ScreenEncoder(capabilities: .init(colorDepth: .palette256, unicode: true))
        #expect(string(p.encode(g)).contains("38;5;196;48;5;244m▀"))
        var a = ScreenEncoder(capabilities: .init(colorDepth: .palette16, unicode: true))
        #expect(string(a.encode(g)).contains("\u{1B}[91;100m▀"))
        var m = ScreenEncoder(capabilities: .init(colorDepth: .monochrome, unicode: false))
        let mono = m.encode(g)
        #expect(!string(mono).contains("38;"))
        #expect(mono.allSatisfy { $0 < 0x80 })
        #expect(string(mono).hasSuffix("#\u{1B}[0m"))
    }

    @Test func attributesAreResetBeforeColours() {
        var e = ScreenEncoder(capabilities: .init(colorDepth: .trueColor, unicode: true))
        var g = CellGrid(size: TerminalSize(columns: 2, rows: 1))
        g[0, 0] = Cell("A", attributes: [.bold, .reverse])
        g[1, 0] = Cell("B")
        let s = string(e.encode(g))
        #expect(s.contains("\u{1B}[0;1;7mA\u{1B}[0mB"))
    }

    @Test func sizeChangeRepaintsEverything() {
        var e = ScreenEncoder(capabilities: .init(colorDepth: .trueColor, unicode: true))
        let g = CellGrid(size: size, fill: Cell("x"))
        _ = e.encode(g)
        let bigger = CellGrid(size: TerminalSize(columns: 9, rows: 3), fill: Cell("x"))
        let s = string(e.encode(bigger))
        #expect(s.contains("\u{1B}[2J"))
        #expect(s.filter { $0 == "x" }.count == 27)
    }
}

@Suite("Palette and half blocks")
struct PaletteTests {
    @Test func paletteGreysAndCubeMapToThemselves() {
        for n in UInt8(16)...255 {
            let c = Palette.rgb(ofIndex: n)
            #expect(Palette.rgb(ofIndex: Palette.nearest256(c)) == c, "entry \(n)")
        }
    }

    @Test func ditheredGreyAveragesToTheInputWithinTwoLevels() {
        // Over a 4x4 Bayer tile the mean of the dithered greys must track the input closely,
        // much closer than the ~10-level steps of the palette alone.
        var worst = 0.0
        for v in stride(from: 0, through: 255, by: 3) {
            var sum = 0.0
            for y in 0..<4 { for x in 0..<4 { sum += Double(Palette.rgb(ofIndex: Palette.dithered256(RGB(grey: UInt8(v)), x: x, y: y)).r) } }
            worst = max(worst, abs(sum / 16 - Double(v)))
        }
        #expect(worst <= 3.5, "worst mean error \(worst)")
    }

    @Test func ditheredColourStaysNearTheInput() {
        let c = RGB(200, 60, 30)
        var sum = SIMD3<Double>(0, 0, 0)
        for y in 0..<4 { for x in 0..<4 {
            let p = Palette.rgb(ofIndex: Palette.dithered256(c, x: x, y: y))
            sum += SIMD3(Double(p.r), Double(p.g), Double(p.b))
        } }
        let mean = sum / 16
        #expect(abs(mean.x - 200) < 8 && abs(mean.y - 60) < 8 && abs(mean.z - 30) < 8, "\(mean)")
    }

    @Test func sixteenColourGreysUseFourLevels() {
        #expect(Palette.dithered16(RGB(grey: 0), x: 0, y: 0) == 0)
        #expect(Palette.dithered16(RGB(grey: 255), x: 3, y: 3) == 15)
        let mid = Set((0..<16).map { Palette.dithered16(RGB(grey: 180), x: $0 % 4, y: $0 / 4) })
        #expect(mid == [8, 7])
        #expect(Palette.nearest16(RGB(250, 10, 10)) == 9)
    }

    @Test func halfBlocksPutTheUpperPixelInFrontAndTheLowerBehind() {
        var img = PixelImage(width: 2, height: 4)
        img[0, 0] = RGB(255, 0, 0); img[0, 1] = RGB(0, 0, 255)
        img[1, 2] = RGB(9, 9, 9); img[1, 3] = RGB(9, 9, 9)
        var g = CellGrid(size: TerminalSize(columns: 4, rows: 3))
        HalfBlocks.draw(img, into: &g, at: CellRect(x: 1, y: 1, width: 2, height: 2),
                        capabilities: .init(colorDepth: .trueColor, unicode: true))
        #expect(g[1, 1] == Cell("▀", foreground: .rgb(RGB(255, 0, 0)), background: .rgb(RGB(0, 0, 255))))
        #expect(g[2, 2] == Cell(" ", foreground: .rgb(RGB(9, 9, 9)), background: .rgb(RGB(9, 9, 9))))
        #expect(g[0, 0] == .blank)
    }

    @Test func fallbacksWithoutUnicodeOrColour() {
        let white = RGB.white, black = RGB.black
        let ascii = HalfBlocks.cell(upper: white, lower: white, x: 0, y: 0, depth: .palette256, unicode: false)
        #expect(ascii.character == " ")
        #expect(ascii.background == .indexed(231))
        #expect(HalfBlocks.cell(upper: white, lower: white, x: 0, y: 0, depth: .monochrome, unicode: false).character == "@")
        #expect(HalfBlocks.cell(upper: black, lower: black, x: 0, y: 0, depth: .monochrome, unicode: true).character == " ")
    }
}
