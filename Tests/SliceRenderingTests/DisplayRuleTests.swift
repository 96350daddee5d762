import Foundation
import Testing
import NIfTI
import SliceRendering
import TestSupport
import VolumeCore

/// Issue 18: the automatic window, colour bars, arrows restricted to the foreground with an
/// automatic gain, and the field's colour layer over composites.
@Suite struct DisplayRuleTests {
    @Test func automaticWindowIgnoresAFlatBackground() {
        // 60 % zeros (background), foreground 100...199 uniformly.
        var v = Volume(geometry: VolumeGeometry(size: [250, 10, 1]))
        for i in 0..<2500 { v.voxels[i] = i < 1500 ? 0 : Float(100 + (i - 1500) % 100) }
        #expect(Foreground.threshold(of: v) == 0)
        let w = IntensityWindow.automatic(v)
        // 2nd and 99.5th percentiles of 100...199 (numpy's linear definition): 101.98 and 199.
        #expect(abs(w.low - 101.98) < 0.01 && abs(w.high - 199) < 0.01, "\(w)")
        // Without a flat background every voxel counts.
        var ramp = Volume(geometry: VolumeGeometry(size: [1000, 1, 1]))
        for i in 0..<1000 { ramp.voxels[i] = Float(i) }
        #expect(Foreground.threshold(of: ramp) == nil)
        #expect(abs(IntensityWindow.automatic(ramp).low - 19.98) < 0.01)
    }

    @Test func greyAndWhiteMatterAreApartOnTheBundledSample() throws {
        // Colin27 (mricron's ch2bet) and its AAL atlas (grey-matter labels only).
        let image = try NIfTIReader.read(TestPaths.samples.appendingPathComponent("colin27_1mm.nii.gz").path).volume()
        let aal = try NIfTIReader.read(TestPaths.samples.appendingPathComponent("colin27_1mm_aal.nii.gz").path).labelVolume()
        let w = IntensityWindow.automatic(image)
        func grey(_ v: Float) -> Double { min(255, max(0, (Double(v) - w.low) / (w.high - w.low) * 255)) }
        var gm: [Float] = [], wm: [Float] = []
        for i in 0..<image.voxels.count where image.voxels[i] > 0 {
            if aal.labels[i] != 0 { gm.append(image.voxels[i]) } else { wm.append(image.voxels[i]) }
        }
        // Grey matter: median of the AAL voxels; white matter: the bright mode of the unlabelled brain (its 80th percentile).
        let gmMedian = IntensityWindow.percentiles(gm, [0.5])[0], wmBright = IntensityWindow.percentiles(wm, [0.8])[0]
        let apart = grey(Float(wmBright)) - grey(Float(gmMedian))
        #expect(apart >= 70, "window \(w): grey matter \(gmMedian) -> \(grey(Float(gmMedian))), white matter \(wmBright) -> \(grey(Float(wmBright)))")
        #expect(grey(Float(wmBright)) < 255, "white matter saturates under \(w)")
        // The old rule (0.5-99.5 % of all voxels) put them closer.
        let p = IntensityWindow.percentiles(image.voxels, [0.005, 0.995])
        let old = (wmBright - gmMedian) / (p[1] - p[0]) * 255
        #expect(apart > old + 15, "new \(apart) vs old \(old)")
    }

    @Test func colourBarSpansItsWindowWithNiceTicks() {
        let bar = ColorBar(table: ColorMap.hot.table, window: IntensityWindow(low: 0, high: 4.6)!, title: "MM")
        #expect(bar.ticks == [0, 1, 2, 3, 4, 4.6])
        #expect(ColorBar.label(4.63595) == "4.64" && ColorBar.label(121.87) == "122" && ColorBar.label(0.00123) == "0.0012")
        let picture = RGBAImage(width: 200, height: 180, fill: RGBA8(10, 10, 10))
        let (out, strips) = picture.appendingColorBars([bar])
        #expect(out.height == 180 && out.width > 200 && strips.count == 1)
        let s = strips[0]
        var top = ColorMap.hot.table.colors[255], bottom = ColorMap.hot.table.colors[0]
        top.a = 255; bottom.a = 255
        #expect(out[s.x + s.width / 2, s.y] == top)
        #expect(out[s.x + s.width / 2, s.y + s.height - 1] == bottom)
        // Monotonic along the strip (hot's red channel never falls).
        var last = -1
        for y in stride(from: s.y + s.height - 1, through: s.y, by: -1) {
            let r = Int(out[s.x + 1, y].r)
            #expect(r >= last); last = r
        }
        // The picture itself is untouched.
        #expect(out[0, 0] == RGBA8(10, 10, 10) && out[199, 179] == RGBA8(10, 10, 10))
    }

    /// A 30 x 30 x 3 image with a 10 x 10 bright square (foreground) and a uniform field.
    func squareScene(_ u: SIMD3<Float>, style: FieldStyle) -> (SliceScene, FieldOverlay) {
        let g = VolumeGeometry(size: [30, 30, 3], spacing: [1, 1, 1], origin: [0, 0, 0])
        var image = Volume(geometry: g)
        for k in 0..<3 { for j in 10..<20 { for i in 10..<20 { image[i, j, k] = 100 } } }
        let f = FieldOverlay(field: Phantom.uniformField(on: g, u), style: style, image: image)
        return (SliceScene(image: image, window: IntensityWindow(low: 0, high: 200)!, field: f), f)
    }

    @Test func arrowsStartOnlyInsideTheForeground() {
        let (scene, f) = squareScene([2, 0, 0], style: FieldStyle(mode: .arrows, step: 2))
        let m = scene.mapping(.axial)
        let samples = f.arrowSamples(m, slice: 1, step: 2)
        #expect(samples.count == 25)   // columns and rows 11, 13, ..., 19
        for s in samples {
            let v = m.voxel(column: s.column, row: s.row, slice: 1)
            #expect((10..<20).contains(v.x) && (10..<20).contains(v.y))
            #expect(abs(s.displacement.x - 2) < 1e-6 && abs(s.displacement.y) < 1e-6)
        }
        // Rendered: arrow pixels (jet red, not the grey image) lie over the square, plus their length.
        let img = scene.render(m, slice: 1, options: RenderOptions(scale: 4, orientationLetters: false))
        let coloured = img.pixels(where: { $0.r != $0.g || $0.g != $0.b })
        #expect(!coloured.isEmpty)
        // The arrow key (white arrow and "2 MM") in the bottom-left corner, where the image is black.
        let key = img.pixels(where: { $0 == RGBA8(255, 255, 255) }).filter { $0.y > img.height - 20 && $0.x < 40 }.count
        for p in coloured where !(p.y > img.height - 20 && p.x < 40) {
            #expect(p.x >= 10 * 4 - 3 && p.x <= 20 * 4 + 2 * 4 * Int(f.style.gain) + 6 && p.y >= 10 * 4 - 8 && p.y <= 20 * 4 + 8, "\(p)")
        }
        #expect(key > 0, "no arrow key drawn")
    }

    @Test func automaticGainMakesTypicalArrowsNearlyASpacingLong() {
        let (_, f) = squareScene([2, 0, 0], style: FieldStyle(mode: .arrows, step: 8))
        #expect(abs(f.automaticGain(step: 8, spacing: 1) - 3.6) < 1e-6)   // 0.9 * 8 px / 2 mm
        var g = f
        g.style.gain = 3.6
        #expect(g.arrowKeyLength(SliceMapping(geometry: f.field.geometry, plane: .axial)) == 2)   // ≤ 1.5 * 8 / 3.6 = 3.33 mm
    }

    @Test func scalarLayerColoursAWholeComposite() {
        let (scene, f0) = squareScene([3, 0, 0], style: FieldStyle(mode: .magnitude, opacity: 1))
        var f = f0
        f.style.mode = .magnitude
        let m = scene.mapping(.axial)
        // A composite (any picture at 3x): every pixel takes the magnitude colour, as the main view does.
        var composite = RGBAImage(width: 90, height: 90, fill: RGBA8(0, 0, 255))
        f.drawScalarMap(on: &composite, mapping: m, slice: 1, scale: SIMD2(3, 3))
        var main = RGBAImage(width: 30, height: 30, fill: RGBA8(0, 0, 255))
        f.drawScalarMap(on: &main, mapping: m, slice: 1)
        #expect(composite[45, 45] == main[15, 15] && composite[0, 89] == main[0, 29])
        #expect(composite[45, 45] != RGBA8(0, 0, 255))
    }
}
