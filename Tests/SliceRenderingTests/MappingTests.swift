import Testing
import SliceRendering
import VolumeCore

/// Display <-> voxel <-> world round trips, and overlay alignment.
@Suite struct MappingTests {
    /// A random rotation (possibly improper) times anisotropic spacing, with a translation.
    static func randomAffine(_ rng: inout some RandomNumberGenerator) -> AffineTransform {
        func unit() -> SIMD3<Double> {
            let v = SIMD3<Double>(.random(in: -1...1, using: &rng), .random(in: -1...1, using: &rng), .random(in: -1...1, using: &rng))
            return v / (v * v).sum().squareRoot()
        }
        let a = unit()
        var b = unit(); b -= a * (a * b).sum(); b /= (b * b).sum().squareRoot()
        var c = SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
        if Bool.random(using: &rng) { c = -c }
        let sp = SIMD3<Double>(.random(in: 0.5...3, using: &rng), .random(in: 0.5...3, using: &rng), .random(in: 0.5...3, using: &rng))
        let cols = [a * sp.x, b * sp.y, c * sp.z]
        return AffineTransform(linear: (0..<3).map { r in (0..<3).map { cols[$0][r] } },
                               translation: [.random(in: -50...50, using: &rng), .random(in: -50...50, using: &rng), 0])
    }

    @Test func displayAndWorldRoundTripForRandomAffines() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let g = VolumeGeometry(size: [Int.random(in: 1...30), Int.random(in: 1...30), Int.random(in: 1...30)],
                                   affine: MappingTests.randomAffine(&rng))
            for plane in SlicePlane.allCases {
                for conv in DisplayConvention.allCases {
                    let m = SliceMapping(geometry: g, plane: plane, convention: conv)
                    #expect(Set([m.columnAxis, m.rowAxis, m.sliceAxis]) == [0, 1, 2])
                    #expect(m.width * m.height * m.sliceCount == g.voxelCount)
                    let c = Int.random(in: 0..<m.width), r = Int.random(in: 0..<m.height), s = Int.random(in: 0..<m.sliceCount)
                    let v = m.voxel(column: c, row: r, slice: s)
                    #expect(g.contains(v))
                    let w = m.world(column: Double(c), row: Double(r), slice: Double(s))
                    let d = m.display(ofWorld: w)
                    #expect(abs(d.column - Double(c)) < 1e-6 && abs(d.row - Double(r)) < 1e-6 && abs(d.slice - Double(s)) < 1e-6)
                    // The column direction points toward the right edge's letter (nearest axis, so only its sign is certain).
                    let dir = m.displayDirections.column
                    let e = m.edgeDirections.right
                    #expect(dir[e.worldAxis] * (e.isPositive ? 1 : -1) > 0)
                    // Extraction agrees with voxel lookup.
                    let idx = Array(0..<g.voxelCount)
                    let slice = m.extract(idx, slice: s)
                    #expect(slice[c + m.width * r] == g.index(v.x, v.y, v.z))
                }
            }
        }
    }

    @Test func alignmentKeepsSameGridsResamplesOverlapsAndRefusesDisjointOnes() throws {
        let image = VolumeGeometry(size: [10, 10, 10], spacing: [2, 2, 2], origin: [-10, -10, -10])
        var labels = LabelVolume(geometry: image)
        labels[3, 4, 5] = 7
        let same = try OverlayAlignment.align(labels, to: image, name: "l")
        #expect(!same.resampled && same.0 == labels)
        // The same labels on a 1 mm LPI grid covering the same box: resampled back exactly onto 2 mm centres.
        let fine = VolumeGeometry(size: [20, 20, 20],
                                  affine: AffineTransform(linear: [[-1, 0, 0], [0, -1, 0], [0, 0, -1]], translation: [9.5, 9.5, 9.5]))
        let fineLabels = labels.resampled(to: fine)
        let back = try OverlayAlignment.align(fineLabels, to: image, name: "l")
        #expect(back.resampled)
        #expect(back.0.labels.filter { $0 == 7 }.count >= 1 && back.0[3, 4, 5] == 7)
        let far = VolumeGeometry(size: [5, 5, 5], spacing: [1, 1, 1], origin: [500, 0, 0])
        #expect(throws: OverlayAlignmentError.self) { try OverlayAlignment.align(LabelVolume(geometry: far), to: image, name: "far") }
        #expect(abs(OverlayAlignment.overlapFraction(image: image, overlay: fine) - 0.95 * 0.95 * 0.95) < 1e-9) // boxes -11..9 and -10..10 mm
        // Fields: vectors keep their world values, only positions are resampled.
        var f = VectorField(zeroOn: fine)
        for n in 0..<fine.voxelCount { f.setVector([1, -2, 3], at: n) }
        let fa = try OverlayAlignment.align(f, to: image, name: "f")
        #expect(fa.resampled && fa.0.vector(at: image.index(5, 5, 5)) == SIMD3<Float>(1, -2, 3))
    }
}
