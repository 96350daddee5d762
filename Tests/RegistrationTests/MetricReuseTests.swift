import Registration
import Testing
import TestSupport

/// `LocalCorrelationMetric.fixedImageChanged()`: a metric kept on a buffer whose image changes (the
/// symmetric mode's warped images) gives, bit for bit, what a new metric built on the buffer gives.
@Suite struct MetricReuseTests {
    @Test func refreshedMetricEqualsANewOneBitForBit() {
        let size = SIMD3(23, 19, 11), n = size.x * size.y * size.z
        var rng = SplitMix64(seed: 17)
        let fixed = FloatBuffer(count: n), warped = FloatBuffer(count: n)
        for i in 0..<n { fixed.pointer[i] = Float(rng.nextDouble()); warped.pointer[i] = Float(rng.nextDouble()) }
        let kept = LocalCorrelationMetric(sharing: fixed, size: size, radii: [2, 2, 1])
        let g0 = FloatBuffer(count: n)
        let before = kept.evaluate(warped: warped.pointer, gradient: g0.pointer)
        // Another fixed image in the same buffer.
        for i in 0..<n { fixed.pointer[i] = 0.5 * fixed.pointer[i] + Float(rng.nextDouble()) * 0.5 }
        let stale = kept.evaluate(warped: warped.pointer, gradient: nil)
        kept.fixedImageChanged()
        let fresh = LocalCorrelationMetric(sharing: fixed, size: size, radii: [2, 2, 1])
        let g1 = FloatBuffer(count: n), g2 = FloatBuffer(count: n)
        let a = kept.evaluate(warped: warped.pointer, gradient: g1.pointer)
        let b = fresh.evaluate(warped: warped.pointer, gradient: g2.pointer)
        #expect(a == b)
        #expect((0..<n).allSatisfy { g1.pointer[$0] == g2.pointer[$0] })
        // Without the refresh the metric still used the old image's window sums.
        #expect(stale != b && before != b)
    }
}
