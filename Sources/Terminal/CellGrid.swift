/// A rectangle of cells, in columns and rows from the top-left corner.
public struct CellRect: Hashable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = max(0, width); self.height = max(0, height)
    }

    /// True when the cell (cx, cy) lies inside.
    @inlinable public func contains(_ cx: Int, _ cy: Int) -> Bool {
        cx >= x && cy >= y && cx < x + width && cy < y + height
    }

    /// True when the rectangle holds no cell.
    public var isEmpty: Bool { width <= 0 || height <= 0 }
}

/// A screenful of cells: what a view draws and what a terminal presents.
public struct CellGrid: Equatable, Sendable {
    public private(set) var size: TerminalSize
    /// Cells row by row (row-major), `size.columns * size.rows` of them.
    public internal(set) var cells: [Cell]
    /// Pictures drawn over cells by the terminal's graphics protocol (kitty or sixel), in order.
    public var images: [PlacedImage] = []

    /// A grid of `size`, filled with `fill`.
    public init(size: TerminalSize, fill: Cell = .blank) {
        self.size = TerminalSize(columns: max(0, size.columns), rows: max(0, size.rows))
        cells = [Cell](repeating: fill, count: self.size.columns * self.size.rows)
    }

    public var width: Int { size.columns }
    public var height: Int { size.rows }

    /// The cell at column x, row y; reads outside return a blank, writes outside are ignored.
    public subscript(x: Int, y: Int) -> Cell {
        get { x >= 0 && y >= 0 && x < size.columns && y < size.rows ? cells[y * size.columns + x] : .blank }
        set { if x >= 0 && y >= 0 && x < size.columns && y < size.rows { cells[y * size.columns + x] = newValue } }
    }

    /// Fills a rectangle (clipped to the grid).
    public mutating func fill(_ rect: CellRect, with cell: Cell) {
        let x0 = max(0, rect.x), x1 = min(size.columns, rect.x + rect.width)
        let y0 = max(0, rect.y), y1 = min(size.rows, rect.y + rect.height)
        guard x0 < x1 else { return }
        for y in max(0, y0)..<max(y0, y1) { for x in x0..<x1 { cells[y * size.columns + x] = cell } }
    }

    /// Writes `text` from (x, y) to the right, clipped to the grid and to `maxWidth` columns.
    /// Characters wider than one column are replaced by `?` so the grid stays aligned.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, foreground: CellColor = .default,
                             background: CellColor = .default, attributes: CellAttributes = [],
                             maxWidth: Int = .max) -> Int {
        var cx = x
        let limit = maxWidth == .max ? Int.max : x + maxWidth
        for s in text.unicodeScalars {
            if cx >= limit || cx >= size.columns { break }
            let ch: Unicode.Scalar = CellGrid.isSingleWidth(s) ? s : "?"
            if s.properties.generalCategory == .nonspacingMark { continue }
            self[cx, y] = Cell(ch, foreground: foreground, background: background, attributes: attributes)
            cx += 1
        }
        return cx - x
    }

    /// Copies `other` into this grid with its top-left corner at (x, y), clipped.
    public mutating func blit(_ other: CellGrid, x: Int, y: Int) {
        for oy in 0..<other.height {
            for ox in 0..<other.width { self[x + ox, y + oy] = other[ox, oy] }
        }
    }

    /// The text of row `y`, without colours, trailing blanks kept.
    public func text(row y: Int) -> String {
        var s = String.UnicodeScalarView()
        for x in 0..<size.columns { s.append(self[x, y].character) }
        return String(s)
    }

    /// The whole grid as text, one line per row, trailing blanks removed.
    public var text: String {
        (0..<size.rows).map { r -> String in
            var line = text(row: r)
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// Number of cells that differ from `other` (all of them when the sizes differ).
    public func changedCellCount(from other: CellGrid) -> Int {
        guard other.size == size else { return cells.count }
        var n = 0
        for i in 0..<cells.count where cells[i] != other.cells[i] { n += 1 }
        return n
    }

    /// True for scalars a terminal shows in exactly one column (conservative: no East Asian wide,
    /// no emoji, no controls).
    public static func isSingleWidth(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return false }
        if v < 0x1100 { return true }
        if (0x2000...0x2BFF).contains(v) { return true }  // punctuation, arrows, box drawing, blocks, shapes
        if (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || v >= 0x1F000 { return false }
        return true
    }
}
