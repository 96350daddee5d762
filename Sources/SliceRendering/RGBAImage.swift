import VolumeCore

/// An 8-bit RGBA raster: `width * height * 4` bytes, row-major, top row first, straight alpha.
public struct RGBAImage: Equatable, Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// Bytes r, g, b, a of pixel (x, y) at `4 * (x + width * y)`.
    public var pixels: [UInt8]

    /// An image filled with `color`.
    public init(width: Int, height: Int, fill color: RGBA8 = RGBA8(0, 0, 0)) {
        precondition(width >= 0 && height >= 0)
        self.width = width; self.height = height
        var px = [UInt8](repeating: 0, count: width * height * 4)
        let word = packRGBA(color)
        px.withUnsafeMutableBytes { raw in
            let w = raw.bindMemory(to: UInt32.self)
            for i in 0..<w.count { w[i] = word }
        }
        pixels = px
    }

    /// Wraps existing RGBA bytes (`count == width * height * 4`).
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 4, "pixel byte count does not match the size")
        self.width = width; self.height = height; self.pixels = pixels
    }

    /// Colour of pixel (x, y).
    @inlinable
    public subscript(x: Int, y: Int) -> RGBA8 {
        get {
            let o = 4 * (x + width * y)
            return RGBA8(pixels[o], pixels[o + 1], pixels[o + 2], pixels[o + 3])
        }
        set {
            let o = 4 * (x + width * y)
            pixels[o] = newValue.r; pixels[o + 1] = newValue.g; pixels[o + 2] = newValue.b; pixels[o + 3] = newValue.a
        }
    }

    /// Blends `color` over pixel (x, y) with the colour's alpha times `opacity` (0...1); clipped.
    @inlinable
    public mutating func blend(x: Int, y: Int, _ color: RGBA8, opacity: Double = 1) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let a = Double(color.a) / 255 * opacity
        if a <= 0 { return }
        let o = 4 * (x + width * y)
        if a >= 1 {
            pixels[o] = color.r; pixels[o + 1] = color.g; pixels[o + 2] = color.b; pixels[o + 3] = 255
            return
        }
        func mix(_ d: UInt8, _ s: UInt8) -> UInt8 { UInt8((Double(d) * (1 - a) + Double(s) * a).rounded()) }
        pixels[o] = mix(pixels[o], color.r); pixels[o + 1] = mix(pixels[o + 1], color.g)
        pixels[o + 2] = mix(pixels[o + 2], color.b); pixels[o + 3] = max(pixels[o + 3], UInt8((a * 255).rounded()))
    }

    /// Nearest-neighbour resize to `newWidth` x `newHeight` (integer upscaling and aspect correction).
    public func resized(width newWidth: Int, height newHeight: Int) -> RGBAImage {
        if newWidth == width && newHeight == height { return self }
        var out = RGBAImage(width: newWidth, height: newHeight)
        guard width > 0, height > 0 else { return out }
        let xs = (0..<newWidth).map { min(width - 1, ($0 * width) / max(newWidth, 1)) }
        pixels.withUnsafeBytes { srcRaw in
            out.pixels.withUnsafeMutableBytes { dstRaw in
                let src = srcRaw.bindMemory(to: UInt32.self), dst = dstRaw.bindMemory(to: UInt32.self)
                let w = width, h = height
                parallelFor(newHeight) { y in
                    let sy = min(h - 1, (y * h) / newHeight)
                    let srow = sy * w, drow = y * newWidth
                    for x in 0..<newWidth { dst[drow + x] = src[srow + xs[x]] }
                }
            }
        }
        return out
    }

    /// Copies `image` with its top-left corner at (x, y), clipped.
    public mutating func paste(_ image: RGBAImage, x: Int, y: Int) {
        for sy in 0..<image.height {
            let dy = y + sy
            guard dy >= 0, dy < height else { continue }
            let x0 = max(0, -x), x1 = min(image.width, width - x)
            guard x0 < x1 else { continue }
            let so = 4 * (x0 + image.width * sy), dO = 4 * (x + x0 + width * dy)
            pixels.replaceSubrange(dO..<(dO + 4 * (x1 - x0)), with: image.pixels[so..<(so + 4 * (x1 - x0))])
        }
    }

    // MARK: Vector drawing (in continuous pixel coordinates; pixel centres at integers)

    /// Draws a line of `thickness` pixels from `p0` to `p1`.
    public mutating func drawLine(from p0: SIMD2<Double>, to p1: SIMD2<Double>, color: RGBA8,
                                  thickness: Double = 1, opacity: Double = 1) {
        let d = p1 - p0
        let len = (d * d).sum().squareRoot()
        let r = max(thickness, 1) / 2
        // Cover the segment's bounding box and keep pixels within distance r of the segment.
        let x0 = Int((min(p0.x, p1.x) - r).rounded(.down)), x1 = Int((max(p0.x, p1.x) + r).rounded(.up))
        let y0 = Int((min(p0.y, p1.y) - r).rounded(.down)), y1 = Int((max(p0.y, p1.y) + r).rounded(.up))
        guard x1 >= 0, y1 >= 0, x0 < width, y0 < height else { return }
        for y in max(y0, 0)...min(y1, height - 1) {
            for x in max(x0, 0)...min(x1, width - 1) {
                let p = SIMD2(Double(x), Double(y))
                var t = len > 0 ? ((p - p0) * d).sum() / (len * len) : 0
                t = min(max(t, 0), 1)
                let q = p0 + d * t - p
                if (q * q).sum() <= r * r + 0.25 { blend(x: x, y: y, color, opacity: opacity) }
            }
        }
    }

    /// Fills the triangle `a`, `b`, `c`.
    public mutating func fillTriangle(_ a: SIMD2<Double>, _ b: SIMD2<Double>, _ c: SIMD2<Double>, color: RGBA8,
                                      opacity: Double = 1) {
        let x0 = max(0, Int(min(a.x, b.x, c.x).rounded(.down))), x1 = min(width - 1, Int(max(a.x, b.x, c.x).rounded(.up)))
        let y0 = max(0, Int(min(a.y, b.y, c.y).rounded(.down))), y1 = min(height - 1, Int(max(a.y, b.y, c.y).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        func edge(_ p: SIMD2<Double>, _ q: SIMD2<Double>, _ r: SIMD2<Double>) -> Double {
            (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x)
        }
        let area = edge(a, b, c)
        guard abs(area) > 1e-9 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let p = SIMD2(Double(x), Double(y))
                let w0 = edge(b, c, p) / area, w1 = edge(c, a, p) / area, w2 = edge(a, b, p) / area
                if w0 >= -0.02 && w1 >= -0.02 && w2 >= -0.02 { blend(x: x, y: y, color, opacity: opacity) }
            }
        }
    }

    /// Draws an arrow from `tail` to `tip` with a filled head `headLength` pixels long.
    public mutating func drawArrow(from tail: SIMD2<Double>, to tip: SIMD2<Double>, color: RGBA8,
                                   thickness: Double = 1, headLength: Double? = nil) {
        let d = tip - tail
        let len = (d * d).sum().squareRoot()
        guard len >= 0.5 else { blend(x: Int(tail.x.rounded()), y: Int(tail.y.rounded()), color); return }
        let u = d / len, n = SIMD2(-u.y, u.x)
        let head = min(headLength ?? max(3, len * 0.35), len)
        let base = tip - u * head
        drawLine(from: tail, to: base + u * 0.5, color: color, thickness: thickness)
        let halfWidth = max(head * 0.45, thickness)
        fillTriangle(tip, base + n * halfWidth, base - n * halfWidth, color: color)
    }

    /// Fills the rectangle with top-left (x, y) and size (w, h), clipped.
    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, color: RGBA8, opacity: Double = 1) {
        let ya = max(0, y), yb = min(height, y + h), xa = max(0, x), xb = min(width, x + w)
        guard ya < yb, xa < xb else { return }
        for yy in ya..<yb { for xx in xa..<xb { blend(x: xx, y: yy, color, opacity: opacity) } }
    }
}
