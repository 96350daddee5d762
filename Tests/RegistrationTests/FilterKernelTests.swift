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
