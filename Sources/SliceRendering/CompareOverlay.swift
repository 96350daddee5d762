import VolumeCore

/// A second image shown over the first, as the workbench's `overlay` compare mode and
/// `voxterm export --compare`: either the fusion view (the first image's grey levels in green,
/// the second's in magenta, grey where they agree) or, as FSLeyes and ITK-SNAP overlay an image,
/// the second image through its own colour map over the first one's colours, values at or below
/// the low end of its window transparent, at `opacity`.
public struct CompareOverlay: Sendable {
    /// The second image on the first one's grid (NaN where it does not reach).
    public var values: Volume
    /// Values mapped to the ends of the colour map (or of the magenta ramp).
    public var window: IntensityWindow
    /// The second image's colour map; nil for the green/magenta fusion.
    public var colorMap: ColorMap?
    /// Opacity 0...1 of the second image in colour-map mode (the fusion ignores it).
    public var opacity: Double

    /// Name of the fusion view where a colour-map name is expected (`--compare-colormap`, `:set compare-cmap`).
    public static let fusionName = "green-magenta"
    /// Opacity of the second image in colour-map mode unless given.
    public static let defaultOpacity = 0.5

    public init(values: Volume, window: IntensityWindow? = nil, colorMap: ColorMap? = nil, opacity: Double = CompareOverlay.defaultOpacity) {
        self.values = values
        self.window = window ?? IntensityWindow.automatic(values)
        self.colorMap = colorMap
        self.opacity = min(max(opacity, 0), 1)
    }

    /// `green-magenta` (or `fusion`) → nil, a colour map's name → that map; nil result and false when unknown.
    public static func parseColorMap(_ s: String) -> (map: ColorMap?, ok: Bool) {
        let v = s.lowercased()
        if v == fusionName || v == "fusion" || v == "green/magenta" { return (nil, true) }
        if let m = ColorMap(rawValue: v) { return (m, true) }
        return (nil, false)
    }

    /// The name of `map` as `parseColorMap` reads it.
    public static func name(_ map: ColorMap?) -> String { map?.rawValue ?? fusionName }

    /// Draws slice `slice` over `image`, the first image's native raster of the same slice.
    /// `baseValues` are the first image's values of the slice (display order) and `baseWindow`
    /// its window; the fusion needs them, the colour-map mode draws over the pixels as they are.
    public func draw(on image: inout RGBAImage, baseValues: UnsafeBufferPointer<Float>, baseWindow: IntensityWindow,
                     mapping: SliceMapping, slice: Int) {
        let second = mapping.extract(values.voxels, slice: slice)
        if let colorMap {
            var s = second
            let t = Float(window.low)
            for i in 0..<s.count where !(s[i] > t) { s[i] = .nan }   // at or below the low end: transparent
            s.withUnsafeBufferPointer { image.drawScalars($0, window: window, colors: colorMap.table, opacity: opacity) }
            return
        }
        var a = RGBAImage(width: image.width, height: image.height), b = a
        a.drawScalars(baseValues, window: baseWindow, colors: ColorMap.gray.table)
        let zeroed = second.map { $0.isNaN ? Float(window.low) : $0 }
        zeroed.withUnsafeBufferPointer { b.drawScalars($0, window: window, colors: ColorMap.gray.table) }
        for y in 0..<image.height {
            for x in 0..<image.width {
                let f = a[x, y], g = b[x, y]
                image[x, y] = RGBA8(g.r, f.g, g.b)
            }
        }
    }
}
