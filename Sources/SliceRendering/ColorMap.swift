import VolumeCore

/// An intensity window: values ≤ `low` map to the colour map's start, ≥ `high` to its end.
public struct IntensityWindow: Equatable, Sendable, CustomStringConvertible {
    /// Lower bound, in image intensity units.
    public var low: Double
    /// Upper bound, in image intensity units; greater than `low`.
    public var high: Double

    /// A window; nil unless `low < high` and both are finite.
    public init?(low: Double, high: Double) {
        guard low.isFinite, high.isFinite, low < high else { return nil }
        self.low = low; self.high = high
    }

    /// The automatic window: robust percentiles of the foreground, as FSLeyes and MRIcroGL do.
    ///
    /// Foreground: the finite voxels above `Foreground.threshold(of:)` (the image's minimum when
    /// at least 10 % of the voxels sit at it, i.e. a zero or constant background as in
    /// skull-stripped, defaced or padded scans; otherwise every finite voxel). Window: the
    /// `lowerPercentile` (2 %) and `upperPercentile` (99.5 %) of the foreground, widened when flat.
    /// On the bundled Colin27 (background 0) this gives 39–120 instead of 0–118 over all voxels,
    /// so grey matter (about 87) and white matter (about 114) lie 85 grey levels apart.
    public static func automatic(_ volume: Volume, lowerPercentile: Double = 0.02,
                                 upperPercentile: Double = 0.995) -> IntensityWindow {
        let p: [Double]
        if let t = Foreground.threshold(of: volume) {
            p = percentiles(volume.voxels.filter { $0 > t }, [lowerPercentile, upperPercentile])
        } else {
            p = percentiles(volume.voxels, [lowerPercentile, upperPercentile])
        }
        return widened(p[0], p[1])
    }

    /// Exact percentiles of the finite values, linear between sorted neighbours (in Double), by
    /// `Volume.percentileNeighbours`, the one implementation; 0 for an empty or all-NaN input.
    public static func percentiles(_ values: [Float], _ ps: [Double]) -> [Double] {
        Volume.percentileNeighbours(values, ps).map { n in
            n.low == n.high ? Double(n.low) : Double(n.low) * (1 - n.fraction) + Double(n.high) * n.fraction
        }
    }

    /// A window from `lo` to `hi`, widened by one unit when they coincide.
    public static func widened(_ lo: Double, _ hi: Double) -> IntensityWindow {
        let l = lo.isFinite ? lo : 0, h = hi.isFinite ? hi : 1
        if h > l, let w = IntensityWindow(low: l, high: h) { return w }
        // A flat image: one unit wider, or (where 1 is below the spacing of doubles, |l| > 2^53)
        // a relative step; near the largest double, downwards.
        let step = max(1, abs(l) * 1e-6)
        return IntensityWindow(low: l, high: l + step) ?? IntensityWindow(low: l - step, high: l)!
    }

    /// `LOW,HIGH`, as `--window` takes it.
    public var description: String { "\(shortNumber(low)),\(shortNumber(high))" }
}

/// Which voxels of an image are the subject rather than the background.
public enum Foreground {
    /// Fraction of finite voxels that must share the minimum for it to count as background.
    public static let backgroundFraction = 0.10

    /// The background level: the image's finite minimum when at least 10 % of the finite voxels
    /// equal it (voxels strictly above it are foreground), or nil when there is no such flat
    /// background (every finite voxel is foreground).
    public static func threshold(of volume: Volume) -> Float? {
        var lo = Float.infinity, atMin = 0, finite = 0
        volume.voxels.withUnsafeBufferPointer { v in
            for x in v where x.isFinite {
                finite += 1
                if x < lo { lo = x; atMin = 1 } else if x == lo { atMin += 1 }
            }
        }
        guard finite > 0, Double(atMin) >= backgroundFraction * Double(finite),
              atMin < finite else { return nil }
        return lo
    }

    /// One byte per voxel: 1 where the voxel is foreground (finite and above `threshold(of:)`).
    public static func mask(of volume: Volume) -> [UInt8] {
        let t = threshold(of: volume) ?? -Float.infinity
        return volume.voxels.map { $0.isFinite && $0 > t ? 1 : 0 }
    }
}

/// A named colour map: 256 entries from low to high intensity.
public enum ColorMap: String, CaseIterable, Sendable {
    /// Black to white.
    case gray
    /// Black, red, yellow, white (heat).
    case hot
    /// matplotlib's perceptually uniform viridis (dark blue, green, yellow).
    case viridis
    /// Blue, cyan, yellow, red rainbow (not perceptually uniform; for familiarity).
    case jet
    /// Diverging blue, white, red (centre white), for signed or ratio maps.
    case bwr
    /// White to black.
    case inverted

    /// The 256-entry table, computed once.
    public var table: ColorTable { ColorMap.tables[self]! }

    private static let tables: [ColorMap: ColorTable] = {
        var out: [ColorMap: ColorTable] = [:]
        for m in ColorMap.allCases { out[m] = ColorTable((0..<256).map { m.color(at: Double($0) / 255) }) }
        return out
    }()

    /// Colour at `t` in 0...1.
    public func color(at t: Double) -> RGBA8 {
        let t = min(max(t, 0), 1)
        func c(_ x: Double) -> UInt8 { UInt8(min(max(x, 0), 1) * 255 + 0.5) }
        switch self {
        case .gray: return RGBA8(c(t), c(t), c(t))
        case .inverted: return RGBA8(c(1 - t), c(1 - t), c(1 - t))
        case .hot: return RGBA8(c(t * 3), c(t * 3 - 1), c(t * 3 - 2))
        case .jet:
            return RGBA8(c(1.5 - abs(4 * t - 3)), c(1.5 - abs(4 * t - 2)), c(1.5 - abs(4 * t - 1)))
        case .bwr:
            return t < 0.5 ? RGBA8(c(t * 2), c(t * 2), 255) : RGBA8(255, c(2 - t * 2), c(2 - t * 2))
        case .viridis:
            // Degree-6 polynomial fit of matplotlib's viridis, corrected so it passes exactly through
            // nine published samples (matplotlib / viridisLite viridis(9)); within about 2/255 between them.
            let r = [0.2777273272234177, 0.1050930431085774, -0.3308618287255563, -4.634230498983486,
                     6.228269936347081, 4.776384997670288, -5.435455855934631]
            let g = [0.005407344544966578, 1.404613529898575, 0.214847559468213, -5.799100973351585,
                     14.17993336680509, -13.74514537774601, 4.645852612178535]
            let b = [0.3340998053353061, 1.384590162594685, 0.09509516302823659, -19.33244095627987,
                     56.69055260068105, -65.35303263337234, 26.3124352495832]
            func poly(_ k: [Double], _ x: Double) -> Double { k.reversed().reduce(0) { $0 * x + $1 } }
            let anchors: [(Double, Double, Double)] = [
                (0x44, 0x01, 0x54), (0x47, 0x2D, 0x7B), (0x3B, 0x52, 0x8B), (0x2C, 0x72, 0x8E), (0x21, 0x90, 0x8C),
                (0x27, 0xAD, 0x81), (0x5D, 0xC8, 0x63), (0xAA, 0xDC, 0x32), (0xFD, 0xE7, 0x25),
            ]
            let x = t * 8, i = min(Int(x), 7), f = x - Double(i)
            func residual(_ a: Int) -> (Double, Double, Double) {
                let ta = Double(a) / 8
                return (anchors[a].0 / 255 - poly(r, ta), anchors[a].1 / 255 - poly(g, ta), anchors[a].2 / 255 - poly(b, ta))
            }
            let r0 = residual(i), r1 = residual(i + 1)
            return RGBA8(c(poly(r, t) + r0.0 + (r1.0 - r0.0) * f), c(poly(g, t) + r0.1 + (r1.1 - r0.1) * f),
                         c(poly(b, t) + r0.2 + (r1.2 - r0.2) * f))
        }
    }
}

/// A 256-entry colour lookup table, packed as little-endian RGBA words for fast pixel writes.
public struct ColorTable: Equatable, Sendable {
    /// Entries, low to high.
    public let colors: [RGBA8]
    /// The same entries packed as `r | g<<8 | b<<16 | a<<24`.
    public let packed: [UInt32]

    public init(_ colors: [RGBA8]) {
        precondition(colors.count == 256, "a colour table has 256 entries")
        self.colors = colors
        packed = colors.map { packRGBA($0) }
    }
}

/// Packs a colour as the 32-bit word whose little-endian bytes are r, g, b, a.
@inlinable
public func packRGBA(_ c: RGBA8) -> UInt32 {
    UInt32(c.r) | UInt32(c.g) << 8 | UInt32(c.b) << 16 | UInt32(c.a) << 24
}

/// Short decimal formatting (up to 4 decimals, no trailing zeros), without Foundation.
func shortNumber(_ v: Double) -> String {
    if !v.isFinite { return "\(v)" }
    if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
    let scaled = (abs(v) * 10_000).rounded()
    if scaled >= 9e15 { return "\(v)" }
    let n = Int(scaled)
    var frac = String(n % 10_000)
    frac = String(repeating: "0", count: 4 - frac.count) + frac
    while frac.hasSuffix("0") { frac.removeLast() }
    let s = (v < 0 ? "-" : "") + String(n / 10_000) + (frac.isEmpty ? "" : "." + frac)
    return s == "-0" ? "0" : s
}
