import VolumeCore

/// A label overlay prepared for rendering: labels on the image grid, colours, style, optional truth.
public struct LabelOverlay: Sendable {
    /// Labels (a prediction when `truth` is set), on the image's grid.
    public var labels: LabelVolume
    /// Reference labels on the image's grid; when set, the overlay shows TP/FP/FN.
    public var truth: LabelVolume?
    /// Precomputed colours (reuse across slices); rebuilt (cheaply) when `style`'s visible subset changes.
    public var palette: LabelPalette
    /// Fill/outline/opacity/subset.
    public var style: LabelStyle {
        didSet {
            if style.visibleLabels != oldValue.visibleLabels {
                palette = LabelPalette(table: palette.table, visibleLabels: style.visibleLabels, present: Array(palette.sparse.keys))
            }
        }
    }

    public init(labels: LabelVolume, truth: LabelVolume? = nil, table: LabelTable = .palette, style: LabelStyle = LabelStyle()) {
        self.labels = labels
        self.truth = truth
        self.style = style
        palette = LabelPalette(table: table, visibleLabels: style.visibleLabels, present: LabelOverlay.sparseValues(labels))
    }
}

extension LabelOverlay {
    /// Label values outside the palette's dense range (negative or ≥ 4096), found in one pass.
    static func sparseValues(_ labels: LabelVolume) -> [Int32] {
        var found = Set<Int32>()
        labels.labels.withUnsafeBufferPointer { b in
            for v in b where v < 0 || v >= 4096 { found.insert(v) }
        }
        return Array(found)
    }
}

/// Everything one picture shows: an image, its window and colour map, optional labels and field.
///
/// Build once (the window, palette, Jacobian and magnitudes are computed here), then render any
/// slice cheaply with `render(plane:slice:...)`.
public struct SliceScene: Sendable {
    /// The anatomical image.
    public var image: Volume
    /// Intensity window (automatic: 2–99.5 percentiles of the foreground unless given).
    public var window: IntensityWindow
    /// Colour map of the image.
    public var colorMap: ColorMap
    /// Label overlay on the image grid.
    public var labels: LabelOverlay?
    /// Displacement field overlay on the image grid.
    public var field: FieldOverlay?
    /// Scalar map (e.g. a prediction's confidence) drawn over the image, under the labels.
    public var scalars: ScalarOverlay?
    /// Images drawn over the image in order (each with its colour map, window, threshold, opacity), under the field and labels.
    public var layers: [ImageLayer] = []
    /// A second image over the first (fusion or its own colour map), drawn right after the image, under the layers.
    public var compare: CompareOverlay?

    public init(image: Volume, window: IntensityWindow? = nil, colorMap: ColorMap = .gray,
                labels: LabelOverlay? = nil, field: FieldOverlay? = nil, scalars: ScalarOverlay? = nil) {
        precondition(labels == nil || labels!.labels.geometry.size == image.geometry.size, "labels must be on the image grid")
        precondition(field == nil || field!.field.geometry.size == image.geometry.size, "field must be on the image grid")
        self.image = image
        self.window = window ?? IntensityWindow.automatic(image)
        self.colorMap = colorMap
        self.labels = labels
        self.field = field
        precondition(scalars == nil || scalars!.values.geometry.size == image.geometry.size, "scalars must be on the image grid")
        self.scalars = scalars
    }
}

/// A scalar volume drawn over the image through a colour table (alpha in the table and `opacity`
/// blend it; NaN voxels leave the image unchanged).
public struct ScalarOverlay: Sendable {
    /// Values on the image grid.
    public var values: Volume
    /// Values mapped to the table's first and last entries.
    public var window: IntensityWindow
    /// 256 colours, alpha included.
    public var colors: ColorTable
    /// Overall opacity, 0...1.
    public var opacity: Double

    public init(values: Volume, window: IntensityWindow, colors: ColorTable, opacity: Double = 1) {
        self.values = values; self.window = window; self.colors = colors; self.opacity = opacity
    }
}

/// Output sizing and annotation of a rendered slice.
public struct RenderOptions: Equatable, Sendable {
    /// Integer upscaling of the (aspect-corrected) native raster.
    public var scale: Int
    /// Stretch the shorter-spaced axis so pixels are physically square (anisotropic voxels).
    public var squarePixels: Bool
    /// Draw anatomical orientation letters on the four edges.
    public var orientationLetters: Bool
    /// Text drawn in the top-left corner (e.g. the slice index in a montage).
    public var caption: String?

    public init(scale: Int = 1, squarePixels: Bool = true, orientationLetters: Bool = true, caption: String? = nil) {
        self.scale = max(1, scale); self.squarePixels = squarePixels
        self.orientationLetters = orientationLetters; self.caption = caption
    }

    /// Bare native raster: one pixel per voxel, no letters (what a terminal view wants).
    public static let native = RenderOptions(scale: 1, squarePixels: false, orientationLetters: false)
}

extension SliceScene {
    /// The display mapping of `plane` for this scene's image.
    public func mapping(_ plane: SlicePlane, convention: DisplayConvention = .neurological) -> SliceMapping {
        SliceMapping(geometry: image.geometry, plane: plane, convention: convention)
    }

    /// Native-resolution raster of one slice: windowed image, scalar field map, labels (one pixel per voxel).
    public func renderNative(_ mapping: SliceMapping, slice: Int) -> RGBAImage {
        precondition(slice >= 0 && slice < mapping.sliceCount, "slice out of range")
        var img = RGBAImage(width: mapping.width, height: mapping.height)
        let n = mapping.width * mapping.height
        let values = [Float](unsafeUninitializedCapacity: n) { buf, count in
            image.voxels.withUnsafeBufferPointer { mapping.extract($0, slice: slice, into: buf) }
            count = n
        }
        values.withUnsafeBufferPointer { img.drawScalars($0, window: window, colors: colorMap.table) }
        if let compare {
            values.withUnsafeBufferPointer { compare.draw(on: &img, baseValues: $0, baseWindow: window, mapping: mapping, slice: slice) }
        }
        for layer in layers { layer.draw(on: &img, mapping: mapping, slice: slice) }
        field?.drawScalarMap(on: &img, mapping: mapping, slice: slice)
        if let sc = scalars {
            mapping.extract(sc.values.voxels, slice: slice).withUnsafeBufferPointer {
                img.drawScalars($0, window: sc.window, colors: sc.colors, opacity: sc.opacity)
            }
        }
        if let lo = labels {
            let l = lo.labels.labels.withUnsafeBufferPointer { src in
                [Int32](unsafeUninitializedCapacity: n) { buf, count in mapping.extract(src, slice: slice, into: buf); count = n }
            }
            if let truth = lo.truth {
                let t = mapping.extract(truth.labels, slice: slice)
                l.withUnsafeBufferPointer { p in
                    t.withUnsafeBufferPointer { tb in _ = img.compositeComparison(prediction: p, truth: tb, palette: lo.palette, style: lo.style) }
                }
            } else {
                l.withUnsafeBufferPointer { img.compositeLabels($0, palette: lo.palette, style: lo.style) }
            }
        }
        return img
    }

    /// Output size and per-axis scale (output pixels per display pixel) of a slice under `options`.
    public func outputScale(_ mapping: SliceMapping, options: RenderOptions) -> (width: Int, height: Int, scale: SIMD2<Double>) {
        var sx = 1.0, sy = 1.0
        if options.squarePixels {
            let m = min(mapping.pixelSpacing.column, mapping.pixelSpacing.row)
            if m > 0 && m.isFinite { sx = mapping.pixelSpacing.column / m; sy = mapping.pixelSpacing.row / m }
        }
        let k = Double(options.scale)
        // Clamped (never a trap on extreme voxel sizes); `outputSizeProblem` reports the real size.
        func side(_ v: Double) -> Int { max(1, Int(min(Double(SliceScene.maximumSide), v.rounded()))) }
        let w = side(Double(mapping.width) * sx * k), h = side(Double(mapping.height) * sy * k)
        return (w, h, SIMD2(Double(w) / Double(mapping.width), Double(h) / Double(mapping.height)))
    }

    /// Longest side of a rendered picture, in pixels.
    public static let maximumSide = 65535

    /// Why `mapping` cannot be rendered with `options` (a side longer than `maximumSide`, e.g.
    /// from voxels 1000 times longer one way than the other, shown with square pixels), or nil.
    public func outputSizeProblem(_ mapping: SliceMapping, options: RenderOptions) -> String? {
        var sx = 1.0, sy = 1.0
        let ps = mapping.pixelSpacing
        if options.squarePixels {
            let m = min(ps.column, ps.row)
            if m > 0 && m.isFinite { sx = ps.column / m; sy = ps.row / m }
        }
        let w = Double(mapping.width) * sx * Double(options.scale), h = Double(mapping.height) * sy * Double(options.scale)
        guard w.rounded() > Double(Self.maximumSide) || h.rounded() > Double(Self.maximumSide) else { return nil }
        let ratio = max(ps.column, ps.row) / min(ps.column, ps.row)
        return "voxel sizes \(shortMM(ps.column)) x \(shortMM(ps.row)) mm in this plane (1:\(shortMM(ratio)) aspect, drawn with square pixels) make the picture \(shortMM(w.rounded())) x \(shortMM(h.rounded())) pixels; the longest side voxterm draws is \(Self.maximumSide)"
    }

    /// Renders one slice: native raster, aspect correction and upscaling, then arrows or grid,
    /// orientation letters and caption at output resolution.
    public func render(_ mapping: SliceMapping, slice: Int, options: RenderOptions = RenderOptions()) -> RGBAImage {
        let native = renderNative(mapping, slice: slice)
        let (w, h, scale) = outputScale(mapping, options: options)
        var img = native.resized(width: w, height: h)
        field?.drawVectors(on: &img, mapping: mapping, slice: slice, scale: scale)
        annotate(&img, mapping: mapping, options: options)
        return img
    }

    /// Convenience: renders `slice` of `plane` (middle slice when nil).
    public func render(plane: SlicePlane, slice: Int? = nil, convention: DisplayConvention = .neurological,
                       options: RenderOptions = RenderOptions()) -> RGBAImage {
        let m = mapping(plane, convention: convention)
        return render(m, slice: slice ?? m.middleSlice, options: options)
    }

    /// Draws orientation letters (mid-edges) and the caption (top-left).
    func annotate(_ img: inout RGBAImage, mapping: SliceMapping, options: RenderOptions) {
        let fs = max(1, min(img.width, img.height) / 160)
        let gh = 7 * fs, gw = 5 * fs, pad = 2 * fs
        if options.orientationLetters && img.width >= gw * 3 && img.height >= gh * 3 {
            let e = mapping.edgeDirections
            let midY = (img.height - gh) / 2, midX = (img.width - gw) / 2
            img.drawText(String(e.left.rawValue), x: pad, y: midY, scale: fs)
            img.drawText(String(e.right.rawValue), x: img.width - gw - pad, y: midY, scale: fs)
            img.drawText(String(e.top.rawValue), x: midX, y: pad, scale: fs)
            img.drawText(String(e.bottom.rawValue), x: midX, y: img.height - gh - pad, scale: fs)
        }
        if let caption = options.caption {
            img.drawText(caption, x: pad, y: pad, scale: fs, color: RGBA8(255, 255, 255))
        }
    }

    /// Evenly spaced slice indices for a `count`-tile montage: centres of equal bins over `range`.
    public static func montageSlices(count: Int, range: ClosedRange<Int>) -> [Int] {
        guard count > 0 else { return [] }
        let n = range.count
        return (0..<count).map { i in range.lowerBound + min(n - 1, Int((Double(i) + 0.5) * Double(n) / Double(count))) }
    }

    /// Slices of `mapping` holding any voxel above the window's low end (the anatomy), or all slices when none do.
    public func occupiedSlices(_ mapping: SliceMapping) -> ClosedRange<Int> {
        let size = image.geometry.size, axis = mapping.sliceAxis
        let count = mapping.sliceCount
        // One row of flags per k plane, so workers never share memory; reduced afterwards.
        var marks = [Bool](repeating: false, count: size.z * count)
        let low = Float(window.low)
        image.voxels.withUnsafeBufferPointer { v in
            marks.withUnsafeMutableBufferPointer { flags in
                parallelFor(size.z) { k in
                    for j in 0..<size.y {
                        let row = size.x * (j + size.y * k)
                        for i in 0..<size.x where v[row + i] > low {
                            flags[k * count + (axis == 0 ? i : (axis == 1 ? j : k))] = true
                        }
                    }
                }
            }
        }
        var occupied = [Bool](repeating: false, count: count)
        for k in 0..<size.z { for s in 0..<count where marks[k * count + s] { occupied[s] = true } }
        guard let lo = occupied.firstIndex(of: true), let hi = occupied.lastIndex(of: true) else { return 0...(mapping.sliceCount - 1) }
        return lo...hi
    }

    /// A lightbox of `rows x columns` slices evenly spaced over the occupied slice range, row-major,
    /// each captioned with its slice index; tiles are separated by `gap` black pixels.
    public func renderMontage(plane: SlicePlane, rows: Int, columns: Int, convention: DisplayConvention = .neurological,
                              options: RenderOptions = RenderOptions(), gap: Int = 2) -> (image: RGBAImage, slices: [Int]) {
        let m = mapping(plane, convention: convention)
        let slices = SliceScene.montageSlices(count: rows * columns, range: occupiedSlices(m))
        let (w, h, _) = outputScale(m, options: options)
        let g = max(0, gap)
        var out = RGBAImage(width: w * columns + g * (columns - 1), height: h * rows + g * (rows - 1))
        var tiles = [RGBAImage?](repeating: nil, count: slices.count)
        tiles.withUnsafeMutableBufferPointer { t in
            // Tiles render in parallel; each writes only its own slot.
            parallelFor(slices.count) { i in
                var o = options
                o.caption = (options.caption.map { $0 + " " } ?? "") + "\(slices[i])"
                t[i] = render(m, slice: slices[i], options: o)
            }
        }
        for (i, tile) in tiles.enumerated() {
            out.paste(tile!, x: (i % columns) * (w + g), y: (i / columns) * (h + g))
        }
        return (out, slices)
    }
}

/// A number for messages with 4 significant digits (integers as they are): 0.001, 99999.99 -> 100000.
private func shortMM(_ v: Double) -> String {
    guard v.isFinite, v != 0 else { return "\(v)" }
    var scale = 1.0
    while abs(v) * scale < 1000 { scale *= 10 }
    while abs(v) * scale >= 10000 { scale /= 10 }
    let r = (v * scale).rounded() / scale
    if r == r.rounded() && abs(r) < 1e15 { return String(Int(r)) }
    return "\(r)"
}
