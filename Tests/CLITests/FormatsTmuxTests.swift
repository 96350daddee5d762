import Foundation
import Testing
import TestSupport
import VoxtermModel

/// The workbench on an MGZ written by nibabel and on a DICOM folder of two series (issue 19):
/// the status bar's voxel value and world position agree with nibabel (and dcm2niix + nibabel
/// for DICOM); a folder of several series opens the first, lists them, and `:open image FOLDER@2`
/// opens the second. Expected values come from the reference readers, never from a saved screen.
@Suite(.serialized, .enabled(if: TmuxSession.executable != nil && pythonWithNibabel != nil, "needs tmux and python3 with nibabel"))
struct FormatsTmuxTests {
    /// nibabel's value and world position (RAS mm) of voxel `v` of `path`, as "value x y z".
    static func nibabel(_ py: String, _ path: String, _ v: SIMD3<Int>) throws -> (value: Double, world: SIMD3<Double>) {
        let r = try runProcess(py, ["-c", """
            import sys, numpy as np, nibabel as nib
            img = nib.load(sys.argv[1]); d = np.asarray(img.dataobj, dtype=np.float64)
            while d.ndim > 3: d = d[..., 0]
            v = [int(x) for x in sys.argv[2:5]]; w = img.affine @ np.array(v + [1.0])
            print(d[v[0], v[1], v[2]], w[0], w[1], w[2])
            """, path, "\(v.x)", "\(v.y)", "\(v.z)"])
        let f = r.stdout.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(f.count == 4, "nibabel: \(r.stdout) \(r.stderr)")
        return (f[0], SIMD3(f[1], f[2], f[3]))
    }

    static func expectAgrees(_ status: StatusBar, _ ref: (value: Double, world: SIMD3<Double>), _ what: String) {
        #expect(abs((status.value ?? .nan) - ref.value) <= 1e-3 * max(1, abs(ref.value)), "\(what): status \(status), nibabel \(ref.value)")
        // The status bar shows mm with one decimal.
        #expect(abs(status.world.x - ref.world.x) <= 0.051 && abs(status.world.y - ref.world.y) <= 0.051
                && abs(status.world.z - ref.world.z) <= 0.051, "\(what): status \(status.world), nibabel \(ref.world)")
    }

    @Test func mgzFromNibabel() throws {
        let py = try #require(pythonWithNibabel)
        let dir = TestPaths.temporaryDirectory("tmux-mgz")
        defer { try? FileManager.default.removeItem(at: dir) }
        let mgz = dir.appendingPathComponent("colin.mgz").path
        let w = try runProcess(py, ["-c", """
            import sys, numpy as np, nibabel as nib
            img = nib.load(sys.argv[1])
            nib.save(nib.MGHImage(np.asarray(img.dataobj, dtype=np.float32), img.affine), sys.argv[2])
            """, Workbench.image, mgz])
        try #require(w.status == 0, "\(w.stderr)")
        let cmd = [Workbench.binary, "view", mgz].map(TmuxSession.quote).joined(separator: " ")
        let t = try TmuxSession(cmd, width: 140, height: 45, environment: Workbench.utf8)
        defer { t.close() }
        let screen = try t.waitForSettled { $0.contains("colin.mgz") && StatusBar(screen: $0) != nil }
        #expect(screen.contains("colin.mgz  91×109×91  2×2×2 mm"), "\(screen)")
        var status = try #require(StatusBar(screen: screen))
        Self.expectAgrees(status, try Self.nibabel(py, mgz, status.voxel), "MGZ at the start")
        for _ in 0..<7 { try t.send("l") }
        for _ in 0..<5 { try t.send("]") }
        status = try t.waitForStatus { $0.voxel != status.voxel && $0.slice == status.slice + 5 }
        Self.expectAgrees(status, try Self.nibabel(py, mgz, status.voxel), "MGZ after moving")
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }

    @Test func dicomFolderOfTwoSeries() throws {
        let py = try #require(pythonWithNibabel)
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/dcm2niix"), "dcm2niix is required (Scripts/install-deps.sh)")
        let r0 = try runProcess(py, ["-c", "import pydicom, os; print(os.path.dirname(pydicom.__file__))"])
        try #require(r0.status == 0, "python3 with pydicom is required (Scripts/install-deps.sh --test)")
        let testFiles = r0.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "/data/test_files"
        let root = TestPaths.temporaryDirectory("tmux-dicom")
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = root.appendingPathComponent("dcm")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for f in ["CT_small.dcm", "MR_small.dcm"] {
            try FileManager.default.copyItem(atPath: testFiles + "/" + f, toPath: dir.appendingPathComponent(f).path)
        }
        // The reference: dcm2niix + nibabel, one NIfTI per series named by its series number.
        let ref = root.appendingPathComponent("ref")
        try FileManager.default.createDirectory(at: ref, withIntermediateDirectories: true)
        #expect(try runProcess("/usr/bin/dcm2niix", ["-z", "n", "-f", "%s", "-o", ref.path, dir.path]).status == 0)
        // voxterm's listing (info FOLDER): which series is 1 and which 2.
        let info = try runVoxterm(["info", dir.path, "--json"])
        #expect(info.status == 0, "\(info.stderr)")
        let listing = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        let series = try #require(listing["series"] as? [[String: Any]])
        #expect(series.count == 2)
        let shapes = series.map { ($0["shape"] as? [Int]) ?? [] }
        #expect(shapes[0] != shapes[1], "the two test series differ in size: \(shapes)")
        // Both series have series number 1 (dcm2niix names them 1.nii and 1a.nii): matched by shape.
        let refs = try FileManager.default.contentsOfDirectory(atPath: ref.path).filter { $0.hasSuffix(".nii") }
            .map { ref.appendingPathComponent($0).path }
        func refPath(_ i: Int) throws -> String {
            try #require(refs.first { (try? NIfTIReader.readHeader($0).shape) == shapes[i] }, "no dcm2niix output of shape \(shapes[i])")
        }

        let cmd = [Workbench.binary, "view", dir.path].map(TmuxSession.quote).joined(separator: " ")
        let t = try TmuxSession(cmd, width: 200, height: 50, environment: Workbench.utf8)
        defer { t.close() }
        func dims(_ s: [Int]) -> String { "\(s[0])×\(s[1])×\(s.count > 2 ? s[2] : 1)" }
        var screen = try t.waitForSettled { $0.contains("dcm@1  \(dims(shapes[0]))") && StatusBar(screen: $0) != nil }
        // The message names the series and how to open another (a long path is shortened on screen).
        #expect(screen.contains("DICOM folder with 2 series, showing 1; :open image"), "\(screen)")
        var status = try #require(StatusBar(screen: screen))
        Self.expectAgrees(status, try Self.nibabel(py, try refPath(0), status.voxel), "DICOM series 1")
        try t.send(":")
        try t.send("open image \(dir.path)@2", literal: true)
        try t.send("Enter")
        screen = try t.waitForSettled { $0.contains("dcm@2  \(dims(shapes[1]))") && StatusBar(screen: $0) != nil }
        status = try #require(StatusBar(screen: screen))
        Self.expectAgrees(status, try Self.nibabel(py, try refPath(1), status.voxel), "DICOM series 2")
        try t.send("q")
        #expect(try t.exitStatus() == 0)
        // Nothing was written beside the DICOM files.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["CT_small.dcm", "MR_small.dcm"])
    }
}
