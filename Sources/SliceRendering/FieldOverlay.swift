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

    /// Prepares `field` (on the image grid) for display with `style`.
    public init(field: VectorField, style: FieldStyle = FieldStyle()) {
        self.field = field
        self.style = style
        magnitude = field.magnitude
        maximumMagnitude = Double(magnitude.voxels.lazy.filter { $0.isFinite }.max() ?? 0)
        jacobian = style.mode == .jacobian ? jacobianDeterminant(of: field) : nil
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

    /// Draws the vector part (arrows or warped grid) of slice `slice` on an output image whose
    /// pixels are `scale.x` by `scale.y` output pixels per display pixel.
    public func drawVectors(on image: inout RGBAImage, mapping: SliceMapping, slice: Int, scale: SIMD2<Double>) {
        func out(_ p: SIMD2<Double>) -> SIMD2<Double> { (p + 0.5) * scale - 0.5 }
        let thickness = max(1, (min(scale.x, scale.y) / 3).rounded())
        switch style.mode {
        case .arrows:
            let step = style.step
            let maxMag = maximumMagnitude > 0 ? maximumMagnitude : 1
            let colors = ColorMap.jet.table.colors
            var r = step / 2
            while r < mapping.height {
                var c = step / 2
                while c < mapping.width {
                    let v = mapping.voxel(column: c, row: r, slice: slice)
                    let n = mapping.geometry.index(v.x, v.y, v.z)
                    let m = Double(magnitude.voxels[n])
                    if m > 0 && m.isFinite {
                        let d = displayDisplacement(mapping, column: c, row: r, slice: slice) * style.gain
                        let tail = SIMD2(Double(c), Double(r))
                        let color = colors[min(255, max(0, Int(m / maxMag * 255)))]
                        let a = out(tail), b = out(tail + d)
                        let len = ((b - a) * (b - a)).sum().squareRoot()
                        if len >= 1 {
                            // A dark halo first keeps arrows readable on bright anatomy.
                            let head = max(3, min(len * 0.4, 4 * thickness + 4))
                            let u = (b - a) / len
                            image.drawArrow(from: a - u, to: b + u * 1.5, color: RGBA8(0, 0, 0, 200),
                                            thickness: thickness + 2, headLength: head + 2)
                            image.drawArrow(from: a, to: b, color: color, thickness: thickness, headLength: head)
                        }
                    }
                    c += step
                }
                r += step
            }
        case .grid:
            let step = style.step
            let color = RGBA8(255, 90, 0)
            // Lines of constant column.
            var c = step / 2
            while c < mapping.width {
                var prev: SIMD2<Double>?
                for r in 0..<mapping.height {
                    let p = out(SIMD2(Double(c), Double(r)) + displayDisplacement(mapping, column: c, row: r, slice: slice) * style.gain)
                    if let q = prev { image.drawLine(from: q, to: p, color: color, thickness: thickness) }
                    prev = p
                }
                c += step
            }
            var r = step / 2
            while r < mapping.height {
                var prev: SIMD2<Double>?
                for c in 0..<mapping.width {
                    let p = out(SIMD2(Double(c), Double(r)) + displayDisplacement(mapping, column: c, row: r, slice: slice) * style.gain)
                    if let q = prev { image.drawLine(from: q, to: p, color: color, thickness: thickness) }
                    prev = p
                }
                r += step
            }
        case .magnitude, .jacobian:
            break
        }
    }
}
