import VolumeCore

/// Separable filters on a scalar grid (x fastest), parallel over lines, on unsafe buffers.
public enum Filters {
    /// One axis pass seen as `outer` blocks of `length` rows, each row `inner` contiguous values
    /// `stride` apart.
    @usableFromInline
    struct AxisLayout {
        var outer: Int, length: Int, stride: Int, inner: Int
        init(size: SIMD3<Int>, axis: Int) {
            switch axis {
            case 0: outer = size.y * size.z; length = size.x; stride = 1; inner = 1
            case 1: outer = size.z; length = size.y; stride = size.x; inner = size.x
            default: outer = 1; length = size.z; stride = size.x * size.y; inner = size.x * size.y
            }
        }
    }

    static let chunk = 1024

    /// Gaussian smoothing in place with standard deviation `sigma` (voxels, per axis; 0 skips an
    /// axis), kernel truncated at 3 sigma, borders replicated. `scratch` holds at least as many values.
    public static func gaussian(_ data: UnsafeMutablePointer<Float>, size: SIMD3<Int>, sigma: SIMD3<Double>,
                                scratch: UnsafeMutablePointer<Float>) {
        let n = size.x * size.y * size.z
        var src = data, dst = scratch
        for axis in 0..<3 where sigma[axis] > 0.01 && size[axis] > 1 {
            let s = sigma[axis]
            let r = max(1, Int((3 * s).rounded(.up)))
            var w = [Float](repeating: 0, count: 2 * r + 1)
            var total: Float = 0
            for t in -r...r { w[t + r] = Float(Foundation_exp(-Double(t * t) / (2 * s * s))); total += w[t + r] }
            for t in 0..<w.count { w[t] /= total }
            convolve(src, dst, size: size, axis: axis, weights: w)
            swap(&src, &dst)
        }
        if src != data { data.update(from: src, count: n) }
    }

    /// 1-D convolution along `axis` with symmetric `weights` (odd count), borders replicated.
    static func convolve(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, size: SIMD3<Int>,
                         axis: Int, weights: [Float]) {
        let lay = AxisLayout(size: size, axis: axis)
        let r = weights.count / 2
        weights.withUnsafeBufferPointer { w in
            if lay.inner == 1 {
                parallelFor(lay.outer) { o in
                    let s = src + o * lay.length, d = dst + o * lay.length
                    let L = lay.length
                    for l in 0..<L {
                        var acc: Float = 0
                        if l >= r && l + r < L {
                            for t in 0...(2 * r) { acc += w[t] * s[l - r + t] }
                        } else {
                            for t in 0...(2 * r) { acc += w[t] * s[min(max(l - r + t, 0), L - 1)] }
                        }
                        d[l] = acc
                    }
                }
                return
            }
            let chunks = (lay.inner + chunk - 1) / chunk
            parallelFor(lay.outer * chunks) { task in
                let o = task / chunks, c = task % chunks
                let lo = c * chunk, hi = min(lay.inner, lo + chunk)
                let base = o * lay.length * lay.stride
                for l in 0..<lay.length {
                    let d = dst + base + l * lay.stride
                    for i in lo..<hi { d[i] = 0 }
                    for t in 0...(2 * r) {
                        let ll = min(max(l - r + t, 0), lay.length - 1)
                        let s = src + base + ll * lay.stride
                        let wt = w[t]
                        for i in lo..<hi { d[i] += wt * s[i] }
                    }
                }
            }
        }
    }

    /// Box sums: `dst[x]` = sum of `src` over the voxels within `radius` (per axis, Chebyshev) of
    /// `x` that lie inside the grid. The operator is symmetric, so it is also its own adjoint.
    /// `src`, `dst` and `scratch` (as many values as the grid) must be three distinct buffers.
    public static func boxSum(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, size: SIMD3<Int>,
                              radius: SIMD3<Int>, scratch: UnsafeMutablePointer<Float>) {
        let n = size.x * size.y * size.z
        let passes = (0..<3).filter { radius[$0] > 0 && size[$0] > 1 }
        var from = UnsafeMutablePointer(mutating: src)
        for (p, axis) in passes.enumerated() {
            let target = (passes.count - 1 - p) % 2 == 0 ? dst : scratch
            boxPass(from, target, size: size, axis: axis, radius: radius[axis])
            from = target
        }
        if passes.isEmpty { dst.update(from: src, count: n) }
    }

    /// One box pass along `axis` by running sums (Double accumulators).
    static func boxPass(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, size: SIMD3<Int>,
                        axis: Int, radius r: Int) {
        let lay = AxisLayout(size: size, axis: axis)
        let L = lay.length
        if lay.inner == 1 {
            parallelFor(lay.outer) { o in
                let s = src + o * L, d = dst + o * L
                var acc = 0.0
                for t in 0..<min(r, L) { acc += Double(s[t]) }
                for l in 0..<L {
                    if l + r < L { acc += Double(s[l + r]) }
                    if l - r - 1 >= 0 { acc -= Double(s[l - r - 1]) }
                    d[l] = Float(acc)
                }
            }
            return
        }
        let chunks = (lay.inner + chunk - 1) / chunk
        parallelFor(lay.outer * chunks) { task in
            let o = task / chunks, c = task % chunks
            let lo = c * chunk, hi = min(lay.inner, lo + chunk)
            let base = o * L * lay.stride
            var acc = [Double](repeating: 0, count: hi - lo)
            acc.withUnsafeMutableBufferPointer { a in
                for t in 0..<min(r, L) {
                    let s = src + base + t * lay.stride
                    for i in lo..<hi { a[i - lo] += Double(s[i]) }
                }
                for l in 0..<L {
                    if l + r < L {
                        let s = src + base + (l + r) * lay.stride
                        for i in lo..<hi { a[i - lo] += Double(s[i]) }
                    }
                    if l - r - 1 >= 0 {
                        let s = src + base + (l - r - 1) * lay.stride
                        for i in lo..<hi { a[i - lo] -= Double(s[i]) }
                    }
                    let d = dst + base + l * lay.stride
                    for i in lo..<hi { d[i] = Float(a[i - lo]) }
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func Foundation_exp(_ x: Double) -> Double { Glibc.exp(x) }
#else
import Darwin
@inline(__always) func Foundation_exp(_ x: Double) -> Double { Darwin.exp(x) }
#endif
