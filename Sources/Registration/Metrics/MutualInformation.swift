import VolumeCore

/// Negated Mattes mutual information (ITK's `MattesMutualInformationImageToImageMetricv4`, ANTs'
/// `mattes`): a joint histogram of `bins` × `bins` (default ∛N, 8…32) over intensities in [0, 1] (both images are
/// rescaled so by the engine), the fixed intensity binned with a zero-order (box) window and the
/// warped moving intensity with a cubic B-spline Parzen window, so the value is a smooth function
/// of the warped intensities. `MI = Σ p(f,m) log(p(f,m) / (p(f) p(m)))`; the value is `-MI` (nats).
///
/// Gradient: `p(f)` does not depend on the warped image, so
/// `∂MI/∂W_n = (1/N) Σ_m ∂β((t_n - m))/∂W_n · log(p(f_n, m) / p(m))` with `t_n` the bin coordinate
/// of `W_n` and `β` the cubic B-spline: exact, per voxel, four bins each.
/// Histograms are summed per fixed-size chunk and added in chunk order, so the value does not
/// depend on the thread count.
public final class MutualInformationMetric: SimilarityMetric {
    /// Number of intensity bins per image.
    public let bins: Int
    let n: Int
    let fixedBin: [Int32]
    let fixedMarginal: [Double]
    /// Moving bins are padded by one bin below and two above (the B-spline's support).
    var stride: Int { bins + 3 }

    /// `fixed` holds intensities in [0, 1] (values outside are clamped into the end bins).
    /// `bins` nil: `∛N` rounded, between 8 and 32 (few voxels cannot fill many bins; a sparse joint
    /// histogram rewards warps that merely spread intensities).
    public init(fixed: UnsafeBufferPointer<Float>, bins: Int? = nil) {
        let auto = Int(Foundation_cbrt(Double(fixed.count)).rounded())
        self.bins = max(bins ?? min(max(auto, 8), 32), 4)
        n = fixed.count
        let b = self.bins
        fixedBin = fixed.map { Int32(min(max(Int(($0.isFinite ? $0 : 0) * Float(b)), 0), b - 1)) }
        var pf = [Double](repeating: 0, count: b)
        for f in fixedBin { pf[Int(f)] += 1 }
        fixedMarginal = pf.map { $0 / Double(max(fixed.count, 1)) }
    }

    /// Cubic B-spline and its derivative.
    @inline(__always) static func bspline(_ x: Float) -> (Float, Float) {
        let a = abs(x)
        if a < 1 { return ((4 - 6 * a * a + 3 * a * a * a) / 6, -2 * x + 1.5 * x * a) }
        if a < 2 { let r = 2 - a; return (r * r * r / 6, (x < 0 ? 0.5 : -0.5) * r * r) }
        return (0, 0)
    }

    /// Bin coordinate of an intensity: 0 … bins-1 over [0, 1].
    @inline(__always) func coordinate(_ w: Float) -> Float { min(max(w, 0), 1) * Float(bins - 1) }

    public func evaluate(warped w: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?) -> Double {
        let b = bins, st = stride, cells = b * st
        let chunks = (n + reductionChunk - 1) / reductionChunk
        var partial = [Double](repeating: 0, count: chunks * cells)
        fixedBin.withUnsafeBufferPointer { fb in
            partial.withUnsafeMutableBufferPointer { part in
                parallelFor(chunks) { c in
                    let h = part.baseAddress! + c * cells
                    for i in (c * reductionChunk)..<min(n, (c + 1) * reductionChunk) {
                        let t = coordinate(w[i])
                        let j0 = Int(t)
                        let row = h + Int(fb[i]) * st
                        for m in (j0 - 1)...(j0 + 2) {
                            let (v, _) = Self.bspline(t - Float(m))
                            row[m + 1] += Double(v)
                        }
                    }
                }
            }
        }
        var joint = [Double](repeating: 0, count: cells)
        for c in 0..<chunks { for k in 0..<cells { joint[k] += partial[c * cells + k] } }
        let scale = 1 / Double(max(n, 1))
        var pm = [Double](repeating: 0, count: st)
        for f in 0..<b { for m in 0..<st { joint[f * st + m] *= scale; pm[m] += joint[f * st + m] } }
        var mi = 0.0
        // log(p(f,m) / p(m)) per cell, for the gradient.
        var logRatio = [Float](repeating: 0, count: cells)
        for f in 0..<b {
            let pf = fixedMarginal[f]
            guard pf > 0 else { continue }
            for m in 0..<st {
                let p = joint[f * st + m]
                guard p > 1e-300, pm[m] > 0 else { continue }
                mi += p * Foundation_logd(p / (pf * pm[m]))
                logRatio[f * st + m] = Float(Foundation_logd(p / pm[m]))
            }
        }
        if let gradient {
            let gscale = Float(-scale) * Float(b - 1)
            fixedBin.withUnsafeBufferPointer { fb in
                logRatio.withUnsafeBufferPointer { lr in
                    parallelChunks(n) { lo, hi in
                        for i in lo..<hi {
                            let x = w[i]
                            // Outside [0, 1] the intensity is clamped: the value does not change with W.
                            guard x >= 0 && x <= 1 else { gradient[i] = 0; continue }
                            let t = coordinate(x)
                            let j0 = Int(t)
                            let row = Int(fb[i]) * st
                            var g: Float = 0
                            for m in (j0 - 1)...(j0 + 2) {
                                let (_, d) = Self.bspline(t - Float(m))
                                g += d * lr[row + m + 1]
                            }
                            gradient[i] = gscale * g
                        }
                    }
                }
            }
        }
        return -mi
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func Foundation_logd(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func Foundation_cbrt(_ x: Double) -> Double { Glibc.cbrt(x) }
#else
import Darwin
@inline(__always) func Foundation_logd(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) func Foundation_cbrt(_ x: Double) -> Double { Darwin.cbrt(x) }
#endif
