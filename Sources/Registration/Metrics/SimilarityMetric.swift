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
    /// `gradient` is given, writes ∂value/∂warped[n] there.
    func evaluate(warped: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?) -> Double
}

extension MetricKind {
    /// A metric for this kind bound to one fixed image (the fixed image's statistics are computed once).
    /// `radius` is the LNCC window half-width in voxels (ignored by the others).
    public func make(fixed: UnsafeBufferPointer<Float>, size: SIMD3<Int>, radius: Int = 2) -> SimilarityMetric {
        make(fixed: fixed, size: size, radii: SIMD3(repeating: radius))
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
    let f, sF, sFF, count: FloatBuffer
    let sW, sWW, sFW, t0, t1, scratch: FloatBuffer
    /// Variance (intensity²) below which a window counts as flat.
    let flatVariance: Float = 1e-4

    public convenience init(fixed: UnsafeBufferPointer<Float>, size: SIMD3<Int>, radius r: Int) {
        self.init(fixed: fixed, size: size, radii: SIMD3(repeating: r))
    }

    /// Window half-widths per voxel axis (singleton axes get 0).
    public init(fixed: UnsafeBufferPointer<Float>, size: SIMD3<Int>, radii r: SIMD3<Int>) {
        n = fixed.count
        self.size = size
        radius = SIMD3(size.x > 1 ? r.x : 0, size.y > 1 ? r.y : 0, size.z > 1 ? r.z : 0)
        f = FloatBuffer(fixed)
        sF = FloatBuffer(count: n); sFF = FloatBuffer(count: n); count = FloatBuffer(count: n)
        sW = FloatBuffer(count: n); sWW = FloatBuffer(count: n); sFW = FloatBuffer(count: n)
        t0 = FloatBuffer(count: n); t1 = FloatBuffer(count: n); scratch = FloatBuffer(count: n)
        Filters.boxSum(f.pointer, sF.pointer, size: size, radius: radius, scratch: scratch.pointer)
        let fp = f.pointer, tp = t0.pointer
        for i in 0..<n { tp[i] = fp[i] * fp[i] }
        Filters.boxSum(t0.pointer, sFF.pointer, size: size, radius: radius, scratch: scratch.pointer)
        t0.pointer.update(repeating: 1, count: n)
        Filters.boxSum(t0.pointer, count.pointer, size: size, radius: radius, scratch: scratch.pointer)
    }

    public func evaluate(warped w: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?) -> Double {
        let n = self.n, fp = f.pointer, a = t0.pointer, b = t1.pointer
        parallelChunks(n) { lo, hi in for i in lo..<hi { a[i] = w[i] * w[i]; b[i] = fp[i] * w[i] } }
        Filters.boxSum(w, sW.pointer, size: size, radius: radius, scratch: scratch.pointer)
        Filters.boxSum(a, sWW.pointer, size: size, radius: radius, scratch: scratch.pointer)
        Filters.boxSum(b, sFW.pointer, size: size, radius: radius, scratch: scratch.pointer)
        let sf = sF.pointer, sff = sFF.pointer, cnt = count.pointer
        let sw = sW.pointer, sww = sWW.pointer, sfw = sFW.pointer
        let flat = flatVariance
        // Per window: cc, and into sW/sWW/sFW the partial derivatives of cc wrt the sums of W, W², FW.
        let total = parallelSum(n) { lo, hi in
            var s = 0.0
            for i in lo..<hi {
                let m = cnt[i]
                let cross = sfw[i] - sf[i] * sw[i] / m
                let vf = max(sff[i] - sf[i] * sf[i] / m, 0)
                let vw = max(sww[i] - sw[i] * sw[i] / m, 0)
                // cc = cov² / (max(var F, flat) · max(var W, min(var F, flat))): a window whose fixed
                // variance is above the flat level gets ANTs' scale-invariant cov² / (var F · var W)
                // (var W floored at the flat level), and no warp can beat W = F in any window, so an
                // image registered to itself stays put. Flat fixed windows carry a bounded gradient.
                let e = m * flat
                let c = max(min(vf, e), e * 1e-3)
                let vwE = max(vw, c)
                let d = max(vf, e) * vwE
                let cc = cross * cross / d
                s += Double(cc)
                if gradient != nil {
                    let dFW = 2 * cross / d
                    let dWW = vw > c ? -cc / vwE : 0
                    let dW = -dFW * sf[i] / m - 2 * dWW * sw[i] / m
                    sfw[i] = dFW; sww[i] = dWW; sw[i] = dW
                }
            }
            return s
        }
        if let gradient {
            Filters.boxSum(sfw, a, size: size, radius: radius, scratch: scratch.pointer)
            Filters.boxSum(sww, b, size: size, radius: radius, scratch: scratch.pointer)
            Filters.boxSum(sw, sfw, size: size, radius: radius, scratch: scratch.pointer)
            let scale = Float(-1 / Double(n))
            parallelChunks(n) { lo, hi in
                for i in lo..<hi { gradient[i] = scale * (fp[i] * a[i] + 2 * w[i] * b[i] + sfw[i]) }
            }
        }
        return -total / Double(n)
    }
}
