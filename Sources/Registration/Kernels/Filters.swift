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

    /// Box sums in place: `data[x]` becomes the sum of `data` over the voxels within `radius` (per
    /// axis, Chebyshev) of `x` that lie inside the grid. The operator is symmetric, so it is also
    /// its own adjoint. No full-size scratch: each axis pass keeps only the last `radius + 1`
    /// original values of the lines it is summing.
    public static func boxSumInPlace(_ data: UnsafeMutablePointer<Float>, size: SIMD3<Int>, radius: SIMD3<Int>) {
        for axis in 0..<3 where radius[axis] > 0 && size[axis] > 1 {
            boxPassInPlace(data, size: size, axis: axis, radius: radius[axis])
        }
    }

    /// The box sums of `w`, `w²` and `f·w` (same windows as `boxSumInPlace`) into `sw`, `sww`, `sfw`,
    /// the products formed on the fly in the first pass (no product volumes).
    public static func boxSumsOfProducts(_ w: UnsafePointer<Float>, _ f: UnsafePointer<Float>, size: SIMD3<Int>,
                                         radius: SIMD3<Int>, sw: UnsafeMutablePointer<Float>,
                                         sww: UnsafeMutablePointer<Float>, sfw: UnsafeMutablePointer<Float>) {
        let L = size.x, r = size.x > 1 ? radius.x : 0
        parallelFor(size.y * size.z) { o in
            let ws = w + o * L, fs = f + o * L
            let d0 = sw + o * L, d1 = sww + o * L, d2 = sfw + o * L
            var a0 = 0.0, a1 = 0.0, a2 = 0.0
            // Products in single precision, sums in double (as the box sums of product volumes).
            for t in 0..<min(r, L) {
                let x = ws[t]; a0 += Double(x); a1 += Double(x * x); a2 += Double(fs[t] * x)
            }
            for l in 0..<L {
                if l + r < L { let x = ws[l + r]; a0 += Double(x); a1 += Double(x * x); a2 += Double(fs[l + r] * x) }
                if l - r - 1 >= 0 { let x = ws[l - r - 1]; a0 -= Double(x); a1 -= Double(x * x); a2 -= Double(fs[l - r - 1] * x) }
                d0[l] = Float(a0); d1[l] = Float(a1); d2[l] = Float(a2)
            }
        }
        for axis in 1..<3 where radius[axis] > 0 && size[axis] > 1 {
            for d in [sw, sww, sfw] { boxPassInPlace(d, size: size, axis: axis, radius: radius[axis]) }
        }
    }

    /// One in-place box pass along `axis` by running sums (Double accumulators); a ring of the
    /// last `r + 1` original values per column replaces a second volume.
    static func boxPassInPlace(_ data: UnsafeMutablePointer<Float>, size: SIMD3<Int>, axis: Int, radius r: Int) {
        let lay = AxisLayout(size: size, axis: axis)
        let L = lay.length
        if lay.inner == 1 {
            parallelFor(lay.outer) { o in
                let d = data + o * L
                withUnsafeTemporaryAllocation(of: Float.self, capacity: L) { s in
                    _ = s.initialize(from: UnsafeBufferPointer(start: d, count: L))
                    var acc = 0.0
                    for t in 0..<min(r, L) { acc += Double(s[t]) }
                    for l in 0..<L {
                        if l + r < L { acc += Double(s[l + r]) }
                        if l - r - 1 >= 0 { acc -= Double(s[l - r - 1]) }
                        d[l] = Float(acc)
                    }
                }
            }
            return
        }
        let chunks = (lay.inner + chunk - 1) / chunk
        let ringRows = r + 1
        parallelFor(lay.outer * chunks) { task in
            let o = task / chunks, c = task % chunks
            let lo = c * chunk, hi = min(lay.inner, lo + chunk), w = hi - lo
            let base = data + o * L * lay.stride + lo
            withUnsafeTemporaryAllocation(of: Double.self, capacity: w) { a in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: w * ringRows) { ring in
                    for i in 0..<w { a[i] = 0 }
                    for t in 0..<min(r, L) {
                        let s = base + t * lay.stride
                        for i in 0..<w { a[i] += Double(s[i]) }
                    }
                    for l in 0..<L {
                        let slot = ring.baseAddress! + (l % ringRows) * w
                        if l + r < L {
                            let s = base + (l + r) * lay.stride
                            for i in 0..<w { a[i] += Double(s[i]) }
                        }
                        if l - r - 1 >= 0 {
                            for i in 0..<w { a[i] -= Double(slot[i]) }   // the original value at l - r - 1
                        }
                        let d = base + l * lay.stride
                        for i in 0..<w { slot[i] = d[i]; d[i] = Float(a[i]) }
                    }
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
