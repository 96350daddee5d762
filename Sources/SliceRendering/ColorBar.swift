import VolumeCore

/// A colour bar: which colour stands for which value, drawn beside a picture.
///
/// The bar is vertical, the window's high end at the top; ticks are "nice" numbers (1, 2, 2.5 or
/// 5 times a power of ten) inside the window plus both ends, written with the built-in font.
public struct ColorBar: Equatable, Sendable {
    /// The colours, low (bottom) to high (top); drawn opaque even where the table is translucent.
    public var table: ColorTable
    /// Values at the bottom and top of the bar.
    public var window: IntensityWindow
    /// Short caption above the bar (the built-in font has A-Z, digits and `- = . : / ,`).
    public var title: String

    public init(table: ColorTable, window: IntensityWindow, title: String) {
        self.table = table; self.window = window; self.title = title
    }

    /// Tick values: both ends and the nice numbers strictly between them, ascending.
    public var ticks: [Double] {
        let lo = window.low, hi = window.high, span = hi - lo
        let raw = span / 5
        let p = pow10(Double(decimalExponent(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * p }.first { $0 >= raw } ?? 10 * p
        var out = [lo]
        var v = (lo / step).rounded(.up) * step
        while v < hi - step * 0.3 {
            if v > lo + step * 0.3 { out.append(abs(v) < step * 1e-9 ? 0 : v) }
            v += step
        }
        out.append(hi)
        return out
    }

    /// Text of a tick value: up to three significant digits, no exponent for ordinary ranges.
    public static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        let digits = max(0, 2 - decimalExponent(abs(v)))
        let f = pow10(Double(min(digits, 6)))
        return shortNumber((v * f).rounded() / f)
    }

    /// The bar as an image `height` pixels tall on black, text at integer `fontScale`; the bar
    /// itself runs from `barTop` to `barTop + barHeight - 1` (rows) at columns `barLeft ..< barLeft + barWidth`.
    public func render(height: Int, fontScale: Int = 1) -> (image: RGBAImage, barLeft: Int, barWidth: Int, barTop: Int, barHeight: Int) {
        let fs = max(1, fontScale)
        let pad = 3 * fs, gap = 2 * fs, barW = 8 * fs
        let th = 7 * fs
        let tickLabels = ticks.map(ColorBar.label)
        let textW = tickLabels.map { BitmapFont.size(of: $0, scale: fs).width }.max() ?? 0
        let titleW = BitmapFont.size(of: title, scale: fs).width
        let width = max(pad + barW + gap + 4 * fs + textW + pad, titleW + 2 * pad)
        let top = pad + th + 2 * pad, bottom = pad + th / 2
        let barH = max(2, height - top - bottom)
        var img = RGBAImage(width: width, height: max(height, top + barH + bottom))
        img.drawText(title, x: pad, y: pad, scale: fs, color: RGBA8(255, 255, 255))
        let colors = table.colors
        for y in 0..<barH {
            // Row y shows the value at the row's centre; the top row is the high end.
            let t = barH == 1 ? 1 : 1 - Double(y) / Double(barH - 1)
            var c = colors[min(255, max(0, Int(t * 255 + 0.5)))]
            c.a = 255
            img.fillRect(x: pad, y: top + y, width: barW, height: 1, color: c)
        }
        for (v, text) in zip(ticks, tickLabels) {
            let t = (v - window.low) / (window.high - window.low)
            let y = top + Int(((1 - t) * Double(barH - 1)).rounded())
            img.fillRect(x: pad + barW, y: y, width: 2 * fs, height: max(1, fs), color: RGBA8(255, 255, 255))
            let ty = min(max(0, y - th / 2), img.height - th)
            img.drawText(text, x: pad + barW + gap + 4 * fs, y: ty, scale: fs, color: RGBA8(255, 255, 255))
        }
        return (img, pad, barW, top, barH)
    }
}

extension RGBAImage {
    /// This picture with `bars` side by side on its right, on black, as tall as the picture
    /// (text scaled with the picture's size); also where each bar's colour strip lies (pixels).
    public func appendingColorBars(_ bars: [ColorBar]) -> (image: RGBAImage, strips: [(x: Int, y: Int, width: Int, height: Int)]) {
        guard !bars.isEmpty else { return (self, []) }
        let fs = max(1, min(width, height) / 160)
        let panels = bars.map { $0.render(height: height, fontScale: fs) }
        let h = max(height, panels.map(\.image.height).max() ?? 0)
        var out = RGBAImage(width: width + panels.reduce(0) { $0 + $1.image.width }, height: h, fill: RGBA8(0, 0, 0))
        out.paste(self, x: 0, y: 0)
        var x = width
        var strips: [(x: Int, y: Int, width: Int, height: Int)] = []
        for p in panels {
            out.paste(p.image, x: x, y: 0)
            strips.append((x + p.barLeft, p.barTop, p.barWidth, p.barHeight))
            x += p.image.width
        }
        return (out, strips)
    }
}

/// floor(log10(x)) for finite x > 0 (0 otherwise), without Foundation.
func decimalExponent(_ x: Double) -> Int {
    guard x > 0, x.isFinite else { return 0 }
    var e = 0, v = x
    while v >= 10 { v /= 10; e += 1 }
    while v < 1 { v *= 10; e -= 1 }
    return e
}

/// 10 to the power `e`, without Foundation.
func pow10(_ e: Double) -> Double {
    var r = 1.0
    let n = Int(e)
    if n >= 0 { for _ in 0..<n { r *= 10 } } else { for _ in 0..<(-n) { r /= 10 } }
    return r
}
