import ArgumentParser
import Foundation
import VoxtermModel
import Terminal
import Workbench

extension BenchTUI {
    /// `voxterm bench tui --graphics blocks|symbols|sixel|kitty|all`: the same slice-change redraw
    /// with each way of drawing the picture, side by side: median ms (render, cells and image
    /// encoding), bytes per slice change, and for cell renderings the detail they keep: the RMS
    /// grey-level error of the cells (each glyph rebuilt from its block geometry and colours) against
    /// the same view drawn as a 6 x 12 pixel-per-cell picture.
    func runGraphics() throws {
        let modes = graphics == .all ? [.blocks, .symbols, .sixel, .kitty, .kittyRaw] : [graphics]
        let cp = cellPixels
        let depth = color
        let (path, doc) = try benchDocument(sampleResolution: "1mm")
        let size = TerminalSize(columns: columns, rows: rows)
        print("voxterm bench tui \(path): \(columns)x\(rows) cells, \(depth.rawValue), \(ortho ? "3 views" : "1 view"), "
              + "images at \(cp[0])x\(cp[1]) px per cell, libchafa \(Chafa.version)")
        print("  drawing   median ms  (min)    bytes/slice change  detail error (RMS grey levels vs 6x12 px/cell)")
        for mode in modes {
            var caps = TerminalCapabilities(colorDepth: depth, unicode: true)
            if mode == .sixel || mode == .kitty || mode == .kittyRaw {
                caps.graphics = GraphicsSupport(protocol: mode == .sixel ? .sixel : .kitty, cellWidth: cp[0], cellHeight: cp[1])
            }
            /// The frame as drawn; for kitty-raw without the PNG, so libchafa encodes the pixels.
            func frame(_ state: WorkbenchState, _ cache: SliceCache) -> CellGrid {
                var g = WorkbenchView.render(state, cache: cache)
                if mode == .kittyRaw { for i in g.images.indices { g.images[i].png = nil } }
                return g
            }
            caps.chafaSymbols = mode == .symbols
            let terminal = RecordingTerminal(size: size, capabilities: caps)
            var state = WorkbenchState(document: doc, size: size, capabilities: caps)
            state.layout = ortho ? .ortho : .single
            state.overlay.visible = false
            let cache = SliceCache()
            let start = state.mapping(state.plane).sliceCount / 3
            state.cursor[state.mapping(state.plane).sliceAxis] = start
            terminal.present(frame(state, cache))
            var times: [Double] = [], bytes: [Int] = []
            let n = min(max(1, steps), state.mapping(state.plane).sliceCount - 1 - start)
            for _ in 0..<n {
                let t0 = monotonicSeconds()
                _ = reduce(&state, .changeSlice(1))
                let b = terminal.present(frame(state, cache))
                times.append(monotonicSeconds() - t0)
                bytes.append(b)
            }
            var detail = "exact (one picture pixel per screen pixel)"
            if mode == .blocks || mode == .symbols {
                var refCaps = caps
                refCaps.graphics = GraphicsSupport(protocol: .kitty, cellWidth: 6, cellHeight: 12)
                refCaps.chafaSymbols = false
                var ref = state
                ref.capabilities = refCaps
                let refGrid = WorkbenchView.render(ref, cache: SliceCache())
                detail = String(format: "%.1f", BenchTUI.cellError(terminal.screen!, reference: refGrid))
            }
            print(String(format: "  %-8@  %8.2f  (%6.2f)  %18.0f  %@", mode.rawValue as NSString, median(times) * 1000,
                         times.min()! * 1000, median(bytes.map(Double.init)), detail as NSString))
        }
    }

    /// RMS grey-level difference between the cells of `grid` inside each picture of `reference`
    /// (rebuilt at the picture's pixels per cell from the block glyphs' geometry) and the picture.
    static func cellError(_ grid: CellGrid, reference: CellGrid) -> Double {
        var sum = 0.0, count = 0
        for image in reference.images {
            let cw = image.width / max(1, image.rect.width), ch = image.height / max(1, image.rect.height)
            for cy in 0..<image.rect.height {
                for cx in 0..<image.rect.width {
                    let cell = grid[image.rect.x + cx, image.rect.y + cy]
                    guard case .rgb(let fg) = cell.foreground == .default ? .rgb(.black) : cell.foreground,
                          case .rgb(let bg) = cell.background == .default ? .rgb(.black) : cell.background else { continue }
                    for py in 0..<ch {
                        for px in 0..<cw {
                            guard let cov = BlockCoverage.at(cell.character, u: (Double(px) + 0.5) / Double(cw),
                                                             v: (Double(py) + 0.5) / Double(ch)) else { continue }
                            let g = cov * Double(fg.luma) + (1 - cov) * Double(bg.luma)
                            let x = cx * cw + px, y = cy * ch + py
                            guard x < image.width, y < image.height else { continue }
                            let o = 4 * (y * image.width + x)
                            let r = (299 * Double(image.rgba[o]) + 587 * Double(image.rgba[o + 1]) + 114 * Double(image.rgba[o + 2])) / 1000
                            sum += (g - r) * (g - r); count += 1
                        }
                    }
                }
            }
        }
        return count > 0 ? (sum / Double(count)).squareRoot() : .nan
    }
}

/// `bench tui --graphics`: how the picture is drawn, or all four side by side.
enum BenchGraphics: String, CaseIterable, ExpressibleByArgument {
    /// kitty-raw: kitty images as libchafa 1.12 sends them (raw RGBA), beside the PNG voxterm sends.
    case blocks, symbols, sixel, kitty, kittyRaw = "kitty-raw", all

    /// `--cell-pixels WxH` (at least 2 x 6).
    static func cellPixels(_ text: String) throws -> SIMD2<Int> {
        let p = text.lowercased().split(separator: "x").map { Int($0) }
        guard p.count == 2, let w = p[0], let h = p[1], w >= 2, h >= 6 else { throw ValidationError("expected WxH, e.g. 10x20") }
        return SIMD2(w, h)
    }
}

