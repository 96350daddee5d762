import Foundation
import Testing
import TestSupport
import VoxtermModel

/// The rows of docs/bad-inputs.md not covered elsewhere, through the built binary: each bad
/// manifest, transform file and label table gets its exact one-line message, exit status 2, and
/// no output; a full standard output and a file given as a folder are errors too.
@Suite struct BadInputCatalogueTests {
    static let samples = TestPaths.samples
    static let image2mm = samples.appendingPathComponent("colin27_2mm.nii.gz").path
    static let labels2mm = samples.appendingPathComponent("colin27_2mm_aal.nii.gz").path
    static let labels1mm = samples.appendingPathComponent("colin27_1mm_aal.nii.gz").path

    /// Runs voxterm in `dir` (so messages name files as given, relative).
    static func run(_ args: [String], in dir: URL) throws -> ProcessResult {
        try runProcess(TestPaths.voxtermBinary.path, args, currentDirectory: dir)
    }

    static func expectOneLine(_ r: ProcessResult, status: Int32 = 2, _ message: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr == "voxterm: error: \(message)\n", sourceLocation: sourceLocation)
    }

    // MARK: Support-set manifests (voxterm segment --support-set)

    static let manifestHead = #""format": "voxterm-support-set", "version": 1"#
    static func example(_ image: String = "a.nii.gz", _ labels: String = "a_l.nii.gz", slices: String? = nil) -> String {
        "{\"image\": \"\(image)\", \"labels\": \"\(labels)\"" + (slices.map { ", \"slices\": \($0)" } ?? "") + "}"
    }

    /// Manifest text and the message after `NAME.json: `.
    static let manifests: [(String, String)] = [
        (#"{"format":"#, "not a voxterm support-set manifest (invalid JSON)"),
        (#"{"format": "x", "version": 1, "examples": []}"#, #"format is "x", expected "voxterm-support-set""#),
        (#"{"format": "voxterm-support-set", "version": 3, "examples": []}"#, "version 3 is not supported (this voxterm reads version 1)"),
        ("{\(manifestHead)}", #"not a voxterm support-set manifest (missing field "examples")"#),
        ("{\(manifestHead), \"examples\": [{\"image\": \"a.nii.gz\"}]}", #"not a voxterm support-set manifest (missing field "labels")"#),
        ("{\(manifestHead), \"examples\": []}", "lists no examples; add at least one image with its labels"),
        ("{\(manifestHead), \"examples\": [\(example(""))]}", "example 1: image path is empty"),
        ("{\(manifestHead), \"examples\": [\(example("missing.nii.gz"))]}", "example 1: missing.nii.gz: no such file or directory"),
        ("{\(manifestHead), \"examples\": [\(example("a.nii.gz", "b_l.nii.gz"))]}", "example 1: labels b_l.nii.gz are not on the grid of image a.nii.gz"),
        ("{\(manifestHead), \"examples\": [\(example()), \(example())]}", "example 2 repeats an earlier example (a.nii.gz)"),
        ("{\(manifestHead), \"examples\": [\(example(slices: #"{"plane": "axial", "indices": [200]}"#))]}", "example 1: axial slice 200 is outside 0..<91"),
        ("{\(manifestHead), \"examples\": [\(example(slices: #"{"plane": "axial", "indices": [-3]}"#))]}", "example 1: axial slice -3 is negative"),
    ]

    @Test(arguments: manifests.indices) func manifestProblems(_ i: Int) throws {
        let dir = TestPaths.temporaryDirectory("catalogue-manifest")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (from, to) in [(Self.image2mm, "a.nii.gz"), (Self.labels2mm, "a_l.nii.gz"), (Self.labels1mm, "b_l.nii.gz")] {
            try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent(to).path, withDestinationPath: from)
        }
        try Data(Self.manifests[i].0.utf8).write(to: dir.appendingPathComponent("m.json"))
        let r = try Self.run(["segment", "a.nii.gz", "--support-set", "m.json", "--out", "p.nii.gz", "--quiet", "--preset", "fast"], in: dir)
        Self.expectOneLine(r, "m.json: \(Self.manifests[i].1)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("p.nii.gz").path))
    }

    // MARK: Transform files (voxterm info FILE.tfm, voxterm register --initial-affine)

    /// Transform file text and the message after `t.tfm: `.
    static let transforms: [(String, String)] = [
        ("hello\n", ##"not an ITK transform file (the first line must be "#Insight Transform File V1.0")"##),
        ("\u{0}MATLAB 5.0", "not an ITK transform text file (binary; convert a MATLAB .mat transform with ANTs: ConvertTransformFile 3 IN.mat OUT.txt)"),
        ("#Insight Transform File V1.0\n", "no Transform line"),
        ("#Insight Transform File V1.0\nTransform: BSplineTransform_double_3_3\n",
         #"line 2: transform type "BSplineTransform_double_3_3" is not supported (voxterm reads AffineTransform, MatrixOffsetTransformBase, TranslationTransform, IdentityTransform)"#),
        ("#Insight Transform File V1.0\nTransform: AffineTransform_double_3_3\nParameters: 1 0 0 0 1 0 0 0 1\n",
         "line 2: AffineTransform needs 12 Parameters (9 matrix, 3 translation), the file gives 9"),
        ("#Insight Transform File V1.0\nTransform: AffineTransform_double_3_3\nParameters: 1 0 0 0 1 0 0 0 1 0 0 inf\n",
         #"line 3: Parameters value "inf" is not a finite number"#),
        ("#Insight Transform File V1.0\nTransform: AffineTransform_double_3_3\nParameters: 1 0 0 0 1 0 0 0 0 0 0 0\n",
         "line 2: the matrix is singular or not finite (determinant 0.0); it cannot map one image onto another"),
        (String(repeating: "#Insight Transform File V1.0\nTransform: AffineTransform_double_3_3\nParameters: 1 0 0 0 1 0 0 0 1 0 0 0\n", count: 2),
         "holds 2 transforms; voxterm reads a single affine"),
        (String(repeating: " ", count: 2 << 20), "file is 2097152 bytes, more than the limit of 1048576"),
    ]

    @Test(arguments: transforms.indices) func transformFileProblems(_ i: Int) throws {
        let dir = TestPaths.temporaryDirectory("catalogue-tfm")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(Self.transforms[i].0.utf8).write(to: dir.appendingPathComponent("t.tfm"))
        Self.expectOneLine(try Self.run(["info", "t.tfm"], in: dir), "t.tfm: \(Self.transforms[i].1)")
        let r = try Self.run(["register", Self.image2mm, Self.image2mm, "--out", "out", "--initial-affine", "t.tfm", "--quiet"], in: dir)
        Self.expectOneLine(r, "t.tfm: \(Self.transforms[i].1)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }

    @Test func initialAffineIsUsedAndRecorded() throws {
        let dir = TestPaths.temporaryDirectory("catalogue-initial")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A small phantom pair keeps the debug build fast.
        let g = VolumeGeometry(size: [20, 18, 16], spacing: [2, 2, 2], origin: [-19, -17, -15])
        var fixed = Volume(geometry: g, repeating: 0), moving = Volume(geometry: g, repeating: 0)
        for k in 0..<16 { for j in 0..<18 { for i in 0..<20 {
            let p = g.world(ofVoxel: SIMD3(Double(i), Double(j), Double(k)))
            fixed.voxels[g.index(i, j, k)] = Float(max(0, 1 - (p * p).sum() / 200))
            let q = p - SIMD3(3, -2, 1)
            moving.voxels[g.index(i, j, k)] = Float(max(0, 1 - (q * q).sum() / 200))
        } } }
        try NIfTIWriter.write(fixed, to: dir.appendingPathComponent("f.nii.gz").path)
        try NIfTIWriter.write(moving, to: dir.appendingPathComponent("m.nii.gz").path)
        let tfm = "#Insight Transform File V1.0\n#Transform 0\nTransform: TranslationTransform_double_3\nParameters: -3 2 1\n"
        try Data(tfm.utf8).write(to: dir.appendingPathComponent("t.tfm"))
        // No iterations: the result is exactly the initial affine (RAS translation (3, -2, 1)).
        let r = try Self.run(["register", "f.nii.gz", "m.nii.gz", "--out", "out", "--initial-affine", "t.tfm", "--mode", "affine",
                              "--levels", "2", "--iterations", "0", "--quiet"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let written = try ITKTransformFile.read(dir.appendingPathComponent("out/affine_itk.tfm").path)
        #expect(written.translation == SIMD3(3, -2, 1))
        let summary = try String(contentsOf: dir.appendingPathComponent("out/summary.json"), encoding: .utf8)
        #expect(summary.contains("\"initial_affine\" : \"t.tfm\""))
        let info = try Self.run(["info", "out/affine_itk.tfm"], in: dir)
        #expect(info.status == 0 && info.stdout.contains("fixed world -> moving world, RAS mm"), "\(info.stdout)")
        // The initial transform is an input: writing the results over it is refused.
        let over = try Self.run(["register", "f.nii.gz", "m.nii.gz", "--out", "out", "--initial-affine", "out/affine_itk.tfm",
                                 "--mode", "affine", "--levels", "2", "--iterations", "0", "--quiet"], in: dir)
        #expect(over.status == 3 && over.stderr.contains("refusing to overwrite an input"), "\(over.stderr)")
    }

    // MARK: Label tables (voxterm export --lut)

    /// Label table bytes and the message after `t.txt: `.
    static let labelTables: [([UInt8], String)] = [
        ([], "no label lines found"),
        (Array("# only comments\n\n".utf8), "no label lines found"),
        (Array("1 Precentral_L 2001\n".utf8) + [0xff, 0xfe, 0x20, 0x32, 0x0a], "not a text label table (invalid UTF-8) nor a 768-byte mricron .lut"),
        (Array("1 Precentral_L\nPrecentral_R 2\n".utf8), "line 2: expected `index name [code]` (read as index-name)"),
        (Array("99999999999 Big 1\n".utf8), "line 1: expected `index name [code]` (read as index-name)"),
        (Array("0 0 0 0 0 0 0 \"Clear Label\"\n1 255 0 \"Left\"\n".utf8), "line 2: expected IDX R G B A VIS MSH \"LABEL\" (read as itk-snap)"),
    ]

    @Test(arguments: labelTables.indices) func labelTableProblems(_ i: Int) throws {
        let dir = TestPaths.temporaryDirectory("catalogue-lut")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(Self.labelTables[i].0).write(to: dir.appendingPathComponent("t.txt"))
        let r = try Self.run(["export", Self.image2mm, "-o", "x.png", "--labels", Self.labels2mm, "--lut", "t.txt"], in: dir)
        Self.expectOneLine(r, "t.txt: \(Self.labelTables[i].1)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.png").path))
    }

    // MARK: Outputs

    @Test func fullStandardOutputIsAnError() throws {
        let r = try runProcess("/bin/sh", ["-c", "exec \"$0\" info \"$1\" > /dev/full", TestPaths.voxtermBinary.path, Self.image2mm])
        Self.expectOneLine(r, status: 3, "standard output: cannot write: no space left on device")
    }

    @Test func registerOutMustBeAFolder() throws {
        let r = try runVoxterm(["register", Self.image2mm, Self.image2mm, "--out", "/dev/full", "--quiet"])
        Self.expectOneLine(r, status: 3, "/dev/full: exists and is not a folder; --out names a folder")
    }

    /// `--out .` (or a folder holding the current one) is refused before the registration: it
    /// used to fail only after it (`.: cannot replace its contents: Device or resource busy`).
    @Test func registerOutIsNotTheCurrentFolder() throws {
        for out in [".", "./", ".."] {
            let t0 = Date()
            let r = try runVoxterm(["register", Self.image2mm, Self.image2mm, "--out", out, "--quiet"])
            Self.expectOneLine(r, status: 3, "\(out): is the current folder (or holds it); voxterm replaces an output folder whole: name a new folder, e.g. --out results")
            #expect(Date().timeIntervalSince(t0) < 3, "refused only after the work")
        }
    }
}
