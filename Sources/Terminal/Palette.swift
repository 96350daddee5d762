/// Mapping of 24-bit colours onto the xterm 256-colour and ANSI 16-colour palettes, with
/// ordered (Bayer) dithering for images.
///
/// The 256 palette has a 6x6x6 cube (levels 0, 95, 135, 175, 215, 255) at 16...231 and a
/// 24-step grey ramp (8, 18, ..., 238) at 232...255. Greys are matched against the union of
/// the ramp and the cube's six greys (30 levels). Ordered dithering is used rather than error
/// diffusion because it is stable: a pixel's output depends only on its value and position,
/// so moving a crosshair does not make the whole image shimmer (and only changed cells redraw).
public enum Palette {
    /// The six channel levels of the colour cube.
    public static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// All grey levels of the 256 palette, ascending, with their palette index.
    public static let greyLevels: [(level: Int, index: UInt8)] = {
        var g: [(Int, UInt8)] = (0..<24).map { (8 + 10 * $0, UInt8(232 + $0)) }
        for (i, l) in cubeLevels.enumerated() { g.append((l, UInt8(16 + 43 * i))) } // 16 + 36i + 6i + i
        return g.sorted { $0.0 < $1.0 }
    }()

    /// The RGB value of palette entry `n` (xterm defaults).
    public static func rgb(ofIndex n: UInt8) -> RGB {
        let i = Int(n)
        if i < 16 { return ansi16[i] }
        if i >= 232 { let v = UInt8(8 + 10 * (i - 232)); return RGB(v, v, v) }
        let c = i - 16
        return RGB(UInt8(cubeLevels[c / 36]), UInt8(cubeLevels[(c / 6) % 6]), UInt8(cubeLevels[c % 6]))
    }

    /// xterm's default ANSI colours 0...15.
    public static let ansi16: [RGB] = [
        RGB(0, 0, 0), RGB(205, 0, 0), RGB(0, 205, 0), RGB(205, 205, 0),
        RGB(0, 0, 238), RGB(205, 0, 205), RGB(0, 205, 205), RGB(229, 229, 229),
        RGB(127, 127, 127), RGB(255, 0, 0), RGB(0, 255, 0), RGB(255, 255, 0),
        RGB(92, 92, 255), RGB(255, 0, 255), RGB(0, 255, 255), RGB(255, 255, 255),
    ]

    /// 4x4 Bayer thresholds in (0, 1).
    @usableFromInline static let bayer4: [Float] = [0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5].map { (Float($0) + 0.5) / 16 }

    /// Dither threshold for pixel (x, y), in (0, 1).
    @inlinable public static func threshold(x: Int, y: Int) -> Float { bayer4[(y & 3) * 4 + (x & 3)] }

    @inlinable static func squaredDistance(_ a: RGB, _ b: RGB) -> Int {
        let dr = Int(a.r) - Int(b.r), dg = Int(a.g) - Int(b.g), db = Int(a.b) - Int(b.b)
        // Weighted like human sensitivity (roughly 3:4:2), good enough for palette matching.
        return 3 * dr * dr + 4 * dg * dg + 2 * db * db
    }

    /// Index into `cubeLevels` of the nearest level to `v`.
    @inlinable static func nearestCubeLevel(_ v: Int) -> Int {
        v < 48 ? 0 : (v < 115 ? 1 : min(5, (v - 35) / 40))
    }

    /// The nearest 256-palette entry to `c` (cube or grey ramp, never 0...15, whose values vary by terminal).
    public static func nearest256(_ c: RGB) -> UInt8 {
        let ri = nearestCubeLevel(Int(c.r)), gi = nearestCubeLevel(Int(c.g)), bi = nearestCubeLevel(Int(c.b))
        let cubeIndex = UInt8(16 + 36 * ri + 6 * gi + bi)
        let grey = nearestGrey(luma: (Int(c.r) + Int(c.g) + Int(c.b)) / 3)
        return squaredDistance(rgb(ofIndex: grey), c) < squaredDistance(rgb(ofIndex: cubeIndex), c) ? grey : cubeIndex
    }

    /// The palette grey nearest to level `v`.
    public static func nearestGrey(luma v: Int) -> UInt8 {
        var best = greyLevels[0]
        for g in greyLevels where abs(g.level - v) < abs(best.level - v) { best = g }
        return best.index
    }

    /// The 256-palette entry for image pixel `c` at (x, y), ordered-dithered between the two
    /// palette levels around it (greys on the 30-level grey set, colours channel-wise on the cube).
    public static func dithered256(_ c: RGB, x: Int, y: Int) -> UInt8 {
        let t = threshold(x: x, y: y)
        let spread = max(c.r, c.g, c.b) - min(c.r, c.g, c.b)
        if spread <= 6 {
            let v = Float(Int(c.r) + Int(c.g) + Int(c.b)) / 3
            // Bracket v between consecutive grey levels.
            var lo = greyLevels[0], hi = greyLevels[greyLevels.count - 1]
            for g in greyLevels {
                if Float(g.level) <= v { lo = g }
                if Float(g.level) >= v { hi = g; break }
            }
            if hi.level == lo.level { return lo.index }
            let f = (v - Float(lo.level)) / Float(hi.level - lo.level)
            return f > t ? hi.index : lo.index
        }
        func channel(_ v: UInt8) -> Int {
            let fv = Float(v)
            var i = 0
            while i < 5 && Float(cubeLevels[i + 1]) <= fv { i += 1 }
            if i == 5 { return 5 }
            let f = (fv - Float(cubeLevels[i])) / Float(cubeLevels[i + 1] - cubeLevels[i])
            return f > t ? i + 1 : i
        }
        return UInt8(16 + 36 * channel(c.r) + 6 * channel(c.g) + channel(c.b))
    }

    /// The nearest of the 16 ANSI colours.
    public static func nearest16(_ c: RGB) -> UInt8 {
        var best = 0, bestD = Int.max
        for (i, p) in ansi16.enumerated() {
            let d = squaredDistance(p, c)
            if d < bestD { bestD = d; best = i }
        }
        return UInt8(best)
    }

    /// The ANSI colour for image pixel `c` at (x, y): greys dither between black (0), dark grey (8),
    /// light grey (7) and white (15); colours take the nearest entry.
    public static func dithered16(_ c: RGB, x: Int, y: Int) -> UInt8 {
        let spread = max(c.r, c.g, c.b) - min(c.r, c.g, c.b)
        guard spread <= 24 else { return nearest16(c) }
        let levels: [(Float, UInt8)] = [(0, 0), (127, 8), (229, 7), (255, 15)]
        let v = Float(Int(c.r) + Int(c.g) + Int(c.b)) / 3
        var i = 0
        while i < 3 && levels[i + 1].0 <= v { i += 1 }
        if i == 3 { return 15 }
        let f = (v - levels[i].0) / (levels[i + 1].0 - levels[i].0)
        return f > threshold(x: x, y: y) ? levels[i + 1].1 : levels[i].1
    }
}
