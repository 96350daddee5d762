import Foundation
import Testing
import VolumeCore
@testable import Segmentation

/// A disc whose radius and centre change linearly with the slice: radius 5 -> 13 pixels and centre
/// x 14 -> 20 between slices 0 and 10 of a 40 x 40 x 11 grid (2 mm pixels); image 100 inside.
func growingDisc(_ k: Int) -> (inside: (Int, Int) -> Bool, radius: Double) {
    let t = Double(k) / 10
    let r = 5 + 8 * t, cx = 14 + 6 * t, cy = 20.0
    return ({ i, j in
        let dx = Double(i) - cx, dy = Double(j) - cy
        return dx * dx + dy * dy <= r * r
    }, r)
}

func growingDiscPhantom() -> (Volume, LabelVolume) {
    let g = VolumeGeometry(size: [40, 40, 11], spacing: [2, 2, 2], origin: [-40, -40, -10])
    var img = Volume(geometry: g)
    var lab = LabelVolume(geometry: g)
    for k in 0..<11 {
        let disc = growingDisc(k).inside
        for j in 0..<40 { for i in 0..<40 where disc(i, j) { img[i, j, k] = 100; lab[i, j, k] = 1 } }
    }
    return (img, lab)
}

/// Labels of `l` on slices `indices` only.
func sparse(_ l: LabelVolume, axis: Int, _ indices: [Int]) -> LabelVolume {
    var out = LabelVolume(geometry: l.geometry)
    for s in indices { for idx in SliceAccess.indices(l.geometry, axis: axis, index: s) { out.labels[idx] = l.labels[idx] } }
    return out
}

@Suite struct SliceFillTests {
    @Test func distanceTransformMatchesBruteForce() {
        let w = 13, h = 9
        let spacing = SIMD2<Float>(1.5, 0.7)
        var rng = SystemRandomNumberGenerator()
        let sites = (0..<(w * h)).map { _ in Int.random(in: 0..<10, using: &rng) == 0 }
        let d = squaredDistanceTransform(width: w, height: h, spacing: spacing) { sites[$0] }
        for y in 0..<h {
            for x in 0..<w {
                var best = Float.infinity
                for q in 0..<(w * h) where sites[q] {
                    let dx = Float(q % w - x) * spacing.x, dy = Float(q / w - y) * spacing.y
                    best = min(best, dx * dx + dy * dy)
                }
                #expect(best.isInfinite ? d[x + w * y].isInfinite : abs(d[x + w * y] - best) < 1e-3)
            }
        }
    }

    @Test(arguments: [SliceFillMethod.fused, .shape])
    func smoothlyChangingShapeIsFilledWithinOneVoxel(method: SliceFillMethod) throws {
        let (img, lab) = growingDiscPhantom()
        let sel = SliceSelection(plane: .axial, indices: [0, 10])
        let p = try SlicePropagator(aligner: SliceDemonsAligner(), method: method)
            .predict(volume: img, labels: sparse(lab, axis: 2, sel.indices), selection: sel)
        for k in 1..<10 {
            // Every wrongly labelled pixel lies next to (4-neighbour of) a pixel whose true label is the predicted one:
            // the predicted boundary is within one voxel of the true one.
            var wrong = 0
            for j in 0..<40 {
                for i in 0..<40 {
                    let pl = p.labels[i, j, k], tl = lab[i, j, k]
                    guard pl != tl else { continue }
                    wrong += 1
                    var near = false
                    for (x, y) in [(i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)] where x >= 0 && y >= 0 && x < 40 && y < 40 {
                        if lab[x, y, k] == pl { near = true }
                    }
                    #expect(near, "slice \(k) pixel (\(i), \(j)): predicted \(pl), truth \(tl), more than one voxel from the true boundary")
                }
            }
            // And the boundary is not just roughly placed: few pixels wrong against the disc's perimeter.
            #expect(Double(wrong) < 2 * Double.pi * growingDisc(k).radius * 0.5, "slice \(k): \(wrong) pixels wrong")
        }
    }

    @Test func nothingIsWrittenOutsideTheLabelledRangeWithoutExtrapolate() throws {
        let (img, lab) = phantom()
        let sel = SliceSelection(plane: .axial, indices: [7, 10, 13])
        let input = sparse(lab, axis: 2, sel.indices)
        let p = try SlicePropagator(aligner: SliceDemonsAligner()).predict(volume: img, labels: input, selection: sel)
        for k in Array(0..<7) + Array(14..<20) {
            for idx in SliceAccess.indices(img.geometry, axis: 2, index: k) {
                #expect(p.labels.labels[idx] == 0 && p.confidence.voxels[idx] == 0, "slice \(k) outside the labelled range 7..13 was written")
            }
        }
        // Inside the range the sphere is filled.
        #expect(SliceAccess.indices(img.geometry, axis: 2, index: 11).contains { p.labels.labels[$0] == 1 })
        #expect(SlicePropagator.slicesOutsideRange(labelled: sel.indices, count: 20) == Array(0..<7) + Array(14..<20))
        // With extrapolate, the slices next to the range are filled, at confidence 0.5 or less.
        let e = try SlicePropagator(aligner: SliceDemonsAligner(), extrapolate: true).predict(volume: img, labels: input, selection: sel)
        let below = SliceAccess.indices(img.geometry, axis: 2, index: 6)
        #expect(below.contains { e.labels.labels[$0] == 1 })
        #expect(below.allSatisfy { e.confidence.voxels[$0] <= 0.5 })
        // Inside the range extrapolation changes nothing.
        for k in 8..<13 {
            for idx in SliceAccess.indices(img.geometry, axis: 2, index: k) { #expect(e.labels.labels[idx] == p.labels.labels[idx]) }
        }
    }

    @Test func fusedFillingBeatsShapeInterpolationWhenTheImageShowsTheBoundary() throws {
        // A disc whose radius goes 6 -> 12 -> 6 pixels over slices 0...10: shape interpolation between
        // slices 0 and 10 sees a constant disc; the image shows it swelling.
        let g = VolumeGeometry(size: [40, 40, 11], spacing: [2, 2, 2])
        var img = Volume(geometry: g), lab = LabelVolume(geometry: g)
        for k in 0..<11 {
            let r = 6 + 6 * sin(Double.pi * Double(k) / 10)
            for j in 0..<40 {
                for i in 0..<40 {
                    let dx = Double(i) - 20, dy = Double(j) - 20
                    if dx * dx + dy * dy <= r * r { img[i, j, k] = 100; lab[i, j, k] = 1 }
                }
            }
        }
        let sel = SliceSelection(plane: .axial, indices: [0, 10])
        let input = sparse(lab, axis: 2, sel.indices)
        let fused = try SlicePropagator(aligner: SliceDemonsAligner(), method: .fused).predict(volume: img, labels: input, selection: sel)
        let shape = try SlicePropagator(aligner: SliceDemonsAligner(), method: .shape).predict(volume: img, labels: input, selection: sel)
        let df = diceOnUnlabelledSlices(fused.labels, lab, sel)[1]!, ds = diceOnUnlabelledSlices(shape.labels, lab, sel)[1]!
        #expect(df > ds + 0.1, "fused \(df) vs shape \(ds)")
        // Where the evidence disagrees (the swollen rim) confidence is lower than in the disc's core.
        let rim = 5 * 40 * 40 + 20 + 40 * 31, core = 5 * 40 * 40 + 20 + 40 * 20
        #expect(fused.confidence.voxels[rim] < fused.confidence.voxels[core])
    }

    @Test func boxMeanMatchesBruteForce() {
        let w = 7, h = 5
        let values = (0..<(w * h)).map { Float(($0 * 37) % 11) - 3 }
        for radius in 1...2 {
            var a = values
            a.withUnsafeMutableBufferPointer { boxMean2D($0, width: w, height: h, radius: radius) }
            for y in 0..<h {
                for x in 0..<w {
                    var sum: Float = 0, n: Float = 0
                    for yy in max(0, y - radius)...min(h - 1, y + radius) {
                        for xx in max(0, x - radius)...min(w - 1, x + radius) { sum += values[xx + w * yy]; n += 1 }
                    }
                    #expect(abs(a[x + w * y] - sum / n) < 1e-4)
                }
            }
        }
    }

    /// A labelled slice with brush slips (single pixels of another label inside a disc, and holes):
    /// the slice next to it keeps them when the distances are not averaged (radius 0) and loses them
    /// with the default 3 x 3 average, while the disc itself stays within one pixel.
    @Test func brushSlipsOnALabelledSliceDoNotSpreadIntoTheFilledSlices() throws {
        let w = 40, h = 40
        let spacing = SIMD2<Float>(2, 2)
        var a = [Int32](repeating: 0, count: w * h), b = a
        for y in 0..<h {
            for x in 0..<w {
                let dx = Float(x - 20), dy = Float(y - 20)
                if dx * dx + dy * dy <= 144 { a[x + w * y] = 1; b[x + w * y] = 1 }
            }
        }
        let slips = [(14, 18, Int32(2)), (22, 25, 2), (25, 15, 0), (17, 23, 0)]
        for (x, y, l) in slips { a[x + w * y] = l }
        let sources = [(SliceShape(labels: a, width: w, height: h, spacing: spacing), Float(0.9)),
                       (SliceShape(labels: b, width: w, height: h, spacing: spacing), Float(0.1))]
        func fill(_ radius: Int) -> [Int32] {
            fuseShapes(sources: sources, maps: [nil, nil], agreement: nil, registrationWeight: 0, width: w, height: h,
                       pixelSize: 2, backgroundBias: 1, smoothingRadius: radius).labels
        }
        let plain = fill(0), smoothed = fill(1)
        // Without averaging the other label's slips are carried over (the holes lose to the disc anyway).
        #expect(slips.filter { $0.2 == 2 }.allSatisfy { plain[$0.0 + w * $0.1] == 2 })
        #expect(slips.allSatisfy { smoothed[$0.0 + w * $0.1] == 1 })
        var wrong = 0
        for y in 0..<h {
            for x in 0..<w {
                let dx = Float(x - 20), dy = Float(y - 20), r = (dx * dx + dy * dy).squareRoot()
                if abs(r - 12) > 1 && smoothed[x + w * y] != (r < 12 ? 1 : 0) { wrong += 1 }
            }
        }
        #expect(wrong == 0)
    }

    @Test func suggestionsAndMidGap() throws {
        #expect(middleOfLargestGap(labelled: [2, 5, 15, 17]) == 10)
        #expect(middleOfLargestGap(labelled: [2, 3]) == nil)
        let g = VolumeGeometry(size: [4, 4, 10])
        var l = LabelVolume(geometry: g), c = Volume(geometry: g)
        for k in 0..<10 { for idx in SliceAccess.indices(g, axis: 2, index: k) { l.labels[idx] = 1; c.voxels[idx] = k == 6 ? 0.2 : 0.9 } }
        let s = suggestSlicesToLabel(Prediction(labels: l, confidence: c), axis: 2, labelled: [1, 8])
        #expect(s.first?.index == 6)
        // Every predicted unlabelled slice is offered, outside the labelled range too (filled there only
        // with --extrapolate, as this prediction is); labelled slices never.
        #expect(Set(s.map(\.index)) == Set([0, 2, 3, 4, 5, 6, 7, 9]))
    }

    @Test func simulatedAnnotatorScoresEveryStep() throws {
        let (img, lab) = growingDiscPhantom()
        let sel = SliceSelection(plane: .axial, indices: [0, 10])
        let r = try simulateAnnotator(volume: img, truth: lab, selection: sel, propagator: SlicePropagator(aligner: SliceDemonsAligner()),
                                      strategy: .middleOfLargestGap, steps: 2)
        #expect(r.dice.count == 3 && r.added == [5, 2])
        #expect(r.dice[2] >= r.dice[0])
    }
}
