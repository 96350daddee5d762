import Testing
import Foundation
import VoxtermModel
import SliceRendering
import Terminal
@testable import Workbench

/// Mean luma of the image cells in columns `xs` of rows `ys` (both half-block pixels).
private func meanLuma(_ g: CellGrid, xs: Range<Int>, ys: Range<Int>) -> Double {
    var sum = 0, n = 0
    for y in ys { for x in xs {
        for c in [g[x, y].foreground, g[x, y].background] {
            if case .rgb(let rgb) = c { sum += rgb.luma; n += 1 }
        }
    } }
    return n == 0 ? -1 : Double(sum) / Double(n)
}

@Suite("Workbench views")
struct WorkbenchViewTests {
    let size = TerminalSize(columns: 120, rows: 40)

    /// The image cell range of the single pane, from the layout.
    func imageRect(_ state: WorkbenchState) -> CellRect { ScreenLayout(state).panes[0].imageRect }

    @Test func theSubjectsLeftIsOnTheLeftInNeurologicalAndOnTheRightInRadiological() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        state.overlay.visible = false
        let cache = SliceCache()
        let r = imageRect(state)
        // Sample the image's rows away from the crosshair.
        let t = state.viewTransform(for: ScreenLayout(state).panes[0])
        let left = t.pixel(ofDisplay: SIMD2(2, 25)), right = t.pixel(ofDisplay: SIMD2(17, 25))
        let y = r.y + Int(left.y) / 2
        var g = WorkbenchView.render(state, cache: cache)
        let lx = r.x + Int(left.x), rx = r.x + Int(right.x)
        #expect(meanLuma(g, xs: lx..<(lx + 2), ys: y..<(y + 1)) > 240)   // i < 10: 1000, white
        #expect(meanLuma(g, xs: rx..<(rx + 2), ys: y..<(y + 1)) < 200)   // j = 4: dark
        _ = reduce(&state, .toggleConvention)
        g = WorkbenchView.render(state, cache: cache)
        #expect(meanLuma(g, xs: lx..<(lx + 2), ys: y..<(y + 1)) < 200)
        #expect(meanLuma(g, xs: rx..<(rx + 2), ys: y..<(y + 1)) > 240)
        // Orientation letters on the pane edges follow.
        let letterRows = (r.y..<(r.y + r.height)).map { y in
            String((r.x..<(r.x + r.width)).map { Character(g[$0, y].character) }.filter { $0.isLetter })
        }
        #expect(letterRows.first == "A" && letterRows.last == "P")
        #expect(letterRows.contains("RL"))
        _ = reduce(&state, .toggleConvention)
        let n = WorkbenchView.render(state, cache: cache)
        #expect((r.y..<(r.y + r.height)).contains { y in
            String((r.x..<(r.x + r.width)).map { Character(n[$0, y].character) }.filter { $0.isLetter }) == "LR"
        })
    }

    @Test func paneShowsTheRenderersPixels() {
        // The pane's terminal pixels are the renderer's raster resampled, not a second renderer.
        var state = WorkbenchState(document: phantomDocument(), size: TerminalSize(columns: 60, rows: 40))
        state.showLabelPanel = false
        let cache = SliceCache()
        let g = WorkbenchView.render(state, cache: cache)
        let pane = ScreenLayout(state).panes[0]
        let t = state.viewTransform(for: pane)
        let m = state.mapping(.axial)
        let raster = SliceScene(image: state.document.image, window: state.window,
                                labels: LabelOverlay(labels: state.document.labels!, table: state.document.labelTable))
            .render(m, slice: state.slice(in: .axial), options: RenderOptions(scale: 1, squarePixels: true, orientationLetters: false))
        // A voxel away from crosshair and letters: (col 3, row 8) of the display.
        let p = t.pixel(ofDisplay: SIMD2(3, 8))
        let px = Int(p.x.rounded()), py = Int(p.y.rounded())
        let cell = g[pane.imageRect.x + px, pane.imageRect.y + py / 2]
        let colour = py % 2 == 0 ? cell.foreground : cell.background
        let want = raster[3, 8]
        #expect(colour == .rgb(RGB(want.r, want.g, want.b)))
    }

    @Test func movingTheCrosshairRedrawsFewCellsAndWritesFewBytes() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        let t = runRecorded(&state, [.key(.right)])
        #expect(t.presented.count == 2)
        let changed = t.presented[1].changedCellCount(from: t.presented[0])
        #expect(changed > 0 && changed < 200, "\(changed) cells changed")
        #expect(t.bytesPerFrame[1] * 3 < t.bytesPerFrame[0], "\(t.bytesPerFrame)")
    }

    @Test func colourDepthsProduceTheirCellColours() {
        let doc = phantomDocument()
        for depth in [ColorDepth.palette256, .palette16] {
            var state = WorkbenchState(document: doc, size: size, capabilities: .init(colorDepth: depth, unicode: true))
            let t = runRecorded(&state, [], capabilities: .init(colorDepth: depth, unicode: true))
            let r = imageRect(state)
            let cells = (r.y..<(r.y + r.height)).flatMap { y in (r.x..<(r.x + r.width)).map { t.screen![$0, y] } }
            #expect(cells.contains { $0.character == "▀" })
            for c in cells where c.character == "▀" {
                guard case .indexed(let n) = c.foreground else { Issue.record("\(depth): \(c)"); break }
                if depth == .palette16 { #expect(n < 16) }
            }
        }
        var mono = WorkbenchState(document: doc, size: size, capabilities: .init(colorDepth: .monochrome, unicode: false))
        let t = runRecorded(&mono, [], capabilities: .init(colorDepth: .monochrome, unicode: false))
        let r = imageRect(mono)
        let text = (r.y..<(r.y + r.height)).map { t.screen!.text(row: $0) }.joined()
        #expect(text.contains("@"))
        #expect(!text.contains("▀"))
    }

    @Test func mouseClickSetsTheCrosshairAndTheWheelScrollsSlices() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        let pane = ScreenLayout(state).panes[0]
        let t = state.viewTransform(for: pane)
        let target = state.mapping(.axial).display(ofVoxel: [4, 22, 4])
        let p = t.pixel(ofDisplay: SIMD2(target.column, target.row))
        let cell = (pane.imageRect.x + Int(p.x.rounded()), pane.imageRect.y + Int(p.y.rounded()) / 2)
        runRecorded(&state, [.mouse(MouseEvent(.press, column: cell.0, row: cell.1))])
        #expect(state.cursor == [4, 22, 4])
        runRecorded(&state, [.mouse(MouseEvent(.wheelUp, button: 0, column: cell.0, row: cell.1)),
                             .mouse(MouseEvent(.wheelUp, button: 0, column: cell.0, row: cell.1))])
        #expect(state.cursor == [4, 22, 6])
        // A click outside the image changes nothing.
        runRecorded(&state, [.mouse(MouseEvent(.press, column: 0, row: 0))])
        #expect(state.cursor == [4, 22, 6])
    }

    @Test func orthoLayoutShowsThreeLinkedPanes() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        let t = runRecorded(&state, keys("v") + [.key(.pageUp)])
        #expect(state.layout == .ortho)
        let panes = ScreenLayout(state).panes
        #expect(panes.map(\.plane) == [.axial, .coronal, .sagittal])
        let text = t.screen!.text
        #expect(text.contains("axial 5/9") && text.contains("coronal 14/29") && text.contains("sagittal 9/19"))
        // Panes do not overlap.
        for a in panes { for b in panes where a != b {
            #expect(!(a.rect.x < b.rect.x + b.rect.width && b.rect.x < a.rect.x + a.rect.width
                      && a.rect.y < b.rect.y + b.rect.height && b.rect.y < a.rect.y + a.rect.height))
        } }
        // A click in the sagittal pane makes it active.
        let s = panes[2]
        runRecorded(&state, [.mouse(MouseEvent(.press, column: s.imageRect.x + s.imageRect.width / 2,
                                               row: s.imageRect.y + s.imageRect.height / 2))])
        #expect(state.plane == .sagittal)
    }

    @Test func labelOverlayTogglesHidingAndOutline() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        let cache = SliceCache()
        let r = imageRect(state)
        let t = state.viewTransform(for: ScreenLayout(state).panes[0])
        let p = t.pixel(ofDisplay: SIMD2(15, 10))  // right half, labelled 2 (blue)
        let at = (r.x + Int(p.x), r.y + Int(p.y) / 2)
        func blue(_ s: WorkbenchState) -> Int {
            guard case .rgb(let c) = WorkbenchView.render(s, cache: cache)[at.0, at.1].foreground else { return -1 }
            return Int(c.b) - Int(c.r)
        }
        let on = blue(state)
        _ = reduce(&state, .toggleOverlay)
        let off = blue(state)
        #expect(on > off + 30, "on \(on) off \(off)")
        _ = reduce(&state, .toggleOverlay)
        _ = reduce(&state, .moveLabelSelection(1))   // select label 2
        _ = reduce(&state, .toggleSelectedLabel)
        #expect(state.overlay.hidden == [2])
        #expect(blue(state) == off)
        _ = reduce(&state, .showAllLabels)
        _ = reduce(&state, .toggleOutline)
        #expect(blue(state) == off)   // interior of the region is not outlined
        _ = reduce(&state, .toggleLabelPanel)
        #expect(ScreenLayout(state).labelPanel == nil)
        _ = reduce(&state, .goToSelectedLabel)
        #expect(state.document.label(at: state.cursor) == 2)
    }

    @Test func exportWritesThePNGTheRendererMakes() throws {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        #expect(reduce(&state, .export) == [.exportPNG])
        let dir = NSTemporaryDirectory() + "voxterm-export-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try WorkbenchExport.write(state, cache: SliceCache(), directory: dir)
        #expect(path.hasSuffix("phantom_axial4.png"))
        let png = try PNGCodec.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        let scene = SliceScene(image: state.document.image, window: state.window,
                               labels: LabelOverlay(labels: state.document.labels!, table: state.document.labelTable))
        let expected = scene.render(plane: .axial, slice: 4)
        #expect(png == expected)
        #expect(WorkbenchExport.message(state, cache: SliceCache(), directory: "/nonexistent/dir").hasPrefix("export failed: "))
    }

    @Test func compareModesSideBySideCheckerboardDifferenceFlicker() {
        var state = WorkbenchState(document: phantomDocument(compare: true), size: size)
        #expect(ScreenLayout(state).panes.map(\.content) == [.main, .compare])
        var t = runRecorded(&state, [])
        #expect(t.screen!.text(row: 1).contains("other.nii.gz"))
        _ = reduce(&state, .cycleCompareMode)
        #expect(state.compareMode == .checkerboard)
        #expect(ScreenLayout(state).panes.count == 1)
        let cache = SliceCache()
        let checker = cache.raster(state, plane: .axial, slice: 4, variant: .checkerboard).image
        let a = cache.raster(state, plane: .axial, slice: 4, variant: .main).image
        let b = cache.raster(state, plane: .axial, slice: 4, variant: .compare).image
        var fromA = 0, fromB = 0
        for y in 0..<checker.height { for x in 0..<checker.width {
            if checker[x, y] == a[x, y] && a[x, y] != b[x, y] { fromA += 1 }
            if checker[x, y] == b[x, y] && a[x, y] != b[x, y] { fromB += 1 }
        } }
        #expect(fromA > 50 && fromB > 50, "\(fromA) \(fromB)")
        _ = reduce(&state, .cycleCompareMode)
        t = runRecorded(&state, [])
        #expect(t.screen!.text(row: 1).contains("difference"))
        _ = reduce(&state, .cycleCompareMode)
        #expect(state.compareMode == .flicker)
        let before = state.flickerShowsCompare
        _ = reduce(&state, .tick)
        #expect(state.flickerShowsCompare != before)
        // The loop ticks on its own while flickering: a timeout counts as a tick.
        let rt = RecordingTerminal(size: size, events: [])
        rt.pendingEvents = []
        _ = reduce(&state, .cycleCompareMode)
        #expect(state.compareMode == .overlay)
        _ = reduce(&state, .cycleCompareMode)
        #expect(state.compareMode == .sideBySide)
    }

    @Test func fieldModesCycleAndDrawOverTheImage() {
        var state = WorkbenchState(document: phantomDocument(field: true), size: size)
        #expect(state.fieldMode == .arrows)
        let cache = SliceCache()
        let plain: CellGrid = {
            var s = state; s.fieldMode = nil; s.overlay.visible = false
            return WorkbenchView.render(s, cache: cache)
        }()
        var seen: [FieldDisplayMode?] = []
        for _ in 0..<5 {
            var s = state; s.overlay.visible = false
            if s.fieldMode != nil {
                let g = WorkbenchView.render(s, cache: cache)
                #expect(g.changedCellCount(from: plain) > 20, "\(String(describing: s.fieldMode))")
            }
            seen.append(state.fieldMode)
            _ = reduce(&state, .cycleFieldMode)
        }
        #expect(seen == [.arrows, .magnitude, .jacobian, .grid, nil])
        #expect(state.fieldMode == .arrows)
    }

    @Test func missingInputsExplainThemselves() {
        let g = VolumeGeometry(size: [8, 8, 8])
        var state = WorkbenchState(document: WorkbenchDocument(imagePath: "a.nii", image: Volume(geometry: g, repeating: 1)),
                                   size: size)
        _ = reduce(&state, .cycleFieldMode)
        #expect(state.message == "no field loaded (--field FILE)")
        _ = reduce(&state, .cycleCompareMode)
        #expect(state.message == "no second image (--compare FILE)")
        _ = reduce(&state, .toggleOverlay)
        #expect(state.message == "no labels loaded (--labels FILE)")
        let a = WorkbenchApp.action(for: .key(.character("Q")), state: state)
        #expect(a == .showMessage("key Q does nothing; ? shows the keys"))
    }
}
