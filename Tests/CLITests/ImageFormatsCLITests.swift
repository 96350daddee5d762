import Foundation
import TestSupport
import Testing
import VoxtermModel

/// Every command reads MGH, NRRD, MetaImage and DICOM through one entry; `convert` writes them;
/// other files say what they are (exit 2).
@Suite("Image formats through the binary")
struct ImageFormatsCLITests {
    static let sample = TestPaths.samples.appendingPathComponent("colin27_2mm.nii.gz").path
    static let labels = TestPaths.samples.appendingPathComponent("colin27_2mm_aal.nii.gz").path

    @Test("convert NIfTI -> MGZ/NRRD/MHA -> NIfTI keeps geometry and values; info and export read them")
    func roundTrip() throws {
        let dir = TestPaths.temporaryDirectory("voxterm-formats")
        defer { try? FileManager.default.removeItem(at: dir) }
        let original = try NIfTIReader.read(Self.sample).volume()
        let originalLabels = try NIfTIReader.read(Self.labels).labelVolume()
        for ext in ["mgz", "nrrd", "mha", "nhdr", "mhd", "mgh"] {
            // One stem per format: c.nhdr and c.mhd would share their data file c.raw (refused since issue 13).
            let mid = dir.appendingPathComponent(ext == "nhdr" || ext == "mhd" ? "c_\(ext)_header.\(ext)" : "c.\(ext)").path
            let back = dir.appendingPathComponent("c_\(ext).nii.gz").path
            var r = try runVoxterm(["convert", Self.sample, mid])
            #expect(r.status == 0, "\(ext): \(r.stderr)")
            r = try runVoxterm(["convert", mid, back])
            #expect(r.status == 0, "\(ext): \(r.stderr)")
            let v = try NIfTIReader.read(back).volume()
            #expect(v.geometry.affine.maxDifference(to: original.geometry.affine) < 1e-5, "\(ext)")
            #expect(v.voxels == original.voxels, "\(ext)")
            r = try runVoxterm(["info", mid, "--json"])
            #expect(r.status == 0 && r.stdout.contains("\"storage\" : \"\(ext)\""), "\(ext): \(r.stdout.prefix(300)) \(r.stderr)")
        }
        // Labels as MGZ (FreeSurfer's aseg.mgz style), used as --labels of export.
        let mgzLabels = dir.appendingPathComponent("aal.mgz").path
        var r = try runVoxterm(["convert", Self.labels, mgzLabels, "--labels"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try ImageFile.read(mgzLabels).labelVolume().labels == originalLabels.labels)
        let png = dir.appendingPathComponent("x.png").path
        // Two detached headers cannot share one data file: the second is refused before it writes.
        let clash = try runVoxterm(["convert", Self.sample, dir.appendingPathComponent("c_nhdr_header.mhd").path])
        #expect(clash.status == 3 && clash.stderr.contains("c_nhdr_header.raw: already exists"), "\(clash.stderr)")
        #expect(try NIfTIReader.read(Self.sample).volume().voxels == (try ImageFile.read(dir.appendingPathComponent("c_nhdr_header.nhdr").path).volume().voxels))
        r = try runVoxterm(["export", dir.appendingPathComponent("c.nrrd").path, "-o", png, "--labels", mgzLabels,
                            "--lut", TestPaths.samples.appendingPathComponent("aal.txt").path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: png))
        // A PNG given as an image: one line saying what it is, exit 2.
        r = try runVoxterm(["info", png])
        #expect(r.status == 2)
        #expect(r.stderr == "voxterm: error: \(png): PNG is not a volume format\n")
        r = try runVoxterm(["convert", png, dir.appendingPathComponent("y.nii").path])
        #expect(r.status == 2 && r.stderr.hasSuffix("PNG is not a volume format\n"), "\(r.stderr)")
    }

    @Test("DICOM: a folder of two series is listed; FOLDER@N opens one; without dcm2niix one line says how to install it")
    func dicom() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/dcm2niix"), "dcm2niix is required (Scripts/install-deps.sh)")
        guard let python = pythonWithNibabel,
              let r0 = try? runProcess(python, ["-c", "import pydicom, os; print(os.path.dirname(pydicom.__file__))"]), r0.status == 0 else {
            Issue.record("python3 with pydicom is required (Scripts/install-deps.sh --test)")
            return
        }
        let testFiles = r0.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "/data/test_files"
        let dir = TestPaths.temporaryDirectory("voxterm-dicom")
        defer { try? FileManager.default.removeItem(at: dir) }
        for f in ["CT_small.dcm", "MR_small.dcm"] {
            try FileManager.default.copyItem(atPath: testFiles + "/" + f, toPath: dir.appendingPathComponent(f).path)
        }
        // info FOLDER lists the series (no patient data) and says how to open one.
        var r = try runVoxterm(["info", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("\(dir.path): DICOM folder with 2 series (open one as \(dir.path)@N, or convert --series N)\n  1: series "), "\(r.stdout)")
        #expect(r.stdout.contains("\n  2: series "), "\(r.stdout)")
        #expect(!r.stdout.contains("CompressedSamples") && !r.stdout.contains("^"), "a patient name was printed: \(r.stdout)")
        // Commands that need one image: one line listing the series, exit 2.
        r = try runVoxterm(["convert", dir.path, dir.appendingPathComponent("x.nii.gz").path])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("voxterm: error: \(dir.path): holds 2 DICOM series; open one as \(dir.path)@N: 1: series "), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        r = try runVoxterm(["info", dir.path + "@2", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"format\" : \"DICOM\""), "\(r.stdout.prefix(400))")
        let out = dir.appendingPathComponent("out").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        r = try runVoxterm(["convert", dir.path + "@1", out + "/s1.nii.gz"])
        #expect(r.status == 0, "\(r.stderr)")
        // convert --series N is FOLDER@N: the same voxels and geometry.
        r = try runVoxterm(["convert", dir.path, out + "/s2.nii.gz", "--series", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try runVoxterm(["convert", dir.path + "@2", out + "/s2b.nii.gz"])
        #expect(r.status == 0, "\(r.stderr)")
        let a = try NIfTIReader.read(out + "/s2.nii.gz"), b = try NIfTIReader.read(out + "/s2b.nii.gz")
        #expect(a.shape == b.shape && a.floatValues() == b.floatValues() && a.affine.affine.maxDifference(to: b.affine.affine) == 0)
        #expect(try NIfTIReader.read(out + "/s1.nii.gz").shape != a.shape, "series 1 and 2 differ in size")
        r = try runVoxterm(["convert", dir.path, out + "/s3.nii.gz", "--series", "3"])
        #expect(r.status == 2 && r.stderr.contains("series 3 requested, the folder holds 2"), "\(r.stderr)")
        r = try runVoxterm(["convert", Workbench.image, out + "/s4.nii.gz", "--series", "1"])
        #expect(r.status == 64 && r.stderr.contains("is not a DICOM folder"), "\(r.stderr)")
        // One line, as every error (a refusal with the usage status once printed a second, empty one).
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        r = try runVoxterm(["convert", Workbench.image, out + "/s5.nii.gz", "--frame", "3"])
        // A value that does not fit this image: exit 2, as export/stats --volume (README, docs/bad-inputs.md).
        #expect(r.status == 2 && r.stderr.contains("--frame 3:") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["CT_small.dcm", "MR_small.dcm", "out"])
        // A single file of a series opens its folder.
        r = try runVoxterm(["info", dir.appendingPathComponent("CT_small.dcm").path + "@1"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try runVoxterm(["info", dir.path], environment: ["PATH": "/nonexistent"])
        #expect(r.status == 2)
        #expect(r.stderr == "voxterm: error: \(dir.path): reading DICOM needs dcm2niix, which is not installed: apt-get install dcm2niix\n")
    }
}
