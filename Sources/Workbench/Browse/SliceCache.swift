import VoxtermModel
import SliceRendering

/// Which picture a pane's raster shows.
public enum RasterVariant: Hashable, Sendable {
    /// The image with labels and field.
    case main
    /// The second image alone.
    case compare
    /// Alternating tiles of the two images.
    case checkerboard
    /// Image minus second image, diverging colours.
    case difference
    /// The second image over the image: magenta over green, or through its own colour map (`compareColorMap`).
    case overlay
}

/// Slices rendered by `SliceRendering`, computed on demand and kept for reuse, plus the
/// per-session render inputs that are expensive to build (label palette, field maps, windows).
///
/// Rasters are keyed by everything that changes their pixels, so a stale image can never be shown;
/// at most `capacity` are kept (least recently used dropped first).
public final class SliceCache {
    /// Number of rasters kept.
    public let capacity: Int
    /// Rasters served from the cache, and rendered.
    public private(set) var hits = 0, misses = 0

    struct RasterKey: Hashable {
        var plane: SlicePlane
        var convention: DisplayConvention
        var slice: Int
        var variant: RasterVariant
        var scale: Int
        var letters: Bool
        var windowLow: Double, windowHigh: Double
        var colorMap: ColorMap
        var overlayVisible: Bool, opacity: Double, outline: Bool, hidden: Set<Int32>
        var fieldMode: FieldDisplayMode?
        /// Arrow spacing (voxels) and whether arrows are drawn into the raster (off when the view draws glyphs).
        var fieldStep: Int, fieldVectors: Bool
        /// Image layers' settings (Layers/).
        var layers: String
        /// Prediction drawn instead of the loaded labels (outcome id and display), if any.
        var prediction: PredictionRasterKey?
        /// The second image's colour map in the overlay variant (nil: green/magenta).
        var compareColorMap: ColorMap? = nil
    }

    private var rasters: [RasterKey: (image: RGBAImage, scale: SIMD2<Double>, used: Int)] = [:]
    private var clock = 0
    private var fieldOverlays: [FieldDisplayMode: FieldOverlay] = [:]
    /// Automatic arrow gain per arrow spacing (voxels).
    private var fieldGains: [Int: Double] = [:]
    private var compareWindow: IntensityWindow?
    private var difference: (volume: Volume, window: IntensityWindow)?
    /// Prediction overlays and support thumbnails (see Curation+Rendering).
    var curationStore = CurationRenderStore()
    /// Window of the difference image, kept when the second image changes (live registration) so
    /// the colours stay comparable from one preview to the next.
    private var differenceWindow: IntensityWindow?
    /// The statistics panel's running sums (`StatisticsPanel`), per session rather than per process.
    let statistics = StatisticsMemo()
    /// `document.revision` the cached rasters and overlays were made from.
    private var revision = 0

    public init(capacity: Int = 24) { self.capacity = max(1, capacity) }

    /// Drops every cached raster (inputs such as palettes are kept).
    public func removeAllRasters() { rasters = [:] }

    /// Drops everything made from the document's labels, field or second image when they changed.
    func follow(_ doc: WorkbenchDocument) {
        guard doc.revision != revision else { return }
        revision = doc.revision
        rasters = [:]
        fieldOverlays = [:]
        fieldGains = [:]
        difference = nil
    }

    /// The scene a variant is rendered from (checkerboard uses `.main` and `.compare`); without
    /// the field, which `raster` draws over whatever the variant composes.
    func scene(_ state: WorkbenchState, _ variant: RasterVariant) -> SliceScene {
        let doc = state.document
        follow(doc)
        switch variant {
        case .main, .checkerboard:
            var labels: LabelOverlay? = nil
            if let lv = doc.labels, state.overlay.visible {
                // Built per scene, not kept: a kept copy would share the label buffer, and the next
                // brush step would then copy the whole map (64 MB for 16 M voxels) instead of
                // changing it in place. The palette is built from `presentLabels`, no volume scan.
                let visible: Set<Int32>? = state.overlay.hidden.isEmpty ? nil : Set(doc.presentLabels).subtracting(state.overlay.hidden)
                labels = LabelOverlay(labels: lv, truth: doc.truth,
                                      palette: LabelPalette(table: doc.labelTable, visibleLabels: visible, present: doc.presentLabels),
                                      style: LabelStyle(opacity: state.overlay.opacity, outline: state.overlay.outline, visibleLabels: visible))
            }
            return SliceScene(image: doc.image, window: state.window, colorMap: state.colorMap, labels: labels)
        case .compare:
            let c = doc.compare ?? doc.image
            if compareWindow == nil { compareWindow = IntensityWindow.automatic(c) }
            return SliceScene(image: c, window: compareWindow!, colorMap: state.colorMap)
        case .overlay:
            let c = doc.compare ?? doc.image
            if compareWindow == nil { compareWindow = IntensityWindow.automatic(c) }
            var s = SliceScene(image: doc.image, window: state.window, colorMap: state.compareColorMap == nil ? .gray : state.colorMap)
            s.compare = CompareOverlay(values: c, window: compareWindow!, colorMap: state.compareColorMap)
            return s
        case .difference:
            if difference == nil {
                let a = doc.image, b = doc.compare ?? doc.image
                var d = [Float](repeating: 0, count: a.voxels.count)
                a.voxels.withUnsafeBufferPointer { av in
                    b.voxels.withUnsafeBufferPointer { bv in
                        d.withUnsafeMutableBufferPointer { dv in for i in 0..<dv.count { dv[i] = av[i] - bv[i] } }
                    }
                }
                let vol = Volume(geometry: a.geometry, voxels: d)
                if differenceWindow == nil {
                    let p = IntensityWindow.percentiles(vol.voxels, [0.005, 0.995])
                    let m = max(abs(p[0]), abs(p[1]), 1e-6)
                    differenceWindow = IntensityWindow(low: -m, high: m)!
                }
                difference = (vol, differenceWindow!)
            }
            return SliceScene(image: difference!.volume, window: difference!.window, colorMap: .bwr)
        }
    }

    /// PNG encodings of the last pane pictures sent to a kitty terminal (newest last).
    private var pngs: [(image: RGBAImage, png: [UInt8])] = []

    /// `image` as an RGB PNG for the kitty graphics protocol (`f=100`), from the last four
    /// encodings when the same picture was drawn again (the ortho layout has three panes).
    func kittyPNG(_ image: RGBAImage) -> [UInt8]? {
        if let i = pngs.firstIndex(where: { $0.image.width == image.width && $0.image.height == image.height && $0.image.pixels == image.pixels }) {
            return pngs[i].png
        }
        guard let png = try? PNGCodec.encode(image, opaque: true) else { return nil }
        pngs.append((image, png))
        if pngs.count > 4 { pngs.removeFirst() }
        return png
    }

    /// The second image's window (its automatic window, computed once).
    func secondImageWindow(_ state: WorkbenchState) -> IntensityWindow {
        _ = scene(state, .compare)
        return compareWindow!
    }

    /// The field overlay of the state's field mode (prepared once per mode, arrows restricted to
    /// the image's foreground), with arrow spacing `step` voxels and the automatic gain for it.
    func fieldOverlay(_ state: WorkbenchState, step: Int = 8) -> FieldOverlay? {
        let doc = state.document
        follow(doc)
        guard let f = doc.field, let mode = state.fieldMode else { return nil }
        if fieldOverlays[mode] == nil {
            var o: FieldOverlay
            if var prepared = doc.preparedFieldOverlay {
                prepared.style = FieldStyle(mode: mode)   // magnitude and Jacobian already computed
                o = prepared
            } else {
                o = FieldOverlay(field: f, style: FieldStyle(mode: mode))
            }
            o.restrictArrows(to: doc.image)
            fieldOverlays[mode] = o
        }
        var o = fieldOverlays[mode]!
        o.style.step = max(1, step)
        let spacing = doc.image.geometry.spacing.min()
        if fieldGains[step] == nil { fieldGains[step] = o.automaticGain(step: step, spacing: spacing) }
        o.style.gain = fieldGains[step]!
        return o
    }

    /// The raster of `slice` of `plane` for `variant`, rendered by `SliceScene.render` with square
    /// pixels at integer `scale`; returns it with its output pixels per display pixel. The field's
    /// colour layer (magnitude, Jacobian) and arrows are drawn over every variant (the composite
    /// of checkerboard, difference and overlay alike), arrows every `fieldStep` voxels unless
    /// `fieldVectors` is false (the view then draws direction glyphs itself).
    public func raster(_ state: WorkbenchState, plane: SlicePlane, slice: Int, variant: RasterVariant,
                       scale: Int = 1, orientationLetters: Bool = false,
                       fieldStep: Int = 8, fieldVectors: Bool = true) -> (image: RGBAImage, scale: SIMD2<Double>) {
        let key = RasterKey(plane: plane, convention: state.convention, slice: slice, variant: variant, scale: scale,
                            letters: orientationLetters, windowLow: state.window.low, windowHigh: state.window.high,
                            colorMap: state.colorMap, overlayVisible: state.overlay.visible, opacity: state.overlay.opacity,
                            outline: state.overlay.outline, hidden: state.overlay.hidden,
                            fieldMode: state.fieldMode, fieldStep: fieldStep, fieldVectors: fieldVectors,
                            layers: variant == .main || variant == .checkerboard ? LayerPanel.cacheKey(state.document.layers) : "",
                            prediction: variant == .main || variant == .checkerboard ? predictionKey(state, plane: plane, slice: slice) : nil,
                            compareColorMap: variant == .overlay ? state.compareColorMap : nil)
        clock += 1
        follow(state.document)
        if let hit = rasters[key] {
            hits += 1
            rasters[key]!.used = clock
            return (hit.image, hit.scale)
        }
        misses += 1
        let options = RenderOptions(scale: scale, squarePixels: true, orientationLetters: orientationLetters)
        let m = SliceMapping(geometry: state.document.image.geometry, plane: plane, convention: state.convention)
        var out: (RGBAImage, SIMD2<Double>)
        if variant == .main {
            // The main scene draws the field itself, at the requested spacing.
            var sc = withPrediction(scene(state, .main), state, plane: plane, slice: slice)
            sc.layers = state.document.layers
            sc.field = fieldOverlay(state, step: fieldStep)
            if !fieldVectors, sc.field?.style.mode == .arrows { sc.field = nil }
            out = (sc.render(m, slice: slice, options: options), sc.outputScale(m, options: options).scale)
        } else if variant == .checkerboard {
            var a = withPrediction(scene(state, .main), state, plane: plane, slice: slice)
            a.layers = state.document.layers
            let b = scene(state, .compare)
            var img = a.render(m, slice: slice, options: options)
            let other = b.render(m, slice: slice, options: options)
            let s = a.outputScale(m, options: options).scale
            let tile = Double(max(4, max(m.width, m.height) / 8))
            for y in 0..<img.height {
                for x in 0..<img.width where (Int(Double(x) / s.x / tile) + Int(Double(y) / s.y / tile)) % 2 == 1 {
                    img[x, y] = other[x, y]
                }
            }
            out = (img, s)
        } else {
            let sc = scene(state, variant)
            out = (sc.render(m, slice: slice, options: options), sc.outputScale(m, options: options).scale)
        }
        // Compare modes: the field over the composite, every tile and both images alike.
        if variant != .main, let f = fieldOverlay(state, step: fieldStep) {
            f.drawScalarMap(on: &out.0, mapping: m, slice: slice, scale: out.1)
            if fieldVectors || f.style.mode == .grid { f.drawVectors(on: &out.0, mapping: m, slice: slice, scale: out.1) }
        }
        if rasters.count >= capacity, let oldest = rasters.min(by: { $0.value.used < $1.value.used })?.key {
            rasters.removeValue(forKey: oldest)
        }
        rasters[key] = (out.0, out.1, clock)
        return out
    }
}
