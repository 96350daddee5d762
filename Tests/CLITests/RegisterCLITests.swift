import Foundation
import NIfTI
import Testing
import TestSupport
import VolumeCore
import VoxtermModel

/// `voxterm register` through the built binary, on the bundled samples (issue 4).
@Suite(.serialized) struct RegisterCLITests {
    static let samples = TestPaths.samples
    static let fixed = samples.appendingPathComponent("subject01_2mm.nii.gz").path
    static let fixedLabels = samples.appendingPathComponent("subject01_2mm_aal.nii.gz").path
    static let moving = samples.appendingPathComponent("colin27_2mm.nii.gz").path
    static let movingLabels = samples.appendingPathComponent("colin27_2mm_aal.nii.gz").path
    static let outputs = ["warped.nii.gz", "warped_labels.nii.gz", "field.nii.gz", "inverse_field.nii.gz", "jacobian.nii.gz",
                          "affine.txt", "affine_itk.tfm", "summary.json"]

    static func summary(_ dir: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: dir.appendingPathComponent("summary.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func files(in dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    }

    /// A T2-like moving image (a non-monotonic map of Colin27's intensities) without --metric: the
    /// automatic choice says it uses mutual information, the progress line and summary.json name
    /// the metric, and the labels overlap.
    @Test func mutualInformationOnATwoContrastPair() throws {
        let dir = TestPaths.temporaryDirectory("register-mi")
        let colin = try NIfTIReader.read(Self.moving).volume()
        let xs: [Float] = [0, 0.05, 0.3, 0.55, 0.85, 1], ys: [Float] = [0, 0.05, 1, 0.55, 0.25, 0.2]
        let hi = colin.percentiles([0.995])[0]
        func t2(_ v: Float) -> Float {
            let x = min(max(v / hi, 0), 1)
            for k in 1..<xs.count where x <= xs[k] { return ys[k - 1] + (ys[k] - ys[k - 1]) * (x - xs[k - 1]) / (xs[k] - xs[k - 1]) }
            return ys.last!
        }
        let t2Path = dir.appendingPathComponent("colin_t2like.nii.gz").path
        try NIfTIWriter.write(Volume(geometry: colin.geometry, voxels: colin.voxels.map(t2)), to: t2Path)
        let out = dir.appendingPathComponent("out").path
        let r = try runVoxterm(["register", Self.fixed, t2Path, "--out", out, "--moving-labels", Self.movingLabels,
                                "--fixed-labels", Self.fixedLabels, "--preset", "fast"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("using mutual information"), "\(r.stderr)")
        #expect(r.stderr.contains("affine mi level") && r.stderr.contains("deformable mi level"), "\(r.stderr)")
        let summary = try Self.summary(URL(fileURLWithPath: out))
        let dice = try #require(summary["mean_dice"] as? Double), before = try #require(summary["mean_dice_before"] as? Double)
        #expect(dice > before + 0.05, "mean Dice \(before) before, \(dice) after")
        #expect((summary["metric"] as? String) == "mi", "\(summary)")
    }

    /// The bundled sample pair with labels: every output, a summary that shows an improvement,
    /// no folding, and inputs left unchanged.
    @Test func registersTheSampleAndWritesEverything() throws {
        let dir = TestPaths.temporaryDirectory("register")
        let inputs = [Self.fixed, Self.moving, Self.fixedLabels, Self.movingLabels]
        let before = try inputs.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        let r = try runVoxterm(["register", Self.fixed, Self.moving, "--out", dir.path, "--moving-labels", Self.movingLabels,
                                "--fixed-labels", Self.fixedLabels, "--preset", "fast", "--timings"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("deformable lncc level"), "no progress line naming the metric: \(r.stderr)")
        // --timings: one line per phase, the registration's stages and every file written, then the total.
        for phase in ["voxterm: phases", "read images", "modality check", "registration", "  stage affine", "  stage deformable",
                      "jacobian", "dice", "inverse consistency", "write field", "write inverse_field", "total"] {
            #expect(r.stderr.split(separator: "\n").contains { $0.hasPrefix(phase) }, "no '\(phase)' line: \(r.stderr)")
        }
        #expect(!r.stderr.contains("mutual information"), "one modality taken for two: \(r.stderr)")
        for f in Self.outputs { #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), "\(f) missing") }
        #expect(try inputs.map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == before)

        let s = try Self.summary(dir)
        let meanDice = try #require(s["mean_dice"] as? Double)
        let identity = VoxtermModel.meanDice(diceScores(prediction: try NIfTIReader.read(Self.movingLabels).labelVolume(),
                                                        truth: try NIfTIReader.read(Self.fixedLabels).labelVolume()))
        #expect(meanDice > 0.9 && meanDice > identity + 0.15, "Dice \(identity) -> \(meanDice)")
        #expect((s["dice"] as? [String: Double])?.count == 116)
        #expect(try #require(s["similarity_after"] as? Double) < (try #require(s["similarity_before"] as? Double)))
        #expect(s["jacobian_nonpositive_percent"] as? Double == 0)
        let ic = try #require(s["inverse_consistency_mm"] as? [String: Double])
        #expect(try #require(ic["mean"]) < 0.1)
        #expect((s["stages"] as? [[String: Any]])?.map { $0["name"] as? String } == ["affine", "deformable"])
        #expect(try #require(s["peak_memory_mb"] as? Double) > 10)

        // The files read back: a 5-D vector field on the fixed grid and labels matching the summary.
        let field = try NIfTIReader.read(dir.appendingPathComponent("field.nii.gz").path)
        #expect(field.shape == [91, 109, 91, 1, 3] && field.isVectorField)
        let warped = try NIfTIReader.read(dir.appendingPathComponent("warped_labels.nii.gz").path).labelVolume()
        let truth = try NIfTIReader.read(Self.fixedLabels).labelVolume()
        #expect(abs(VoxtermModel.meanDice(diceScores(prediction: warped, truth: truth)) - meanDice) < 1e-9)
        let itk = try String(contentsOf: dir.appendingPathComponent("affine_itk.tfm"), encoding: .utf8)
        #expect(itk.hasPrefix("#Insight Transform File V1.0") && itk.contains("AffineTransform_double_3_3"))
    }

    /// A python3 that imports ANTsPy (pip package antspyx), or nil.
    static let pythonWithANTs: String? = {
        for py in ["/usr/bin/python3", "/usr/local/bin/python3"] + (ProcessInfo.processInfo.environment["PATH"] ?? "")
            .split(separator: ":").map({ "\($0)/python3" }) {
            guard FileManager.default.isExecutableFile(atPath: py) else { continue }
            if let r = try? runProcess(py, ["-c", "import ants"]), r.status == 0 { return py }
        }
        return nil
    }()

    /// ANTs reads voxterm's field (5-D, LPS vectors) and ITK affine and warps the moving image the
    /// same way voxterm does (correlation > 0.99 inside the brain). The fixed header is rotated by
    /// 7° and shifted, so the affine part is exercised. Fails (never skips) without antspyx.
    @Test func antsApplyTransformsReproducesTheWarp() throws {
        let python = try #require(Self.pythonWithANTs, "python3 with ANTsPy is required: pip install antspyx")
        let dir = TestPaths.temporaryDirectory("register-ants")
        var fixedImage = try NIfTIReader.read(Self.fixed).volume()
        let a = 7 * Double.pi / 180
        var rot = VolumeCore.AffineTransform(linear: [[cos(a), -sin(a), 0], [sin(a), cos(a), 0], [0, 0, 1]], translation: [4, -3, 2])
        rot = rot.composed(after: fixedImage.geometry.affine)
        fixedImage.geometry = VolumeGeometry(size: fixedImage.size, affine: rot)
        let fixedPath = dir.appendingPathComponent("fixed_rotated.nii.gz").path
        try NIfTIWriter.write(fixedImage, to: fixedPath)
        let out = dir.appendingPathComponent("out")
        let r = try runVoxterm(["register", fixedPath, Self.moving, "--out", out.path, "--preset", "fast", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let script = TestPaths.packageRoot.appendingPathComponent("Scripts/ants_apply.py").path
        let p = try runProcess(python, [script, fixedPath, Self.moving, out.path])
        #expect(p.status == 0, "\(p.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(p.stdout.utf8)) as? [String: Any], "\(p.stdout)")
        let corr = try #require(json["correlation"] as? Double)
        #expect(corr > 0.99, "correlation \(corr)")
        // The affine part is exercised and works in world space: registering the unrotated pair
        // gives the same map up to the header's rotation (A_rotated ∘ R ≈ A_unrotated).
        let plain = dir.appendingPathComponent("plain")
        let r2 = try runVoxterm(["register", Self.fixed, Self.moving, "--out", plain.path, "--preset", "fast", "--quiet"])
        #expect(r2.status == 0, "\(r2.stderr)")
        let ma = try #require(try Self.summary(out)["affine_ras"] as? [[Double]])
        let mb = try #require(try Self.summary(plain)["affine_ras"] as? [[Double]])
        func affine(_ m: [[Double]]) -> VolumeCore.AffineTransform {
            VolumeCore.AffineTransform(linear: (0..<3).map { Array(m[$0][0..<3]) }, translation: [m[0][3], m[1][3], m[2][3]])
        }
        var rotOnly = VolumeCore.AffineTransform(linear: [[cos(a), -sin(a), 0], [sin(a), cos(a), 0], [0, 0, 1]], translation: [4, -3, 2])
        rotOnly = affine(ma).composed(after: rotOnly)
        let centre = try NIfTIReader.read(Self.fixed).geometry.centre
        let points: [SIMD3<Double>] = [centre, centre + SIMD3<Double>(60, 0, 0), centre + SIMD3<Double>(0, 60, 0), centre + SIMD3<Double>(0, 0, 50)]
        for p in points {
            let d = rotOnly.apply(p) - affine(mb).apply(p)
            #expect((d * d).sum().squareRoot() < 1.0, "A_rot ∘ R and A differ by \(d) mm at \(p)")
        }
        #expect(affine(ma).maxDifference(to: affine(mb)) > 0.1, "the rotated header did not change the affine")
    }

    /// The warped labels are ANTs' own: antsApplyTransforms with voxterm's field and affine and
    /// `-n GenericLabel` gives voxterm's default warped_labels.nii.gz, and `-n NearestNeighbor` its
    /// `--label-interpolation nearest` one, voxel for voxel (at most 1 in 10⁴ may differ, for points
    /// within float rounding of a tie); the two interpolations differ on > 0.1 % of the voxels, so
    /// each comparison can fail. summary.json names the interpolation. Fails (never skips) without antspyx.
    @Test func warpedLabelsAreANTsGenericLabelOrNearest() throws {
        let python = try #require(Self.pythonWithANTs, "python3 with ANTsPy is required: pip install antspyx")
        let dir = TestPaths.temporaryDirectory("register-labels")
        let script = TestPaths.packageRoot.appendingPathComponent("Scripts/ants_apply.py").path
        var agreement: [String: [String: Double]] = [:]
        for mode in ["generic", "nearest"] {
            let out = dir.appendingPathComponent(mode)
            var args = ["register", Self.fixed, Self.moving, "--moving-labels", Self.movingLabels, "--out", out.path,
                        "--preset", "fast", "--quiet", "--threads", "2"]
            if mode == "nearest" { args += ["--label-interpolation", "nearest"] }
            let r = try runVoxterm(args)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try Self.summary(out)["label_interpolation"] as? String == mode)
            let p = try runProcess(python, [script, Self.fixed, Self.moving, out.path, "--labels", Self.movingLabels])
            #expect(p.status == 0, "\(p.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(p.stdout.utf8)) as? [String: Any], "\(p.stdout)")
            agreement[mode] = ["generic": try #require(json["labels_generic_agreement"] as? Double),
                               "nearest": try #require(json["labels_nearest_agreement"] as? Double)]
        }
        #expect(agreement["generic"]!["generic"]! >= 0.9999, "\(agreement)")
        #expect(agreement["nearest"]!["nearest"]! >= 0.9999, "\(agreement)")
        #expect(agreement["generic"]!["nearest"]! < 0.999, "GenericLabel and nearest should differ: \(agreement)")
    }

    /// 2-D inputs (one slice, singleton third dimension) register and give a 2-D field.
    @Test func registersTwoDimensionalSlices() throws {
        let dir = TestPaths.temporaryDirectory("register-2d")
        func slice(_ path: String, _ name: String, labels: Bool) throws -> String {
            let img = try NIfTIReader.read(path)
            var g = img.geometry
            g.affine.translation = g.world(ofVoxel: [0, 0, 45])
            let target = VolumeGeometry(size: [g.size.x, g.size.y, 1], affine: g.affine)
            let out = dir.appendingPathComponent(name).path
            if labels { try NIfTIWriter.write(try img.labelVolume().resampled(to: target), to: out) }
            else { try NIfTIWriter.write(try img.volume().resampled(to: target), to: out) }
            return out
        }
        let f = try slice(Self.fixed, "f.nii.gz", labels: false), m = try slice(Self.moving, "m.nii.gz", labels: false)
        let fl = try slice(Self.fixedLabels, "fl.nii.gz", labels: true), ml = try slice(Self.movingLabels, "ml.nii.gz", labels: true)
        let out = dir.appendingPathComponent("out")
        let r = try runVoxterm(["register", f, m, "--out", out.path, "--moving-labels", ml, "--fixed-labels", fl, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let field = try NIfTIReader.read(out.appendingPathComponent("field.nii.gz").path)
        #expect(field.shape == [91, 109, 1, 1, 3])
        let s = try Self.summary(out)
        let identity = VoxtermModel.meanDice(diceScores(prediction: try NIfTIReader.read(ml).labelVolume(),
                                                        truth: try NIfTIReader.read(fl).labelVolume()))
        #expect(try #require(s["mean_dice"] as? Double) > identity + 0.1)
        #expect(s["jacobian_nonpositive_percent"] as? Double == 0)
    }

    /// Bad input: one line on stderr naming the file and the problem, exit status 2, nothing written.
    @Test func badInputIsAOneLineError() throws {
        let dir = TestPaths.temporaryDirectory("register-bad")
        let out = dir.appendingPathComponent("out")
        // Labels on another grid than their image.
        var r = try runVoxterm(["register", Self.fixed, Self.moving, "--out", out.path, "--moving-labels", Self.fixedLabels.replacingOccurrences(of: "subject01_2mm_aal", with: "colin27_1mm_aal")])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("colin27_1mm_aal.nii.gz") && r.stderr.contains("grid"), "\(r.stderr)")
        // NaN voxels.
        var img = try NIfTIReader.read(Self.moving).volume()
        img.voxels[1000] = .nan
        let nanPath = dir.appendingPathComponent("nan.nii.gz").path
        try NIfTIWriter.write(img, to: nanPath)
        r = try runVoxterm(["register", Self.fixed, nanPath, "--out", out.path])
        #expect(r.status == 2 && r.stderr.contains("nan.nii.gz") && r.stderr.contains("NaN"), "\(r.stderr)")
        // A constant image.
        let flatPath = dir.appendingPathComponent("flat.nii.gz").path
        try NIfTIWriter.write(Volume(geometry: img.geometry, repeating: 5), to: flatPath)
        r = try runVoxterm(["register", flatPath, Self.moving, "--out", out.path])
        #expect(r.status == 2 && r.stderr.contains("flat.nii.gz") && r.stderr.contains("constant"), "\(r.stderr)")
        // 2-D against 3-D.
        let slicePath = dir.appendingPathComponent("slice.nii.gz").path
        let clean = try NIfTIReader.read(Self.moving).volume()
        var sliceAffine = clean.geometry.affine
        sliceAffine.translation = clean.geometry.world(ofVoxel: [0, 0, 45])
        try NIfTIWriter.write(clean.resampled(to: VolumeGeometry(size: [91, 109, 1], affine: sliceAffine)), to: slicePath)
        r = try runVoxterm(["register", slicePath, Self.moving, "--out", out.path])
        #expect(r.status == 2 && r.stderr.contains("2-D") && r.stderr.contains("3-D"), "\(r.stderr)")
        // Missing file; malformed level lists.
        r = try runVoxterm(["register", dir.appendingPathComponent("none.nii.gz").path, Self.moving, "--out", out.path])
        #expect(r.status == 2 && r.stderr.contains("none.nii.gz"))
        r = try runVoxterm(["register", Self.fixed, Self.moving, "--out", out.path, "--levels", "4x2", "--iterations", "10x10x10"])
        #expect(r.status != 0 && r.stderr.contains("same number of levels"), "\(r.stderr)")
        #expect(Self.files(in: out).isEmpty)
        // An output that would replace an input is refused before anything is written.
        let inside = out.appendingPathComponent("warped.nii.gz")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.moving, toPath: inside.path)
        r = try runVoxterm(["register", Self.fixed, inside.path, "--out", out.path, "--preset", "fast", "--mode", "affine"])
        #expect(r.status == 3 && r.stderr.contains("refusing to overwrite an input"), "\(r.stderr)")
        #expect(Self.files(in: out) == ["warped.nii.gz"])
    }

    /// Ctrl-C while it runs: exit 130 within a second, nothing written.
    @Test func sigintStopsCleanly() throws {
        let dir = TestPaths.temporaryDirectory("register-int")
        let out = dir.appendingPathComponent("out")
        let p = Process()
        p.executableURL = TestPaths.voxtermBinary
        p.arguments = ["register", Self.fixed, Self.moving, "--out", out.path, "--preset", "accurate", "--moving-labels", Self.movingLabels]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Wait for the progress line, then interrupt.
        var seen = Data()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
            if String(decoding: seen, as: UTF8.self).contains("iteration") { break }
        }
        #expect(p.isRunning, "finished before the signal: the test did not interrupt anything")
        let t0 = Date()
        p.interrupt()
        let rest = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let seconds = Date().timeIntervalSince(t0)
        let text = String(decoding: seen + rest, as: UTF8.self)
        #expect(seconds < 1.0, "took \(seconds) s from SIGINT to exit")
        #expect(p.terminationStatus == 130, "\(text)")
        #expect(text.contains("interrupted; nothing was written"))
        // Nothing at all: no output, no temporary file (hidden ones included), nothing beside DIR.
        #expect(Self.files(in: out).isEmpty, "\(Self.files(in: out))")
        #expect(Self.files(in: dir).isEmpty, "DIR is created only with the complete set: \(Self.files(in: dir))")
        try? FileManager.default.removeItem(at: dir)
    }
}
