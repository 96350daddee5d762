import Foundation
import Testing
import TestSupport

/// An image layer in the workbench (tmux, truecolor half blocks): a hot layer thresholded at the
/// midpoint of a left-to-right ramp changes exactly the right half of the picture, and Y hides it.
@Suite(.serialized, .enabled(if: TmuxSession.executable != nil && XtermRig.pythonWithPillow != nil, "needs tmux and python3 with nibabel"))
struct LayersTmuxTests {
    /// base: 40 x 40 x 5 uniform grey 100 (every voxel foreground); stat: x / 8 (0...4.875) on the same grid.
    static let makeInputs = #"""
import sys, numpy as np, nibabel as nib
out = sys.argv[1]
nib.save(nib.Nifti1Image(np.full((40, 40, 5), 100, np.float32), np.eye(4)), out + '/grey.nii.gz')
stat = (np.arange(40, dtype=np.float32) / 8.0)[:, None, None] * np.ones((40, 40, 5), np.float32)
nib.save(nib.Nifti1Image(stat, np.eye(4)), out + '/stat.nii.gz')
"""#

    /// Cells (column, row) whose colour escape differs between two `capture-pane -e` screens.
    func changedCells(_ a: String, _ b: String) -> Set<SIMD2<Int>> {
        func cells(_ s: String) -> [[String]] {
            s.split(separator: "\n", omittingEmptySubsequences: false).map { line -> [String] in
                var out: [String] = [], pen = ""
                var it = Substring(line)
                while let c = it.first {
                    if c == "\u{1B}", let m = it.firstIndex(of: "m") { pen += String(it[...m]); it = it[it.index(after: m)...]; continue }
                    out.append(pen + String(c)); it = it.dropFirst()
                }
                return out
            }
        }
        let ca = cells(a), cb = cells(b)
        var changed = Set<SIMD2<Int>>()
        for y in 0..<min(ca.count, cb.count) {
            // capture-pane drops trailing blanks: a missing cell is a blank in the terminal's default colours.
            for x in 0..<max(ca[y].count, cb[y].count) {
                let u = x < ca[y].count ? ca[y][x] : "", v = x < cb[y].count ? cb[y][x] : ""
                if u != v { changed.insert(SIMD2(x, y)) }
            }
        }
        return changed
    }

    @Test func thresholdedHotLayerColoursOnlyTheVoxelsAboveIt() throws {
        let dir = TestPaths.temporaryDirectory("tmux-layer")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runProcess(XtermRig.pythonWithPillow!, ["-c", Self.makeInputs, dir.path]).status == 0)
        let cmd = [Workbench.binary, "view", dir.appendingPathComponent("grey.nii.gz").path,
                   "--overlay", dir.appendingPathComponent("stat.nii.gz").path + ":hot:0,5"].map(TmuxSession.quote).joined(separator: " ")
        let t = try TmuxSession(cmd, width: 100, height: 40, environment: ["LC_ALL": "C.UTF-8", "COLORTERM": "truecolor"])
        _ = try t.waitForStatus()
        // Threshold from the window's low end (0) up 10 twentieths of 0...5: 2.5, the ramp's middle (x = 20).
        for _ in 0..<10 { try t.send("%") }
        let text = try t.waitForSettled { $0.contains("≥2.5") }
        #expect(text.contains("stat.nii.gz hot 0,5 ≥2.5 100%"), "\(text)")
        let shown = try t.screen(escapes: true)
        try t.send("!")
        _ = try t.waitForSettled { $0.contains("hidden") }
        let hidden = try t.screen(escapes: true)
        let plain = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        // The picture's edges from its orientation letters.
        func find(_ ch: Character) -> (x: Int, y: Int)? {
            for (y, l) in plain.enumerated().dropFirst(2) where l.filter({ $0 == ch }).count == 1 { return (l.firstIndex(of: ch)!, y) }
            return nil
        }
        let left = try #require(find("L")), right = try #require(find("R")), top = try #require(find("A")), bottom = try #require(find("P"))
        let changed = changedCells(shown, hidden).filter { (top.y + 1..<bottom.y).contains($0.y) && (left.x + 1..<right.x).contains($0.x) }
        let mid = Double(left.x + right.x) / 2
        #expect(changed.count > 100)
        // Only right of the midline (x ≥ 20 is Right in a neurological view), one cell of slack...
        #expect(changed.allSatisfy { Double($0.x) >= mid - 1 }, "changed left of the midline: \(changed.filter { Double($0.x) < mid - 1 }.sorted { $0.x < $1.x }.prefix(5))")
        // ...and everything there (away from the letters' rows and columns).
        for y in (top.y + 2)..<(bottom.y - 1) where y != left.y {
            for x in Int(mid.rounded(.up)) + 1..<right.x where !changed.contains(SIMD2(x, y)) {
                Issue.record("cell \(x),\(y) right of the midline did not change"); return
            }
        }
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }
}
