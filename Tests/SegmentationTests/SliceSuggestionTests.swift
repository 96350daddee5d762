import Testing
import VolumeCore
@testable import Segmentation
import Pipelines

/// The ranking of slices to label next (issue 16): one function, `rankSlicesForLabelling`, behind
/// both the bench's simulated annotator (`suggestSlicesToLabel`) and the workbench's `d` key
/// (Pipelines' `disagreementRanking`), crediting a slice with the errors it removes on its gap.
@Suite struct SliceSuggestionTests {
    /// A 6 x 5 x 24 prediction: label 1 with `errors[z]` voxels of confidence 0 on slice z (the rest 1).
    func prediction(errors: [Int]) -> Prediction {
        let g = VolumeGeometry(size: [6, 5, errors.count])
        var l = LabelVolume(geometry: g), c = Volume(geometry: g)
        for (z, e) in errors.enumerated() {
            for (k, idx) in SliceAccess.indices(g, axis: 2, index: z).enumerated() {
                l.labels[idx] = 1
                c.voxels[idx] = k < e ? 0 : 1
            }
        }
        return Prediction(labels: l, confidence: c)
    }

    /// A pseudo-random prediction (labels and confidences vary on every axis), the same every run.
    func scrambled() -> Prediction {
        let g = VolumeGeometry(size: [9, 11, 23])
        var l = LabelVolume(geometry: g), c = Volume(geometry: g)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Double { state = state &* 6364136223846793005 &+ 1442695040888963407; return Double(state >> 11) / Double(1 << 53) }
        for n in 0..<g.voxelCount {
            l.labels[n] = next() < 0.2 ? 0 : Int32(1 + Int(next() * 3))
            c.voxels[n] = Float(next())
        }
        return Prediction(labels: l, confidence: c)
    }

    /// The bench's suggestion and the workbench's "next disagreement" order are the same list, on every
    /// axis, with and without labelled slices.
    @Test func benchAndWorkbenchRankAlike() {
        let p = scrambled()
        for (axis, labelled) in [(2, [0, 4, 9, 17, 22]), (2, [3, 12]), (0, [2, 7]), (1, []), (2, [])] {
            let bench = suggestSlicesToLabel(p, axis: axis, labelled: labelled)
            let support: (axis: Int, indices: Set<Int>)? = labelled.isEmpty ? nil : (axis, Set(labelled))
            let workbench = disagreementRanking(p, supportSlices: support)[axis] ?? []
            #expect(!bench.isEmpty)
            #expect(bench.map(\.index) == workbench.map(\.index), "axis \(axis), labelled \(labelled)")
            #expect(zip(bench, workbench).allSatisfy { abs($0.meanConfidence - $1.meanConfidence) < 1e-12 && abs($0.expectedErrors - $1.expectedErrors) < 1e-9 })
            #expect(bench.allSatisfy { !labelled.contains($0.index) })
        }
    }

    /// Equal errors everywhere: the middle of the gap first, then the middles of the halves, never a
    /// slice next to a freshly labelled one (the plain Σ (1 - confidence) ties them all).
    @Test func aFreshLabelDiscountsItsNeighbours() {
        let p = prediction(errors: Array(repeating: 10, count: 21))
        #expect((9...11).contains(suggestSlicesToLabel(p, axis: 2, labelled: [0, 20]).first?.index ?? -1))
        let r = suggestSlicesToLabel(p, axis: 2, labelled: [0, 10, 20])
        #expect(r.first?.index == 5)
        #expect(Set(r.prefix(2).map(\.index)) == [5, 15])
        #expect(Set(r.suffix(4).map(\.index)) == [1, 9, 11, 19], "\(r.map(\.index))")
        // Without labelled slices each slice stands alone: the plain ranking (ties to the lower index).
        #expect(suggestSlicesToLabel(p, axis: 2, labelled: []).first?.index == 0)
    }

    /// Errors still decide: a slice with many doubtful voxels beats the emptier middle of the gap, and
    /// gains do not reach across a labelled slice.
    @Test func manyErrorsBeatTheMiddleAndGainsStopAtLabels() {
        var errors = Array(repeating: 2, count: 21)
        errors[3] = 25
        let p = prediction(errors: errors)
        #expect(suggestSlicesToLabel(p, axis: 2, labelled: [0, 20]).first?.index == 3)
        // Gain of slice s = Σ_t E(t) max(0, 1 - |t - s| / d(t)), by hand for s = 6 in 5...10 | 10...20.
        let r = rankSlicesForLabelling(count: Array(repeating: 30, count: 21), confidenceSum: errors.map { Double(30 - $0) },
                                       labelled: [0, 5, 10, 20])
        let s6 = r.first { $0.index == 6 }!
        // t = 6 (d 1): 2; t = 7 (d 2): 2 x 1/2; t = 8 (d 2): 0; t = 5 is labelled.
        #expect(abs(s6.expectedGain - 3) < 1e-9, "\(s6)")
        #expect(s6.expectedErrors == 2)
        #expect(r.first?.index == 3)
        #expect(r.first { (11...19).contains($0.index) }?.index == 15)
    }

    /// Labelled indices outside the axis count for nothing: the ranking is the one without them
    /// (before, every distance stayed infinite and the slices came in index order).
    @Test func labelledIndicesOutsideTheAxisAreIgnored() {
        let count = [100, 100, 100, 100, 100]
        let confidence = [90.0, 20, 80, 10, 95]
        let plain = rankSlicesForLabelling(count: count, confidenceSum: confidence, labelled: [])
        #expect(plain.map(\.index) == [3, 1, 2, 0, 4])
        let outside = rankSlicesForLabelling(count: count, confidenceSum: confidence, labelled: [7, -2])
        #expect(outside.map(\.index) == plain.map(\.index))
    }
}
