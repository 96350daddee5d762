import Testing
import VolumeCore
@testable import Segmentation

/// The slice filler's vanish rule (`fuseShapes`, README: "a label found on only one bracketing
/// slice shrinks away before mid-gap"): a label on one labelled slice only is carried towards the
/// other pushed out beyond its depth, so its area falls as the target moves away and is gone by the
/// middle of the gap, while a label on both slices stays where both put it.
@Suite struct VanishRuleTests {
    /// Radius 0 isolates the vanish rule; the default 3 x 3 averaging of the distances (h37) rounds
    /// the disk's rim on slice A itself, so the exact area is checked without it only.
    @Test(arguments: [0, 1]) func aLabelOnOneSliceOnlyShrinksAwayBeforeMidGap(smoothingRadius: Int) {
        let w = 40, h = 40
        // Slice A: a disk of label 1 (radius 6 px) and a box of label 2; slice B: the box only.
        var a = [Int32](repeating: 0, count: w * h), b = a
        var disk = 0, box = 0
        for y in 0..<h { for x in 0..<w {
            let dx = Float(x) - 12, dy = Float(y) - 20
            if dx * dx + dy * dy <= 36 { a[x + w * y] = 1; disk += 1 }
            if x >= 28 && x < 36 && y >= 10 && y < 30 { a[x + w * y] = 2; b[x + w * y] = 2; box += 1 }
        } }
        let sa = SliceShape(labels: a, width: w, height: h, spacing: [1, 1])
        let sb = SliceShape(labels: b, width: w, height: h, spacing: [1, 1])
        // Targets from slice A (f = 0) to mid-gap (f = 0.5); distance weights 1 - f and f.
        var areas: [Int] = []
        for step in 0...10 {
            let f = Float(step) / 20
            let r = fuseShapes(sources: [(sa, 1 - f), (sb, f)], maps: [nil, nil], agreement: nil,
                               registrationWeight: 0, width: w, height: h, pixelSize: 1,
                               smoothingRadius: smoothingRadius)
            areas.append(r.labels.filter { $0 == 1 }.count)
            #expect(r.labels.filter { $0 == 2 }.count == box, "the box (on both slices) at f = \(f)")
        }
        if smoothingRadius == 0 {
            #expect(areas[0] == disk, "on slice A itself the disk is drawn as labelled")
        } else {
            #expect(areas[0] > disk * 9 / 10 && areas[0] <= disk, "on slice A the disk loses at most its rim: \(areas[0]) of \(disk)")
        }
        #expect(zip(areas, areas.dropFirst()).allSatisfy { $0 >= $1 }, "shrinks as the target moves away: \(areas)")
        #expect(areas[5] > 0, "still there a quarter of the way: \(areas)")
        #expect(areas[10] == 0, "gone by the middle of the gap: \(areas)")
    }
}
