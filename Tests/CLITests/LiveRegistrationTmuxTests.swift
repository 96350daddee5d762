import Foundation
import Testing
import TestSupport

/// Live registration in the workbench, driven in a real terminal (issue 6): start, watch progress,
/// cancel, start again, finish, save, and check the saved files with `voxterm info`.
@Suite(.serialized) struct LiveRegistrationTmuxTests {
    static let samples = TestPaths.samples

    /// Bar, percentage, stage, level and iteration of the registration row (without the elapsed time).
    static func place(_ screen: String) -> String? {
        guard let line = screen.components(separatedBy: "\n").first(where: { $0.contains(" Register ") }),
              line.contains("iteration ") else { return nil }
        return line.components(separatedBy: " · ").first
    }

    @Test(.enabled(if: TmuxSession.executable != nil, "tmux is not installed"))
    func registerCancelRestartFinishAndSave() throws {
        let out = TestPaths.temporaryDirectory("live-registration")
        defer { try? FileManager.default.removeItem(at: out) }
        let s = Self.samples.path
        // Fast preset on both cores (`--threads 2`): a debug build registers the sample in tens of
        // seconds; the view must still answer a key while it runs (checked below).
        let command = Workbench.viewCommand(["--moving", "\(s)/subject01_2mm.nii.gz", "--moving-labels", "\(s)/subject01_2mm_aal.nii.gz",
                                             "--out", out.path, "--preset", "fast", "--threads", "2"])
        let tmux = try TmuxSession(command, width: 160, height: 50, environment: ["COLORTERM": "truecolor"])
        defer { tmux.close() }
        try tmux.waitFor("G registers subject01_2mm.nii.gz to colin27_2mm.nii.gz", timeout: 20)

        // Start: the bar shows stage, level and iteration, and they advance.
        try tmux.send("G")
        let first = try tmux.waitFor(timeout: 30) { $0.contains("iteration ") && $0.contains("value ") }
        let firstPlace = try #require(Self.place(first))
        try tmux.waitFor(timeout: 30) { Self.place($0).map { $0 != firstPlace } ?? false }
        // The view answers keys while it runs: next slice.
        #expect(first.contains("axial slice 45/90"))
        try tmux.send("]")
        try tmux.waitFor("axial slice 46/90", timeout: 10)

        // Esc cancels; the state says so.
        try tmux.send("Escape")
        try tmux.waitFor("cancelled (G starts again)", timeout: 30)

        // Again, to the end: the summary with Dice and folding.
        try tmux.send("G")
        try tmux.waitFor(timeout: 15) { $0.contains("iteration ") && !$0.contains("cancelled (G") }
        let done = try tmux.waitFor(timeout: 300) { $0.contains(" done ") }
        let summary = try #require(done.components(separatedBy: "\n").first { $0.contains(" done ") })
        #expect(summary.contains("Dice 0."), "\(summary)")
        #expect(summary.contains("folding"), "\(summary)")
        #expect(summary.contains("S saves to \(out.path)/"), "\(summary)")

        // Save, then quit cleanly.
        try tmux.send("S")
        try tmux.waitFor("saved to \(out.path)/", timeout: 60)
        try tmux.send("q")
        #expect(try tmux.exitStatus() == 0)
        #expect(try tmux.terminalModesProblems() == [])

        // The saved files are the ones `voxterm register` writes, readable by `voxterm info`.
        for f in ["warped.nii.gz", "warped_labels.nii.gz", "field.nii.gz", "inverse_field.nii.gz", "jacobian.nii.gz"] {
            let r = try runVoxterm(["info", out.appendingPathComponent(f).path])
            #expect(r.status == 0, "\(f): \(r.stderr)")
            #expect(r.stdout.contains("91") && r.stdout.contains("109"), "\(f): \(r.stdout)")
        }
        for f in ["affine.txt", "affine_itk.tfm"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), "\(f) missing")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any]
        let after = try #require(json?["mean_dice"] as? Double), before = try #require(json?["mean_dice_before"] as? Double)
        #expect(after > before + 0.1, "Dice \(before) -> \(after)")
        #expect(json?["jacobian_nonpositive_percent"] as? Double == 0)
    }
}
