import Testing
import VolumeCore
@testable import Registration

/// The exponential's composition kernel (4-float corner loads) against its scalar reference.
struct ExponentialKernelTests {
    @Test(arguments: [SIMD3(17, 13, 11), SIMD3(9, 7, 1), SIMD3(1, 6, 5), SIMD3(2, 2, 2)])
    func fastCompositionMatchesTheReferenceBitForBit(size: SIMD3<Int>) {
        // An oblique grid, and displacements large enough to reach every border (and the last voxel).
        let a = AffineTransform.scaling(SIMD3(1.5, 0.8, 2.0), origin: .zero)
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
    }
}
