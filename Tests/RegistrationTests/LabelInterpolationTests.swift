import Foundation
import Registration
import Testing
import TestSupport
import VolumeCore

/// Labels carried through a transform (`LabelInterpolation`): ANTs' GenericLabel checked against its
/// definition computed another way (each label's 0/1 image warped by the trilinear image warp, the
/// largest wins), the analytic cases where it differs from the nearest voxel, and nearest as before.
@Suite struct LabelInterpolationTests {
    /// Blobs of labels 0, 3, 7 and 9 (a smooth random function cut into four bands), deterministic.
    static func blobs(_ size: SIMD3<Int>, seed: UInt64) -> LabelVolume {
        var rng = SplitMix64(seed: seed)
        let g = VolumeGeometry(size: size, spacing: [1.2, 1, 0.9], origin: [-3, 2, 1])
        let waves = (0..<6).map { _ in (SIMD3(rng.nextDouble() * 0.9, rng.nextDouble() * 0.9, rng.nextDouble() * 0.9), rng.nextDouble() * 6) }
        var out = [Int32](repeating: 0, count: g.voxelCount)
        for k in 0..<size.z { for j in 0..<size.y { for i in 0..<size.x {
            let p = SIMD3(Double(i), Double(j), Double(k))
            let f = waves.reduce(0.0) { $0 + sin(($1.0 * p).sum() + $1.1) }
            out[g.index(i, j, k)] = f < -1 ? 0 : f < 0 ? 3 : f < 1 ? 7 : 9
        } } }
        return LabelVolume(geometry: g, labels: out)
    }

    /// A map with a rotation, a sub-voxel shift and a smooth displacement of up to ~1.5 mm.
    static func map(on g: VolumeGeometry, seed: UInt64) -> FixedToMovingMap {
        var rng = SplitMix64(seed: seed)
        let a = 0.08
        let affine = AffineTransform(linear: [[cos(a), -sin(a), 0], [sin(a), cos(a), 0], [0, 0, 1]],
                                     translation: [0.37, -0.21, g.size.z > 1 ? 0.13 : 0])
        let n = g.voxelCount
        var u = [Float](repeating: 0, count: 3 * n)
        let ph = (0..<3).map { _ in rng.nextDouble() * 6 }
        for k in 0..<g.size.z { for j in 0..<g.size.y { for i in 0..<g.size.x {
            let v = g.index(i, j, k)
            u[v] = Float(1.2 * sin(0.31 * Double(j) + ph[0]))
            u[n + v] = Float(1.1 * cos(0.27 * Double(i) + ph[1]))
            u[2 * n + v] = g.size.z > 1 ? Float(0.8 * sin(0.4 * Double(i + j) + ph[2])) : 0
        } } }
        return FixedToMovingMap(affine: affine, field: VectorField(geometry: g, data: u))
    }

    /// GenericLabel by its definition: every label's 0/1 image warped with the trilinear image
    /// warp (`FixedToMovingMap.warp(Volume)`), the label with the largest value wins, ties to the
    /// smaller label. Equal to `warp(labels, interpolation: .generic)` everywhere except where the
    /// two largest values are within float rounding of each other (the image warp is in Float).
    func checkAgainstDefinition(size: SIMD3<Int>, seed: UInt64) {
        let labels = Self.blobs(size, seed: seed)
        let m = Self.map(on: labels.geometry, seed: seed + 1)
        let got = m.warp(labels, interpolation: .generic)
        let present: [Int32] = [0, 3, 7, 9]
        let warpedIndicators = present.map { l in
            m.warp(Volume(geometry: labels.geometry, voxels: labels.labels.map { $0 == l ? 1 : 0 })).voxels
        }
        var differ = 0, nearTies = 0, changedFromNearest = 0
        let nearest = m.warp(labels, interpolation: .nearest)
        for i in 0..<got.labels.count {
            let ws = warpedIndicators.map { $0[i] }
            let top = ws.max()!
            let expected = ws.allSatisfy({ $0 == 0 }) ? 0 : present[ws.firstIndex(of: top)!]
            if got.labels[i] != expected {
                let second = ws.enumerated().filter { present[$0.offset] != expected }.map(\.element).max() ?? 0
                if abs(top - second) < 1e-5 { nearTies += 1 } else { differ += 1 }
            }
            if got.labels[i] != nearest.labels[i] { changedFromNearest += 1 }
        }
        #expect(differ == 0, "\(differ) voxels differ from the per-label linear interpolation's argmax")
        #expect(nearTies <= got.labels.count / 1000, "\(nearTies) near-ties")
        // The two interpolations really differ on this map (boundary voxels), and not everywhere.
        #expect(changedFromNearest > got.labels.count / 200 && changedFromNearest < got.labels.count / 5,
                "\(changedFromNearest) of \(got.labels.count) voxels changed from nearest")
    }

    @Test func genericIsTheArgmaxOfLinearlyInterpolatedLabelImages3D() {
        checkAgainstDefinition(size: [24, 20, 16], seed: 11)
    }

    @Test func genericIsTheArgmaxOfLinearlyInterpolatedLabelImages2D() {
        checkAgainstDefinition(size: [48, 40, 1], seed: 29)
    }

    /// A pure translation by (0.4, 0.4) voxels: fixed voxel (1, 1) lands at (1.4, 1.4) whose
    /// nearest voxel (1, 1) holds label 5 (weight 0.6 × 0.6 = 0.36) while label 2 holds the other
    /// three (0.64): nearest keeps 5, generic gives 2. At (0.5, 0) exactly between labels 2 and 5,
    /// generic breaks the tie to the smaller label (2) while nearest rounds up to 5.
    @Test func genericVotesByAreaAndBreaksTiesToTheSmallerLabel() {
        let g = VolumeGeometry(size: [4, 4, 1])
        var l = [Int32](repeating: 0, count: 16)
        l[g.index(1, 1, 0)] = 5
        l[g.index(2, 1, 0)] = 2; l[g.index(1, 2, 0)] = 2; l[g.index(2, 2, 0)] = 2
        let labels = LabelVolume(geometry: g, labels: l)
        let diagonal = FixedToMovingMap(affine: AffineTransform(linear: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], translation: [0.4, 0.4, 0]),
                                        field: VectorField(zeroOn: g))
        #expect(diagonal.warp(labels, interpolation: .nearest).labels[g.index(1, 1, 0)] == 5)
        #expect(diagonal.warp(labels, interpolation: .generic).labels[g.index(1, 1, 0)] == 2)
        var t = [Int32](repeating: 0, count: 16)
        t[g.index(1, 1, 0)] = 2; t[g.index(2, 1, 0)] = 5
        let tie = LabelVolume(geometry: g, labels: t)
        let half = FixedToMovingMap(affine: AffineTransform(linear: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], translation: [0.5, 0, 0]),
                                    field: VectorField(zeroOn: g))
        #expect(half.warp(tie, interpolation: .nearest).labels[g.index(1, 1, 0)] == 5)
        #expect(half.warp(tie, interpolation: .generic).labels[g.index(1, 1, 0)] == 2)
        // Outside the grid (more than half a voxel beyond the last voxel) both give 0; within
        // half a voxel the edge voxels are used (ITK's buffer and its clamped linear interpolation).
        let out = FixedToMovingMap(affine: AffineTransform(linear: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], translation: [-1.6, 0, 0]),
                                   field: VectorField(zeroOn: g))
        #expect(out.warp(labels, interpolation: .generic).labels[g.index(1, 1, 0)] == 0)
        let edge = LabelVolume(geometry: g, labels: [Int32](repeating: 4, count: 16))
        let inside = FixedToMovingMap(affine: AffineTransform(linear: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], translation: [-0.45, 0.2, 0]),
                                      field: VectorField(zeroOn: g))
        let w = inside.warp(edge, interpolation: .generic)
        #expect(w.labels[g.index(0, 0, 0)] == 4 && w.labels[g.index(3, 3, 0)] == 4)
        // A NaN or huge index (a field with a NaN) is outside: 0, not a trap converting it to Int.
        edge.labels.withUnsafeBufferPointer { b in
            for q in [SIMD3<Double>(.nan, 1, 0), SIMD3(1, .infinity, 0), SIMD3(1, 1, -1e300)] {
                for mode in LabelInterpolation.allCases { #expect(mode.sample(b, g.size, q) == 0) }
            }
            #expect(LabelInterpolation.generic.sample(b, g.size, SIMD3(1.5, 1.5, 0)) == 4)
        }
    }

    /// `.nearest` is what voxterm did before GenericLabel: the label of the rounded voxel index,
    /// 0 outside; checked for a sub-voxel translation against the analytic index.
    @Test func nearestIsTheRoundedVoxel() {
        let labels = Self.blobs([20, 18, 12], seed: 5)
        let g = labels.geometry
        let shift = SIMD3<Double>(0.3 * 1.2, -0.4, 0.2 * 0.9)   // (0.3, -0.4, 0.2) voxels
        let m = FixedToMovingMap(affine: AffineTransform(linear: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], translation: shift),
                                 field: VectorField(zeroOn: g))
        let got = m.warp(labels, interpolation: .nearest)
        for k in 0..<g.size.z { for j in 0..<g.size.y { for i in 0..<g.size.x {
            let q = SIMD3(Int((Double(i) + 0.3).rounded()), Int((Double(j) - 0.4).rounded()), Int((Double(k) + 0.2).rounded()))
            let expected: Int32 = g.contains(q) ? labels.labels[g.index(q.x, q.y, q.z)] : 0
            #expect(got.labels[g.index(i, j, k)] == expected)
        } } }
    }

    /// The grid's edge as ITK draws it (`IsInsideBuffer`: a continuous index in [-0.5, size - 0.5)),
    /// halves rounded up as its `RoundHalfIntegerUp`: -0.5 samples voxel 0, size - 0.5 is outside,
    /// for both interpolations (a point left by the last review: -0.5 was outside).
    @Test func theGridEdgeIsHalfAVoxelOutAsITKs() {
        var labels = LabelVolume(geometry: VolumeGeometry(size: [4, 3, 2]))
        for n in labels.labels.indices { labels.labels[n] = Int32(n + 1) }
        let s = labels.geometry.size
        labels.labels.withUnsafeBufferPointer { l in
            for mode in LabelInterpolation.allCases {
                #expect(mode.sample(l, s, SIMD3(-0.5, 0, 0)) == 1, "\(mode)")
                #expect(mode.sample(l, s, SIMD3(0, -0.5, -0.5)) == 1, "\(mode)")
                #expect(mode.sample(l, s, SIMD3(-0.5000001, 0, 0)) == 0, "\(mode)")
                #expect(mode.sample(l, s, SIMD3(3.5, 0, 0)) == 0, "\(mode)")
                #expect(mode.sample(l, s, SIMD3(3.4999999, 2, 1)) == 24, "\(mode)")
                #expect(mode.sample(l, s, SIMD3(0, 0, 1.5)) == 0, "\(mode)")
            }
            // Nearest: a half rounds up (0.5 is voxel 1).
            #expect(LabelInterpolation.nearest.sample(l, s, SIMD3(0.5, 0, 0)) == 2)
        }
    }
}
