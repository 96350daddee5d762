import VolumeCore

/// How a displacement field is shown.
public enum FieldDisplayMode: String, CaseIterable, Sendable {
    /// Quiver: in-plane components as arrows on a sub-sampled grid, coloured by 3-D magnitude (jet: blue small, red largest).
    case arrows
    /// Displacement length (mm) as a colour map over the image (`hot`, transparent where nothing moves).
    case magnitude
    /// Jacobian determinant, diverging colours centred at 1 (blue < 1 < red, transparent at 1), folding (≤ 0) marked.
    case jacobian
    /// A regular grid pushed through the displacement (x drawn at x + u(x), in-plane).
    case grid
}

/// Options of the field display.
public struct FieldStyle: Equatable, Sendable {
    /// What to draw.
    public var mode: FieldDisplayMode
    /// Grid spacing of arrows and grid lines, in display pixels (voxels).
    public var step: Int
    /// Multiplier on arrow length and grid displacement (1: true in-plane displacement, mm to pixels).
    public var gain: Double
    /// Opacity of the magnitude and Jacobian colour maps over the image.
    public var opacity: Double

    public init(mode: FieldDisplayMode = .arrows, step: Int = 8, gain: Double = 1, opacity: Double = 0.7) {
        self.mode = mode; self.step = max(1, step); self.gain = gain; self.opacity = opacity
    }
}

/// Colours of the Jacobian display.
public enum JacobianColors {
    /// Determinants from `1 - range` (blue) to `1 + range` (red) span the diverging map.
    public static let range = 1.0
    /// Colour marking folded voxels (determinant ≤ 0).
    public static let folding = RGBA8(0, 255, 0)
    /// Determinant deviation from 1 at which the colour becomes opaque (smaller ones fade to transparent,
    /// so volume-preserving regions show the anatomy).
    public static let opaqueDeviation = 0.25

    /// `bwr` over `1 ± range`, alpha growing with |det - 1| (0 at det = 1).
    public static let table: ColorTable = {
        let base = ColorMap.bwr.table.colors
        return ColorTable((0..<256).map { i in
            var c = base[i]
            let dev = max(0, abs(Double(i) - 127.5) - 0.5) / 127 * range // entries 127, 128 (det 1) are transparent
            c.a = UInt8(min(1, dev / opaqueDeviation) * 255 + 0.5)
            return c
        })
    }()
}

/// A displacement field prepared for display on a given image grid (same geometry as the image).
public struct FieldOverlay: Sendable {
    /// The field, on the image's grid, RAS+ mm.
    public let field: VectorField
    /// Display options; switching to `.jacobian` computes the determinant map once.
    public var style: FieldStyle {
        didSet { if style.mode == .jacobian && jacobian == nil { jacobian = jacobianDeterminant(of: field) } }
    }
    /// Largest displacement length (mm) in the field; arrows and magnitude maps scale to it.
    public let maximumMagnitude: Double
    /// Jacobian determinant (computed once, when the mode first needs it).
    public private(set) var jacobian: Volume?
    /// Displacement length per voxel (mm).
    public let magnitude: Volume
    /// Where arrows may be drawn: one byte per voxel of the grid, 1 inside the image's foreground
    /// (`Foreground.mask(of:)`); nil draws arrows everywhere.
    public var foreground: [UInt8]?

    /// Prepares `field` (on the image grid) for display with `style`; with `image` (same grid),
    /// arrows are drawn only inside its foreground.
    public init(field: VectorField, style: FieldStyle = FieldStyle(), image: Volume? = nil) {
        self.field = field
        self.style = style
        magnitude = field.magnitude
        maximumMagnitude = Double(magnitude.voxels.lazy.filter { $0.isFinite }.max() ?? 0)
        jacobian = style.mode == .jacobian ? jacobianDeterminant(of: field) : nil
        if let image {
            precondition(image.geometry.size == field.geometry.size, "image must be on the field's grid")
            foreground = Foreground.mask(of: image)
        }
    }

    /// Restricts arrows to the foreground of `image` (same grid as the field).
    public mutating func restrictArrows(to image: Volume) {
        precondition(image.geometry.size == field.geometry.size, "image must be on the field's grid")
        foreground = Foreground.mask(of: image)
    }

    /// The gain that makes the 95th percentile of displacement lengths inside the foreground
    /// (all voxels without one) as long as 0.9 of the arrow spacing `step` (display pixels of
    /// `spacing` mm): matplotlib's quiver autoscaling, so arrows are visible but rarely overlap.
    /// 1 when the field is zero.
    public func automaticGain(step: Int, spacing: Double) -> Double {
        var lengths: [Float] = []
        lengths.reserveCapacity(magnitude.voxels.count / 4)
        magnitude.voxels.withUnsafeBufferPointer { m in
            if let f = foreground {
                for i in 0..<m.count where f[i] != 0 && m[i].isFinite && m[i] > 0 { lengths.append(m[i]) }
            } else {
                for x in m where x.isFinite && x > 0 { lengths.append(x) }
            }
        }
        guard !lengths.isEmpty else { return 1 }
        let p95 = IntensityWindow.percentiles(lengths, [0.95])[0]
        guard p95 > 0, spacing > 0 else { return 1 }
        return 0.9 * Double(step) * spacing / p95
    }

    /// The colour bar of the current scalar mode (magnitude in mm, or the Jacobian determinant), nil for arrows and grid.
    public var colorBar: ColorBar? {
        switch style.mode {
        case .magnitude:
            return ColorBar(table: FieldOverlay.magnitudeTable,
                            window: IntensityWindow.widened(0, maximumMagnitude > 0 ? maximumMagnitude : 1), title: "MM")
        case .jacobian:
            return ColorBar(table: JacobianColors.table,
                            window: IntensityWindow(low: 1 - JacobianColors.range, high: 1 + JacobianColors.range)!, title: "JAC")
        case .arrows, .grid:
            return nil
        }
    }

    /// `hot` from 0 to the largest magnitude, transparent at 0 and opaque from 10 % of the range
    /// up, so still regions show the anatomy.
    public static let magnitudeTable: ColorTable = ColorTable(ColorMap.hot.table.colors.enumerated().map { i, c in
        var c = c
        c.a = UInt8(min(1, Double(i) / 25.5) * 255 + 0.5)
        return c
    })

    /// The in-plane displacement (display pixels: column and row) at display pixel (column, row).
    @inlinable
    public func displayDisplacement(_ mapping: SliceMapping, column: Int, row: Int, slice: Int) -> SIMD2<Double> {
        let v = mapping.voxel(column: column, row: row, slice: slice)
        let u = field.vector(at: mapping.geometry.index(v.x, v.y, v.z))
        let (cd, rd) = mapping.displayDirections
        let uu = SIMD3<Double>(Double(u.x), Double(u.y), Double(u.z))
        return SIMD2((uu * cd).sum() / mapping.pixelSpacing.column, (uu * rd).sum() / mapping.pixelSpacing.row)
    }

    /// Draws the scalar part (magnitude or Jacobian map) of slice `slice` into a native-resolution image.
    public func drawScalarMap(on image: inout RGBAImage, mapping: SliceMapping, slice: Int) {
        switch style.mode {
        case .magnitude:
            let s = mapping.extract(magnitude.voxels, slice: slice)
            let window = IntensityWindow.widened(0, maximumMagnitude > 0 ? maximumMagnitude : 1)
            s.withUnsafeBufferPointer { image.drawScalars($0, window: window, colors: FieldOverlay.magnitudeTable, opacity: style.opacity) }
        case .jacobian:
            guard let jacobian else { return }
            let s = mapping.extract(jacobian.voxels, slice: slice)
            let window = IntensityWindow(low: 1 - JacobianColors.range, high: 1 + JacobianColors.range)!
            s.withUnsafeBufferPointer { image.drawScalars($0, window: window, colors: JacobianColors.table, opacity: style.opacity) }
            let folding = packRGBA(JacobianColors.folding)
            image.pixels.withUnsafeMutableBytes { raw in
                let px = raw.bindMemory(to: UInt32.self)
                for i in 0..<s.count where s[i] <= 0 { px[i] = folding }
            }
        case .arrows, .grid:
            break
        }
    }

    /// Draws the scalar part (magnitude or Jacobian map) of slice `slice` over an output image whose
    /// pixels are `scale.x` by `scale.y` output pixels per display pixel (nearest display pixel):
    /// what compare modes use to colour the composite they show, every tile alike.
    public func drawScalarMap(on image: inout RGBAImage, mapping: SliceMapping, slice: Int, scale: SIMD2<Double>) {
        let values: [Float], window: IntensityWindow, table: ColorTable
        switch style.mode {
        case .magnitude:
            values = mapping.extract(magnitude.voxels, slice: slice)
            window = IntensityWindow.widened(0, maximumMagnitude > 0 ? maximumMagnitude : 1)
            table = FieldOverlay.magnitudeTable
        case .jacobian:
            guard let jacobian else { return }
            values = mapping.extract(jacobian.voxels, slice: slice)
            window = IntensityWindow(low: 1 - JacobianColors.range, high: 1 + JacobianColors.range)!
            table = JacobianColors.table
        case .arrows, .grid:
            return
        }
        let w = mapping.width, h = mapping.height, ow = image.width, oh = image.height
        let xs = (0..<ow).map { min(w - 1, Int(Double($0) / scale.x)) }
        let lo = Float(window.low), k = Float(255 / (window.high - window.low))
        let folding = packRGBA(JacobianColors.folding), jac = style.mode == .jacobian, opacity = style.opacity
        table.packed.withUnsafeBufferPointer { lut in
            image.pixels.withUnsafeMutableBytes { raw in
                let px = raw.bindMemory(to: UInt32.self)
                values.withUnsafeBufferPointer { v in
                    parallelFor(oh) { y in
                        let row = min(h - 1, Int(Double(y) / scale.y)) * w
                        for x in 0..<ow {
                            let val = v[row + xs[x]]
                            if val.isNaN { continue }
                            if jac && val <= 0 { px[y * ow + x] = folding; continue }
                            let t = (val - lo) * k + 0.5
                            px[y * ow + x] = blendPacked(px[y * ow + x], lut[t <= 0 ? 0 : (t >= 255 ? 255 : Int(t))], opacity)
                        }
                    }
                }
            }
        }
    }

    /// Arrow tails of slice `slice`: display pixels on a regular grid every `step` pixels (offset
    /// `step / 2`), inside the foreground, where the displacement is finite and non-zero, with the
    /// in-plane displacement in display pixels and the 3-D length in mm.
    public func arrowSamples(_ mapping: SliceMapping, slice: Int, step: Int)
        -> [(column: Int, row: Int, displacement: SIMD2<Double>, magnitude: Double)] {
        var out: [(column: Int, row: Int, displacement: SIMD2<Double>, magnitude: Double)] = []
        let step = max(1, step)
        var r = step / 2
        while r < mapping.height {
            var c = step / 2
            while c < mapping.width {
                let v = mapping.voxel(column: c, row: r, slice: slice)
                let n = mapping.geometry.index(v.x, v.y, v.z)
                let m = Double(magnitude.voxels[n])
                if m > 0 && m.isFinite && (foreground == nil || foreground![n] != 0) {
                    out.append((c, r, displayDisplacement(mapping, column: c, row: r, slice: slice), m))
                }
                c += step
            }
            r += step
        }
        return out
    }

    /// Draws the vector part (arrows or warped grid) of slice `slice` on an output image whose
    /// pixels are `scale.x` by `scale.y` output pixels per display pixel.
    public func drawVectors(on image: inout RGBAImage, mapping: SliceMapping, slice: Int, scale: SIMD2<Double>) {
        func out(_ p: SIMD2<Double>) -> SIMD2<Double> { (p + 0.5) * scale - 0.5 }
        let thickness = max(1, (min(scale.x, scale.y) / 3).rounded())
        switch style.mode {
        case .arrows:
            let maxMag = maximumMagnitude > 0 ? maximumMagnitude : 1
            let colors = ColorMap.jet.table.colors
            for a in arrowSamples(mapping, slice: slice, step: style.step) {
                let d = a.displacement * style.gain
                let tail = SIMD2(Double(a.column), Double(a.row))
                let color = colors[min(255, max(0, Int(a.magnitude / maxMag * 255)))]
                drawHaloArrow(on: &image, from: out(tail), to: out(tail + d), color: color, thickness: thickness)
            }
            drawArrowKey(on: &image, mapping: mapping, scale: scale, thickness: thickness)
        case .grid:
            let step = style.step
            let color = RGBA8(255, 90, 0)
            // Lines of constant column, then of constant row, each through the displaced grid points.
            for columns in [true, false] {
                var line = step / 2
                while line < (columns ? mapping.width : mapping.height) {
                    var prev: SIMD2<Double>?
                    for along in 0..<(columns ? mapping.height : mapping.width) {
                        let (c, r) = columns ? (line, along) : (along, line)
                        let p = out(SIMD2(Double(c), Double(r)) + displayDisplacement(mapping, column: c, row: r, slice: slice) * style.gain)
                        if let q = prev { image.drawLine(from: q, to: p, color: color, thickness: thickness) }
                        prev = p
                    }
                    line += step
                }
            }
        case .magnitude, .jacobian:
            break
        }
    }

    /// An arrow with a dark halo, so it reads on bright anatomy; nothing when shorter than a pixel.
    func drawHaloArrow(on image: inout RGBAImage, from a: SIMD2<Double>, to b: SIMD2<Double>, color: RGBA8, thickness: Double) {
        let len = ((b - a) * (b - a)).sum().squareRoot()
        guard len >= 1 else { return }
        let head = max(3, min(len * 0.4, 4 * thickness + 4))
        let u = (b - a) / len
        image.drawArrow(from: a - u, to: b + u * 1.5, color: RGBA8(0, 0, 0, 200), thickness: thickness + 2, headLength: head + 2)
        image.drawArrow(from: a, to: b, color: color, thickness: thickness, headLength: head)
    }

    /// The length (mm, a 1-2-5 number) the arrow key shows: about two arrow spacings long at the current gain.
    public func arrowKeyLength(_ mapping: SliceMapping) -> Double {
        let sp = min(mapping.pixelSpacing.column, mapping.pixelSpacing.row)
        guard style.gain > 0, sp > 0 else { return 1 }
        let target = 1.5 * Double(style.step) * sp / style.gain   // mm drawn 1.5 spacings long
        let p = pow10(Double(decimalExponent(target)))
        return [5.0, 2, 1].map { $0 * p }.first { $0 <= target } ?? p
    }

    /// The stated scale of the arrows: a white arrow in the bottom-left corner labelled with the
    /// displacement (mm) it stands for, drawn at the same gain.
    func drawArrowKey(on image: inout RGBAImage, mapping: SliceMapping, scale: SIMD2<Double>, thickness: Double) {
        let mm = arrowKeyLength(mapping)
        let px = mm / mapping.pixelSpacing.column * style.gain * scale.x
        let fs = max(1, min(image.width, image.height) / 160)
        let text = "\(shortNumber(mm)) MM"
        let tw = BitmapFont.size(of: text, scale: fs).width
        let pad = 3.0 * Double(fs)
        guard px >= 4, px + Double(tw) + 4 * pad < Double(image.width), image.height > 12 * fs else { return }
        let y = Double(image.height) - pad - 3.5 * Double(fs)
        drawHaloArrow(on: &image, from: SIMD2(pad, y), to: SIMD2(pad + px, y), color: RGBA8(255, 255, 255), thickness: thickness)
        image.drawText(text, x: Int(pad + px + pad), y: Int(y) - 3 * fs, scale: fs, color: RGBA8(255, 255, 255))
    }
}
