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
