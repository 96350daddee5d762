/// A small RGB raster (row-major, top row first) to be shown in character cells.
public struct PixelImage: Equatable, Sendable {
    public var width: Int
    public var height: Int
    /// `width * height` pixels, row by row from the top.
    public var pixels: [RGB]

    public init(width: Int, height: Int, fill: RGB = .black) {
        self.width = max(0, width); self.height = max(0, height)
        pixels = [RGB](repeating: fill, count: self.width * self.height)
    }

    public init(width: Int, height: Int, pixels: [RGB]) {
        precondition(pixels.count == width * height, "pixel count does not match the size")
        self.width = width; self.height = height; self.pixels = pixels
    }

    /// The pixel at (x, y), x to the right, y down.
    @inlinable public subscript(x: Int, y: Int) -> RGB {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }
}

/// Draws pixel images into cells: two pixels per cell with the upper half block `▀`
/// (foreground = upper pixel, background = lower pixel), coloured for the terminal's depth.
public enum HalfBlocks {
    /// Shading ramp for terminals with neither colour nor Unicode, dark to bright.
    public static let asciiRamp: [Unicode.Scalar] = [" ", ".", ":", "-", "=", "+", "*", "#", "%", "@"]

    /// Draws `image` into `rect` of `grid`. The image should be `rect.width` pixels wide and
    /// `2 * rect.height` pixels high; it is clipped or padded with black otherwise.
    ///
    /// Colour terminals with Unicode get `▀` cells; in 256 and 16 colours each pixel is
    /// ordered-dithered onto the palette. Without Unicode a cell shows the mean of its two
    /// pixels as a background colour; without colour it shows an ASCII shading character.
    public static func draw(_ image: PixelImage, into grid: inout CellGrid, at rect: CellRect,
                            capabilities: TerminalCapabilities) {
        let depth = capabilities.colorDepth
        for cy in 0..<rect.height {
            let gy = rect.y + cy
            guard gy >= 0 && gy < grid.height else { continue }
            for cx in 0..<rect.width {
                let gx = rect.x + cx
                guard gx >= 0 && gx < grid.width else { continue }
                let upper = pixel(image, cx, 2 * cy), lower = pixel(image, cx, 2 * cy + 1)
                grid[gx, gy] = cell(upper: upper, lower: lower, x: cx, y: 2 * cy, depth: depth,
                                    unicode: capabilities.unicode)
            }
        }
    }

    @inline(__always) static func pixel(_ image: PixelImage, _ x: Int, _ y: Int) -> RGB {
        x < image.width && y < image.height ? image.pixels[y * image.width + x] : .black
    }

    /// The cell showing `upper` over `lower`; (x, y) is the upper pixel's position, for dithering.
    @inlinable
    public static func cell(upper: RGB, lower: RGB, x: Int, y: Int, depth: ColorDepth, unicode: Bool) -> Cell {
        if depth == .monochrome {
            let l = (upper.luma + lower.luma) / 2
            return Cell(asciiRamp[min(asciiRamp.count - 1, l * asciiRamp.count / 256)])
        }
        if !unicode {
            let mean = RGB(UInt8((Int(upper.r) + Int(lower.r)) / 2), UInt8((Int(upper.g) + Int(lower.g)) / 2),
                           UInt8((Int(upper.b) + Int(lower.b)) / 2))
            return Cell(" ", background: color(mean, x: x, y: y, depth: depth))
        }
        let fg = color(upper, x: x, y: y, depth: depth), bg = color(lower, x: x, y: y + 1, depth: depth)
        if fg == bg { return Cell(" ", foreground: fg, background: bg) }
        return Cell("▀", foreground: fg, background: bg)
    }

    /// The cell colour for one image pixel at (x, y) on a terminal of `depth`.
    @inlinable
    public static func color(_ c: RGB, x: Int, y: Int, depth: ColorDepth) -> CellColor {
        switch depth {
        case .trueColor: .rgb(c)
        case .palette256: .indexed(Palette.dithered256(c, x: x, y: y))
        case .palette16, .monochrome: .indexed(Palette.dithered16(c, x: x, y: y))
        }
    }
}
