import Testing
import VolumeCore
@testable import Registration

/// The exponential's composition kernel (4-float corner loads) against its scalar reference.
struct ExponentialKernelTests {
    @Test(arguments: [SIMD3(17, 13, 11), SIMD3(9, 7, 1), SIMD3(1, 6, 5), SIMD3(2, 2, 2)], [false, true])
    func fastCompositionMatchesTheReferenceBitForBit(size: SIMD3<Int>, oblique: Bool) {
        // An anisotropic axis-aligned grid (the fast kernel's one-product coordinates) or an
        // oblique one (its dot products), and displacements large enough to reach every border
        // (and the last voxel).
        let a = oblique ? AffineTransform(rows: [1.4, 0.3, 0, 2], [-0.2, 0.8, 0.1, -1], [0.05, 0, 2.0, 3])
            : AffineTransform.scaling(SIMD3(1.5, 0.8, 2.0), origin: .zero)
        let g = VolumeGeometry(size: size, affine: a)
        let n = g.voxelCount
        var u = [Float](repeating: 0, count: 3 * n)
        var state: UInt64 = 12345
        for i in u.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            u[i] = (Float(state >> 40) / Float(1 << 24) - 0.5) * 12
        }
        var fast = [Float](repeating: .nan, count: 3 * n), reference = fast
        u.withUnsafeBufferPointer { up in
            fast.withUnsafeMutableBufferPointer { FieldOps.selfComposeInterleaved(up.baseAddress!, grid: g, into: $0.baseAddress!) }
            reference.withUnsafeMutableBufferPointer {
                FieldOps.selfComposeInterleavedReference(up.baseAddress!, grid: g, into: $0.baseAddress!)
            }
        }
        #expect(fast.map(\.bitPattern) == reference.map(\.bitPattern))
        // The component-major output (the exponential's last squaring) holds the same values.
        var major = [Float](repeating: .nan, count: 3 * n)
        u.withUnsafeBufferPointer { up in
            major.withUnsafeMutableBufferPointer {
                FieldOps.selfComposeInterleaved(up.baseAddress!, grid: g, into: $0.baseAddress!, componentMajor: true)
            }
        }
        let deinterleaved = (0..<3).flatMap { c in (0..<n).map { reference[3 * $0 + c] } }
        #expect(major.map(\.bitPattern) == deinterleaved.map(\.bitPattern))
    }

    /// The exponential (interleaving, squarings, fused de-interleaving) against the same steps
    /// done one by one with the reference kernel.
    @Test(arguments: [1, 2, 3])
    func exponentialMatchesStepByStepReference(steps: Int) {
        let g = VolumeGeometry(size: SIMD3(11, 9, 7), affine: .scaling(SIMD3(2, 2, 2), origin: .zero))
        let n = g.voxelCount
        var state: UInt64 = 99
        let v = (0..<(3 * n)).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) / Float(1 << 24) - 0.5) * 6
        }
        let scale = -1 / Float(1 << steps)
        var cur = (0..<(3 * n)).map { v[(($0 % 3) * n) + $0 / 3] * scale }
        var next = cur
        for _ in 0..<steps {
            cur.withUnsafeBufferPointer { c in next.withUnsafeMutableBufferPointer {
                FieldOps.selfComposeInterleavedReference(c.baseAddress!, grid: g, into: $0.baseAddress!)
            } }
            swap(&cur, &next)
        }
        let expected = (0..<3).flatMap { c in (0..<n).map { cur[3 * $0 + c] } }
        let u = FloatBuffer(count: 3 * n), scratch = FloatBuffer(count: 3 * n)
        v.withUnsafeBufferPointer {
            VelocityField.exponential($0.baseAddress!, sign: -1, grid: g, steps: steps, into: u.pointer, scratch: scratch.pointer)
        }
        #expect(u.array.map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(u.array != v)
    }
}
