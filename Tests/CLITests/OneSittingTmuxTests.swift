import Foundation
import Testing
import TestSupport
import VoxtermModel

/// Issue 14 in a real terminal, the parts not needing a restart any more: Shift+arrows step ten
/// voxels, `:open overlay` adds a layer that the layer commands change, `:open moving` loads a
/// moving image mid-session and `G` registers it, `:save registration` writes the outputs.
@Suite(.serialized, .enabled(if: TmuxSession.executable != nil, "tmux is not installed"))
struct OneSittingTmuxTests {
    @Test func shiftArrowsLayerCommandsAndAMovingImageOpenedMidSession() throws {
        let out = TestPaths.temporaryDirectory("sitting-moving")
        defer { try? FileManager.default.removeItem(at: out) }
        let s = TestPaths.samples.path
        let t = try TmuxSession(Workbench.viewCommand(), width: 160, height: 50, environment: Workbench.utf8)
        defer { t.close() }
        let start = try t.waitForStatus()

        // Shift+arrows: ten times the plain arrow's step, whatever the display's orientation.
        try t.send("Right")
        let one = try t.waitForStatus { $0.voxel != start.voxel }
        let step = one.voxel &- start.voxel
        try t.send("S-Right")
        let ten = try t.waitForStatus { $0.voxel != one.voxel }
        #expect(ten.voxel &- one.voxel == step &* 10, "Right moved \(step), Shift+Right \(ten.voxel &- one.voxel)")
        try t.send("Up")
        let up = try t.waitForStatus { $0.voxel != ten.voxel }
        try t.send("S-Up")
        let tenUp = try t.waitForStatus { $0.voxel != up.voxel }
        #expect(tenUp.voxel &- up.voxel == (up.voxel &- ten.voxel) &* 10)

        // :open overlay adds a layer; the layer commands do what # ! $ % & ~ do.
        try TaskTmuxTests.command(t, "open overlay \(s)/subject01_2mm.nii.gz:viridis:0,200")
        try t.waitFor("layer 1/1 subject01_2mm.nii.gz viridis 0,200 100%", timeout: 20)
        try TaskTmuxTests.command(t, "layer-opacity")
        try t.waitFor("layer 1/1 subject01_2mm.nii.gz viridis 0,200 75%", timeout: 5)
        try TaskTmuxTests.command(t, "layer-threshold-up 4")
        try t.waitFor("layer 1/1 subject01_2mm.nii.gz viridis 0,200 ≥40 75%", timeout: 5)
        try TaskTmuxTests.command(t, "layer")
        try t.waitFor("≥40 75% hidden", timeout: 5)

        // A moving image (with its labels) opened mid-session; G registers it, S-equivalent saves.
        try TaskTmuxTests.command(t, "open moving \(s)/subject01_2mm.nii.gz \(s)/subject01_2mm_aal.nii.gz")
        try t.waitFor("moving subject01_2mm.nii.gz (91x109x91) with labels subject01_2mm_aal.nii.gz", timeout: 20)
        try t.waitFor("G registers subject01_2mm.nii.gz to colin27_2mm.nii.gz", timeout: 5)
        try t.send("P")
        try t.waitFor("registration preset accurate", timeout: 5)
        try t.send("P")
        try t.waitFor("registration preset fast", timeout: 5)
        try t.send("G")
        let done = try t.waitFor(timeout: 300) { $0.contains(" done ") }
        let summary = try #require(done.components(separatedBy: "\n").first { $0.contains(" done ") })
        #expect(summary.contains("Dice 0."), "\(summary)")
        try TaskTmuxTests.command(t, "save registration \(out.path)/reg")
        try t.waitFor("saved to \(out.path)/reg", timeout: 60)
        try t.send("q")
        #expect(try t.exitStatus() == 0)
        let r = try runVoxterm(["info", out.appendingPathComponent("reg/warped_labels.nii.gz").path, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(report["shape"] as? [Int] == [91, 109, 91])
    }
}
