import Testing
@testable import VolumeCore

/// Brush, fill, replace and undo/redo on label maps, and label statistics on small phantoms.
@Suite("Label editing and statistics")
struct LabelEditsTests {
    let geometry = VolumeGeometry(size: SIMD3(20, 16, 12), spacing: [1, 2, 3], origin: [-5, 4, 10])

    @Test("a round brush of radius r paints the disc du²+dv² ≤ r²+r on its slice only, clipped at the edges")
    func brushDisc() {
        for axis in 0..<3 {
            for r in [0, 1, 2, 5] {
                var labels = [Int32](repeating: 0, count: geometry.voxelCount)
                var rec = LabelEditRecorder(name: "paint")
                let centre = SIMD3(10, 8, 6)
                LabelEditing.brush(&labels, geometry: geometry, centre: centre, sliceAxis: axis, radius: r, label: 7, recorder: &rec)
                var expected = 0
                let (ua, va) = LabelEditing.inPlaneAxes(axis)
                for n in 0..<labels.count {
                    let v = geometry.voxel(ofIndex: n)
                    let du = v[ua] - centre[ua], dv = v[va] - centre[va]
                    let inside = v[axis] == centre[axis] && du * du + dv * dv <= r * r + r
                    if inside { expected += 1 }
                    #expect((labels[n] == 7) == inside)
                }
                #expect(rec.finish(labels: labels).count == expected)
            }
        }
        // Clipped at a corner: no crash, only in-grid voxels.
        var labels = [Int32](repeating: 0, count: geometry.voxelCount)
        var rec = LabelEditRecorder(name: "paint")
        LabelEditing.brush(&labels, geometry: geometry, centre: SIMD3(0, 0, 0), sliceAxis: 2, radius: 3, label: 1, recorder: &rec)
        #expect(labels.filter { $0 == 1 }.count == 13) // quarter disc: (du,dv) ≥ 0 with du²+dv² ≤ 12
    }

    @Test("a stroke undoes to the labels before it, even where it passed twice; redo restores it")
    func undoRedo() {
        var labels = [Int32](repeating: 0, count: geometry.voxelCount)
        for n in stride(from: 0, to: labels.count, by: 3) { labels[n] = 2 }
        let original = labels
        var history = LabelEditHistory()
        var rec = LabelEditRecorder(name: "paint")
        LabelEditing.stroke(&labels, geometry: geometry, from: SIMD3(2, 2, 4), to: SIMD3(15, 12, 4), sliceAxis: 2, radius: 2, label: 5, recorder: &rec)
        LabelEditing.stroke(&labels, geometry: geometry, from: SIMD3(15, 12, 4), to: SIMD3(2, 2, 4), sliceAxis: 2, radius: 1, label: 0, recorder: &rec)
        let afterStroke = labels
        history.record(rec.finish(labels: labels))
        // A second edit: fill.
        var rec2 = LabelEditRecorder(name: "fill")
        LabelEditing.fill(&labels, geometry: geometry, seed: SIMD3(10, 3, 4), sliceAxis: 2, label: 9, recorder: &rec2)
        history.record(rec2.finish(labels: labels))
        let afterFill = labels
        #expect(afterFill != afterStroke)
        #expect(history.undo(&labels)?.name == "fill")
        #expect(labels == afterStroke)
        #expect(history.undo(&labels)?.name == "paint")
        #expect(labels == original)
        #expect(history.undo(&labels) == nil)
        #expect(history.redo(&labels) != nil && labels == afterStroke)
        #expect(history.redo(&labels) != nil && labels == afterFill)
        #expect(history.redo(&labels) == nil)
        // A new edit after undo clears the redo stack.
        _ = history.undo(&labels)
        var rec3 = LabelEditRecorder(name: "paint")
        LabelEditing.brush(&labels, geometry: geometry, centre: SIMD3(1, 1, 1), sliceAxis: 2, radius: 0, label: 4, recorder: &rec3)
        history.record(rec3.finish(labels: labels))
        #expect(!history.canRedo)
    }

    @Test("a stroke between distant points leaves no gap")
    func strokeHasNoGaps() {
        var labels = [Int32](repeating: 0, count: geometry.voxelCount)
        var rec = LabelEditRecorder(name: "paint")
        LabelEditing.stroke(&labels, geometry: geometry, from: SIMD3(0, 0, 3), to: SIMD3(19, 15, 3), sliceAxis: 2, radius: 0, label: 1, recorder: &rec)
        // Every column x has at least one painted voxel on slice 3.
        for x in 0..<20 { #expect((0..<16).contains { labels[geometry.index(x, $0, 3)] == 1 }) }
    }

    @Test("flood fill takes the 4-connected region of the seed's label on its slice only")
    func floodFill() {
        var labels = [Int32](repeating: 0, count: geometry.voxelCount)
        // A wall of label 3 at x == 8 splits every axial slice in two.
        for z in 0..<12 { for y in 0..<16 { labels[geometry.index(8, y, z)] = 3 } }
        var rec = LabelEditRecorder(name: "fill")
        let n = LabelEditing.fill(&labels, geometry: geometry, seed: SIMD3(2, 2, 5), sliceAxis: 2, label: 6, recorder: &rec)
        #expect(n == 8 * 16)
        for z in 0..<12 { for y in 0..<16 { for x in 0..<20 {
            let l = labels[geometry.index(x, y, z)]
            if x == 8 { #expect(l == 3) } else if z == 5 && x < 8 { #expect(l == 6) } else { #expect(l == 0) }
        } } }
        // Diagonal contact does not connect (4-connectivity).
        var d = [Int32](repeating: 0, count: geometry.voxelCount)
        d[geometry.index(1, 1, 0)] = 2; d[geometry.index(2, 2, 0)] = 2
        var r2 = LabelEditRecorder(name: "fill")
        #expect(LabelEditing.fill(&d, geometry: geometry, seed: SIMD3(1, 1, 0), sliceAxis: 2, label: 4, recorder: &r2) == 1)
    }

    @Test("replace changes one label in a slice or in the whole volume")
    func replace() {
        var labels = [Int32](repeating: 1, count: geometry.voxelCount)
        var rec = LabelEditRecorder(name: "replace")
        #expect(LabelEditing.replace(&labels, geometry: geometry, old: 1, new: 2, slice: (axis: 1, index: 4), recorder: &rec) == 20 * 12)
        #expect(labels.filter { $0 == 2 }.count == 240)
        for n in 0..<labels.count where labels[n] == 2 { #expect(geometry.voxel(ofIndex: n).y == 4) }
        var rec2 = LabelEditRecorder(name: "replace")
        #expect(LabelEditing.replace(&labels, geometry: geometry, old: 1, new: 0, slice: nil, recorder: &rec2) == geometry.voxelCount - 240)
    }

    @Test("label statistics: voxels, mm³ from |det A|, mean and population sd, centroid voxel and mm, per slice")
    func statistics() {
        var labels = LabelVolume(geometry: geometry)
        var image = Volume(geometry: geometry, repeating: 0)
        // Label 4: a 3x2x2 box at x 5..7, y 1..2, z 3..4, intensities x + 10 y + 100 z.
        var values: [Double] = []
        var sum = SIMD3<Double>(0, 0, 0)
        for z in 3...4 { for y in 1...2 { for x in 5...7 {
            labels[x, y, z] = 4
            let v = Float(x + 10 * y + 100 * z)
            image[x, y, z] = v; values.append(Double(v)); sum += SIMD3(Double(x), Double(y), Double(z))
        } } }
        labels[0, 0, 0] = 9; image[0, 0, 0] = .nan
        let s = labelStatistics(labels: labels, image: image)
        #expect(s.map(\.label) == [4, 9])
        let four = s[0]
        #expect(four.voxelCount == 12)
        #expect(abs(four.volumeMM3 - 12 * 6) < 1e-12 && abs(four.volumeML - 0.072) < 1e-12)
        let mean = values.reduce(0, +) / 12
        let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 12).squareRoot()
        #expect(abs(four.meanIntensity - mean) < 1e-9 && abs(four.sdIntensity - sd) < 1e-9)
        #expect(four.centroidVoxel == sum / 12)
        #expect(four.centroidMM == geometry.world(ofVoxel: sum / 12))
        #expect(s[1].meanIntensity.isNaN && s[1].intensityCount == 0)
        let slice = labelStatistics(labels: labels, image: image, region: .slice(axis: 2, index: 4))
        #expect(slice.map(\.label) == [4] && slice[0].voxelCount == 6 && slice[0].centroidVoxel.z == 4)
        #expect(labelStatistics(labels: labels, image: nil)[0].meanIntensity.isNaN)
    }
}
