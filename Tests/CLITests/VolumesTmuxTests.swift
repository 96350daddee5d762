import Foundation
import Testing
import TestSupport

/// A 4-D image in the workbench: U steps the volume, the status bar shows `vol i/N` and the
/// crosshair voxel's value in that volume as nibabel reads it, with a sparkline of its time course.
@Suite(.serialized, .enabled(if: TmuxSession.executable != nil && pythonWithNibabel != nil, "needs tmux and python3 with nibabel"))
struct VolumesTmuxTests {
    /// 12 x 10 x 3 x 5 float32, voxel (i, j, k, t) = 100 t + i + 0.5 j, TR 2 s.
    static let makeSeries = #"""
import sys, numpy as np, nibabel as nib
s = np.zeros((12, 10, 3, 5), np.float32)
for t in range(5): s[..., t] = 100 * t + np.arange(12)[:, None, None] + 0.5 * np.arange(10)[None, :, None]
img = nib.Nifti1Image(s, np.diag([2, 2, 2, 1])); img.header.set_xyzt_units('mm', 'sec'); img.header.set_zooms((2, 2, 2, 2.0))
nib.save(img, sys.argv[1])
"""#

    @Test func steppingVolumesShowsNibabelsValue() throws {
        let py = try #require(pythonWithNibabel)
        let dir = TestPaths.temporaryDirectory("tmux-4d")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("series.nii.gz").path
        #expect(try runProcess(py, ["-c", Self.makeSeries, path]).status == 0)
        func nibabel(_ v: SIMD3<Int>, _ t: Int) throws -> String {
            let r = try runProcess(py, ["-c", "import sys, nibabel as nib; d = nib.load(sys.argv[1]).get_fdata(); "
                                        + "v = d[\(v.x), \(v.y), \(v.z), \(t)]; print(int(v) if v == int(v) else v)", path])
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let cmd = [Workbench.binary, "view", path].map(TmuxSession.quote).joined(separator: " ")
        let t = try TmuxSession(cmd, width: 120, height: 40, environment: Workbench.utf8)
        let start = try t.waitForSettled { $0.contains("vol 1/5") }
        let centre = SIMD3(5, 4, 1)   // (size - 1) / 2: where the crosshair starts
        let v0 = try nibabel(centre, 0), v3 = try nibabel(centre, 3), v2 = try nibabel(centre, 2)
        #expect(start.contains("voxel 5,4,1") && start.contains("vol 1/5 │ value \(v0)"), "\(start)")
        // The time course rises 100 per volume: the sparkline climbs from ▁ to █.
        #expect(start.contains("▁▃▅▆█") || start.contains("▁▂▄▆█") || start.contains("▁▃▄▆█"), "\(start)")
        for _ in 0..<3 { try t.send("'") }
        let after = try t.waitForSettled { $0.contains("vol 4/5") }
        #expect(after.contains("vol 4/5 │ value \(v3)"), "\(after)")
        #expect(after.contains("(6 s)"), "the message states the time: \(after)")
        try t.send("\"")
        let back = try t.waitForSettled { $0.contains("vol 3/5") }
        #expect(back.contains("value \(v2)"), "\(back)")
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }
}
