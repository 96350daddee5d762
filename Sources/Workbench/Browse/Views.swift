import Foundation
import VoxtermModel
import SliceRendering
import Terminal

/// Colours of the workbench's own chrome (bars, panel, captions).
enum Theme {
    static let barBackground = CellColor.rgb(RGB(28, 44, 70))
    static let barText = CellColor.rgb(RGB(230, 235, 245))
    static let dimText = CellColor.rgb(RGB(150, 160, 175))
    static let accent = CellColor.rgb(RGB(255, 210, 80))
    static let letters = CellColor.rgb(RGB(255, 220, 0))
    static let crosshair = RGB(40, 230, 90)
    static let activeCaption = CellColor.rgb(RGB(60, 110, 170))
}

/// The views: pure functions from the state (plus the slice cache) to a cell grid.
public enum WorkbenchView {
    /// The whole screen for `state`.
    public static func render(_ state: WorkbenchState, cache: SliceCache) -> CellGrid {
        var grid = CellGrid(size: state.size)
        let layout = ScreenLayout(state)
        if layout.tooSmall {
            drawTooSmall(state, into: &grid)
            return grid
        }
        if state.mode == .help {
            HelpScreen.draw(state, into: &grid)
            return grid
        }
        drawTitle(state, into: &grid)
        for pane in layout.panes { drawPane(pane, state: state, cache: cache, into: &grid) }
        if let panel = layout.labelPanel {
            if state.navigation.showStatistics { StatisticsPanel.draw(state, cache: cache, rect: panel, into: &grid) }
            else { LabelPanel.draw(state, rect: panel, into: &grid) }
        }
        if let panel = layout.supportPanel { SupportPanel.draw(state, cache: cache, rect: panel, into: &grid) }
        if let rows = layout.registrationRows { RegistrationBar.draw(state, rows: rows, into: &grid) }
        drawStatus(state, rows: layout.statusRows, into: &grid)
        return grid
    }

    static func drawTooSmall(_ state: WorkbenchState, into grid: inout CellGrid) {
        let min = ScreenLayout.minimumSize
        let text = ["Terminal too small: \(state.size.columns)x\(state.size.rows)",
                    "voxterm needs at least \(min.columns)x\(min.rows).", "Enlarge it, or press q to quit."]
        // Word-wrapped to the width, so even a very narrow terminal shows its size.
        var lines: [(String, Bool)] = []
        for (i, t) in text.enumerated() { for l in wordWrap(t, width: grid.width) { lines.append((l, i == 0)) } }
        let top = Swift.max(0, (grid.height - lines.count) / 2)
        for (i, l) in lines.enumerated() where top + i < grid.height {
            grid.put(l.0, x: Swift.max(0, (grid.width - l.0.count) / 2), y: top + i, attributes: l.1 ? [.bold] : [])
        }
    }

    /// `shortened(_:width:)`, for tests.
    public static func shortenedForTests(_ text: String, width: Int) -> String { shortened(text, width: width) }

    /// `text` if it fits in `width` columns, else its longest prefix ending at a word boundary followed by "…".
    static func shortened(_ text: String, width: Int) -> String {
        guard text.count > width else { return text }
        guard width > 1 else { return String(repeating: "…", count: Swift.max(0, width)) }
        var out = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let next = out.isEmpty ? String(word) : out + " " + word
            if next.count + 1 > width {
                // A path that does not fit keeps its end (the file name): "wrote …/dir/name.png".
                let room = width - out.count - (out.isEmpty ? 0 : 1) - 1
                if word.contains("/") && room >= 8 {
                    return (out.isEmpty ? "" : out + " ") + "…" + String(word.suffix(room))
                }
                break
            }
            out = next
        }
        if out.isEmpty { out = String(text.prefix(width - 1)) }   // one word longer than the line
        // Never end on a separator or a lone symbol cut from what followed ("… · ? help" -> "…").
        while true {
            while out.hasSuffix(" ") || out.hasSuffix("·") || out.hasSuffix(";") || out.hasSuffix(",") { out.removeLast() }
            guard let last = out.split(separator: " ").last, last.count == 1, out.count > 1,
                  let c = last.first, !c.isLetter, !c.isNumber else { break }
            out.removeLast()
        }
        return out + "…"
    }

    /// `text` broken at spaces into lines of at most `width` characters (longer words are cut).
    static func wordWrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            let w = String(word.prefix(width))
            if line.isEmpty { line = w } else if line.count + 1 + w.count <= width { line += " " + w } else {
                lines.append(line); line = w
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    static func drawTitle(_ state: WorkbenchState, into grid: inout CellGrid) {
        grid.fill(CellRect(x: 0, y: 0, width: grid.width, height: 1), with: Cell(" ", background: Theme.barBackground))
        let doc = state.document
        let g = doc.image.geometry
        let sp = g.spacing
        var text = " voxterm │ " + (state.cohort?.caption.map { $0 + " │ " } ?? "") + "\(doc.imageName)  \(g.size.x)×\(g.size.y)×\(g.size.z)  "
            + "\(fmt(sp.x))×\(fmt(sp.y))×\(fmt(sp.z)) mm  \(g.orientation)"
        if let l = doc.labelsPath { text += " │ labels \((l as NSString).lastPathComponent)" }
        if let c = doc.comparePath { text += " │ vs \((c as NSString).lastPathComponent)" }
        if doc.field != nil { text += " │ field" }
        let help = "? help  q quit "
        grid.put(text, x: 0, y: 0, foreground: Theme.barText, background: Theme.barBackground, attributes: [.bold],
                 maxWidth: grid.width - help.count - 1)
        grid.put(help, x: grid.width - help.count, y: 0, foreground: Theme.accent, background: Theme.barBackground)
    }

    static func drawPane(_ pane: Pane, state: WorkbenchState, cache: SliceCache, into grid: inout CellGrid) {
        let m = state.mapping(pane.plane)
        let slice = state.slice(in: pane.plane)
        let canvas = PaneCanvas(state.capabilities)
        let t = canvas.transform(state, pane: pane)
        var variant = RasterVariant.main
        if state.hasCompare {
            switch (pane.content, state.compareMode) {
            case (.compare, _): variant = .compare
            case (.main, .checkerboard): variant = .checkerboard
            case (.main, .difference): variant = .difference
            case (.main, .flicker): variant = state.flickerShowsCompare ? .compare : .main
            case (.main, .overlay): variant = .overlay
            default: variant = .main
            }
        }
        // Arrows and grid lines are drawn by the renderer at output resolution: ask for about the
        // screen's resolution so they stay crisp. In half blocks arrows are direction glyphs instead.
        let glyphs = canvas == .halfBlocks && state.fieldMode == .arrows && state.document.field != nil
        let step = canvas.arrowStep(t)
        let vectors = !glyphs && (state.fieldMode == .arrows || state.fieldMode == .grid) && state.document.field != nil
        let scale = canvas.rasterScale(t, vectors: vectors)
        let raster = cache.raster(state, plane: pane.plane, slice: slice, variant: variant, scale: scale,
                                  fieldStep: step, fieldVectors: !glyphs)
        var img = resample(raster.image, scale: raster.scale, mapping: m, transform: t)
        let d = m.display(ofVoxel: SIMD3<Double>(state.cursor))
        let tl = t.pixel(ofDisplay: SIMD2(-0.5, -0.5)), br = t.pixel(ofDisplay: SIMD2(Double(m.width) - 0.5, Double(m.height) - 0.5))
        if !state.navigation.crosshairHidden {
            drawCrosshair(&img, at: t.pixel(ofDisplay: SIMD2(d.column, d.row)),
                          xRange: Int((tl.x + 0.5).rounded())..<Int((br.x + 0.5).rounded()),
                          yRange: Int((tl.y + 0.5).rounded())..<Int((br.y + 0.5).rounded()))
        }
        canvas.draw(img, mapping: m, transform: t, rect: pane.imageRect, capabilities: state.capabilities, cache: cache, into: &grid)
        if let f = cache.fieldOverlay(state, step: step) {
            if glyphs { FieldGlyphs.draw(f, mapping: m, slice: slice, transform: t, rect: pane.imageRect, into: &grid) }
            if let bar = f.colorBar { ScreenColorBar.draw(bar, rect: pane.imageRect, into: &grid) }
        } else if variant == .overlay, let cm = state.compareColorMap {
            ScreenColorBar.draw(ColorBar(table: cm.table, window: cache.secondImageWindow(state), title: "2nd " + cm.rawValue),
                                rect: pane.imageRect, into: &grid)
        } else if state.colorMap != .gray {
            ScreenColorBar.draw(ColorBar(table: state.colorMap.table, window: state.window, title: state.colorMap.rawValue),
                                rect: pane.imageRect, into: &grid)
        }

        // Caption: plane, slice i/N, what is shown.
        let active = pane.plane == state.plane && state.layout == .ortho
        let bg: CellColor = active ? Theme.activeCaption : .default
        grid.fill(CellRect(x: pane.rect.x, y: pane.rect.y, width: pane.rect.width, height: 1), with: Cell(" ", background: bg))
        var caption = " \(pane.plane.rawValue) \(slice)/\(m.sliceCount - 1)"
        switch variant {
        case .compare: caption += "  " + ((state.document.comparePath ?? "") as NSString).lastPathComponent
        case .checkerboard: caption += "  checkerboard"
        case .difference: caption += "  difference (image − compare)"
        case .overlay: caption += "  overlay: " + overlayDescription(state)
        case .main: if state.hasCompare { caption += "  " + state.document.imageName }
        }
        if state.zoom > 1 { caption += "  \(fmt(state.zoom))×" }
        if m.isOblique { caption += "  (oblique: nearest axis view)" }
        grid.put(caption, x: pane.rect.x, y: pane.rect.y, foreground: active ? Theme.barText : Theme.dimText,
                 background: bg, attributes: active ? [.bold] : [], maxWidth: pane.rect.width)
        if pane == ScreenLayout(state).panes.first, variant == .main || variant == .checkerboard {
            LayerPanel.draw(state, rect: CellRect(x: pane.rect.x + caption.count + 2, y: pane.rect.y,
                                                  width: pane.rect.width - caption.count - 2, height: 1), into: &grid)
        }
    }

    /// Resamples a renderer raster into the pane's terminal pixels: box average when shrinking,
    /// nearest pixel when enlarging; black outside the image.
    static func resample(_ raster: RGBAImage, scale: SIMD2<Double>, mapping m: SliceMapping,
                         transform t: ViewTransform) -> PixelImage {
        var out = PixelImage(width: t.pixelWidth, height: t.pixelHeight)
        // For each terminal column/row: the raster index range it covers, or nil outside the image.
        func ranges(count: Int, displaySize: Int, rasterSize: Int, s: Double, axis: Int) -> [ClosedRange<Int>?] {
            (0..<count).map { i -> ClosedRange<Int>? in
                let a = axis == 0 ? t.display(ofPixelX: Double(i) - 0.5, y: 0).x : t.display(ofPixelX: 0, y: Double(i) - 0.5).y
                let b = axis == 0 ? t.display(ofPixelX: Double(i) + 0.5, y: 0).x : t.display(ofPixelX: 0, y: Double(i) + 0.5).y
                let mid = (a + b) / 2
                guard mid >= -0.5, mid < Double(displaySize) - 0.5 else { return nil }
                // Raster pixel centres inside [a, b) in display units.
                let ra = (a + 0.5) * s - 0.5, rb = (b + 0.5) * s - 0.5
                var lo = Int(ra.rounded(.up)), hi = Int(rb.rounded(.up)) - 1
                if lo > hi { let c = Int(((mid + 0.5) * s - 0.5).rounded()); lo = c; hi = c }
                lo = Swift.min(Swift.max(lo, 0), rasterSize - 1); hi = Swift.min(Swift.max(hi, lo), rasterSize - 1)
                return lo...hi
            }
        }
        let xs = ranges(count: t.pixelWidth, displaySize: m.width, rasterSize: raster.width, s: scale.x, axis: 0)
        let ys = ranges(count: t.pixelHeight, displaySize: m.height, rasterSize: raster.height, s: scale.y, axis: 1)
        raster.pixels.withUnsafeBufferPointer { px in
            for y in 0..<t.pixelHeight {
                guard let yr = ys[y] else { continue }
                for x in 0..<t.pixelWidth {
                    guard let xr = xs[x] else { continue }
                    var r = 0, g = 0, b = 0, n = 0
                    for sy in yr {
                        var o = 4 * (xr.lowerBound + raster.width * sy)
                        for _ in xr {
                            r += Int(px[o]); g += Int(px[o + 1]); b += Int(px[o + 2]); n += 1
                            o += 4
                        }
                    }
                    out.pixels[y * t.pixelWidth + x] = RGB(UInt8(r / n), UInt8(g / n), UInt8(b / n))
                }
            }
        }
        return out
    }

    /// Crosshair lines through terminal pixel `p`, leaving the crosshair voxel itself visible.
    static func drawCrosshair(_ img: inout PixelImage, at p: SIMD2<Double>, xRange: Range<Int>, yRange: Range<Int>) {
        let cx = Int(p.x.rounded()), cy = Int(p.y.rounded())
        func mark(_ x: Int, _ y: Int) {
            guard x >= 0, y >= 0, x < img.width, y < img.height else { return }
            let o = img[x, y], c = Theme.crosshair
            img[x, y] = RGB(UInt8((Int(o.r) * 3 + Int(c.r) * 7) / 10), UInt8((Int(o.g) * 3 + Int(c.g) * 7) / 10),
                            UInt8((Int(o.b) * 3 + Int(c.b) * 7) / 10))
        }
        guard xRange.contains(cx), yRange.contains(cy) else { return }
        for y in yRange where abs(y - cy) > 1 { mark(cx, y) }
        for x in xRange where abs(x - cx) > 1 { mark(x, cy) }
    }

    /// Orientation letters just inside the image's edges (middle of each side).
    static func drawLetters(_ m: SliceMapping, transform t: ViewTransform, rect: CellRect, into grid: inout CellGrid) {
        let e = m.edgeDirections
        let tl = t.pixel(ofDisplay: SIMD2(-0.5, -0.5)), br = t.pixel(ofDisplay: SIMD2(Double(m.width) - 0.5, Double(m.height) - 0.5))
        let x0 = Swift.max(rect.x, rect.x + Int((tl.x + 0.5).rounded(.up)))
        let x1 = Swift.min(rect.x + rect.width - 1, rect.x + Int((br.x + 0.5).rounded(.down)) - 1)
        let y0 = Swift.max(rect.y, rect.y + Int(((tl.y + 0.5) / 2).rounded(.up)))
        let y1 = Swift.min(rect.y + rect.height - 1, rect.y + Int(((br.y + 0.5) / 2).rounded(.down)) - 1)
        guard x1 > x0, y1 > y0 else { return }
        let midX = (x0 + x1) / 2, midY = (y0 + y1) / 2
        func letter(_ d: AnatomicalDirection, _ x: Int, _ y: Int) {
            grid[x, y] = Cell(Unicode.Scalar(String(d.rawValue))!, foreground: Theme.letters, background: .rgb(.black),
                              attributes: [.bold])
        }
        letter(e.left, x0, midY)
        letter(e.right, x1, midY)
        letter(e.top, midX, y0)
        letter(e.bottom, midX, y1)
    }

    static func drawStatus(_ state: WorkbenchState, rows: (Int, Int), into grid: inout CellGrid) {
        let doc = state.document
        let v = state.cursor
        let w = state.cursorWorld
        let m = state.mapping(state.plane)
        let bar = Cell(" ", background: Theme.barBackground)
        grid.fill(CellRect(x: 0, y: rows.0, width: grid.width, height: 1), with: bar)
        grid.fill(CellRect(x: 0, y: rows.1, width: grid.width, height: 1), with: Cell(" "))
        // Slice numbers are 0-based voxel indices along the plane's axis, as --slice, manifests and nibabel.
        var line = " \(state.plane.rawValue) slice \(state.slice(in: state.plane))/\(m.sliceCount - 1)"
        line += " │ voxel \(v.x),\(v.y),\(v.z) │ \(fmt1(w.x)), \(fmt1(w.y)), \(fmt1(w.z)) mm"
        if let s = doc.series { line += " │ \(s.label)" }
        if let value = doc.intensity(at: v) { line += " │ value \(fmt(Double(value)))" }
        if let s = doc.series, grid.width - line.count > 30 {
            line += " " + VolumeSeries.sparkline(s.timeCourse(at: v), width: Swift.min(40, grid.width - line.count - 30))
        }
        if let c = doc.compare, c.geometry.contains(v) { line += " vs \(fmt(Double(c[v.x, v.y, v.z])))" }
        var x = grid.put(line, x: 0, y: rows.0, foreground: Theme.barText, background: Theme.barBackground, attributes: [.bold])
        if let label = state.shownLabel(at: v) {
            let name = label == 0 ? "background" : doc.labelTable.name(of: label)
            x += grid.put(" │ ", x: x, y: rows.0, foreground: Theme.barText, background: Theme.barBackground)
            if label != 0 {
                let c = doc.labelTable.color(of: label)
                x += grid.put("■ ", x: x, y: rows.0, foreground: .rgb(RGB(c.r, c.g, c.b)), background: Theme.barBackground)
            }
            grid.put("\(name)\(label == 0 ? "" : " (\(label))")", x: x, y: rows.0, foreground: Theme.accent,
                     background: Theme.barBackground, attributes: [.bold])
        }
        var info = " window \(state.window) \(state.colorMap.rawValue) · \(state.layout == .single ? "1 view" : "3 views")"
        info += " · \(state.convention.rawValue)"
        if doc.labels != nil {
            info += state.overlay.visible ? " · labels \(Int((state.overlay.opacity * 100).rounded()))%\(state.overlay.outline ? " outline" : "")"
                : " · labels off"
        }
        if doc.field != nil { info += " · field \(state.fieldMode?.rawValue ?? "off")" }
        if state.hasCompare { info += " · \(state.compareMode.rawValue)" }
        if let pred = SupportPanel.status(state) { info += " · " + pred }
        if let line = state.commandLine.line {
            CommandLineView.draw(line, row: rows.1, into: &grid)
            return
        }
        if let brush = CommandLineView.brushText(state) {
            grid.put(brush, x: Swift.max(0, grid.width - brush.count), y: rows.0, foreground: Theme.accent,
                     background: Theme.barBackground, attributes: [.bold])
        }
        let used = grid.put(info, x: 0, y: rows.1, foreground: Theme.dimText)
        if let msg = state.message {
            // Never cut mid-word: beside the settings, shortened at a word (or a path kept by its
            // end) with "…" when it does not fit; with less than 16 columns left, the settings stay alone.
            if used + 3 + msg.count <= grid.width {
                grid.put(" │ " + msg, x: used, y: rows.1, foreground: msg.hasPrefix("error:") ? .rgb(RGB(255, 110, 110)) : Theme.accent)
            } else if grid.width - used - 3 >= 16 {
                grid.put(" │ " + WorkbenchView.shortened(msg, width: grid.width - used - 3), x: used, y: rows.1,
                         foreground: msg.hasPrefix("error:") ? .rgb(RGB(255, 110, 110)) : Theme.accent)
            }
        }
    }
}

/// Compact number: integers plain, others with up to 4 significant digits.
func fmt(_ v: Double) -> String {
    if !v.isFinite { return "\(v)" }
    if v == v.rounded() && abs(v) < 1e7 { return String(Int(v)) }
    return String(format: "%.4g", v)
}

/// One decimal.
func fmt1(_ v: Double) -> String { String(format: "%.1f", v) }

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
