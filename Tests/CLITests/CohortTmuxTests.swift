import Foundation
import Testing
import TestSupport
import VoxtermModel

/// `voxterm view --cohort DIR` (issue 17): a real batch folder (five subjects, one failed)
/// paged worst first in tmux; the names, scores and voxel values come from the folder's
/// summary.csv and the subjects' files, never from a saved screen.
@Suite(.serialized, .enabled(if: TmuxSession.executable != nil, "needs tmux"))
struct CohortTmuxTests {
    @Test func pagesThroughABatchWorstFirst() throws {
        let dir = TestPaths.temporaryDirectory("cohort-view")
        defer { try? FileManager.default.removeItem(at: dir) }
        var fx = try CohortFixture.make(in: dir.appendingPathComponent("data"), count: 5)
        fx.subjects[4].image = "missing/s05.nii.gz"   // fails: first in worst-first order, nothing to show
        let cohort = try fx.writeCSV()
        let out = dir.appendingPathComponent("out")
        let r = try runVoxterm(["batch", "register", cohort, "--out", out.path, "--fixed", fx.fixed, "--fixed-labels", fx.fixedLabels,
                                "--preset", "fast"])
        #expect(r.status == 4, "\(r.stderr)")
        // Worst first as `batch report`: the failed subject, then done ones by mean Dice ascending.
        let rows = try BatchCLITests.csv(out)
        var done: [(name: String, dice: Double)] = []
        for row in rows.values where row["status"] == "done" {
            done.append((row["subject"] ?? "", Double(row["mean_dice"] ?? "") ?? .nan))
        }
        done.sort { a, b in a.dice < b.dice || (a.dice == b.dice && a.name < b.name) }
        #expect(done.count == 4)
        let order: [String] = ["s05"] + done.map { $0.name }

        let cmd = [Workbench.binary, "view", "--cohort", out.path].map(TmuxSession.quote).joined(separator: " ")
        let t = try TmuxSession(cmd, width: 170, height: 45, environment: Workbench.utf8)
        defer { t.close() }
        /// The subject at position `i` (0-based) is on screen: title, overlay files, and the voxel
        /// value under the crosshair equals its warped image there; the label under it its warped label.
        func expectShown(_ i: Int) throws {
            let name = order[i]
            let dice = try #require(done.first { $0.name == name }?.dice)
            let caption = "subject \(i + 1)/5 \(name) · mean Dice \(String(format: "%.3f", dice))"
            let screen = try t.waitForSettled { $0.contains(caption) && StatusBar(screen: $0) != nil }
            #expect(screen.contains("\(caption) │ warped.nii.gz"), "\(screen)")
            #expect(screen.contains("labels warped_labels.nii.gz") && screen.contains("vs template.nii.gz"), "\(screen)")
            let status = try #require(StatusBar(screen: screen))
            let warped = try NIfTIReader.read(out.appendingPathComponent("\(name)/warped.nii.gz").path).volume()
            let v = Double(warped[status.voxel.x, status.voxel.y, status.voxel.z])
            #expect(abs((status.value ?? .nan) - v) <= 1e-3 * max(1, abs(v)), "\(name): status \(status), file \(v)")
            let labels = try NIfTIReader.read(out.appendingPathComponent("\(name)/warped_labels.nii.gz").path).labelVolume()
            let l = labels[status.voxel.x, status.voxel.y, status.voxel.z]
            // No label table in the fixture: names are "label N", shown as "label N (N)".
            let statusLine = screen.split(separator: "\n").first { $0.contains("│ voxel ") }.map(String.init) ?? ""
            #expect(l == 0 ? statusLine.hasSuffix("│ background") : statusLine.hasSuffix("label \(l) (\(l))"), "\(name): \(statusLine), label file \(l)")
        }
        // s05 failed and its image is missing: the first subject shown is the worst done one.
        try expectShown(1)
        // Move the crosshair: it stays on the same voxel from subject to subject (same fixed grid).
        for _ in 0..<4 { try t.send("l") }
        for _ in 0..<3 { try t.send("k") }
        let moved = try t.waitForStatus { $0.voxel != SIMD3(22, 27, 22) }
        try t.send("C-n")
        try expectShown(2)
        #expect(try t.waitForStatus().voxel == moved.voxel)
        try t.send("C-n")
        try expectShown(3)
        try t.send("C-n")
        try expectShown(4)
        try t.send("C-n")   // past the last: stays, says so
        _ = try t.waitForSettled { $0.contains("subject 5/5 is the last (best)") }
        try t.send("C-p")
        try expectShown(3)
        // Home: the worst subject, which failed and cannot be opened: one error line naming it,
        // the previous subject stays on screen, and Ctrl-N moves on from there.
        try t.send("Home")
        let failed = try t.waitForSettled { $0.contains("error: subject 1/5 s05:") }
        #expect(failed.contains("missing/s05.nii.gz"), "\(failed)")
        try t.send("C-n")
        try expectShown(1)
        try t.send("q")
        #expect(try t.exitStatus() == 0)

        // Not a batch folder: one line, exit 2, before the terminal is taken.
        let bad = try runVoxterm(["view", "--cohort", dir.path])
        #expect(bad.status == 2 && bad.stderr.contains("not a batch folder"), "\(bad.stderr)")
        let both = try runVoxterm(["view", Workbench.image, "--cohort", out.path])
        #expect(both.status == 64, "\(both.stderr)")
    }
}
