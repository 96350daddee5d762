import Foundation
import Testing
import TestSupport

/// `voxterm segment` on the bundled samples: cross-volume, slice propagation, errors, Ctrl-C.
@Suite(.serialized) struct SegmentCLITests {
    let samples = TestPaths.samples
    var subject: String { samples.appendingPathComponent("subject01_2mm.nii.gz").path }
    var subjectLabels: String { samples.appendingPathComponent("subject01_2mm_aal.nii.gz").path }
    var atlas: String { samples.appendingPathComponent("colin27_2mm.nii.gz").path }
    var atlasLabels: String { samples.appendingPathComponent("colin27_2mm_aal.nii.gz").path }

    func meanDice(_ stdout: String) -> Double? {
        guard let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix("mean dice:") }) else { return nil }
        return Double(line.split(separator: " ")[2])
    }

    @Test func crossVolumeFromOneSupportBeatsNoRegistration() throws {
        let dir = TestPaths.temporaryDirectory("segment")
        let out = dir.appendingPathComponent("pred.nii.gz").path
        let conf = dir.appendingPathComponent("conf.nii.gz").path
        let manifest = dir.appendingPathComponent("set.json").path
        let r = try runVoxterm(["segment", subject, "--support", "\(atlas):\(atlasLabels)", "--out", out,
                                "--truth", subjectLabels, "--confidence", conf, "--save-support-set", manifest,
                                "--preset", "fast", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let dice = try #require(meanDice(r.stdout))
        // Without registration the labels overlap with mean Dice 0.631 (Samples/README.md).
        #expect(dice > 0.85, "mean Dice \(dice)")
        #expect(FileManager.default.fileExists(atPath: conf))
        // The saved manifest loads back and gives the same prediction.
        let out2 = dir.appendingPathComponent("pred2.nii.gz").path
        let r2 = try runVoxterm(["segment", subject, "--support-set", manifest, "--out", out2, "--preset", "fast", "--quiet"])
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: URL(fileURLWithPath: out2)),
                "the same inputs must give the same prediction (determinism)")
    }

    @Test func slicePropagationBeatsCopyingTheNearestSlice() throws {
        let dir = TestPaths.temporaryDirectory("slices")
        let out = dir.appendingPathComponent("pred.nii.gz").path
        let slices = stride(from: 8, through: 80, by: 8).map(String.init).joined(separator: ",")
        let r = try runVoxterm(["segment", atlas, "--labels", atlasLabels, "--labelled-slices", "axial:\(slices)",
                                "--out", out, "--truth", atlasLabels, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let dice = try #require(meanDice(r.stdout))
        // Baseline: each unlabelled slice copies the nearest labelled one, scored the same way.
        let py = try #require(pythonWithNibabel, "python3 with nibabel is needed for the baseline")
        let script = """
        import nibabel as nib, numpy as np
        t = np.asarray(nib.load('\(atlasLabels)').dataobj).astype(int)
        lab = [\(slices)]
        p = np.zeros_like(t)
        for z in range(t.shape[2]):
            n = min(lab, key=lambda s: (abs(s - z), s))
            p[:, :, z] = t[:, :, n]
        keep = np.zeros(t.shape[2], bool); keep[lab[0]:lab[-1]] = True; keep[lab] = False
        tt, pp = t[:, :, keep], p[:, :, keep]
        d = [2 * ((tt == l) & (pp == l)).sum() / ((tt == l).sum() + (pp == l).sum()) for l in np.unique(tt) if l > 0]
        print(np.mean(d))
        # Shape-based (signed-distance) interpolation between the bracketing labelled slices, as bench/fewshot's sdt_interp.
        from scipy import ndimage as ndi
        def sdt(m):
            return np.where(m, -(ndi.distance_transform_edt(m) * 2 - 1), ndi.distance_transform_edt(~m) * 2 - 1)
        q = np.zeros_like(t)
        for z in range(lab[0] + 1, lab[-1]):
            if z in lab: continue
            a = max(s for s in lab if s < z); b = min(s for s in lab if s > z); wa = (b - z) / (b - a)
            sa, sb = t[:, :, a], t[:, :, b]
            labels = sorted(set(np.unique(sa)) | set(np.unique(sb)))
            dist = []
            for l in labels:
                da = sdt(sa == l) if (sa == l).any() else None
                db = sdt(sb == l) if (sb == l).any() else None
                if da is None: da = db - db.min() + 2
                if db is None: db = da - da.min() + 2
                dist.append(wa * da + (1 - wa) * db)
            q[:, :, z] = np.array(labels)[np.argmin(np.array(dist), 0)]
        qq = q[:, :, keep]
        print(np.mean([2 * ((tt == l) & (qq == l)).sum() / ((tt == l).sum() + (qq == l).sum()) for l in np.unique(tt) if l > 0]))
        """
        let b = try runProcess(py, ["-c", script])
        let lines = b.stdout.split(separator: "\n").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        try #require(lines.count == 2, "\(b.stdout)\(b.stderr)")
        #expect(dice > lines[0], "slice filling \(dice) vs nearest-slice copy \(lines[0])")
        #expect(dice > lines[1] + 0.02, "slice filling \(dice) vs shape-based interpolation \(lines[1])")
    }

    @Test func slicesOutsideTheLabelledRangeStayEmptyUnlessExtrapolated() throws {
        let dir = TestPaths.temporaryDirectory("slicerange")
        let out = dir.appendingPathComponent("pred.nii.gz").path, conf = dir.appendingPathComponent("conf.nii.gz").path
        let r = try runVoxterm(["segment", atlas, "--labels", atlasLabels, "--labelled-slices", "axial:30,40,50",
                                "--out", out, "--confidence", conf, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("70 axial slices outside the labelled range 30..50 left empty (--extrapolate fills them"), "\(r.stdout)")
        let outX = dir.appendingPathComponent("predx.nii.gz").path, confX = dir.appendingPathComponent("confx.nii.gz").path
        let x = try runVoxterm(["segment", atlas, "--labels", atlasLabels, "--labelled-slices", "axial:30,40,50",
                                "--out", outX, "--confidence", confX, "--extrapolate", "--quiet"])
        #expect(x.status == 0, "\(x.stderr)")
        #expect(x.stdout.contains("extrapolated from the nearest labelled slice (confidence at most 0.5)"), "\(x.stdout)")
        let py = try #require(pythonWithNibabel, "python3 with nibabel is needed")
        let script = """
        import nibabel as nib, numpy as np
        p, c = [np.asarray(nib.load(f).dataobj) for f in ('\(out)', '\(conf)')]
        px, cx = [np.asarray(nib.load(f).dataobj) for f in ('\(outX)', '\(confX)')]
        outside = np.r_[0:30, 51:p.shape[2]]
        print(int((p[:, :, outside] != 0).sum()), int((c[:, :, outside] != 0).sum()), int((p[:, :, 31:50] != 0).sum()))
        print(int((px[:, :, outside] != 0).sum()), float(cx[:, :, outside].max()), int((px[:, :, 31:50] != p[:, :, 31:50]).sum()))
        """
        let v = try runProcess(py, ["-c", script])
        let rows = v.stdout.split(separator: "\n").map { $0.split(separator: " ").compactMap { Double($0) } }
        try #require(rows.count == 2 && rows.allSatisfy { $0.count == 3 }, "\(v.stdout)\(v.stderr)")
        #expect(rows[0][0] == 0 && rows[0][1] == 0, "labels or confidence written outside the labelled range: \(rows[0])")
        #expect(rows[0][2] > 1000, "the range itself is filled")
        #expect(rows[1][0] > 1000 && rows[1][1] <= 0.5, "--extrapolate: \(rows[1])")
        #expect(rows[1][2] == 0, "--extrapolate changed slices inside the range")
    }

    /// `--registration-weight`: a label map whose borders are intensity edges (a two-class tissue
    /// map made from the Colin27 sample by an intensity threshold) is filled better with the image
    /// evidence alone (1) than with the automatic share (0.8 for slices 20 mm apart), and nothing
    /// outside the labelled range is written either way.
    @Test func theRegistrationWeightLetsTissueMapsFollowTheImage() throws {
        let dir = TestPaths.temporaryDirectory("segweight")
        let py = try #require(pythonWithNibabel, "python3 with nibabel is needed")
        let tissue = dir.appendingPathComponent("tissue.nii.gz").path, partial = dir.appendingPathComponent("partial.nii.gz").path
        let make = """
        import nibabel as nib, numpy as np
        from scipy import ndimage as ndi
        img = nib.load('\(atlas)'); t = np.asarray(img.dataobj).astype(float)
        aal = np.asarray(nib.load('\(atlasLabels)').dataobj)
        mask = ndi.binary_closing(aal > 0, iterations=2) | (aal > 0)
        tis = np.where(mask, np.where(t > np.percentile(t[mask], 55), 2, 1), 0).astype(np.uint8)
        nib.save(nib.Nifti1Image(tis, img.affine), '\(tissue)')
        part = np.zeros_like(tis)
        for z in (30, 40, 50): part[:, :, z] = tis[:, :, z]
        nib.save(nib.Nifti1Image(part, img.affine), '\(partial)')
        """
        let m = try runProcess(py, ["-c", make])
        try #require(m.status == 0, "\(m.stderr)")
        var outs: [String] = []
        for weight in [nil, "1"] as [String?] {
            let out = dir.appendingPathComponent("p\(weight ?? "auto").nii.gz").path
            let r = try runVoxterm(["segment", atlas, "--labels", partial, "--labelled-slices", "axial:30,40,50", "--out", out, "--quiet"]
                                   + (weight.map { ["--registration-weight", $0] } ?? []))
            #expect(r.status == 0, "\(r.stderr)")
            outs.append(out)
        }
        let score = """
        import nibabel as nib, numpy as np
        t = np.asarray(nib.load('\(tissue)').dataobj)
        keep = [z for z in range(31, 50) if z != 40]
        outside = np.r_[0:30, 51:t.shape[2]]
        for f in ('\(outs[0])', '\(outs[1])'):
            p = np.asarray(nib.load(f).dataobj)
            a, b = t[:, :, keep], p[:, :, keep]
            print(np.mean([2 * ((a == l) & (b == l)).sum() / ((a == l).sum() + (b == l).sum()) for l in (1, 2)]), int((p[:, :, outside] != 0).sum()))
        """
        let v = try runProcess(py, ["-c", score])
        let rows = v.stdout.split(separator: "\n").map { $0.split(separator: " ").compactMap { Double($0) } }
        try #require(rows.count == 2 && rows.allSatisfy { $0.count == 2 }, "\(v.stdout)\(v.stderr)")
        #expect(rows[1][0] > rows[0][0] + 0.005, "weight 1 \(rows[1][0]) vs automatic \(rows[0][0]) on a tissue map")
        #expect(rows[0][1] == 0 && rows[1][1] == 0, "labels written outside the labelled range")
    }

    @Test func badInputsGiveOneLineErrors() throws {
        let dir = TestPaths.temporaryDirectory("segbad")
        let out = dir.appendingPathComponent("p.nii.gz").path
        let cases: [([String], String)] = [
            (["segment", subject, "--support", "\(atlas):/nonexistent/l.nii.gz", "--out", out], "no such file"),
            (["segment", subject, "--support", "\(atlas):\(samples.appendingPathComponent("colin27_1mm_aal.nii.gz").path)", "--out", out], "not on the grid"),
            (["segment", subject, "--out", out], "--support"),
            (["segment", atlas, "--labelled-slices", "axial:3,5", "--out", out], "--labels"),
            (["segment", atlas, "--labels", atlasLabels, "--labelled-slices", "diagonal:3", "--out", out], "plane"),
            (["segment", subject, "--support", "\(atlas):\(atlasLabels)", "--out", subject], "is also an input"),
            (["segment", subject, "--support", "\(atlas):\(atlasLabels)", "--out", out, "--registration-weight", "1"], "needs --labelled-slices"),
            (["segment", atlas, "--labels", atlasLabels, "--labelled-slices", "axial:30,40", "--out", out, "--registration-weight", "1.5"], "0...1"),
            (["segment", atlas, "--labels", atlasLabels, "--labelled-slices", "axial:30,40", "--out", out, "--registration-weight", "0.5",
              "--slice-method", "shape"], "fused"),
        ]
        for (args, fragment) in cases {
            let r = try runVoxterm(args + ["--quiet"])
            #expect(r.status != 0, "\(args)")
            #expect(r.stderr.contains(fragment), "\(args): \(r.stderr)")
            #expect(!r.stderr.contains("Fatal error"), "\(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func ctrlCStopsWithin1SecondAndWritesNothing() throws {
        let dir = TestPaths.temporaryDirectory("segint")
        let out = dir.appendingPathComponent("p.nii.gz").path
        let p = Process()
        p.executableURL = TestPaths.voxtermBinary
        p.arguments = ["segment", subject, "--support", "\(atlas):\(atlasLabels)", "--support", "\(subject):\(subjectLabels)",
                       "--out", out, "--preset", "accurate", "--confidence", dir.appendingPathComponent("c.nii.gz").path,
                       "--save-support-set", dir.appendingPathComponent("set.json").path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        Thread.sleep(forTimeInterval: 1.5)
        #expect(p.isRunning, "finished before the signal: the test did not interrupt anything")
        let t0 = Date()
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        let seconds = Date().timeIntervalSince(t0)
        #expect(seconds < 1.0, "took \(seconds) s from SIGINT to exit")
        #expect(p.terminationStatus == 130)
        // No labels, confidence or manifest, and no temporary file (hidden ones included).
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        try? FileManager.default.removeItem(at: dir)
    }
}
