/// Turns successive cell grids into the bytes that update a terminal: cursor moves, SGR colour
/// changes and UTF-8 glyphs, for the cells that changed since the last grid only.
///
/// Colours are written as SGR sequences directly (`38;2;r;g;b` in direct colour, `38;5;n` in
/// 256 colours, `3x/9x` in 16), so direct colour works even when terminfo has no `RGB` flag.
public struct ScreenEncoder: Sendable {
    /// The grid the terminal currently shows, or nil when unknown (start, resize, after `invalidate`).
    public private(set) var previous: CellGrid?
    public var capabilities: TerminalCapabilities

    public init(capabilities: TerminalCapabilities) { self.capabilities = capabilities }

    /// Forgets what the screen shows, so the next `encode` repaints every cell.
    public mutating func invalidate() { previous = nil }

    private var out: [UInt8] = []
    private var pen = Pen()
    private var cursor: (x: Int, y: Int)? = nil

    private struct Pen: Equatable {
        var fg: CellColor = .default
        var bg: CellColor = .default
        var attributes: CellAttributes = []
    }

    /// The bytes that bring the screen from the previous grid to `grid`; empty when nothing changed.
    ///
    /// Pictures (`grid.images`) are sent after the cells, only when one of them changed: a
    /// change in where they are (or fewer of them) repaints the whole screen first, which erases
    /// sixel pixels; kitty placements are deleted and placed again.
    public mutating func encode(_ grid: CellGrid) -> [UInt8] {
        out.removeAll(keepingCapacity: true)
        let oldImages = previous?.images ?? []
        let imagesMoved = oldImages.map(\.rect) != grid.images.map(\.rect)
        let full = previous?.size != grid.size || (imagesMoved && !oldImages.isEmpty)
        // The pen is unknown at the start of each update: something else may have written.
        pen = Pen()
        cursor = nil
        var penKnown = false
        if full {
            append("\u{1B}[0m\u{1B}[H\u{1B}[2J")
            penKnown = true
            cursor = (0, 0)
        }
        let w = grid.width
        grid.cells.withUnsafeBufferPointer { cells in
            let prev = full ? nil : previous!.cells
            for y in 0..<grid.height {
                for x in 0..<w {
                    let c = cells[y * w + x]
                    if let prev { if prev[y * w + x] == c { continue } } else if c == .blank { continue }
                    if cursor == nil || cursor! != (x, y) {
                        moveCursor(x, y)
                    }
                    if !penKnown { append("\u{1B}[0m"); pen = Pen(); penKnown = true }
                    setPen(c)
                    appendGlyph(c.character)
                    cursor = x + 1 < w ? (x + 1, y) : nil
                }
            }
        }
        if !out.isEmpty { append("\u{1B}[0m") }
        if let g = capabilities.graphics, full || oldImages != grid.images {
            if g.protocol == .kitty && (!oldImages.isEmpty || full) { append("\u{1B}_Ga=d,q=2\u{1B}\\") }
            for image in grid.images where image.rect.width > 0 && image.rect.height > 0 {
                moveCursor(image.rect.x, image.rect.y)
                if g.protocol == .kitty, let png = image.png {
                    out += KittyGraphics.place(png: png, columns: image.rect.width, rows: image.rect.height)
                    continue
                }
                out += Chafa.encode(rgba: image.rgba, width: image.width, height: image.height,
                                    columns: image.rect.width, rows: image.rect.height,
                                    cellWidth: g.cellWidth, cellHeight: g.cellHeight, protocol: g.protocol)
            }
            cursor = nil
        }
        previous = grid
        return out
    }

    private mutating func moveCursor(_ x: Int, _ y: Int) {
        out.append(0x1B); out.append(UInt8(ascii: "["))
        appendNumber(y + 1); out.append(UInt8(ascii: ";")); appendNumber(x + 1)
        out.append(UInt8(ascii: "H"))
        cursor = (x, y)
    }

    private mutating func setPen(_ c: Cell) {
        let depth = capabilities.colorDepth
        let fg = depth == .monochrome ? .default : c.foreground
        let bg = depth == .monochrome ? .default : c.background
        if c.attributes != pen.attributes {
            // Attributes can only be cleared by a full reset, which also resets colours.
            append("\u{1B}[0")
            if c.attributes.contains(.bold) { append(";1") }
            if c.attributes.contains(.dim) { append(";2") }
            if c.attributes.contains(.underline) { append(";4") }
            if c.attributes.contains(.reverse) { append(";7") }
            out.append(UInt8(ascii: "m"))
            pen = Pen(fg: .default, bg: .default, attributes: c.attributes)
        }
        if fg != pen.fg || bg != pen.bg {
            out.append(0x1B); out.append(UInt8(ascii: "["))
            var first = true
            if fg != pen.fg { appendColor(fg, background: false); first = false }
            if bg != pen.bg { if !first { out.append(UInt8(ascii: ";")) }; appendColor(bg, background: true) }
            out.append(UInt8(ascii: "m"))
            pen.fg = fg; pen.bg = bg
        }
    }

    private mutating func appendColor(_ color: CellColor, background: Bool) {
        switch color {
        case .default:
            append(background ? "49" : "39")
        case .rgb(let c):
            switch capabilities.colorDepth {
            case .trueColor:
                append(background ? "48;2;" : "38;2;")
                appendNumber(Int(c.r)); out.append(UInt8(ascii: ";"))
                appendNumber(Int(c.g)); out.append(UInt8(ascii: ";")); appendNumber(Int(c.b))
            case .palette256:
                append(background ? "48;5;" : "38;5;"); appendNumber(Int(Palette.nearest256(c)))
            case .palette16, .monochrome:
                appendANSI(Int(Palette.nearest16(c)), background: background)
            }
        case .indexed(let n):
            if capabilities.colorDepth == .palette16 || capabilities.colorDepth == .monochrome || n < 16 {
                appendANSI(n < 16 ? Int(n) : Int(Palette.nearest16(Palette.rgb(ofIndex: n))), background: background)
            } else {
                append(background ? "48;5;" : "38;5;"); appendNumber(Int(n))
            }
        }
    }

    private mutating func appendANSI(_ n: Int, background: Bool) {
        let base = n < 8 ? (background ? 40 : 30) : (background ? 100 : 90)
        appendNumber(base + n % 8)
    }

    private mutating func appendGlyph(_ s: Unicode.Scalar) {
        var s = s
        if !capabilities.unicode && s.value > 0x7E { s = ScreenEncoder.asciiFallback(s) }
        if s.value < 0x80 { out.append(UInt8(s.value)); return }
        for b in String(s).utf8 { out.append(b) }
    }

    /// An ASCII stand-in for a non-ASCII glyph, for terminals without UTF-8.
    public static func asciiFallback(_ s: Unicode.Scalar) -> Unicode.Scalar {
        switch s.value {
        case 0x2500, 0x2501, 0x2504, 0x254C: "-"
        case 0x2502, 0x2503, 0x2506, 0x254E: "|"
        case 0x250C...0x254B, 0x256D...0x2570: "+"
        case 0x2580...0x259F: "#"
        case 0x2190: "<"
        case 0x2192: ">"
        case 0x2191: "^"
        case 0x2193: "v"
        case 0x00B7, 0x2022, 0x25CF: "*"
        case 0x00D7: "x"
        case 0x2212, 0x2013, 0x2014: "-"
        case 0x2026: "."
        case 0x25A0, 0x25AA, 0x25FC: "#"
        case 0x25B6, 0x25B8, 0x25BA: ">"
        case 0x25C0, 0x25C2, 0x25C4: "<"
        case 0x00B0: "o"
        default: "?"
        }
    }

    private mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    private mutating func appendNumber(_ n: Int) {
        if n < 0 || n >= 1000 { for b in String(n).utf8 { out.append(b) }; return }
        if n >= 100 { out.append(UInt8(48 + n / 100)) }
        if n >= 10 { out.append(UInt8(48 + (n / 10) % 10)) }
        out.append(UInt8(48 + n % 10))
    }
}
