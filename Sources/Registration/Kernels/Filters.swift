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

    /// The normalised Gaussian weights (2r + 1 of them, r = max(1, ⌈3 sigma⌉)) for `sigma` voxels.
    static func gaussianWeights(_ s: Double) -> [Float] {
        let r = max(1, Int((3 * s).rounded(.up)))
        var w = [Float](repeating: 0, count: 2 * r + 1)
        var total: Float = 0
        for t in -r...r { w[t + r] = Float(Foundation_exp(-Double(t * t) / (2 * s * s))); total += w[t + r] }
        for t in 0..<w.count { w[t] /= total }
        return w
    }

    /// Gaussian smoothing in place with standard deviation `sigma` (voxels, per axis; 0 skips an
    /// axis), kernel truncated at 3 sigma, borders replicated. `scratch` holds at least as many values.
    /// The x pass runs in place (each line through a padded copy), the y and z passes between
    /// `data` and `scratch`, 8 outputs at a time with the taps accumulated in registers; every
    /// output is the same sum in the same order as `gaussianReference`, so bit for bit the same.
    public static func gaussian(_ data: UnsafeMutablePointer<Float>, size: SIMD3<Int>, sigma: SIMD3<Double>,
                                scratch: UnsafeMutablePointer<Float>) {
        let n = size.x * size.y * size.z
        let axes = (0..<3).filter { sigma[$0] > 0.01 && size[$0] > 1 }
        var src = data, dst = scratch
        for axis in axes {
            let w = gaussianWeights(sigma[axis])
            if axis == 0 {
                convolveLinesInPlace(src, size: size, weights: w)
            } else {
                convolveStrided(src, dst, size: size, axis: axis, weights: w)
                swap(&src, &dst)
            }
        }
        if src != data { data.update(from: src, count: n) }
    }

    /// The x pass in place: each line is copied with `r` replicated border values on both sides,
    /// then convolved 8 outputs at a time.
    static func convolveLinesInPlace(_ data: UnsafeMutablePointer<Float>, size: SIMD3<Int>, weights: [Float]) {
        let L = size.x, r = weights.count / 2, taps = weights.count
        weights.withUnsafeBufferPointer { wb in
            let w = wb.baseAddress!
            parallelFor(size.y * size.z) { o in
                let d = data + o * L
                withUnsafeTemporaryAllocation(of: Float.self, capacity: L + 2 * r + 8) { pb in
                    let p = pb.baseAddress!
                    for t in 0..<r { p[t] = d[0]; p[r + L + t] = d[L - 1] }
                    (p + r).update(from: d, count: L)
                    let raw = UnsafeRawPointer(p), out = UnsafeMutableRawPointer(d)
                    var l = 0
                    while l + 8 <= L {
                        var acc = SIMD8<Float>(repeating: 0)
                        for t in 0..<taps {
                            acc += w[t] * raw.loadUnaligned(fromByteOffset: 4 * (l + t), as: SIMD8<Float>.self)
                        }
                        out.storeBytes(of: acc, toByteOffset: 4 * l, as: SIMD8<Float>.self)
                        l += 8
                    }
                    while l < L {
                        var acc: Float = 0
                        for t in 0..<taps { acc += w[t] * p[l + t] }
                        d[l] = acc
                        l += 1
                    }
                }
            }
        }
    }

    /// A y or z pass from `src` into `dst`: for each output line, the `2r + 1` source lines
    /// (borders replicated) weighted and summed 8 values at a time in registers.
    static func convolveStrided(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, size: SIMD3<Int>,
                                axis: Int, weights: [Float]) {
        let lay = AxisLayout(size: size, axis: axis)
        let r = weights.count / 2, taps = weights.count
        let chunks = (lay.inner + chunk - 1) / chunk
        weights.withUnsafeBufferPointer { wb in
            let w = wb.baseAddress!
            parallelFor(lay.outer * lay.length * chunks) { task in
                let c = task % chunks, ol = task / chunks
                let o = ol / lay.length, l = ol % lay.length
                let lo = c * chunk, hi = min(lay.inner, lo + chunk)
                let base = o * lay.length * lay.stride
                let d = dst + base + l * lay.stride
                withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: taps) { rowsBuf in
                    let rows = rowsBuf.baseAddress!
                    for t in 0..<taps {
                        let ll = min(max(l - r + t, 0), lay.length - 1)
                        rows[t] = UnsafePointer(src + base + ll * lay.stride)
                    }
                    var i = lo
                    while i + 8 <= hi {
                        var acc = SIMD8<Float>(repeating: 0)
                        for t in 0..<taps {
                            acc += w[t] * UnsafeRawPointer(rows[t] + i).loadUnaligned(as: SIMD8<Float>.self)
                        }
                        UnsafeMutableRawPointer(d + i).storeBytes(of: acc, as: SIMD8<Float>.self)
                        i += 8
                    }
                    while i < hi {
                        var acc: Float = 0
                        for t in 0..<taps { acc += w[t] * rows[t][i] }
                        d[i] = acc
                        i += 1
                    }
                }
            }
        }
    }

    /// The scalar Gaussian `gaussian` is checked against bit for bit (ping-pong passes, one
    /// output at a time, taps added in order).
    static func gaussianReference(_ data: UnsafeMutablePointer<Float>, size: SIMD3<Int>, sigma: SIMD3<Double>,
                                  scratch: UnsafeMutablePointer<Float>) {
        let n = size.x * size.y * size.z
        var src = data, dst = scratch
        for axis in 0..<3 where sigma[axis] > 0.01 && size[axis] > 1 {
            convolveReference(src, dst, size: size, axis: axis, weights: gaussianWeights(sigma[axis]))
            swap(&src, &dst)
        }
        if src != data { data.update(from: src, count: n) }
    }

    /// 1-D convolution along `axis` with symmetric `weights` (odd count), borders replicated.
    static func convolveReference(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, size: SIMD3<Int>,
                                  axis: Int, weights: [Float]) {
        let lay = AxisLayout(size: size, axis: axis)
        let r = weights.count / 2
        weights.withUnsafeBufferPointer { w in
            for o in 0..<lay.outer {
                for l in 0..<lay.length {
                    for i in 0..<lay.inner {
                        var acc: Float = 0
                        for t in 0...(2 * r) {
                            let ll = min(max(l - r + t, 0), lay.length - 1)
                            acc += w[t] * src[o * lay.length * lay.stride + ll * lay.stride + i]
                        }
                        dst[o * lay.length * lay.stride + l * lay.stride + i] = acc
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

    /// `boxSumInPlace` of three volumes, the x pass of the three fused (three independent
    /// running sums per line, so their additions overlap); the same values.
    public static func boxSumInPlace3(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
                                      _ c: UnsafeMutablePointer<Float>, size: SIMD3<Int>, radius: SIMD3<Int>) {
        let L = size.x, r = radius.x
        if r > 0 && L > 1 {
            parallelFor(size.y * size.z) { o in
                let da = a + o * L, db = b + o * L, dc = c + o * L
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * L) { buf in
                    let sa = buf.baseAddress!, sb = sa + L, sc = sb + L
                    sa.update(from: da, count: L); sb.update(from: db, count: L); sc.update(from: dc, count: L)
                    var xa = 0.0, xb = 0.0, xc = 0.0
                    for t in 0..<min(r, L) { xa += Double(sa[t]); xb += Double(sb[t]); xc += Double(sc[t]) }
                    for l in 0..<L {
                        if l + r < L { xa += Double(sa[l + r]); xb += Double(sb[l + r]); xc += Double(sc[l + r]) }
                        if l - r - 1 >= 0 { xa -= Double(sa[l - r - 1]); xb -= Double(sb[l - r - 1]); xc -= Double(sc[l - r - 1]) }
                        da[l] = Float(xa); db[l] = Float(xb); dc[l] = Float(xc)
                    }
                }
            }
        }
        for axis in 1..<3 where radius[axis] > 0 && size[axis] > 1 {
            for d in [a, b, c] { boxPassInPlace(d, size: size, axis: axis, radius: radius[axis]) }
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
                    // One loop per row: add the entering value, subtract the leaving one (the
                    // original value at l - r - 1, kept in the ring), store (same order as three loops).
                    for l in 0..<L {
                        let slot = ring.baseAddress! + (l % ringRows) * w
                        let d = base + l * lay.stride
                        let s = base + (l + r) * lay.stride
                        switch (l + r < L, l - r - 1 >= 0) {
                        case (true, true):
                            for i in 0..<w {
                                let t = (a[i] + Double(s[i])) - Double(slot[i])
                                a[i] = t; slot[i] = d[i]; d[i] = Float(t)
                            }
                        case (true, false):
                            for i in 0..<w { let t = a[i] + Double(s[i]); a[i] = t; slot[i] = d[i]; d[i] = Float(t) }
                        case (false, true):
                            for i in 0..<w { let t = a[i] - Double(slot[i]); a[i] = t; slot[i] = d[i]; d[i] = Float(t) }
                        case (false, false):
                            for i in 0..<w { slot[i] = d[i]; d[i] = Float(a[i]) }
                        }
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
