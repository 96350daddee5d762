import VolumeCore

/// An image drawn over the base image, as FSLeyes' overlays: its own colour map, window,
/// threshold (values below it are transparent), opacity and visibility. Its voxels are on the
/// base image's grid (resampled in world space by `ImageLayer.onGrid`).
public struct ImageLayer: Sendable {
    /// Name shown in lists and provenance (usually the file name).
    public var name: String
    /// Values on the base image's grid; NaN where the layer's own grid does not reach.
    public var values: Volume
    /// Colour map of the layer.
    public var colorMap: ColorMap
    /// Values mapped to the colour map's ends.
    public var window: IntensityWindow
    /// Voxels below this value (and NaN) are transparent; nil shows every voxel.
    public var threshold: Double?
    /// Opacity 0...1.
    public var opacity: Double
    /// Drawn or not.
    public var visible: Bool

    public init(name: String, values: Volume, colorMap: ColorMap = .hot, window: IntensityWindow? = nil,
                threshold: Double? = nil, opacity: Double = 1, visible: Bool = true) {
        self.name = name; self.values = values; self.colorMap = colorMap
        self.window = window ?? IntensityWindow.automatic(values)
        self.threshold = threshold; self.opacity = min(max(opacity, 0), 1); self.visible = visible
    }

    /// `volume` resampled onto `grid` through both affines (world space, trilinear; NaN outside
    /// the layer's own grid), or `volume` itself when the grids coincide.
    public static func onGrid(_ volume: Volume, _ grid: VolumeGeometry) -> Volume {
        if volume.geometry == grid { return volume }
        guard volume.geometry.affine.inverse != nil else { return Volume(geometry: grid, voxels: [Float](repeating: .nan, count: grid.voxelCount)) }
        let src = volume.geometry.size
        let voxels = volume.voxels.withUnsafeBufferPointer { v in
            volume.geometry.resample(onto: grid, fill: Float.nan) { p -> Float? in
                guard p.x > -0.5, p.y > -0.5, p.z > -0.5, p.x < Double(src.x) - 0.5, p.y < Double(src.y) - 0.5,
                      p.z < Double(src.z) - 0.5 else { return nil }
                return trilinear(v, src, p)
            }
        }
        return Volume(geometry: grid, voxels: voxels)
    }

    /// Draws slice `slice` of the layer over `image` (native resolution, one pixel per voxel).
    public func draw(on image: inout RGBAImage, mapping: SliceMapping, slice: Int) {
        guard visible, opacity > 0 else { return }
        var s = mapping.extract(values.voxels, slice: slice)
        if let threshold {
            let t = Float(threshold)
            for i in 0..<s.count where !(s[i] >= t) { s[i] = .nan }
        }
        // Opaque table (colour maps have no alpha); NaN stays transparent in drawScalars.
        s.withUnsafeBufferPointer { image.drawScalars($0, window: window, colors: colorMap.table, opacity: opacity) }
    }

    /// Parses `FILE[:COLORMAP[:LOW,HIGH]]` (the `--overlay` syntax); the file part may itself hold colons
    /// only if no colour map follows.
    public static func parseSpec(_ spec: String) -> (path: String, colorMap: ColorMap?, window: IntensityWindow?)? {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let path = parts.first, !path.isEmpty else { return nil }
        if parts.count == 1 { return (path, nil, nil) }
        guard let cmap = ColorMap(rawValue: parts[1].lowercased()) else { return nil }
        if parts.count == 2 { return (path, cmap, nil) }
        let w = parts[2].split(separator: ",").map { Double(String($0.filter { $0 != " " })) }
        guard parts.count == 3, w.count == 2, let lo = w[0], let hi = w[1], let win = IntensityWindow(low: lo, high: hi) else { return nil }
        return (path, cmap, win)
    }
}

/// Trilinear interpolation at continuous voxel position `p` (inside the grid, clamped at the edges).
@inline(__always)
private func trilinear(_ v: UnsafeBufferPointer<Float>, _ s: SIMD3<Int>, _ p: SIMD3<Double>) -> Float {
    let x = min(max(p.x, 0), Double(s.x - 1)), y = min(max(p.y, 0), Double(s.y - 1)), z = min(max(p.z, 0), Double(s.z - 1))
    let x0 = Int(x), y0 = Int(y), z0 = Int(z)
    let x1 = min(x0 + 1, s.x - 1), y1 = min(y0 + 1, s.y - 1), z1 = min(z0 + 1, s.z - 1)
    let fx = Float(x - Double(x0)), fy = Float(y - Double(y0)), fz = Float(z - Double(z0))
    func at(_ i: Int, _ j: Int, _ k: Int) -> Float { v[i + s.x * (j + s.y * k)] }
    let c00 = at(x0, y0, z0) * (1 - fx) + at(x1, y0, z0) * fx, c10 = at(x0, y1, z0) * (1 - fx) + at(x1, y1, z0) * fx
    let c01 = at(x0, y0, z1) * (1 - fx) + at(x1, y0, z1) * fx, c11 = at(x0, y1, z1) * (1 - fx) + at(x1, y1, z1) * fx
    return (c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz
}
