import Testing
import SliceRendering
import VolumeCore

/// Arrows point the way the field does; Jacobian colours read expansion, compression and folding.
@Suite struct FieldDisplayTests {
    /// Renders one arrow (a single grid point) of a uniform field over a black image; returns the
    /// arrow's coloured-pixel centroid relative to its tail, in output pixels.
    func arrowOffset(_ u: SIMD3<Float>, plane: SlicePlane, axes: [AnatomicalDirection] = [.right, .anterior, .superior],
                     convention: DisplayConvention = .neurological) -> SIMD2<Double> {
        let ras = VolumeGeometry(size: [15, 15, 15], spacing: [1, 1, 1], origin: [-7, -7, -7])
        let g = Phantom.reoriented(ras, axes: axes)
        let image = Volume(geometry: g)
        let field = Phantom.uniformField(on: g, u)
        let scene = SliceScene(image: image, window: IntensityWindow(low: 0, high: 1)!,
                               field: FieldOverlay(field: field, style: FieldStyle(mode: .arrows, step: 15, gain: 1)))
        let scale = 8
        let m = scene.mapping(plane, convention: convention)
        let img = scene.render(m, slice: 7, options: RenderOptions(scale: scale, orientationLetters: false))
        let tail = (SIMD2<Double>(7, 7) + 0.5) * Double(scale) - 0.5
        let c = img.centroid { $0.r > 0 || $0.g > 0 || $0.b > 0 }!
        return c - tail
    }

    @Test func uniformFieldArrowsPointTheFieldsWay() {
        // +x (Right): to the right in neurological axial and coronal, to the left in radiological.
        var d = arrowOffset([4, 0, 0], plane: .axial)
        #expect(d.x > 8 && abs(d.y) < 1.5)
        d = arrowOffset([4, 0, 0], plane: .axial, convention: .radiological)
        #expect(d.x < -8 && abs(d.y) < 1.5)
        d = arrowOffset([4, 0, 0], plane: .coronal)
        #expect(d.x > 8 && abs(d.y) < 1.5)
        // +y (Anterior): up in axial, left in sagittal.
        d = arrowOffset([0, 4, 0], plane: .axial)
        #expect(d.y < -8 && abs(d.x) < 1.5)
        d = arrowOffset([0, 4, 0], plane: .sagittal)
        #expect(d.x < -8 && abs(d.y) < 1.5)
        // +z (Superior): up in coronal and sagittal; no in-plane arrow in axial.
        d = arrowOffset([0, 0, 4], plane: .coronal)
        #expect(d.y < -8 && abs(d.x) < 1.5)
        d = arrowOffset([0, 0, 4], plane: .sagittal, axes: [.posterior, .inferior, .left])
        #expect(d.y < -8 && abs(d.x) < 1.5)
        // Diagonal right-anterior in an LPI file: up and to the right.
        d = arrowOffset([3, 3, 0], plane: .axial, axes: [.left, .posterior, .inferior])
        #expect(d.x > 5 && d.y < -5)
    }

    @Test func arrowHeadMakesTheDirectionUnambiguous() {
        // The centroid lies past the midpoint of the 4 mm (32 px) shaft, toward the tip.
        let d = arrowOffset([4, 0, 0], plane: .axial)
        #expect(d.x > 16)
    }

    func jacobianColour(factor: Double) -> (RGBA8, Float) {
        let g = VolumeGeometry(size: [12, 12, 12], spacing: [1, 1, 2])
        let field = Phantom.radialField(on: g, factor: factor)
        let overlay = FieldOverlay(field: field, style: FieldStyle(mode: .jacobian, opacity: 1))
        let scene = SliceScene(image: Volume(geometry: g), window: IntensityWindow(low: 0, high: 1)!, field: overlay)
        let img = scene.render(plane: .axial, options: .native)
        return (img[6, 6], overlay.jacobian!.voxels[g.index(6, 6, 6)])
    }

    @Test func expansionReadsAboveOneAndRed() {
        let (c, j) = jacobianColour(factor: 0.1)
        #expect(abs(j - 1.331) < 1e-3)
        // Red over the black image, alpha min(1, 0.331 / 0.25) = 1.
        #expect(c.r == 255 && c.g < 200 && c.b < 200)
    }

    @Test func compressionReadsBelowOneAndBlue() {
        let (c, j) = jacobianColour(factor: -0.1)
        #expect(abs(j - 0.729) < 1e-3)
        #expect(c.b == 255 && c.r < 200)
    }

    @Test func volumePreservingRegionsLeaveTheAnatomyVisible() {
        let (c, j) = jacobianColour(factor: 0)
        #expect(j == 1)
        #expect(c == RGBA8(0, 0, 0)) // the black phantom shows through unchanged
    }

    @Test func foldingIsMarked() {
        let (c, j) = jacobianColour(factor: -2)
        #expect(j < 0)
        #expect(c == JacobianColors.folding)
    }

    @Test func magnitudeMapIsBrightestWhereTheFieldIsLargest() {
        let g = VolumeGeometry(size: [16, 16, 3])
        let field = Phantom.radialField(on: g, factor: 0.5)
        let scene = SliceScene(image: Volume(geometry: g), window: IntensityWindow(low: 0, high: 1)!,
                               field: FieldOverlay(field: field, style: FieldStyle(mode: .magnitude, opacity: 1)))
        let img = scene.render(plane: .axial, options: .native)
        func lum(_ c: RGBA8) -> Int { Int(c.r) + Int(c.g) + Int(c.b) }
        #expect(lum(img[0, 0]) > lum(img[4, 4]))
        #expect(lum(img[4, 4]) > lum(img[8, 8]))
        // Where nothing moves, the anatomy shows through unchanged.
        let still = SliceScene(image: Volume(geometry: g, repeating: 0.5), window: IntensityWindow(low: 0, high: 1)!,
                               field: FieldOverlay(field: Phantom.radialField(on: g, factor: 0), style: FieldStyle(mode: .magnitude, opacity: 1)))
        #expect(still.render(plane: .axial, options: .native)[3, 3] == RGBA8(128, 128, 128))
    }

    @Test func warpedGridFollowsTheDisplacement() {
        let g = VolumeGeometry(size: [16, 16, 3])
        let still = SliceScene(image: Volume(geometry: g), window: IntensityWindow(low: 0, high: 1)!,
                               field: FieldOverlay(field: VectorField(zeroOn: g), style: FieldStyle(mode: .grid, step: 4)))
        let moved = SliceScene(image: Volume(geometry: g), window: IntensityWindow(low: 0, high: 1)!,
                               field: FieldOverlay(field: Phantom.uniformField(on: g, [2, 0, 0]), style: FieldStyle(mode: .grid, step: 4)))
        let o = RenderOptions(scale: 4, orientationLetters: false)
        // Row 17 of the output lies between horizontal grid lines: only vertical lines cross it.
        func crossings(_ img: RGBAImage) -> [Int] { (0..<img.width).filter { img[$0, 17].r > 0 } }
        let a = crossings(still.render(plane: .axial, options: o)), b = crossings(moved.render(plane: .axial, options: o))
        #expect(!a.isEmpty && !b.isEmpty)
        // Vertical lines at display columns 2, 6, 10, 14 move 2 mm = 8 output pixels right.
        #expect(b.first! - a.first! == 8)
        #expect(a.contains(9) && b.contains(17) && b.contains(33) && b.contains(49))
    }
}

/// Overlays can be restyled in place (what the terminal view does per keypress).
@Suite struct RestylingTests {
    @Test func changingTheSubsetOrModeUpdatesPrecomputedState() {
        let g = VolumeGeometry(size: [6, 6, 3])
        var l = LabelVolume(geometry: g)
        l[1, 1, 1] = 1; l[4, 4, 1] = 2
        var scene = SliceScene(image: Volume(geometry: g), window: IntensityWindow(low: 0, high: 1)!,
                               labels: LabelOverlay(labels: l, style: LabelStyle(opacity: 1)),
                               field: FieldOverlay(field: Phantom.radialField(on: g, factor: 0.2), style: FieldStyle(mode: .arrows)))
        #expect(scene.labels!.palette.isVisible(1) && scene.labels!.palette.isVisible(2))
        scene.labels!.style.visibleLabels = [2]
        #expect(!scene.labels!.palette.isVisible(1) && scene.labels!.palette.isVisible(2))
        let img = scene.render(plane: .axial, options: .native)
        #expect(img[1, 4] == RGBA8(0, 0, 0) && img[4, 1] == LabelTable.defaultColor(2))
        #expect(scene.field!.jacobian == nil)
        scene.field!.style.mode = .jacobian
        #expect(abs((scene.field!.jacobian?.voxels[0] ?? 0) - 1.728) < 1e-3)
    }
}
