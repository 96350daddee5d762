import VolumeCore

/// How a label map is drawn over the image.
public struct LabelStyle: Equatable, Sendable {
    /// Opacity of the label colours, 0 (invisible) ... 1 (opaque).
    public var opacity: Double
    /// Draw only region boundaries (pixels with a differently labelled 4-neighbour), opaque.
    public var outline: Bool
    /// Labels to show; nil shows every label the table does not hide.
    public var visibleLabels: Set<Int32>?

    public init(opacity: Double = 0.5, outline: Bool = false, visibleLabels: Set<Int32>? = nil) {
        self.opacity = opacity; self.outline = outline; self.visibleLabels = visibleLabels
    }
}

/// Label colours precomputed for compositing: build once per table and visible subset, reuse per slice.
public struct LabelPalette: Sendable {
    /// The table colours come from.
    public let table: LabelTable
    /// Labels shown (nil: all visible in the table).
    public let visibleLabels: Set<Int32>?
    /// Packed colour (alpha 0 = not drawn) for labels 0..<dense.count.
    @usableFromInline let dense: [UInt32]
    /// Packed colours for labels outside the dense range.
    @usableFromInline let sparse: [Int32: UInt32]

    /// Colours for `table` restricted to `visibleLabels`; `present` lists the label values to prepare
    /// (labels not listed fall back to the table or default palette on lookup).
    public init(table: LabelTable, visibleLabels: Set<Int32>? = nil, present: [Int32] = []) {
        self.table = table
        self.visibleLabels = visibleLabels
        let maxDense = 4096
        var d = [UInt32](repeating: 0, count: maxDense)
        var sp: [Int32: UInt32] = [:]
        func word(_ v: Int32) -> UInt32 {
            if v == 0 { return 0 }
            if let vis = visibleLabels, !vis.contains(v) { return 0 }
            if visibleLabels == nil, let e = table.entries[v], !e.visible { return 0 }
            var c = table.color(of: v)
            c.a = c.a == 0 ? 0 : c.a
            return packRGBA(c)
        }
        for v in 1..<maxDense { d[v] = word(Int32(v)) }
        for v in present where v < 0 || v >= Int32(maxDense) { sp[v] = word(v) }
        for v in table.entries.keys where v < 0 || v >= Int32(maxDense) { sp[v] = word(v) }
        dense = d
        sparse = sp
    }

    /// Packed colour of `label` (alpha 0 when hidden or background).
    @inlinable
    public func packedColor(_ label: Int32) -> UInt32 {
        if label >= 0 && Int(label) < dense.count { return dense[Int(label)] }
        return sparse[label] ?? packRGBA(LabelTable.defaultColor(label))
    }

    /// True when `label` is drawn.
    @inlinable public func isVisible(_ label: Int32) -> Bool { packedColor(label) >> 24 != 0 }
}

/// Colours of a prediction-versus-truth comparison.
public enum ComparisonColors {
    /// True positive (prediction equals truth, non-zero): green.
    public static let truePositive = RGBA8(40, 200, 60)
    /// False positive (prediction labels a voxel truth does not give that label): red.
    public static let falsePositive = RGBA8(240, 40, 40)
    /// False negative (truth labels a voxel the prediction misses): blue.
    public static let falseNegative = RGBA8(40, 120, 255)
}

/// Per-category voxel counts of a comparison slice.
public struct ComparisonCounts: Equatable, Sendable {
    /// Pixels in each category.
    public var truePositive = 0, falsePositive = 0, falseNegative = 0
    public init() {}
}

extension RGBAImage {
    /// Composites a display-order label slice (`width * height` labels) with `palette` and `style`.
    public mutating func compositeLabels(_ labels: UnsafeBufferPointer<Int32>, palette: LabelPalette, style: LabelStyle) {
        precondition(labels.count >= width * height)
        let w = width, h = height
        let alpha = min(max(style.opacity, 0), 1)
        let outline = style.outline
        pixels.withUnsafeMutableBytes { raw in
            let px = raw.bindMemory(to: UInt32.self)
            parallelFor(h) { y in
                for x in 0..<w {
                    let n = x + w * y
                    let l = labels[n]
                    if l == 0 { continue }
                    let c = palette.packedColor(l)
                    if c >> 24 == 0 { continue }
                    if outline {
                        let boundary = (x == 0 || labels[n - 1] != l) || (x == w - 1 || labels[n + 1] != l)
                            || (y == 0 || labels[n - w] != l) || (y == h - 1 || labels[n + w] != l)
                        if !boundary { continue }
                        px[n] = blendPacked(px[n], c, max(alpha, 0.9))
                    } else {
                        px[n] = blendPacked(px[n], c, alpha)
                    }
                }
            }
        }
    }

    /// Composites prediction vs truth (display-order slices): TP green, FP red, FN blue; only
    /// labels `palette` shows take part. Returns the pixel counts of each category.
    @discardableResult
    public mutating func compositeComparison(prediction: UnsafeBufferPointer<Int32>, truth: UnsafeBufferPointer<Int32>,
                                             palette: LabelPalette, style: LabelStyle) -> ComparisonCounts {
        let n = width * height
        precondition(prediction.count >= n && truth.count >= n)
        // Category per pixel: 0 none, 1 TP, 2 FP, 3 FN.
        var cat = [Int32](repeating: 0, count: n)
        var counts = ComparisonCounts()
        for i in 0..<n {
            let p = prediction[i], t = truth[i]
            let pv = p != 0 && palette.isVisible(p), tv = t != 0 && palette.isVisible(t)
            if pv && p == t { cat[i] = 1; counts.truePositive += 1 }
            else if pv { cat[i] = 2; counts.falsePositive += 1 }
            else if tv { cat[i] = 3; counts.falseNegative += 1 }
        }
        var table = LabelTable(entries: [:], format: .palette)
        table.entries[1] = LabelEntry(value: 1, name: "true positive", color: ComparisonColors.truePositive)
        table.entries[2] = LabelEntry(value: 2, name: "false positive", color: ComparisonColors.falsePositive)
        table.entries[3] = LabelEntry(value: 3, name: "false negative", color: ComparisonColors.falseNegative)
        let catPalette = LabelPalette(table: table, visibleLabels: [1, 2, 3])
        cat.withUnsafeBufferPointer { compositeLabels($0, palette: catPalette, style: style) }
        return counts
    }

    /// Maps a display-order scalar slice through `window` and `colors` into this image (same size),
    /// NaN leaving the pixel unchanged; colours with alpha < 255 or `opacity < 1` blend over the existing pixels.
    public mutating func drawScalars(_ values: UnsafeBufferPointer<Float>, window: IntensityWindow, colors: ColorTable,
                                     opacity: Double = 1) {
        precondition(values.count >= width * height)
        let lo = Float(window.low), scale = Float(255 / (window.high - window.low))
        let w = width, h = height
        let alpha = min(max(opacity, 0), 1)
        colors.packed.withUnsafeBufferPointer { lut in
            pixels.withUnsafeMutableBytes { raw in
                let px = raw.bindMemory(to: UInt32.self)
                parallelFor(h) { y in
                    for x in 0..<w {
                        let n = x + w * y
                        let v = values[n]
                        var c: UInt32
                        if v.isNaN { c = 0 } else {
                            let t = (v - lo) * scale + 0.5
                            c = lut[!(t > 0) ? 0 : (t >= 255 ? 255 : Int(t))]
                        }
                        px[n] = alpha >= 1 && c >> 24 == 255 ? c : blendPacked(px[n], c, alpha)
                    }
                }
            }
        }
    }
}

/// Blends packed `src` (its alpha times `opacity`) over packed `dst`; result alpha is opaque-ish.
@inlinable
func blendPacked(_ dst: UInt32, _ src: UInt32, _ opacity: Double) -> UInt32 {
    let a = Float(src >> 24) / 255 * Float(opacity)
    if a <= 0 { return dst }
    if a >= 1 { return src | 0xFF00_0000 }
    let inv = 1 - a
    @inline(__always) func ch(_ s: Int) -> UInt32 {
        let d = Float((dst >> UInt32(s)) & 0xFF), v = Float((src >> UInt32(s)) & 0xFF)
        return UInt32(d * inv + v * a + 0.5) << UInt32(s)
    }
    let da = Float(dst >> 24) / 255
    let outA = UInt32(min(1, a + da * inv) * 255 + 0.5)
    return ch(0) | ch(8) | ch(16) | outA << 24
}
