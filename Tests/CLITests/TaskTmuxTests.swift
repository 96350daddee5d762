import Foundation
import Testing
import TestSupport
import VoxtermModel
import SliceRendering

/// Issue 14 in a real terminal: the `:` command line, navigation by slice, voxel, mm and label
/// name, one slice-numbering convention shared with `voxterm export`, and a whole curation task
/// (supports typed by path, predict, Dice, paint, undo, redo, save) in one sitting. Expected values
/// come from the files (affines, label maps, tables), never from saved screens.
@Suite(.serialized, .enabled(if: TmuxSession.executable != nil, "tmux is not installed"))
struct TaskTmuxTests {
    /// Types `text` at the `:` prompt and presses Enter.
    static func command(_ t: TmuxSession, _ text: String) throws {
        try t.send(":")
        try t.send(text, literal: true)
        try t.send("Enter")
    }

    /// Waits for a volume prediction's status ("predicted the volume ... mean Dice D over N
    /// labels"); returns the screen, D and N.
    static func predictedDice(_ t: TmuxSession) throws -> (screen: String, dice: Double, labels: Int) {
        let screen = try t.waitFor(timeout: 240) { $0.contains("mean Dice") && $0.contains("predicted the volume") }
        let r = try #require(screen.range(of: #"mean Dice (\d\.\d{3}) over (\d+) labels"#, options: .regularExpression), "\(screen)")
        let words = screen[r].split(separator: " ")
        let dice = try #require(Double(words[2])), labels = try #require(Int(words[4]))
        return (screen, dice, labels)
    }

    /// The mean Dice on screen (three decimals) is the mean of `dice`, computed from the files.
    static func expectShown(_ shown: Double, is dice: [Int32: Double], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(abs(meanDice(dice) - shown) <= 0.0005 + 1e-9, "screen \(shown), file \(meanDice(dice))", sourceLocation: sourceLocation)
    }

    @Test func gotoSliceVoxelMillimetresAndLabelNameLandWhereTheAffineSays() throws {
        let image = try NIfTIReader.read(Workbench.image).volume()
        let labels = try NIfTIReader.read(Workbench.labels).labelVolume()
        let names = try Workbench.readLabelNames(Workbench.labelNames)
        let g = image.geometry
        let t = try TmuxSession(Workbench.viewCommand(), width: 180, height: 50, environment: Workbench.utf8)
        defer { t.close() }
        let start = try t.waitForStatus()
        // Slice numbers are 0-based voxel indices: the status bar's slice is the voxel's k.
        #expect(start.slice == start.voxel.z && start.sliceCount == g.size.z - 1, "\(start)")

        try Self.command(t, "goto 30")
        var s = try t.waitForStatus { $0.slice == 30 }
        #expect(s.voxel.z == 30 && s.voxel.x == start.voxel.x && s.voxel.y == start.voxel.y)

        try Self.command(t, "goto 10,20,33")
        s = try t.waitForStatus { $0.voxel == SIMD3(10, 20, 33) }
        let w = g.world(ofVoxel: SIMD3<Double>(10, 20, 33))
        #expect(abs(s.world.x - w.x) < 0.051 && abs(s.world.y - w.y) < 0.051 && abs(s.world.z - w.z) < 0.051, "\(s) vs \(w)")

        // A world point in mm: the voxel nearest to A⁻¹ p.
        let p = SIMD3<Double>(-21.3, 14.8, 9.2)
        let c = g.voxel(ofWorld: p)
        let expected = SIMD3<Int>(Int(c.x.rounded()), Int(c.y.rounded()), Int(c.z.rounded()))
        try Self.command(t, "goto -21.3,14.8,9.2 mm")
        s = try t.waitForStatus { $0.voxel == expected }
        let we = g.world(ofVoxel: SIMD3<Double>(expected))
        #expect(abs(s.world.x - we.x) < 0.051 && abs(s.world.z - we.z) < 0.051)

        // A label by name (typed with Tab completion): the voxel of the label nearest its centroid.
        let hippo = try #require(names.first { $0.value == "Hippocampus_L" }?.key)
        let target = try #require(referenceNearestToCentroid(Int32(hippo), labels))
        try t.send(":")
        try t.send("goto Hippocampus_", literal: true)
        try t.send("Tab")
        try t.waitFor("Hippocampus_L  Hippocampus_R", timeout: 5)
        try t.send("L", literal: true)
        try t.send("Enter")
        s = try t.waitForStatus { $0.voxel == target }
        #expect(s.labelName == "Hippocampus_L" && s.labelValue == hippo, "\(s)")

        // A count before a key: 10] is ten slices on.
        try t.send("1", "0", "]")
        s = try t.waitForStatus { $0.voxel.z == target.z + 10 }
        // z: the next axial slice holding the selected label (Hippocampus_L, selected by :goto).
        try Self.command(t, "goto \(target.x),\(target.y),0")
        _ = try t.waitForStatus { $0.voxel.z == 0 }
        var first = -1
        for k in 0..<g.size.z where first < 0 {
            for j in 0..<g.size.y where first < 0 { for i in 0..<g.size.x where labels[i, j, k] == Int32(hippo) { first = k; break } }
        }
        try t.send("z")
        s = try t.waitForStatus { $0.voxel.z == first }

        // Label search: /hipp selects the first match in panel (value) order, n the next, N back.
        let present = Set(labels.labels.filter { $0 != 0 }.map(Int.init))
        let matches = names.filter { present.contains($0.key) && $0.value.lowercased().contains("hipp") }.sorted { $0.key < $1.key }
        try #require(matches.count >= 2)
        try t.send("/")
        try t.send("hipp", literal: true)
        try t.send("Enter")
        try t.waitFor("/hipp: \(matches[0].value) (\(matches[0].key)) (1 of \(matches.count))", timeout: 5)
        try t.send("n")
        try t.waitFor("/hipp: \(matches[1].value) (\(matches[1].key)) (2 of \(matches.count))", timeout: 5)
        try t.send("N")
        try t.waitFor("/hipp: \(matches[0].value) (\(matches[0].key)) (1 of \(matches.count))", timeout: 5)

        // An error stays on the command line's row, the workbench keeps running.
        try Self.command(t, "goto 500")
        try t.waitFor("error: goto: slice 500 is outside 0...90 of the axial plane", timeout: 5)
        try Self.command(t, "frobnicate")
        try t.waitFor("unknown command 'frobnicate'", timeout: 5)
        // History: Up brings the last command back.
        try t.send(":")
        try t.send("Up")
        try t.waitFor(":frobnicate", timeout: 5)
        try t.send("Escape")
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }

    @Test func aSliceNumberReadOffTheScreenGivesTheSameSliceThroughExport() throws {
        let dir = TestPaths.temporaryDirectory("task-slice")
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try TmuxSession(Workbench.viewCommand(), width: 180, height: 50, environment: Workbench.utf8, directory: dir.path)
        defer { t.close() }
        let start = try t.waitForStatus()
        try t.send("c")   // coronal: the slice axis is j
        try t.send("t")   // labels off: the picture is the image alone, as export draws it without --labels
        try t.waitFor("labels off", timeout: 5)
        try t.send("7", "]")
        let s = try t.waitForStatus { $0.plane == "coronal" && $0.voxel.y == start.voxel.y + 7 }
        let shown = s.slice
        #expect(shown == s.voxel.y, "coronal slice \(shown) is voxel j \(s.voxel.y)")
        // The PNG the workbench writes records the same number.
        let fromView = dir.appendingPathComponent("view.png").path
        try Self.command(t, "save png \(fromView)")
        try t.waitFor("exported \(fromView)", timeout: 10)
        let viewPNG = try FileIO.readAll(fromView, limit: 1 << 26)
        let viewText = Dictionary(try PNGCodec.readText(viewPNG).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(viewText["Slice"] == String(shown) && viewText["Plane"] == "coronal", "\(viewText)")
        try t.send("q")
        #expect(try t.exitStatus() == 0)
        #expect(try t.terminalModesProblems().isEmpty)

        // voxterm export --slice N with the number read off the screen: the same slice (same mm).
        let out = dir.appendingPathComponent("cli.png").path
        let r = try runVoxterm(["export", Workbench.image, "--plane", "coronal", "--slice", String(shown), "-o", out, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["slice"] as? Int == shown)
        let centre = json["slice_centre_mm"] as? [Double] ?? []
        #expect(centre.count == 3 && abs(centre[1] - s.world.y) < 0.051, "export slice centre \(centre), screen \(s.world)")
        // And the picture is the same picture.
        let a = try PNGCodec.decode(FileIO.readAll(out, limit: 1 << 26)), b = try PNGCodec.decode(viewPNG)
        #expect(a.width == b.width && a.height == b.height && a.pixels == b.pixels, "export and workbench pictures differ")
    }
}

/// The whole task of issue 14 in one sitting: an unlabelled scan, two labelled scans typed in as
/// supports, a prediction scored against the truth on screen, a correction painted, undone, redone
/// and saved to a typed path, checked from the files.
@Suite(.serialized, .enabled(if: TmuxSession.executable != nil, "tmux is not installed"))
struct CurationInOneSittingTmuxTests {

    @Test func supportsByPathPredictDicePaintUndoRedoSave() throws {
        let dir = TestPaths.temporaryDirectory("task-sitting")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = TestPaths.samples.path
        // A second labelled scan: Colin27 placed 6 mm to the right (its affine moved), with its labels.
        var colin = try NIfTIReader.read("\(s)/colin27_2mm.nii.gz").volume()
        var colinLabels = try NIfTIReader.read("\(s)/colin27_2mm_aal.nii.gz").labelVolume()
        var a = colin.geometry.affine
        a.translation = a.translation + SIMD3(6, 0, 0)
        colin.geometry.affine = a
        colinLabels.geometry.affine = a
        let moved = dir.appendingPathComponent("moved.nii.gz").path, movedLabels = dir.appendingPathComponent("moved_aal.nii.gz").path
        try NIfTIWriter.write(colin, to: moved)
        try NIfTIWriter.write(colinLabels, to: movedLabels)
        try FileManager.default.copyItem(atPath: "\(s)/aal.txt", toPath: dir.appendingPathComponent("aal.txt").path)
        // A new scan opened later in the same sitting: subject01 placed 4 mm anterior, with its truth.
        var scan2 = try NIfTIReader.read("\(s)/subject01_2mm.nii.gz").volume()
        var scan2Truth = try NIfTIReader.read("\(s)/subject01_2mm_aal.nii.gz").labelVolume()
        var a2 = scan2.geometry.affine
        a2.translation = a2.translation + SIMD3(0, 4, 0)
        scan2.geometry.affine = a2
        scan2Truth.geometry.affine = a2
        try NIfTIWriter.write(scan2, to: dir.appendingPathComponent("scan2.nii.gz").path)
        try NIfTIWriter.write(scan2Truth, to: dir.appendingPathComponent("scan2_truth.nii.gz").path)

        let query = "\(s)/subject01_2mm.nii.gz", truthPath = "\(s)/subject01_2mm_aal.nii.gz"
        let command = [TestPaths.voxtermBinary.path, "view", query, "--truth", truthPath].map(TmuxSession.quote).joined(separator: " ")
        let t = try TmuxSession(command, width: 180, height: 50, environment: Workbench.utf8, directory: dir.path)
        defer { t.close() }
        _ = try t.waitForStatus()

        // Supports typed by path (the first with Tab completion of the file name).
        try t.send(":")
        try t.send("support add \(s)/colin27_2mm.nii", literal: true)
        try t.send("Tab")
        try t.waitFor("support add \(s)/colin27_2mm.nii.gz", timeout: 5)
        try t.send(" \(s)/colin27_2mm_aal.nii.gz", literal: true)
        try t.send("Enter")
        try t.waitFor("support 1: colin27_2mm.nii.gz", timeout: 20)
        try TaskTmuxTests.command(t, "support add moved.nii.gz moved_aal.nii.gz")
        try t.waitFor("support 2: moved.nii.gz", timeout: 20)

        // Predict the volume; the mean Dice against --truth is on screen.
        try TaskTmuxTests.command(t, "predict volume")
        let (done, shownDice, shownCount) = try TaskTmuxTests.predictedDice(t)
        // Predicted labels carry the supports' names (the panel lists them with Dice).
        #expect(done.contains("Precentral_L"), "label names of the supports in the panel:\n\(done)")
        #expect(done.contains("TP") && done.contains("FP") && done.contains("FN"), "TP/FP/FN legend:\n\(done)")

        // Save the prediction as predicted, then correct it: paint label 37 with radius 3 at a voxel.
        try TaskTmuxTests.command(t, "save prediction \(dir.path)")
        try t.waitFor("wrote ", timeout: 20)
        let voxel = SIMD3(30, 60, 40)
        try TaskTmuxTests.command(t, "goto \(voxel.x),\(voxel.y),\(voxel.z)")
        _ = try t.waitForStatus { $0.voxel == voxel }
        try TaskTmuxTests.command(t, "set brush 3")
        try TaskTmuxTests.command(t, "label 37")
        try t.waitFor("painting with", timeout: 5)
        try t.send("B")   // paint mode: a disc at the crosshair
        try t.waitFor("PAINT", timeout: 5)
        try t.send("B")   // and off again
        try t.send("U")
        try t.waitFor("undid paint", timeout: 5)
        try t.send("C-r")
        try t.waitFor("redid paint", timeout: 5)
        // Quitting with unsaved edits asks once.
        try t.send("q")
        try t.waitFor("unsaved label edits", timeout: 5)
        let saved = dir.appendingPathComponent("edited.nii.gz").path
        try TaskTmuxTests.command(t, "save labels \(saved)")
        try t.waitFor("saved labels to \(saved)", timeout: 20)

        // Predict again after the correction, without a restart: the corrected slice (saved above)
        // goes back into the support set and the volume is predicted from all three.
        try TaskTmuxTests.command(t, "support add slice")
        try t.waitFor("support 3: axial slice \(voxel.z)", timeout: 10)
        try TaskTmuxTests.command(t, "predict")
        let shownDice2 = try TaskTmuxTests.predictedDice(t).dice
        try TaskTmuxTests.command(t, "save prediction \(dir.path)")
        try t.waitFor("subject01_2mm_pred-2.nii.gz", timeout: 20)

        // A new scan in the same sitting: the supports stay (the first scan's corrected slice is now
        // a support from another image), its truth is typed in, and it is predicted.
        try TaskTmuxTests.command(t, "open image scan2.nii.gz")
        try t.waitFor("opened scan2.nii.gz · 3 supports kept", timeout: 20)
        try TaskTmuxTests.command(t, "open truth scan2_truth.nii.gz")
        // The whole message: "truth scan2_truth.nii.gz" alone is also on the prompt row as typed.
        try t.waitFor("truth scan2_truth.nii.gz: predictions are scored against it", timeout: 20)
        try TaskTmuxTests.command(t, "predict volume")
        let (third, shownDice3, _) = try TaskTmuxTests.predictedDice(t)
        // Its predicted labels carry the supports' names too.
        #expect(third.contains("Precentral_L"), "label names of the supports in the panel:\n\(third)")
        try TaskTmuxTests.command(t, "save prediction \(dir.path)")
        try t.waitFor("scan2_pred.nii.gz", timeout: 20)
        // A structure of the prediction by name (the image itself has no label map).
        try TaskTmuxTests.command(t, "goto Hippocampus_L")
        let found = try t.waitFor(timeout: 10) { $0.range(of: #"Hippocampus_L \(37\): voxel \d+,\d+,\d+"#, options: .regularExpression) != nil }
        let hit = String(found[found.range(of: #"voxel \d+,\d+,\d+"#, options: .regularExpression)!].dropFirst(6))
            .split(separator: ",").compactMap { Int($0) }
        try t.send("q")
        #expect(try t.exitStatus() == 0)

        // The Dice on screen is the Dice of the saved prediction against the truth.
        let truth = try NIfTIReader.read(truthPath).labelVolume()
        let pred = try NIfTIReader.read(dir.appendingPathComponent("subject01_2mm_pred.nii.gz").path).labelVolume()
        let dice = diceScores(prediction: pred, truth: truth)
        #expect(dice.count == shownCount)
        TaskTmuxTests.expectShown(shownDice, is: dice)
        #expect(shownDice > 0.4, "a poor prediction: \(shownDice)")

        // The saved labels: read by voxterm info, and equal to the prediction except the painted disc.
        let info = try runVoxterm(["info", saved, "--json"])
        #expect(info.status == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        #expect(report["shape"] as? [Int] == [91, 109, 91])
        let edited = try NIfTIReader.read(saved).labelVolume()
        #expect(edited.geometry.affine.maxDifference(to: truth.geometry.affine) < 1e-4)
        let g = edited.geometry
        var changed = 0
        for n in 0..<edited.labels.count {
            let v = g.voxel(ofIndex: n)
            let du = v.x - voxel.x, dv = v.y - voxel.y
            let inDisc = v.z == voxel.z && du * du + dv * dv <= 3 * 3 + 3
            if inDisc { #expect(edited.labels[n] == 37, "voxel \(v)") } else if edited.labels[n] != pred.labels[n] { changed += 1 }
        }
        #expect(changed == 0, "\(changed) voxels outside the brush differ from the prediction")
        // The label names travel beside the saved file.
        let table = try String(contentsOfFile: dir.appendingPathComponent("edited.txt").path, encoding: .utf8)
        #expect(table.contains("37 Hippocampus_L"))

        // The second prediction keeps the corrected slice as saved (the painted disc included) and
        // elsewhere is the other scans' fused prediction again; its Dice on screen leaves the support
        // slice out, as support slices always are.
        let pred2 = try NIfTIReader.read(dir.appendingPathComponent("subject01_2mm_pred-2.nii.gz").path).labelVolume()
        var same = 0, off = 0
        for n in 0..<pred2.labels.count {
            if g.voxel(ofIndex: n).z == voxel.z {
                if pred2.labels[n] != edited.labels[n] { Issue.record("corrected slice differs at \(g.voxel(ofIndex: n))"); break }
            } else {
                off += 1
                if pred2.labels[n] == pred.labels[n] { same += 1 }
            }
        }
        #expect(Double(same) / Double(off) > 0.97, "outside the corrected slice \(same) of \(off) voxels as the first prediction")
        var pred2Off = pred2, truthOff = truth
        for n in 0..<pred2.labels.count where g.voxel(ofIndex: n).z == voxel.z { pred2Off.labels[n] = 0; truthOff.labels[n] = 0 }
        let dice2 = diceScores(prediction: pred2Off, truth: truthOff)
        TaskTmuxTests.expectShown(shownDice2, is: dice2)

        // The new scan's prediction is on its grid and scored against its truth as the screen says.
        let pred3 = try NIfTIReader.read(dir.appendingPathComponent("scan2_pred.nii.gz").path).labelVolume()
        #expect(pred3.geometry.affine.maxDifference(to: scan2.geometry.affine) < 1e-4)
        let dice3 = diceScores(prediction: pred3, truth: scan2Truth)
        TaskTmuxTests.expectShown(shownDice3, is: dice3)
        #expect(shownDice3 > 0.4, "a poor prediction of the new scan: \(shownDice3)")
        let hippo = try #require(referenceNearestToCentroid(37, pred3))
        #expect(hit == [hippo.x, hippo.y, hippo.z], ":goto Hippocampus_L went to \(hit), its centre voxel is \(hippo)")
    }
}
