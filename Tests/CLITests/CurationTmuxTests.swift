import Foundation
import Testing
import TestSupport
import VoxtermModel

/// Support-set curation and prediction in the workbench, driven in a real terminal (issue 6): add
/// two support slices, predict the slice between them, see the overlay and the Dice, save the
/// manifest and load it back, save the prediction.
@Suite(.serialized) struct CurationTmuxTests {
    static let samples = TestPaths.samples

    /// Direct-colour cells (`38;2;r;g;b` or `48;2;r;g;b`) of a `capture-pane -e` screen.
    static func directColours(_ screen: String) -> [(Int, Int, Int)] {
        var out: [(Int, Int, Int)] = []
        let pattern = try! NSRegularExpression(pattern: "[34]8;2;(\\d+);(\\d+);(\\d+)")
        let ns = screen as NSString
        for m in pattern.matches(in: screen, range: NSRange(location: 0, length: ns.length)) {
            out.append((Int(ns.substring(with: m.range(at: 1)))!, Int(ns.substring(with: m.range(at: 2)))!,
                        Int(ns.substring(with: m.range(at: 3)))!))
        }
        return out
    }

    /// The mean Dice figure of the support panel, e.g. 0.827 from "mean Dice 0.827 (42 labels)".
    static func meanDice(_ screen: String) -> Double? {
        guard let r = screen.range(of: #"mean Dice (\d\.\d{3}) \((\d+) labels\)"#, options: .regularExpression) else { return nil }
        return Double(screen[r].split(separator: " ")[2])
    }

    @Test(.enabled(if: TmuxSession.executable != nil, "tmux is not installed"))
    func addTwoSlicesPredictTheOneBetweenSaveAndLoadTheManifest() throws {
        let dir = TestPaths.temporaryDirectory("curation-tmux")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = Self.samples.path
        let tmux = try TmuxSession(Workbench.viewCommand(), width: 140, height: 44, environment: ["COLORTERM": "truecolor", "LC_ALL": "C.UTF-8"],
                                   directory: dir.path)
        defer { tmux.close() }
        try tmux.waitFor("axial slice 45/90", timeout: 20)

        // Two support slices, 44 and 46 (voxel k, as the manifest stores them), with their labels from the loaded map.
        try tmux.send("[")
        try tmux.send("A")
        try tmux.waitFor("Support set (1)", timeout: 10)
        try tmux.send("]")
        try tmux.send("]")
        try tmux.send("A")
        let panel = try tmux.waitFor("Support set (2)", timeout: 10)
        #expect(panel.contains("1 axial 44") && panel.contains("2 axial 46") && panel.contains("k=46"), "\(panel)")

        // Predict slice 45 between them, in the background: the view still answers keys.
        try tmux.send("[")
        try tmux.waitFor("axial slice 45/90", timeout: 5)
        let labelsOnly = try tmux.screen(escapes: true)
        try tmux.send("i")
        try tmux.waitFor(timeout: 10) { $0.contains("predicting axial slice 45") || $0.contains("mean Dice") }
        let done = try tmux.waitFor(timeout: 45) { $0.contains("mean Dice") }
        let dice = try #require(Self.meanDice(done), "\(done)")
        #expect(dice > 0.6 && dice <= 1, "mean Dice \(dice)")
        #expect(done.contains(String(format: "pred prediction Dice %.3f", dice)), "\(done)")
        #expect(done.contains("predicted axial slice 45 in"), "\(done)")

        // The overlay: versus the loaded labels (truth), true positives green, and some misses.
        try tmux.send("C")
        try tmux.waitFor("pred vs truth", timeout: 5)
        let versus = Self.directColours(try tmux.screen(escapes: true))
        let green = versus.filter { $0.1 > $0.0 + 60 && $0.1 > $0.2 + 40 }.count
        let red = versus.filter { $0.0 > $0.1 + 60 && $0.0 > $0.2 + 60 }.count
        let greenBefore = Self.directColours(labelsOnly).filter { $0.1 > $0.0 + 60 && $0.1 > $0.2 + 40 }.count
        #expect(green > greenBefore + 300, "green cells \(greenBefore) -> \(green)")
        #expect(red > 0, "no false positives drawn")
        // Confidence and back to the prediction.
        try tmux.send("C")
        try tmux.waitFor("pred confidence", timeout: 5)

        // Save the manifest, empty the panel, load it back.
        try tmux.send("M")
        let manifest = dir.appendingPathComponent("colin27_2mm_support.json").path
        try tmux.waitFor("saved 2 support examples to", timeout: 10)
        let set = try SupportSet.load(manifest)
        #expect(set.examples.map(\.slices) == [SliceSelection(plane: .axial, indices: [44]), SliceSelection(plane: .axial, indices: [46])])
        #expect(set.examples.allSatisfy { FileIO.realPath($0.image) == FileIO.realPath("\(s)/colin27_2mm.nii.gz") })
        try tmux.send("D")
        try tmux.send("D")
        try tmux.waitFor("Support set (0)", timeout: 5)
        try tmux.send("O")
        let loaded = try tmux.waitFor("Support set (2)", timeout: 10)
        #expect(loaded.contains("loaded 2 support examples from"), "\(loaded)")

        // Save the prediction as NIfTI next to the manifest.
        try tmux.send("E")
        try tmux.waitFor("wrote ", timeout: 10)
        try tmux.send("q")
        #expect(try tmux.exitStatus() == 0)
        #expect(try tmux.terminalModesProblems() == [])
        let info = try runVoxterm(["info", dir.appendingPathComponent("colin27_2mm_pred.nii.gz").path])
        #expect(info.status == 0 && info.stdout.contains("91") && info.stdout.contains("109"), "\(info.stdout)\(info.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("colin27_2mm_pred_confidence.nii.gz").path))
    }
}
