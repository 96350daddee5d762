import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `voxterm info` run as a built binary: JSON checked against nibabel, and bad input giving one
/// line on stderr and exit status 2.
@Suite("voxterm info")
struct InfoCLITests {
    static let fixtures = TestPaths.packageRoot.appendingPathComponent("Tests/NIfTITests/Fixtures")

    static let nibabelScript = """
    import json, sys
    import numpy as np, nibabel as nib
    out = []
    for p in sys.argv[1:]:
        img = nib.load(p)
        fm = img.file_map.get('header', img.file_map['image'])
        with nib.openers.ImageOpener(fm.filename) as f:
            h = img.header_class.from_fileobj(f)
        d = img.get_fdata(dtype=np.float64)
        s, i = img.dataobj.slope, img.dataobj.inter
        dt = np.dtype(h.get_data_dtype())
        labels = None
        if dt.kind in 'iu' and s == 1 and i == 0 and not (d.ndim == 5 and d.shape[3] == 1):
            u = np.unique(d[d != 0])
            labels = int(u.size) if u.size <= 1000 else None
        out.append(dict(shape=list(img.shape), datatype=dt.name, version=2 if isinstance(h, nib.Nifti2Header) else 1,
            byte_order='big-endian' if h.endianness == '>' else 'little-endian',
            voxel_size=[float(z) for z in h['pixdim'][1:len(img.shape) + 1]],
            qform_code=int(h['qform_code']), sform_code=int(h['sform_code']), intent_code=int(h['intent_code']),
            scaled=not (s == 1 and i == 0),
            affine=img.affine.tolist(), orientation=''.join(nib.aff2axcodes(img.affine)),
            min=float(d.min()), max=float(d.max()), mean=float(d.mean()), labels=labels))
    print(json.dumps(out))
    """

    struct Nibabel: Decodable {
        var shape: [Int]; var datatype: String; var version: Int; var byte_order: String; var voxel_size: [Double]
        var qform_code: Int; var sform_code: Int; var intent_code: Int; var scaled: Bool
        var affine: [[Double]]; var orientation: String; var min: Double; var max: Double; var mean: Double
        var labels: Int?
    }

    static func close(_ a: Double, _ b: Double, scale: Double) -> Bool { abs(a - b) <= Swift.max(abs(scale), 1) * 4e-7 }

    @Test("info --json agrees with nibabel on shape, datatype, codes, affine, orientation, statistics and labels")
    func jsonAgreesWithNibabel() throws {
        var files = ["las.nii", "oblique.nii.gz", "scaled_int16.nii", "pair_gz_float32_be.hdr.gz", "nifti2_be.nii.gz",
                     "vec5d_float32.nii.gz", "no_orientation.nii", "dim2_int16.nii", "qform_only_qfac_neg.nii",
                     "dt_uint8_be.nii"].map { Self.fixtures.appendingPathComponent($0).path }
        let aal = TestPaths.mricronTemplates.appendingPathComponent("aal.nii.gz").path
        if FileManager.default.fileExists(atPath: aal) { files.append(aal) } // 116 labels
        else { Issue.record("mricron-data is not installed (\(aal) missing): apt-get install mricron-data") }

        guard let python = pythonWithNibabel else {
            Issue.record("python3 with nibabel is required and was not found (pip install nibabel numpy)")
            return
        }
        let py = try runProcess(python, ["-c", Self.nibabelScript] + files)
        try #require(py.status == 0, "nibabel failed: \(py.stderr)")
        let expected = try JSONDecoder().decode([Nibabel].self, from: Data(py.stdout.utf8))

        let r = try runVoxterm(["info", "--json"] + files)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.isEmpty)
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(reports.count == files.count)
        for (file, (report, e)) in zip(files, zip(reports, expected)) {
            let name = (file as NSString).lastPathComponent
            #expect(report["file"] as? String == file)
            #expect(report["shape"] as? [Int] == e.shape, "\(name)")
            #expect(report["datatype"] as? String == e.datatype, "\(name)")
            #expect(report["format"] as? String == "NIfTI-\(e.version)", "\(name)")
            #expect(report["byte_order"] as? String == e.byte_order, "\(name)")
            // Foundation's JSON number output is good to ~1e-15, not always the shortest round-trip form.
            let zooms = report["voxel_size"] as? [Double] ?? []
            #expect(zooms.count == e.voxel_size.count && zip(zooms, e.voxel_size).allSatisfy { abs($0 - $1) <= 1e-12 },
                    "\(name): voxel_size \(zooms), nibabel \(e.voxel_size)")
            #expect(report["qform_code"] as? Int == e.qform_code, "\(name)")
            #expect(report["sform_code"] as? Int == e.sform_code, "\(name)")
            #expect(report["intent_code"] as? Int == e.intent_code, "\(name)")
            #expect(report["scaling_applied"] as? Bool == e.scaled, "\(name)")
            #expect(report["orientation"] as? String == e.orientation, "\(name)")
            #expect(report["affine_source"] as? String == (e.sform_code > 0 ? "sform" : e.qform_code > 0 ? "qform" : "pixdim"))
            let affine = try #require(report["affine"] as? [[Double]])
            for r in 0..<4 { for c in 0..<4 { #expect(abs(affine[r][c] - e.affine[r][c]) <= 1e-5, "\(name) affine[\(r)][\(c)]") } }
            let scale = Swift.max(abs(e.min), abs(e.max))
            for (key, value) in [("min", e.min), ("max", e.max), ("mean", e.mean)] {
                let got = try #require(report[key] as? Double, "\(name): \(key) missing")
                #expect(Self.close(got, value, scale: scale), "\(name): \(key) \(got), nibabel \(value)")
            }
            #expect(report["labels"] as? Int == e.labels, "\(name): labels \(String(describing: report["labels"])), nibabel \(String(describing: e.labels))")
            #expect((report["vector_field"] as? Bool ?? false) == name.hasPrefix("vec5d"), "\(name)")
            let warnings = try #require(report["warnings"] as? [String])
            #expect(warnings.contains { $0.hasPrefix("qform_code/sform_code") } == (e.qform_code == 0 && e.sform_code == 0), "\(name): \(warnings)")
        }
    }

    @Test("info prints a text report with dimensions, datatype, orientation and affine source")
    func textReport() throws {
        let file = Self.fixtures.appendingPathComponent("scaled_int16.nii").path
        let r = try runVoxterm(["info", file])
        #expect(r.status == 0)
        #expect(r.stdout.contains("5 x 4 x 3"))
        #expect(r.stdout.contains("int16"))
        #expect(r.stdout.contains("slope 2.5, intercept -10"))
        #expect(r.stdout.contains("RAS"))
        #expect(r.stdout.contains("from sform"))
    }

    @Test("each broken file: exit status 2, exactly one line on stderr naming the file, no crash",
          arguments: BadNIfTI.allCases)
    func badInput(_ bad: BadNIfTI) throws {
        let dir = TestPaths.temporaryDirectory("cli-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (path, named) = try bad.make(in: dir)
        let r: ProcessResult
        if bad.claimsHugeVolume {
            // Under a 300 MB address-space limit: allocating the claimed 400+ MB (even
            // untouched) would abort the process instead of giving the one-line error.
            r = try runProcess("/bin/sh", ["-c", "ulimit -v 300000 && exec \"$0\" info \"$1\"",
                                           TestPaths.voxtermBinary.path, path])
        } else {
            r = try runVoxterm(["info", path])
        }
        Self.expectOneLineError(r, named: named, reason: bad.expectedReason, "\(bad)")
    }

    @Test("an unreadable file: 'permission denied' (as root, with DAC capabilities dropped by setpriv)")
    func unreadable() throws {
        let dir = TestPaths.temporaryDirectory("cli-unreadable")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("unreadable.nii").path
        try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent("las.nii").path, toPath: path)
        chmod(path, 0)
        defer { chmod(path, 0o644) }
        // Root reads mode-000 files through CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH: run without them.
        guard let r = try runVoxtermHonouringFileModes(["info", path]) else {
            Issue.record("running as root and setpriv (util-linux) is missing: cannot make a file unreadable")
            return
        }
        Self.expectOneLineError(r, named: path, reason: "permission denied", "unreadable")
    }

    @Test("good and bad files together: reports for the good ones, one line per bad one, exit status 2")
    func mixed() throws {
        let dir = TestPaths.temporaryDirectory("cli-mixed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = Self.fixtures.appendingPathComponent("las.nii").path
        let (bad, _) = try BadNIfTI.truncatedData.make(in: dir)
        let (missing, _) = try BadNIfTI.missing.make(in: dir)
        let r = try runVoxterm(["info", good, bad, missing])
        #expect(r.status == 2)
        #expect(r.stdout.contains("LAS"))
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 2, "\(r.stderr)")
        let j = try runVoxterm(["info", "--json", good, missing])
        #expect(j.status == 2)
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [[String: Any]])
        #expect(reports.count == 2)
        #expect((reports[1]["error"] as? String)?.contains("no such file or directory") == true)
    }

    static func expectOneLineError(_ r: ProcessResult, named: String, reason: String, _ what: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, "\(what): exit status \(r.status), stderr: \(r.stderr.prefix(500))", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, "\(what): stdout \(r.stdout.prefix(200))", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "\(what): stderr is not one line: \(r.stderr.prefix(500))",
                sourceLocation: sourceLocation)
        let line = String(lines.first ?? "")
        #expect(line.hasPrefix("voxterm: error: \(named): "), "\(what): \(line)", sourceLocation: sourceLocation)
        #expect(line.contains(reason), "\(what): \"\(line)\" lacks \"\(reason)\"", sourceLocation: sourceLocation)
    }
}
