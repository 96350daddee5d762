import VoxtermModel
import SliceRendering
import Terminal

/// How a pane's picture reaches the screen: half blocks in cells (two square pixels per cell, any
/// UTF-8 terminal, tmux included), or a picture at the screen's own pixel size sent as a kitty or
/// sixel image (encoded by libchafa) where the terminal speaks one of them.
enum PaneCanvas: Equatable {
    case halfBlocks
    /// libchafa's symbol mode: a picture of 4 x 8 pixels per cell drawn with block, quadrant and
    /// eighth symbols (`voxterm view --graphics symbols`; compared in `voxterm bench tui --graphics all`).
    case symbols
    case image(GraphicsSupport)

    init(_ capabilities: TerminalCapabilities) {
        if let g = capabilities.graphics { self = .image(g) } else { self = capabilities.chafaSymbols ? .symbols : .halfBlocks }
    }

    /// Screen pixels (or picture pixels) per cell.
    var pixelsPerCell: (x: Int, y: Int) {
        switch self {
        case .halfBlocks: (1, 2)
        case .symbols: (4, 8)
        case .image(let g): (g.cellWidth, g.cellHeight)
        }
    }

    /// The pane's view transform on this canvas: the same zoom and pan, at its pixel size
    /// (cells x 1 x 2 for half blocks; cells x the cell's screen pixels for images, the height
    /// rounded down to whole 6-pixel sixel bands).
    func transform(_ state: WorkbenchState, pane: Pane) -> ViewTransform {
        var t = state.viewTransform(for: pane)
        if self == .halfBlocks { return t }
        let m = state.mapping(pane.plane), p = pixelsPerCell
        t.pixelWidth = max(1, pane.imageRect.width * p.x)
        t.pixelHeight = max(6, SixelGeometry.height(rows: pane.imageRect.height, cellHeight: p.y))
        let wmm = Double(m.width) * t.spacing.x, hmm = Double(m.height) * t.spacing.y
        t.mmPerPixel = max(wmm / Double(t.pixelWidth), hmm / Double(t.pixelHeight)) / max(state.zoom, 1e-6)
        return t
    }

    /// Arrow spacing in voxels for a view magnification: about every 4 half-block pixels (4
    /// columns, 2 rows) in cells, every 28 screen pixels in images, never closer than one voxel.
    func arrowStep(_ t: ViewTransform) -> Int {
        let target: Double
        switch self {
        case .halfBlocks: target = 4
        case .symbols: target = 16
        case .image: target = 28
        }
        return max(1, Int((target / max(t.magnification.min(), 1e-6)).rounded()))
    }

    /// Integer upscaling of the renderer's raster so arrows and grid lines stay crisp at this magnification.
    func rasterScale(_ t: ViewTransform, vectors: Bool) -> Int {
        guard vectors else { return 1 }
        return min(8, max(1, Int(t.magnification.max().rounded(.up))))
    }

    /// Puts `image` (the pane's pixels, crosshair drawn) on the screen in `rect`, with the
    /// orientation letters of `mapping`.
    ///
    /// For kitty terminals the picture also goes as a PNG (`cache` keeps the last few encodings, so
    /// a redraw that does not change the pane does not encode it again).
    func draw(_ image: PixelImage, mapping m: SliceMapping, transform t: ViewTransform, rect: CellRect,
              capabilities: TerminalCapabilities, cache: SliceCache? = nil, into grid: inout CellGrid) {
        switch self {
        case .halfBlocks:
            HalfBlocks.draw(image, into: &grid, at: rect, capabilities: capabilities)
            WorkbenchView.drawLetters(m, transform: t, rect: rect, into: &grid)
        case .symbols:
            let rgba = PaneCanvas.rgba(image)
            let cells = Chafa.symbolCells(rgba: rgba.pixels, width: rgba.width, height: rgba.height,
                                          columns: rect.width, rows: rect.height, symbols: .blocks)
            for y in 0..<rect.height { for x in 0..<rect.width { grid[rect.x + x, rect.y + y] = cells[y * rect.width + x] } }
            // Letters in cells, placed as in half blocks (cell rows are twice the half-block pixel rows).
            var half = t
            half.pixelWidth = rect.width; half.pixelHeight = 2 * rect.height
            half.mmPerPixel = t.mmPerPixel * Double(t.pixelWidth) / Double(rect.width)
            WorkbenchView.drawLetters(m, transform: half, rect: rect, into: &grid)
        case .image(let g):
            var rgba = PaneCanvas.rgba(image)
            PaneCanvas.drawLetters(&rgba, mapping: m, transform: t)
            grid.fill(rect, with: Cell(" ", background: .rgb(.black)))
            let png = g.protocol == .kitty ? (cache ?? SliceCache(capacity: 1)).kittyPNG(rgba) : nil
            grid.images.append(PlacedImage(rect: rect, width: rgba.width, height: rgba.height, rgba: rgba.pixels, png: png))
        }
    }

    /// The pane's pixels as an opaque RGBA picture.
    static func rgba(_ image: PixelImage) -> RGBAImage {
        var rgba = RGBAImage(width: image.width, height: image.height)
        rgba.pixels.withUnsafeMutableBufferPointer { px in
            for (i, p) in image.pixels.enumerated() {
                px[4 * i] = p.r; px[4 * i + 1] = p.g; px[4 * i + 2] = p.b; px[4 * i + 3] = 255
            }
        }
        return rgba
    }

    /// Orientation letters just inside the image's edges, in screen pixels (the built-in font,
    /// scaled so a letter is about a cell tall).
    static func drawLetters(_ img: inout RGBAImage, mapping m: SliceMapping, transform t: ViewTransform) {
        let e = m.edgeDirections
        let tl = t.pixel(ofDisplay: SIMD2(-0.5, -0.5)), br = t.pixel(ofDisplay: SIMD2(Double(m.width) - 0.5, Double(m.height) - 0.5))
        let fs = max(1, min(img.width, img.height) / 200)
        let gw = 5 * fs, gh = 7 * fs, pad = 2 * fs
        let x0 = max(0, Int(tl.x.rounded()) + pad), x1 = min(img.width, Int(br.x.rounded())) - gw - pad
        let y0 = max(0, Int(tl.y.rounded()) + pad), y1 = min(img.height, Int(br.y.rounded())) - gh - pad
        guard x1 > x0, y1 > y0 else { return }
        let midX = (x0 + x1) / 2, midY = (y0 + y1) / 2
        img.drawText(String(e.left.rawValue), x: x0, y: midY, scale: fs)
        img.drawText(String(e.right.rawValue), x: x1, y: midY, scale: fs)
        img.drawText(String(e.top.rawValue), x: midX, y: y0, scale: fs)
        img.drawText(String(e.bottom.rawValue), x: midX, y: y1, scale: fs)
    }
}

/// Displacement arrows in half-block mode: one direction glyph (→ ↗ ↑ ↖ ← ↙ ↓ ↘) per arrow grid
/// point, coloured by displacement length (jet, 0 to the field's largest), only inside the
/// image's foreground; the pixels around it stay visible.
enum FieldGlyphs {
    static let arrows: [Unicode.Scalar] = ["→", "↗", "↑", "↖", "←", "↙", "↓", "↘"]

    /// The glyph for a screen-space direction (x right, y down); "·" when shorter than `minimum` pixels.
    static func glyph(_ d: SIMD2<Double>, minimum: Double = 0.35) -> Unicode.Scalar {
        let len = (d * d).sum().squareRoot()
        guard len >= minimum else { return "·" }
        var a = atan2Approx(-d.y, d.x) / (Double.pi / 4)   // counter-clockwise, 0 = right
        a = (a + 8).truncatingRemainder(dividingBy: 8)
        return arrows[Int(a.rounded()) % 8]
    }

    static func draw(_ field: FieldOverlay, mapping m: SliceMapping, slice: Int, transform t: ViewTransform,
                     rect: CellRect, into grid: inout CellGrid) {
        let colors = ColorMap.jet.table.colors
        let maxMag = field.maximumMagnitude > 0 ? field.maximumMagnitude : 1
        for a in field.arrowSamples(m, slice: slice, step: field.style.step) {
            let p = t.pixel(ofDisplay: SIMD2(Double(a.column), Double(a.row)))
            let cx = Int(p.x.rounded()), cy = Int((p.y / 2).rounded(.down))
            guard cx >= 0, cy >= 0, cx < rect.width, cy < rect.height else { continue }
            let d = a.displacement * t.magnification * field.style.gain
            let c = colors[min(255, max(0, Int(a.magnitude / maxMag * 255)))]
            let old = grid[rect.x + cx, rect.y + cy]
            grid[rect.x + cx, rect.y + cy] = Cell(glyph(d), foreground: .rgb(RGB(c.r, c.g, c.b)),
                                                  background: old.background == .default ? .rgb(.black) : old.background,
                                                  attributes: [.bold])
        }
    }

    /// atan2 without Foundation (Glibc's is not imported here): radians in (-π, π].
    static func atan2Approx(_ y: Double, _ x: Double) -> Double {
        if x == 0 && y == 0 { return 0 }
        // Octant reduction and a 7th-order odd polynomial for atan on [0, 1]; error < 1e-4 rad.
        let ax = abs(x), ay = abs(y)
        let swap = ay > ax
        let z = swap ? ax / ay : ay / ax
        let z2 = z * z
        var r = z * (0.99997726 + z2 * (-0.33262347 + z2 * (0.19354346 + z2 * (-0.11643287 + z2 * (0.05265332 - z2 * 0.01172120)))))
        if swap { r = Double.pi / 2 - r }
        if x < 0 { r = Double.pi - r }
        return y < 0 ? -r : r
    }
}

/// A colour bar in cells at the right edge of a pane: the colours top (high) to bottom (low) in
/// one column, the high and low values beside its ends and the title above.
enum ScreenColorBar {
    static func draw(_ bar: ColorBar, rect: CellRect, into grid: inout CellGrid) {
        guard rect.height >= 6, rect.width >= 16 else { return }
        let x = rect.x + rect.width - 2
        let top = rect.y + 1, h = rect.height - 2
        let colors = bar.table.colors
        for i in 0..<h {
            let t = h == 1 ? 1 : 1 - Double(i) / Double(h - 1)
            let c = colors[min(255, max(0, Int(t * 255 + 0.5)))]
            grid[x, top + i] = Cell(" ", background: .rgb(RGB(c.r, c.g, c.b)))
        }
        let hi = ColorBar.label(bar.window.high), lo = ColorBar.label(bar.window.low)
        let title = bar.title.lowercased()
        for (text, y) in [(title, top - 1), (hi, top), (lo, top + h - 1)] {
            grid.put(text, x: x - 1 - text.count, y: y, foreground: .rgb(.white), background: .rgb(.black))
        }
        if let mid = bar.ticks.dropFirst().dropLast().first(where: { abs($0 - (bar.window.low + bar.window.high) / 2) < (bar.window.high - bar.window.low) * 0.3 }) {
            let t = (mid - bar.window.low) / (bar.window.high - bar.window.low)
            let y = top + Int(((1 - t) * Double(h - 1)).rounded())
            let text = ColorBar.label(mid)
            if y > top + 1 && y < top + h - 2 { grid.put(text, x: x - 1 - text.count, y: y, foreground: .rgb(.white), background: .rgb(.black)) }
        }
    }
}
