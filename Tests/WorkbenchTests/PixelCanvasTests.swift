import Foundation
import Testing
import VoxtermModel
import SliceRendering
import Terminal
import TestSupport
@testable import Workbench

/// Issue 18's display details: clicks in pixel mode (sixel/kitty) use the terminal's real cell
/// size, kitty pictures go out as PNG, the automatic window follows 4-D volumes, and the overlay
/// compare mode has a colour map of its own.
@Suite struct PixelCanvasTests {
    /// 48 x 40 x 3 (1 mm): value 10 + 4 i (stripes across x) or 10 + 4 j (stripes across y),
    /// so every column (or row) of voxels has its own grey level under the window 0...255.
    static func stripes(alongX: Bool) -> WorkbenchDocument {
        let g = VolumeGeometry(size: [48, 40, 3], spacing: [1, 1, 1], origin: [0, 0, 0])
        var v = Volume(geometry: g)
        for k in 0..<3 { for j in 0..<40 { for i in 0..<48 { v[i, j, k] = Float(10 + 4 * (alongX ? i : j)) } } }
        return WorkbenchDocument(imagePath: "/data/stripes.nii.gz", image: v)
    }

    /// Clicks every cell of the pane and compares the voxel the click selects with the voxel whose
    /// grey level the picture shows at the cell's centre. Returns (cells checked, mismatches,
    /// mismatches had the click used the half-block geometry).
    func clickEveryCell(alongX: Bool, cell: (Int, Int), proto: GraphicsProtocol) -> (checked: Int, wrong: Int, wrongHalfBlock: Int) {
        let caps = TerminalCapabilities(colorDepth: .trueColor, unicode: true,
                                        graphics: GraphicsSupport(protocol: proto, cellWidth: cell.0, cellHeight: cell.1))
        let size = TerminalSize(columns: 50, rows: 16)
        var state = WorkbenchState(document: Self.stripes(alongX: alongX), size: size, capabilities: caps)
        state.window = IntensityWindow(low: 0, high: 255)!
        state.navigation.crosshairHidden = true
        let grid = WorkbenchView.render(state, cache: SliceCache())
        guard let picture = grid.images.first else { Issue.record("no picture in pixel mode"); return (0, 0, 0) }
        let rect = picture.rect
        let pane = ScreenLayout(state).panes[0]
        let t = PaneCanvas(caps).transform(state, pane: pane)
        var checked = 0, wrong = 0, wrongHalf = 0
        let image = state.document.image
        for row in rect.y..<(rect.y + rect.height) {
            for column in rect.x..<(rect.x + rect.width) {
                // The picture pixel at the cell's centre (odd cell sizes: an exact pixel).
                let px = (column - rect.x) * cell.0 + cell.0 / 2, py = (row - rect.y) * cell.1 + cell.1 / 2
                guard px < picture.width, py < picture.height else { continue }
                let o = 4 * (py * picture.width + px)
                let r = Int(picture.rgba[o]), g = Int(picture.rgba[o + 1]), b = Int(picture.rgba[o + 2])
                // Voxels are grey 10...198; black is outside the image, colours are letters.
                guard r == g, g == b, r >= 8 else { continue }
                checked += 1
                var s = state
                _ = reduce(&s, .click(column: column, row: row))
                // A cell centre exactly on the line between two voxels shows one of them: either is right.
                let d = t.display(ofPixelX: Double(px), y: Double(py))
                let tie = abs(abs(d.x - d.x.rounded(.down)) - 0.5) < 0.01 || abs(abs(d.y - d.y.rounded(.down)) - 0.5) < 0.01
                if abs(Int(image[s.cursor.x, s.cursor.y, s.cursor.z]) - r) > (tie ? 5 : 1) { wrong += 1 }
                // The same click placed with half-block cells (1 x 2 pixels), as before issue 18's fix.
                var h = state
                h.capabilities = TerminalCapabilities(colorDepth: .trueColor, unicode: true)
                _ = reduce(&h, .click(column: column, row: row))
                if abs(Int(image[h.cursor.x, h.cursor.y, h.cursor.z]) - r) > 1 { wrongHalf += 1 }
            }
        }
        return (checked, wrong, wrongHalf)
    }

    @Test("a click in a sixel or kitty picture selects the voxel drawn under the cell, with tall and wide cells")
    func clicksUseThePixelGeometry() {
        for (cell, proto) in [((7, 15), GraphicsProtocol.sixel), ((9, 13), .kitty), ((11, 11), .sixel)] {
            for alongX in [true, false] {
                let r = clickEveryCell(alongX: alongX, cell: cell, proto: proto)
                #expect(r.checked > 150, "\(cell) \(alongX): \(r)")
                #expect(r.wrong == 0, "cells \(cell.0)x\(cell.1) \(proto) stripes along \(alongX ? "x" : "y"): \(r)")
                // Negative control: the half-block geometry misses most columns (the picture is as
                // tall as the pane in both geometries, so rows agree; widths differ).
                if alongX { #expect(r.wrongHalfBlock > r.checked / 3, "\(cell) \(alongX): \(r)") }
            }
        }
    }

    @Test("kitty pictures go out as PNG (f=100) in base64 chunks of at most 4096 bytes that Pillow decodes to the pixels")
    func kittySendsPNG() throws {
        let python = try #require(pythonWithNibabel)
        guard (try? runProcess(python, ["-c", "import PIL"]))?.status == 0 else { Issue.record("needs Pillow (Scripts/install-deps.sh --test)"); return }
        let caps = TerminalCapabilities(colorDepth: .trueColor, unicode: true,
                                        graphics: GraphicsSupport(protocol: .kitty, cellWidth: 10, cellHeight: 20))
        let size = TerminalSize(columns: 160, rows: 50)
        var state = WorkbenchState(document: phantomDocument(), size: size, capabilities: caps)
        let cache = SliceCache()
        var encoder = ScreenEncoder(capabilities: caps)
        _ = encoder.encode(WorkbenchView.render(state, cache: cache))
        _ = reduce(&state, .moveCursor(.left))   // the crosshair moves: the picture changes and is sent again
        let grid = WorkbenchView.render(state, cache: cache)
        let bytes = encoder.encode(grid)
        let picture = try #require(grid.images.first)
        // What libchafa 1.12 sends for the same picture: raw RGBA in base64.
        let chafa = Chafa.encode(rgba: picture.rgba, width: picture.width, height: picture.height, columns: picture.rect.width,
                                 rows: picture.rect.height, cellWidth: 10, cellHeight: 20, protocol: .kitty)
        print("kitty picture change: \(bytes.count) bytes with PNG, libchafa's raw pixels \(chafa.count) bytes (\(picture.width)x\(picture.height) px)")
        #expect(bytes.count * 10 < chafa.count, "PNG \(bytes.count) vs raw \(chafa.count)")
        let dir = TestPaths.temporaryDirectory("kitty-png")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("out.bin"), expected = dir.appendingPathComponent("rgba.bin")
        try Data(bytes).write(to: input)
        try Data(picture.rgba).write(to: expected)
        let decoder = #"""
import sys, re, base64, io
from PIL import Image
data = open(sys.argv[1], 'rb').read().decode('latin-1')
cmds = list(re.finditer(r'\x1b_G([^;\x1b]*)(?:;([^\x1b]*))?\x1b\\', data))
ctrl = None; png = b''; flags = []
for m in cmds:
    keys = dict(kv.split('=') for kv in m.group(1).split(',') if kv)
    if keys.get('a') == 'd': continue
    if 'a' in keys: ctrl = keys
    payload = m.group(2) or ''
    assert len(payload) <= 4096 and len(payload) % 4 == 0, len(payload)
    flags.append(keys.get('m'))
    png += base64.b64decode(payload)
assert ctrl['a'] == 'T' and ctrl['f'] == '100' and ctrl['q'] == '2', ctrl
assert flags[-1] == '0' and all(f == '1' for f in flags[:-1]), flags
im = Image.open(io.BytesIO(png)); assert im.format == 'PNG'
rgb = im.convert('RGB').tobytes()
raw = open(sys.argv[2], 'rb').read()
w, h = im.size
diff = sum(1 for i in range(w * h) if rgb[3 * i:3 * i + 3] != raw[4 * i:4 * i + 3])
print(w, h, ctrl['c'], ctrl['r'], len(flags), diff)
"""#
        let r = try runProcess(python, ["-c", decoder, input.path, expected.path])
        try #require(r.status == 0, "\(r.stderr)")
        let v = r.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(v.count == 6, "\(r.stdout)")
        #expect(v[0] == picture.width && v[1] == picture.height, "\(v)")
        #expect(v[2] == picture.rect.width && v[3] == picture.rect.height, "\(v)")
        #expect(v[4] > 1, "chunked: \(v[4]) chunks")
        #expect(v[5] == 0, "\(v[5]) pixels differ from the picture")
    }

    /// Three volumes of the phantom at 1x, 10x and 0.1x intensity.
    static func series() -> WorkbenchDocument {
        var doc = phantomDocument()
        let frames = [1, 10, 0.1].map { f -> Volume in
            var v = doc.image
            for i in 0..<v.voxels.count { v.voxels[i] *= Float(f) }
            return v
        }
        doc.series = VolumeSeries(frames: frames, step: 2, unit: "s")
        doc.image = frames[0]
        return doc
    }

    @Test("stepping 4-D volumes recomputes an automatic window for each volume and keeps one the user set")
    func windowFollowsVolumesUnlessSetByHand() {
        let doc = Self.series()
        let frames = doc.series!.frames
        var s = WorkbenchState(document: doc, size: TerminalSize(columns: 100, rows: 30))
        #expect(s.window == IntensityWindow.automatic(frames[0]))
        _ = reduce(&s, .stepVolume(1))
        #expect(s.window == IntensityWindow.automatic(frames[1]), "\(s.window)")
        #expect(abs(s.window.high - 10 * IntensityWindow.automatic(frames[0]).high) < 1e-3 * s.window.high)
        #expect(s.message?.contains("automatic window") == true, "\(s.message ?? "")")
        // A window set by hand (w: narrower) stays when stepping on and back.
        _ = reduce(&s, .scaleWindowWidth(0.8))
        let manual = s.window
        _ = reduce(&s, .stepVolume(1))
        #expect(s.window == manual && s.message?.contains("kept") == true, "\(s.window) \(s.message ?? "")")
        _ = reduce(&s, .stepVolume(-2))
        #expect(s.window == manual)
        // r restores the automatic window of the volume shown; stepping then follows again.
        _ = reduce(&s, .autoWindow)
        #expect(s.window == IntensityWindow.automatic(frames[0]))
        _ = reduce(&s, .stepVolume(2))
        #expect(s.window == IntensityWindow.automatic(frames[2]))
        // :set window is a window set by hand too.
        _ = reduce(&s, .command(.run(.set(.window(low: 1, high: 50)))))
        _ = reduce(&s, .stepVolume(-1))
        #expect(s.window == IntensityWindow(low: 1, high: 50)!)
        // The volume keys have command names: :next-volume, :previous-volume (with a count).
        #expect(s.document.series?.index == 1)
        _ = reduce(&s, .command(.begin(":", prefill: "next-volume")))
        _ = reduce(&s, .command(.key(.enter)))
        #expect(s.document.series?.index == 2, "\(s.message ?? "")")
        _ = reduce(&s, .command(.begin(":", prefill: "previous-volume 2")))
        _ = reduce(&s, .command(.key(.enter)))
        #expect(s.document.series?.index == 0, "\(s.message ?? "")")
    }

    /// The overlay raster of the phantom (compare = 1000 - image) at native resolution.
    func overlayRaster(_ state: WorkbenchState) -> RGBAImage {
        SliceCache().raster(state, plane: .axial, slice: 5, variant: .overlay).image
    }

    @Test("overlay compare: ^ gives the second image hot, jet, viridis, gray, back to green/magenta; the picture follows")
    func compareOverlayHasItsOwnColourMap() throws {
        var s = WorkbenchState(document: phantomDocument(compare: true), size: TerminalSize(columns: 100, rows: 30))
        s.overlay.visible = false
        _ = reduce(&s, .cycleCompareColorMap)
        #expect(s.compareMode == .overlay && s.compareColorMap == .hot, "\(s.message ?? "")")
        #expect(s.message?.contains("second image hot 50 % over the image (gray)") == true, "\(s.message ?? "")")
        let hot = overlayRaster(s)
        // Independent composition: the image in its colour map, then hot at 50 % where the
        // second image is above the low end of its window.
        let doc = s.document
        let m = s.mapping(.axial)
        let cw = IntensityWindow.automatic(doc.compare!)
        let base = m.extract(doc.image.voxels, slice: 5), second = m.extract(doc.compare!.voxels, slice: 5)
        var above = 0, worst = 0
        for row in 0..<m.height {
            for col in 0..<m.width {
                let n = row * m.width + col
                let g = s.colorMap.color(at: (Double(base[n]) - s.window.low) / (s.window.high - s.window.low))
                var want = g
                if Double(second[n]) > cw.low {
                    above += 1
                    let h = ColorMap.hot.color(at: (Double(second[n]) - cw.low) / (cw.high - cw.low))
                    want = RGBA8(UInt8((Double(g.r) + Double(h.r)) / 2 + 0.5), UInt8((Double(g.g) + Double(h.g)) / 2 + 0.5),
                                 UInt8((Double(g.b) + Double(h.b)) / 2 + 0.5))
                }
                let got = hot[col, row]
                worst = max(worst, abs(Int(got.r) - Int(want.r)), abs(Int(got.g) - Int(want.g)), abs(Int(got.b) - Int(want.b)))
            }
        }
        #expect(above > 50 && above < m.width * m.height, "\(above)")
        #expect(worst <= 2, "largest channel difference \(worst)")
        // m now changes the picture too (the image's colour map under the hot second image).
        _ = reduce(&s, .cycleColorMap)
        #expect(s.colorMap == .hot && overlayRaster(s).pixels != hot.pixels)
        _ = reduce(&s, .cycleColorMap)
        for expected in [ColorMap.jet, .viridis, .gray] {
            _ = reduce(&s, .cycleCompareColorMap)
            #expect(s.compareColorMap == expected)
        }
        _ = reduce(&s, .cycleCompareColorMap)
        #expect(s.compareColorMap == nil && s.message?.contains("image green, second image magenta") == true)
        // The fusion: red and blue from the second image, green from the image (grey levels).
        let fusion = overlayRaster(s)
        let c = fusion[3, 3]
        #expect(c.r == c.b)
        _ = reduce(&s, .cycleColorMap)
        #expect(s.message?.contains("^ gives the second image a colour map") == true, "\(s.message ?? "")")
        // The command line sets it too, and the export records it.
        _ = reduce(&s, .command(.run(try CommandParser.parse("set compare-cmap viridis"))))
        #expect(s.compareColorMap == .viridis && s.compareMode == .overlay)
        let text = WorkbenchExport.provenance(s)
        #expect(text.contains { $0.key == "CompareColormap" && $0.value == "viridis" }, "\(text)")
        #expect((try? CommandParser.parse("set compare-cmap nosuch")) == nil)
        _ = reduce(&s, .command(.run(try CommandParser.parse("set compare-cmap green-magenta"))))
        #expect(s.compareColorMap == nil)
        // The screen caption says what is shown.
        _ = reduce(&s, .cycleCompareColorMap)
        let screen = WorkbenchView.render(s, cache: SliceCache())
        #expect(!screen.rows(containing: "overlay: second image hot 50 %").isEmpty)
    }
}
