import VolumeCore

extension FloatBuffer {
    /// A copy of `values` (no intermediate array).
    convenience init(_ values: UnsafeBufferPointer<Float>) {
        self.init(count: values.count)
        if let b = values.baseAddress { pointer.update(from: b, count: values.count) }
    }
}

/// Which image similarity a stage optimises.
public enum MetricKind: String, Sendable, CaseIterable, Codable {
    /// Local normalised cross-correlation over box windows (ANTs' CC), robust to bias fields.
    case lncc
    /// Global normalised cross-correlation.
    case ncc
    /// Mean squared intensity difference (same modality, same intensity scale).
    case mse
    /// Mattes mutual information (32 bins, B-spline Parzen window): any intensity relation, for
    /// images of different modalities (T1 to T2, MR to CT).
    case mi
}

/// A similarity metric: per-voxel terms on the fixed grid and their gradient with respect to the
/// warped moving intensities. Lower values are better (correlations are negated).
public protocol SimilarityMetric: AnyObject {
    /// Value over the grid for the warped image `warped` (one value per fixed voxel); when
    /// `gradient` is given, writes ∂value/∂warped[n] there. `gradient` may be `warped` itself
    /// (every metric reads `warped[n]` before writing `gradient[n]`, and no other voxel after).
    func evaluate(warped: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?) -> Double
}

extension MetricKind {
    /// A metric for this kind bound to one fixed image (the fixed image's statistics are computed once).
    /// `radius` is the LNCC window half-width in voxels (ignored by the others).
    public func make(fixed: UnsafeBufferPointer<Float>, size: SIMD3<Int>, radius: Int = 2) -> SimilarityMetric {
        make(fixed: fixed, size: size, radii: SIMD3(repeating: radius))
    }

    /// As `make(fixed:size:radii:)`, reading the fixed image from `fixed` without a copy where the
    /// metric allows it (LNCC); `fixed` must not change while the metric is used.
    public func make(sharing fixed: FloatBuffer, size: SIMD3<Int>, radii: SIMD3<Int>) -> SimilarityMetric {
        if self == .lncc { return LocalCorrelationMetric(sharing: fixed, size: size, radii: radii) }
        return make(fixed: UnsafeBufferPointer(start: fixed.pointer, count: fixed.count), size: size, radii: radii)
    }

    /// As `make(fixed:size:radius:)` with the LNCC window half-width per voxel axis.
    public func make(fixed: UnsafeBufferPointer<Float>, size: SIMD3<Int>, radii: SIMD3<Int>) -> SimilarityMetric {
        switch self {
        case .mse: return MeanSquaresMetric(fixed: fixed)
        case .ncc: return NormalizedCorrelationMetric(fixed: fixed)
        case .lncc: return LocalCorrelationMetric(fixed: fixed, size: size, radii: radii)
        case .mi: return MutualInformationMetric(fixed: fixed)
        }
    }
}

/// Mean of `(W - F)²` over the grid.
public final class MeanSquaresMetric: SimilarityMetric {
    let fixed: FloatBuffer

    public init(fixed: UnsafeBufferPointer<Float>) { self.fixed = FloatBuffer(fixed) }

    public func evaluate(warped: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?) -> Double {
        let n = fixed.count, f = fixed.pointer
        let scale = 1 / Double(n)
        let sum = parallelSum(n) { lo, hi in
            var s = 0.0
            for i in lo..<hi {
                let d = warped[i] - f[i]
                s += Double(d * d)
                if let gradient { gradient[i] = Float(2 * scale) * d }
            }
            return s
        }
        return sum * scale
    }
}

/// Negated global normalised cross-correlation, `-Σ F'W' / sqrt(Σ F'² Σ W'²)` with `'` the
/// deviation from the mean.
public final class NormalizedCorrelationMetric: SimilarityMetric {
    let centred: FloatBuffer
    let sff: Double

    public init(fixed: UnsafeBufferPointer<Float>) {
        let n = fixed.count
        let mean = fixed.reduce(0.0) { $0 + Double($1) } / Double(max(n, 1))
        centred = FloatBuffer(fixed.map { Float(Double($0) - mean) })
        sff = centred.array.reduce(0.0) { $0 + Double($1) * Double($1) }
    }

    public func evaluate(warped: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?) -> Double {
        let n = centred.count, f = centred.pointer
        let meanW = parallelSum(n) { lo, hi in var s = 0.0; for i in lo..<hi { s += Double(warped[i]) }; return s } / Double(n)
        let sums = [parallelSum(n) { lo, hi in
            var s = 0.0; for i in lo..<hi { s += Double(f[i]) * (Double(warped[i]) - meanW) }; return s },
                    parallelSum(n) { lo, hi in
            var s = 0.0; for i in lo..<hi { let w = Double(warped[i]) - meanW; s += w * w }; return s }]
        let sfw = sums[0], sww = sums[1]
        let denom = (sff * sww).squareRoot()
        guard denom > 1e-20 else {
            if let gradient { gradient.update(repeating: 0, count: n) }
            return 0
        }
        let c = sfw / denom
        if let gradient {
            let a = Float(1 / denom), b = Float(c / sww), m = Float(meanW)
            parallelChunks(n) { lo, hi in
                for i in lo..<hi { gradient[i] = -(f[i] * a - (warped[i] - m) * b) }
            }
        }
        return -c
    }
}

/// Negated mean local squared correlation (ANTs' CC metric): for each voxel x, over the box window
/// of half-width `radius` voxels clipped to the grid, `cc = cov(F,W)² / (var F · var W + ε)`, with the
/// sums over the window of m voxels, `var F` floored at `f = m · 10⁻⁴` (a standard deviation of 1 %
/// of the [0, 1] intensity range) and `var W` at `min(var F, f)`, so flat regions carry no spurious,
/// exploding gradient and every window's value is largest for `W = F` (registering an image to
/// itself is a fixed point). The radius is per axis (`init(fixed:size:radii:)`).
/// The gradient is exact (all windows containing a voxel contribute), computed with box sums.
public final class LocalCorrelationMetric: SimilarityMetric {
    let n: Int
    let size: SIMD3<Int>
    let radius: SIMD3<Int>
    /// The fixed image (shared with the caller when built with `init(sharing:size:radii:)`).
    let f: FloatBuffer
    /// Box sums of F and F² (fixed), and per evaluation of W, W², FW (then reused for the
    /// gradient's per-window derivatives): five volumes besides the fixed image, no scratch.
    let sF, sFF, sW, sWW, sFW: FloatBuffer
    /// Voxels per window along each axis (clipped at the borders); a window holds their product.
    let counts: [[Float]]
    /// Variance (intensity²) below which a window counts as flat.
    static let flatVariance: Float = 1e-4
    /// Windows 8 at a time (false: one by one, the reference the 8-wide loop is checked against).
    var vectorWindows = true

    /// Voxels per window along each axis of `size` (clipped at the borders) for half-widths `radius`.
    static func windowCounts(size: SIMD3<Int>, radius: SIMD3<Int>) -> [[Float]] {
        (0..<3).map { a in
            let L = size[a], ra = radius[a]
            return (0..<L).map { l in Float(min(l + ra, L - 1) - max(l - ra, 0) + 1) }
        }
    }

    /// One window's terms from its `m` voxels' sums of F, F², W, W², FW: `cross` = cov·m, the
    /// fixed and warped variances·m, the floor `c` of the warped variance and the denominator `d`,
    /// with cc = cross² / d. cc = cov² / (max(var F, flat) · max(var W, min(var F, flat))): a
    /// window whose fixed variance is above the flat level gets ANTs' scale-invariant
    /// cov² / (var F · var W) (var W floored at the flat level), and no warp can beat W = F in any
    /// window, so an image registered to itself stays put. Flat fixed windows carry a bounded gradient.
    @inline(__always)
    static func window(m: Float, sf: Float, sff: Float, sw: Float, sww: Float, sfw: Float)
        -> (cross: Float, vw: Float, c: Float, vwE: Float, d: Float) {
        let cross = sfw - sf * sw / m
        let vf = max(sff - sf * sf / m, 0)
        let vw = max(sww - sw * sw / m, 0)
        let e = m * flatVariance
        let c = max(min(vf, e), e * 1e-3)
        let vwE = max(vw, c)
        return (cross, vw, c, vwE, max(vf, e) * vwE)
    }

    /// `window` for 8 windows at once, lane by lane the same operations (`max(x, y)` is
    /// `y >= x ? y : x` and `min(x, y)` is `y < x ? y : x`, as the standard library's).
    @inline(__always)
    static func window8(m: SIMD8<Float>, sf: SIMD8<Float>, sff: SIMD8<Float>, sw: SIMD8<Float>, sww: SIMD8<Float>,
                        sfw: SIMD8<Float>)
        -> (cross: SIMD8<Float>, vw: SIMD8<Float>, c: SIMD8<Float>, vwE: SIMD8<Float>, d: SIMD8<Float>) {
        @inline(__always) func mx(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { x.replacing(with: y, where: y .>= x) }
        @inline(__always) func mn(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> { x.replacing(with: y, where: y .< x) }
        let zero = SIMD8<Float>(repeating: 0)
        let cross = sfw - sf * sw / m
        let vf = mx(sff - sf * sf / m, zero)
        let vw = mx(sww - sw * sw / m, zero)
        let e = m * flatVariance
        let c = mx(mn(vf, e), e * 1e-3)
        let vwE = mx(vw, c)
        return (cross, vw, c, vwE, mx(vf, e) * vwE)
    }

    public convenience init(fixed: UnsafeBufferPointer<Float>, size: SIMD3<Int>, radius r: Int) {
        self.init(fixed: fixed, size: size, radii: SIMD3(repeating: r))
    }

    /// Window half-widths per voxel axis (singleton axes get 0).
    public convenience init(fixed: UnsafeBufferPointer<Float>, size: SIMD3<Int>, radii r: SIMD3<Int>) {
        self.init(sharing: FloatBuffer(fixed), size: size, radii: r)
    }

    /// As `init(fixed:size:radii:)` reading the fixed image from `fixed` without copying it
    /// (`fixed` must not change while the metric is used).
    public init(sharing fixed: FloatBuffer, size: SIMD3<Int>, radii r: SIMD3<Int>) {
        n = fixed.count
        self.size = size
        let radius = SIMD3(size.x > 1 ? r.x : 0, size.y > 1 ? r.y : 0, size.z > 1 ? r.z : 0)
        self.radius = radius
        f = fixed
        sF = FloatBuffer(count: n); sFF = FloatBuffer(count: n)
        sW = FloatBuffer(count: n); sWW = FloatBuffer(count: n); sFW = FloatBuffer(count: n)
        counts = Self.windowCounts(size: size, radius: radius)
        fixedImageChanged()
    }

    /// Recomputes what the metric derives from its fixed image (the window sums of F and F²), for
    /// a metric built with `init(sharing:size:radii:)` whose buffer now holds another image: the
    /// metric then equals, bit for bit, a new one built on the buffer, without allocating its five
    /// volumes again (the symmetric mode's deformed fixed image changes every iteration).
    public func fixedImageChanged() {
        let fp = f.pointer, a = sF.pointer, b = sFF.pointer
        parallelChunks(n) { lo, hi in for i in lo..<hi { a[i] = fp[i]; b[i] = fp[i] * fp[i] } }
        Filters.boxSumInPlace(a, size: size, radius: radius)
        Filters.boxSumInPlace(b, size: size, radius: radius)
    }

    public func evaluate(warped w: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?) -> Double {
        let n = self.n, fp = f.pointer, size = self.size
        Filters.boxSumsOfProducts(w, fp, size: size, radius: radius, sw: sW.pointer, sww: sWW.pointer, sfw: sFW.pointer)
        let sf = sF.pointer, sff = sFF.pointer
        let sw = sW.pointer, sww = sWW.pointer, sfw = sFW.pointer
        let rows = size.y * size.z
        var rowSums = [Double](repeating: 0, count: rows)
        let width = vectorWindows ? 8 : size.x + 1
        // Per window: cc, and into sW/sWW/sFW the partial derivatives of cc wrt the sums of W, W², FW.
        counts[0].withUnsafeBufferPointer { cx in counts[1].withUnsafeBufferPointer { cy in
            counts[2].withUnsafeBufferPointer { cz in rowSums.withUnsafeMutableBufferPointer { out in
                parallelFor(rows) { row in
                    let j = row % size.y, k = row / size.y
                    let myz = cy[j] * cz[k]
                    var s = 0.0
                    // 8 windows at a time (the same operations lane by lane, the sum in x order),
                    // then the rest one by one.
                    let rb = row * size.x
                    var x0 = 0
                    while x0 + width <= size.x {
                        @inline(__always) func load(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
                            UnsafeRawPointer(p + rb + x0).loadUnaligned(as: SIMD8<Float>.self)
                        }
                        let m = UnsafeRawPointer(cx.baseAddress! + x0).loadUnaligned(as: SIMD8<Float>.self) * myz
                        let vsf = load(sf), vsw = load(sw)
                        let t = Self.window8(m: m, sf: vsf, sff: load(sff), sw: vsw, sww: load(sww), sfw: load(sfw))
                        let cc = t.cross * t.cross / t.d
                        for l in 0..<8 { s += Double(cc[l]) }
                        if gradient != nil {
                            let dFW = 2 * t.cross / t.d
                            let dWW = SIMD8<Float>(repeating: 0).replacing(with: -cc / t.vwE, where: t.vw .> t.c)
                            let dW = -dFW * vsf / m - 2 * dWW * vsw / m
                            UnsafeMutableRawPointer(sfw + rb + x0).storeBytes(of: dFW, as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(sww + rb + x0).storeBytes(of: dWW, as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(sw + rb + x0).storeBytes(of: dW, as: SIMD8<Float>.self)
                        }
                        x0 += 8
                    }
                    for x in x0..<size.x {
                        let i = rb + x
                        let m = cx[x] * myz
                        let (cross, vw, c, vwE, d) = Self.window(m: m, sf: sf[i], sff: sff[i], sw: sw[i], sww: sww[i], sfw: sfw[i])
                        let cc = cross * cross / d
                        s += Double(cc)
                        if gradient != nil {
                            let dFW = 2 * cross / d
                            let dWW = vw > c ? -cc / vwE : 0
                            let dW = -dFW * sf[i] / m - 2 * dWW * sw[i] / m
                            sfw[i] = dFW; sww[i] = dWW; sw[i] = dW
                        }
                    }
                    out[row] = s
                }
            } }
        } }
        let total = rowSums.reduce(0, +)
        if let gradient {
            // The adjoint of the box sums is the same box sum: every window containing a voxel contributes.
            Filters.boxSumInPlace3(sfw, sww, sw, size: size, radius: radius)
            let scale = Float(-1 / Double(n))
            parallelChunks(n) { lo, hi in
                for i in lo..<hi { gradient[i] = scale * (fp[i] * sfw[i] + 2 * w[i] * sww[i] + sw[i]) }
            }
        }
        return -total / Double(n)
    }
}

extension LocalCorrelationMetric {
    /// The metric's value (as `evaluate(warped:gradient: nil)`) computed slab by slab along z, so
    /// only a few planes of window sums exist at a time instead of five full volumes: for scoring
    /// large images (the summary's similarities) without the optimiser's memory.
    public static func value(fixed: UnsafePointer<Float>, warped: UnsafePointer<Float>, size: SIMD3<Int>,
                             radii r: SIMD3<Int>, slabPlanes: Int = 16) -> Double {
        let radius = SIMD3(size.x > 1 ? r.x : 0, size.y > 1 ? r.y : 0, size.z > 1 ? r.z : 0)
        let plane = size.x * size.y, nz = size.z, n = plane * nz
        let rz = radius.z
        let counts = windowCounts(size: size, radius: radius)
        var total = 0.0
        var z0 = 0
        let cap = (slabPlanes + 2 * rz) * plane
        let sF = FloatBuffer(count: cap), sFF = FloatBuffer(count: cap), sW = FloatBuffer(count: cap)
        let sWW = FloatBuffer(count: cap), sFW = FloatBuffer(count: cap)
        while z0 < nz {
            let z1 = min(nz, z0 + slabPlanes)
            let lo = max(0, z0 - rz), hi = min(nz, z1 + rz)
            let sub = SIMD3(size.x, size.y, hi - lo)
            let f = fixed + lo * plane, w = warped + lo * plane
            Filters.boxSumsOfProducts(f, f, size: sub, radius: radius, sw: sF.pointer, sww: sFF.pointer, sfw: sFW.pointer)
            Filters.boxSumsOfProducts(w, f, size: sub, radius: radius, sw: sW.pointer, sww: sWW.pointer, sfw: sFW.pointer)
            let rows = size.y * (z1 - z0)
            var rowSums = [Double](repeating: 0, count: rows)
            let sf = sF.pointer, sff = sFF.pointer, sw = sW.pointer, sww = sWW.pointer, sfw = sFW.pointer
            counts[0].withUnsafeBufferPointer { cx in counts[1].withUnsafeBufferPointer { cy in
                counts[2].withUnsafeBufferPointer { cz in rowSums.withUnsafeMutableBufferPointer { out in
                    parallelFor(rows) { row in
                        let j = row % size.y, k = z0 + row / size.y
                        let myz = cy[j] * cz[k]
                        let off = ((k - lo) * size.y + j) * size.x
                        var s = 0.0
                        for x in 0..<size.x {
                            let i = off + x
                            let t = window(m: cx[x] * myz, sf: sf[i], sff: sff[i], sw: sw[i], sww: sww[i], sfw: sfw[i])
                            s += Double(t.cross * t.cross / t.d)
                        }
                        out[row] = s
                    }
                } }
            } }
            total += rowSums.reduce(0, +)
            z0 = z1
        }
        return -total / Double(n)
    }
}
