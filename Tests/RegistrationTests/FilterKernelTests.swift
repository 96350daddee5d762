import Testing
import VolumeCore
@testable import Registration

/// The fast separable Gaussian (x pass in place, 8-wide register accumulation) against the
/// scalar ping-pong reference, bit for bit.
struct FilterKernelTests {
    static func noise(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) - 0.3
        }
    }

    @Test(arguments: [(SIMD3(37, 13, 11), SIMD3(2.0, 0.5, 1.3)), (SIMD3(9, 7, 1), SIMD3(0.75, 2.0, 2.0)),
                      (SIMD3(1, 6, 5), SIMD3(1.0, 1.0, 0.0)), (SIMD3(2, 2, 2), SIMD3(3.0, 3.0, 3.0)),
                      (SIMD3(24, 17, 3), SIMD3(0.0, 0.0, 0.6)), (SIMD3(1030, 3, 2), SIMD3(1.5, 0.0, 0.9))])
    func gaussianMatchesTheReferenceBitForBit(size: SIMD3<Int>, sigma: SIMD3<Double>) {
        let n = size.x * size.y * size.z
        let x = Self.noise(n, seed: UInt64(n))
        let fast = FloatBuffer(x), reference = FloatBuffer(x)
        let s1 = FloatBuffer(count: n, value: .nan), s2 = FloatBuffer(count: n, value: .nan)
        Filters.gaussian(fast.pointer, size: size, sigma: sigma, scratch: s1.pointer)
        Filters.gaussianReference(reference.pointer, size: size, sigma: sigma, scratch: s2.pointer)
        #expect(fast.array.map(\.bitPattern) == reference.array.map(\.bitPattern))
        // Not the identity unless no axis is smoothed.
        if (0..<3).contains(where: { sigma[$0] > 0.01 && size[$0] > 1 }) { #expect(fast.array != x) }
    }
}

/// LNCC's 8-wide window loop against its one-by-one loop: value and gradient bit for bit.
struct LocalCorrelationKernelTests {
    @Test(arguments: [SIMD3(37, 13, 11), SIMD3(9, 7, 1), SIMD3(8, 5, 4), SIMD3(3, 6, 5)])
    func eightWideWindowsMatchOneByOne(size: SIMD3<Int>) {
        let n = size.x * size.y * size.z
        // Smooth-ish images with flat patches (both the floored and the unfloored windows).
        var f = FilterKernelTests.noise(n, seed: 7).map { max($0, 0) }
        var w = FilterKernelTests.noise(n, seed: 8).map { max($0, 0) * 0.5 }
        for i in 0..<(n / 4) { f[i] = 0.2; w[i] = 0.2 }
        w[n - 1] = 1
        func run(_ vector: Bool) -> (Double, [Float]) {
            let metric = f.withUnsafeBufferPointer {
                LocalCorrelationMetric(fixed: $0, size: size, radii: SIMD3(2, 1, 2))
            }
            metric.vectorWindows = vector
            var g = [Float](repeating: .nan, count: n)
            let v = w.withUnsafeBufferPointer { wp in
                g.withUnsafeMutableBufferPointer { metric.evaluate(warped: wp.baseAddress!, gradient: $0.baseAddress!) }
            }
            let value = w.withUnsafeBufferPointer { metric.evaluate(warped: $0.baseAddress!, gradient: nil) }
            #expect(value.bitPattern == v.bitPattern)
            return (v, g)
        }
        let (fastValue, fastGradient) = run(true), (refValue, refGradient) = run(false)
        #expect(fastValue.bitPattern == refValue.bitPattern)
        #expect(fastGradient.map(\.bitPattern) == refGradient.map(\.bitPattern))
        #expect(fastValue < 0 && fastGradient.contains { $0 != 0 })
    }
}

/// The running-sum box filters (in place, fused x pass of three volumes, one-loop strided passes)
/// against a plain scalar running sum over each line, axis by axis, bit for bit.
struct BoxSumKernelTests {
    static func runningBoxSum(_ x: [Float], size: SIMD3<Int>, radius: SIMD3<Int>) -> [Float] {
        var cur = x
        let strides = [1, size.x, size.x * size.y]
        for axis in 0..<3 where radius[axis] > 0 && size[axis] > 1 {
            let orig = cur, L = size[axis], r = radius[axis], st = strides[axis]
            for k in 0..<size.z { for j in 0..<size.y { for i in 0..<size.x {
                let p = [i, j, k]
                if p[axis] != 0 { continue }
                let start = i + size.x * (j + size.y * k)
                var acc = 0.0
                for t in 0..<min(r, L) { acc += Double(orig[start + t * st]) }
                for l in 0..<L {
                    if l + r < L { acc += Double(orig[start + (l + r) * st]) }
                    if l - r - 1 >= 0 { acc -= Double(orig[start + (l - r - 1) * st]) }
                    cur[start + l * st] = Float(acc)
                }
            } } }
        }
        return cur
    }

    @Test(arguments: [(SIMD3(37, 13, 11), SIMD3(2, 2, 2)), (SIMD3(9, 7, 1), SIMD3(3, 1, 2)),
                      (SIMD3(5, 6, 1030), SIMD3(1, 4, 3)), (SIMD3(3, 2, 4), SIMD3(5, 5, 5))])
    func boxSumsMatchTheScalarRunningSum(size: SIMD3<Int>, radius: SIMD3<Int>) {
        let n = size.x * size.y * size.z
        let xs = (0..<3).map { FilterKernelTests.noise(n, seed: UInt64(11 + $0)) }
        let expected = xs.map { Self.runningBoxSum($0, size: size, radius: radius) }
        let one = FloatBuffer(xs[0])
        Filters.boxSumInPlace(one.pointer, size: size, radius: radius)
        #expect(one.array.map(\.bitPattern) == expected[0].map(\.bitPattern))
        let bufs = xs.map { FloatBuffer($0) }
        Filters.boxSumInPlace3(bufs[0].pointer, bufs[1].pointer, bufs[2].pointer, size: size, radius: radius)
        for c in 0..<3 { #expect(bufs[c].array.map(\.bitPattern) == expected[c].map(\.bitPattern)) }
        #expect(expected[0] != xs[0])
    }
}
