import Testing
@testable import VolumeCore

@Suite struct GeometryTests {
    @Test func affineInverseRoundTrips() throws {
        let a = AffineTransform(linear: [[0, -2, 0.1], [1.5, 0, 0], [0, 0.2, 3]], translation: [10, -20, 5])
        let inv = try #require(a.inverse)
        let p = SIMD3<Double>(3, -4, 7)
        let q = inv.apply(a.apply(p))
        #expect(abs(q.x - p.x) < 1e-12 && abs(q.y - p.y) < 1e-12 && abs(q.z - p.z) < 1e-12)
        #expect(inv.composed(after: a).maxDifference(to: .identity) < 1e-12)
    }

    @Test func orientationCodes() {
        #expect(AffineTransform.scaling([1, 1, 1]).description.isEmpty == false)
        #expect(AxisOrientation(affine: .scaling([2, 2, 2])).description == "RAS")
        #expect(AxisOrientation(affine: .scaling([-1, 1, 1])).description == "LAS")
        #expect(AxisOrientation(affine: .scaling([-1, -1, -1])).description == "LPI")
        // Voxel axes permuted: i runs A->P... (column 0 along -y), j along +z, k along +x.
        let perm = AffineTransform(linear: [[0, 0, 1], [-1, 0, 0], [0, 1, 0]], translation: .zero)
        #expect(AxisOrientation(affine: perm).description == "PSR")
        // Slightly oblique: nearest axis wins.
        let obl = AffineTransform(linear: [[0.98, 0.17, 0], [-0.17, 0.98, 0], [0, 0, 1]], translation: .zero)
        #expect(AxisOrientation(affine: obl).description == "RAS")
    }

    @Test func canonicalKeepsWorldPositions() {
        // An LPI-stored 4x3x2 volume whose value encodes its world position.
        let g = VolumeGeometry(size: [4, 3, 2], affine: AffineTransform(linear: [[-1, 0, 0], [0, -2, 0], [0, 0, -3]], translation: [5, 6, 7]))
        var v = Volume(geometry: g)
        for k in 0..<2 { for j in 0..<3 { for i in 0..<4 {
            let w = g.world(ofVoxel: SIMD3(Double(i), Double(j), Double(k)))
            v[i, j, k] = Float(w.x * 100 + w.y * 10 + w.z)
        } } }
        let c = v.canonical()
        #expect(c.geometry.orientation.description == "RAS")
        #expect(c.size == SIMD3(4, 3, 2))
        for k in 0..<2 { for j in 0..<3 { for i in 0..<4 {
            let w = c.geometry.world(ofVoxel: SIMD3(Double(i), Double(j), Double(k)))
            #expect(c[i, j, k] == Float(w.x * 100 + w.y * 10 + w.z))
        } } }
    }

    @Test func resamplingOntoItselfIsIdentity() {
        let g = VolumeGeometry(size: [5, 4, 3], spacing: [2, 2, 2], origin: [-4, -3, -2])
        let v = Volume(geometry: g, voxels: (0..<60).map { Float($0) })
        #expect(v.resampled(to: g).voxels == v.voxels)
        let l = LabelVolume(geometry: g, labels: (0..<60).map { Int32($0 % 7) })
        #expect(l.resampled(to: g).labels == l.labels)
    }

    @Test func linearSamplingInterpolates() {
        let g = VolumeGeometry(size: [2, 2, 2])
        let v = Volume(geometry: g, voxels: [0, 1, 0, 1, 0, 1, 0, 1])
        #expect(abs(v.sampleLinear(at: [0.25, 0.5, 0.5]) - 0.25) < 1e-6)
        #expect(v.sampleLinear(at: [5, 0, 0], outside: -1) == -1)
    }
}

@Suite struct EvaluationTests {
    @Test func diceOfKnownOverlap() {
        let g = VolumeGeometry(size: [4, 1, 1])
        let a = LabelVolume(geometry: g, labels: [1, 1, 0, 2])
        let b = LabelVolume(geometry: g, labels: [1, 0, 0, 0])
        let d = diceScores(prediction: a, truth: b)
        #expect(d == [1: 2.0 / 3.0])
    }

    @Test func jacobianOfUniformExpansion() {
        // u(x) = 0.1 (x - c): x + u = 1.1 x - 0.1 c, det = 1.1^3.
        let g = VolumeGeometry(size: [6, 5, 4], spacing: [2, 1, 3], origin: [1, 2, 3])
        var f = VectorField(zeroOn: g)
        for n in 0..<g.voxelCount {
            let w = g.world(ofVoxel: SIMD3<Double>(g.voxel(ofIndex: n)))
            f.setVector(SIMD3<Float>(0.1 * w), at: n)
        }
        let j = jacobianDeterminant(of: f)
        for v in j.voxels { #expect(abs(Double(v) - 1.331) < 1e-4) }
        #expect(foldingFraction(j) == 0)
    }
}
