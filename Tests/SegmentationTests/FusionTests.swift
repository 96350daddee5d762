import Foundation
import Testing
import VolumeCore
@testable import Segmentation

/// An aligner that returns a fixed displacement (world mm) everywhere, for tests.
struct ConstantAligner: PairwiseAligner {
    var shift: SIMD3<Float> = .zero
    func align(fixed: Volume, moving: Volume, isCancelled: @escaping () -> Bool) throws -> VectorField {
        var f = VectorField(zeroOn: fixed.geometry)
        for n in 0..<fixed.geometry.voxelCount { f.setVector(shift, at: n) }
        return f
    }
}

/// A 3-D phantom: a sphere of label 1 and a box of label 2 on a 20x20x20 grid, 2 mm voxels.
func phantom(centre: SIMD3<Double> = [10, 10, 10]) -> (Volume, LabelVolume) {
    let g = VolumeGeometry(size: [20, 20, 20], spacing: [2, 2, 2], origin: [-20, -20, -20])
    var img = Volume(geometry: g)
    var lab = LabelVolume(geometry: g)
    for k in 0..<20 { for j in 0..<20 { for i in 0..<20 {
        let d = SIMD3(Double(i), Double(j), Double(k)) - centre
        if (d * d).sum() < 25 { img[i, j, k] = 100; lab[i, j, k] = 1 }
        else if i > 14 && j > 14 { img[i, j, k] = 50; lab[i, j, k] = 2 }
    } } }
    return (img, lab)
}

@Suite struct FusionTests {
    @Test func identityMappingReproducesLabels() {
        let (img, lab) = phantom()
        let field = VectorField(zeroOn: img.geometry)
        for method in FusionMethod.allCases {
            let p = fuseLabels(query: img, supports: [MappedSupport(image: img, labels: lab, field: field)],
                               options: FusionOptions(method: method))
            #expect(p.labels.labels == lab.labels)
            #expect(p.confidence.voxels.allSatisfy { $0 == 1 })
        }
    }

    @Test func majorityVoteFollowsTwoOfThree() {
        let (img, lab) = phantom()
        var wrong = lab
        for n in wrong.labels.indices where wrong.labels[n] == 1 { wrong.labels[n] = 2 }
        let field = VectorField(zeroOn: img.geometry)
        let sup = [lab, wrong, lab].map { MappedSupport(image: img, labels: $0, field: field) }
        let p = fuseLabels(query: img, supports: sup, options: FusionOptions(method: .majority))
        #expect(p.labels.labels == lab.labels)
        let sphere = lab.labels.indices.first { lab.labels[$0] == 1 }!
        #expect(abs(p.confidence.voxels[sphere] - 2.0 / 3.0) < 1e-5)
    }

    @Test func weightedVotePrefersTheSimilarSupport() {
        // Two supports disagree; the one whose image matches the query locally must win.
        let (img, lab) = phantom()
        let (img2, lab2) = phantom(centre: [6, 6, 6])
        let field = VectorField(zeroOn: img.geometry)
        let sup = [MappedSupport(image: img2, labels: lab2, field: field),
                   MappedSupport(image: img, labels: lab, field: field)]
        let p = fuseLabels(query: img, supports: sup, options: FusionOptions(method: .weighted))
        let d = diceScores(prediction: p.labels, truth: lab)
        #expect(d[1]! > 0.95)
        // Majority with a 1:1 tie keeps the smaller label, so it cannot be as good.
        let m = fuseLabels(query: img, supports: sup, options: FusionOptions(method: .majority))
        #expect(diceScores(prediction: m.labels, truth: lab)[1]! < d[1]!)
    }

    @Test func displacementMovesLabels() {
        // Support shifted by +4 mm in x; a field of +4 mm maps the query onto it exactly.
        let (img, lab) = phantom()
        let (simg, slab) = phantom(centre: [12, 10, 10])
        var field = VectorField(zeroOn: img.geometry)
        for n in 0..<img.geometry.voxelCount { field.setVector([4, 0, 0], at: n) }
        let p = fuseLabels(query: img, supports: [MappedSupport(image: simg, labels: slab, field: field)],
                           options: FusionOptions(method: .majority))
        #expect(diceScores(prediction: p.labels, truth: lab)[1]! > 0.99)
    }

    @Test func labelSubsetDropsOtherLabels() {
        let (img, lab) = phantom()
        let p = fuseLabels(query: img, supports: [MappedSupport(image: img, labels: lab, field: VectorField(zeroOn: img.geometry))],
                           options: FusionOptions(method: .majority, labelSubset: [2]))
        #expect(!p.labels.labels.contains(1))
        #expect(p.labels.labels.filter { $0 == 2 }.count == lab.labels.filter { $0 == 2 }.count)
    }

    @Test func boxMeanIsExact() {
        let size = SIMD3(5, 4, 3)
        let vals = (0..<60).map { Float($0 % 7) }
        let m = boxMean(vals, size: size, radius: 1)
        // Brute force at one interior and one corner voxel.
        func brute(_ i: Int, _ j: Int, _ k: Int) -> Float {
            var s: Float = 0, c: Float = 0
            for z in max(0, k - 1)...min(2, k + 1) { for y in max(0, j - 1)...min(3, j + 1) { for x in max(0, i - 1)...min(4, i + 1) {
                s += vals[x + 5 * (y + 4 * z)]; c += 1 } } }
            return s / c
        }
        #expect(abs(m[2 + 5 * (1 + 4 * 1)] - brute(2, 1, 1)) < 1e-5)
        #expect(abs(m[0] - brute(0, 0, 0)) < 1e-5)
    }
}

@Suite struct PredictorTests {
    @Test func registrationPredictorFusesSupportsAndReportsProgress() throws {
        let (img, lab) = phantom()
        let predictor = RegistrationPropagationPredictor(aligner: ConstantAligner(), fusion: FusionOptions(method: .majority))
        var events: [SegmentationProgress] = []
        let p = try predictor.predict(query: img, supports: [LoadedSupport(image: img, labels: lab), LoadedSupport(image: img, labels: lab)],
                                      progress: { events.append($0) }, isCancelled: { false })
        #expect(p.labels.labels == lab.labels)
        #expect(events.count == 3 && events.first?.total == 2)
    }

    @Test func cancellationStopsThePredictor() {
        let (img, lab) = phantom()
        let predictor = RegistrationPropagationPredictor(aligner: ConstantAligner())
        #expect(throws: SegmentationError.cancelled) {
            _ = try predictor.predict(query: img, supports: [LoadedSupport(image: img, labels: lab)], progress: { _ in }, isCancelled: { true })
        }
    }

    @Test func sliceSupportsAbstainOffTheirSlices() throws {
        // One support labelled everywhere with label 2 except it is only "known" on slice 10;
        // a full support says label 1 at the sphere. Off slice 10 only the full support votes.
        let (img, lab) = phantom()
        let all2 = LabelVolume(geometry: img.geometry, labels: [Int32](repeating: 2, count: img.geometry.voxelCount))
        let predictor = RegistrationPropagationPredictor(aligner: ConstantAligner(), fusion: FusionOptions(method: .majority))
        let p = try predictor.predict(query: img, supports: [
            LoadedSupport(image: img, labels: all2, slices: SliceSelection(plane: .axial, indices: [10])),
            LoadedSupport(image: img, labels: lab)], progress: { _ in }, isCancelled: { false })
        for k in 0..<20 where k != 10 {
            for idx in SliceAccess.indices(img.geometry, axis: 2, index: k) { #expect(p.labels.labels[idx] == lab.labels[idx]) }
        }
    }

    @Test func slicePropagationFillsUnlabelledSlices() throws {
        let (img, lab) = phantom()
        var sparse = LabelVolume(geometry: img.geometry)
        let sel = SliceSelection(plane: .axial, indices: [4, 8, 12, 16])
        for s in sel.indices { for idx in SliceAccess.indices(img.geometry, axis: 2, index: s) { sparse.labels[idx] = lab.labels[idx] } }
        let p = try SlicePropagator(aligner: ConstantAligner(), fusion: .majority)
            .predict(volume: img, labels: sparse, selection: sel)
        // Labelled slices are kept; the box (constant along z) is filled exactly inside the labelled range 4...16.
        for s in sel.indices { for idx in SliceAccess.indices(img.geometry, axis: 2, index: s) { #expect(p.labels.labels[idx] == lab.labels[idx]) } }
        let box = lab.labels.indices.filter { lab.labels[$0] == 2 && (4...16).contains($0 / 400) }
        #expect(box.allSatisfy { p.labels.labels[$0] == 2 })
        #expect(diceScores(prediction: p.labels, truth: lab)[1]! > 0.8)
    }

    @Test func slicePropagationOfChosenTargetsRegistersOnlyTheLinksTheyNeed() throws {
        let (img, lab) = phantom()
        var sparse = LabelVolume(geometry: img.geometry)
        let sel = SliceSelection(plane: .axial, indices: [8, 12])
        for s in sel.indices { for idx in SliceAccess.indices(img.geometry, axis: 2, index: s) { sparse.labels[idx] = lab.labels[idx] } }
        final class Count: @unchecked Sendable { var n = 0 }
        struct CountingAligner: PairwiseAligner {
            let count: Count
            func align(fixed: Volume, moving: Volume, isCancelled: @escaping () -> Bool) throws -> VectorField {
                count.n += 1
                return VectorField(zeroOn: fixed.geometry)
            }
        }
        let one = Count(), all = Count()
        var totals: [Int] = []
        let p10 = try SlicePropagator(aligner: CountingAligner(count: one), fusion: .majority)
            .predict(volume: img, labels: sparse, selection: sel, targets: [10], progress: { totals.append($0.total) })
        // Slice 10 needs 10 -> 9 -> 8 and 10 -> 11 -> 12: four registrations (and one target).
        #expect(one.n == 4 && totals.last == 5)
        // Without --extrapolate the whole run needs only the links inside the range 8...12 (9 -> 8, 10 -> 9, 11 -> 10 and up).
        let inside = Count()
        _ = try SlicePropagator(aligner: CountingAligner(count: inside), fusion: .majority).predict(volume: img, labels: sparse, selection: sel)
        #expect(inside.n == 6)
        let full = try SlicePropagator(aligner: CountingAligner(count: all), fusion: .majority, extrapolate: true)
            .predict(volume: img, labels: sparse, selection: sel)
        #expect(all.n > 4 * one.n)
        // The target slice is predicted as in the full run; other unlabelled slices stay empty.
        let t = SliceAccess.indices(img.geometry, axis: 2, index: 10)
        #expect(t.map { p10.labels.labels[$0] } == t.map { full.labels.labels[$0] })
        #expect(t.contains { p10.labels.labels[$0] != 0 })
        #expect(SliceAccess.indices(img.geometry, axis: 2, index: 11).allSatisfy { p10.labels.labels[$0] == 0 && p10.confidence.voxels[$0] == 0 })
    }

    @Test func sliceGeometryKeepsWorldPositions() {
        let g = VolumeGeometry(size: [5, 6, 7], affine: AffineTransform(linear: [[0, 0, 2], [-1, 0, 0], [0, 3, 0]], translation: [1, 2, 3]))
        for axis in 0..<3 {
            let sg = SliceAccess.sliceGeometry(g, axis: axis, index: 2)
            let idx = SliceAccess.indices(g, axis: axis, index: 2)
            for (n, vi) in idx.enumerated() {
                let w1 = g.world(ofVoxel: SIMD3<Double>(g.voxel(ofIndex: vi)))
                let w2 = sg.world(ofVoxel: SIMD3<Double>(sg.voxel(ofIndex: n)))
                #expect(abs(w1.x - w2.x) + abs(w1.y - w2.y) + abs(w1.z - w2.z) < 1e-9)
            }
        }
    }
}

@Suite struct ChainTests {
    @Test func chainComposesNeighbourShifts() throws {
        // Every neighbour registration says "2 mm to the right"; three steps compose to 6 mm.
        let (img, _) = phantom()
        let chain = try NeighbourChain(volume: img, axis: 2, aligner: ConstantAligner(shift: [2, 0, 0]),
                                       isCancelled: { false }, progress: { _, _ in })
        let sg = SliceAccess.sliceGeometry(img.geometry, axis: 2, index: 10)
        let f = chain.composedField(from: 10, to: 7, geometry: sg)
        // Interior pixel (far from the clamped border).
        let v = f.vector(at: 5 + 20 * 5)
        #expect(abs(v.x - 6) < 1e-4 && abs(v.y) < 1e-4 && abs(v.z) < 1e-4)
        let back = chain.composedField(from: 7, to: 10, geometry: SliceAccess.sliceGeometry(img.geometry, axis: 2, index: 7))
        #expect(abs(back.vector(at: 5 + 20 * 5).x - 6) < 1e-4)
    }
}
