import Foundation
import Testing
import TestSupport

/// Image layers and 4-D volumes through `voxterm export` and `info`, checked against the files
/// (made by nibabel) and read back with Pillow.
@Suite(.enabled(if: XtermRig.pythonWithPillow != nil, "needs python3 with nibabel and pillow"))
struct LayersAndVolumesCLITests {
    /// base: 40 x 40 x 5 with a ramp square; stat: x / 8 at world x on a 36-wide grid starting
    /// 4 mm to the right (so it is shown only through world-space resampling); series: 12 x 10 x 3 x 5 float32,
    /// voxel (i, j, k, t) = 100 t + i, TR 2 s.
    static let makeInputs = #"""
import sys, numpy as np, nibabel as nib
out = sys.argv[1]
base = np.zeros((40, 40, 5), np.float32); base[10:30, 10:30, :] = 100 + np.arange(20)[:, None, None]
nib.save(nib.Nifti1Image(base, np.eye(4)), out + '/base.nii.gz')
# The layer's grid starts 4 mm to the right: its voxel i' lies on the base's voxel i' + 4.
stat = ((np.arange(36, dtype=np.float32) + 4) / 8.0)[:, None, None] * np.ones((36, 40, 5), np.float32)
a = np.eye(4); a[0, 3] = 4
nib.save(nib.Nifti1Image(stat, a), out + '/stat.nii.gz')
s = np.zeros((12, 10, 3, 5), np.float32)
for t in range(5): s[..., t] = 100 * t + np.arange(12)[:, None, None]
img = nib.Nifti1Image(s, np.diag([2, 2, 2, 1])); img.header.set_xyzt_units('mm', 'sec'); img.header.set_zooms((2, 2, 2, 2.0))
nib.save(img, out + '/series.nii.gz')
"""#

    /// Pixels that differ between two PNGs (outside the orientation letters), and the expected set.
    static let compareLayer = #"""
import sys, numpy as np, nibabel as nib
from PIL import Image
a = np.asarray(Image.open(sys.argv[1]).convert('RGB')).astype(int)
b = np.asarray(Image.open(sys.argv[2]).convert('RGB')).astype(int)
st = nib.load(sys.argv[3]); stat = np.asarray(st.dataobj)[:, :, 2]; shift = int(st.affine[0, 3])
changed = np.abs(a - b).sum(axis=2) > 0
expected = np.zeros_like(changed)
for i in range(shift, 40):
    for j in range(40): expected[39 - j, i] = stat[i - shift, j] >= float(sys.argv[4])   # axial: row = 39 - y, column = x
keep = np.ones_like(changed)
keep[14:26, :10] = keep[14:26, 30:] = keep[:10, 15:26] = keep[30:, 15:26] = False   # L, R, A, P letters
print(int((changed & keep).sum()), int((expected & keep).sum()), int(((changed != expected) & keep).sum()))
"""#

    @Test func thresholdedHotLayerChangesExactlyTheVoxelsAboveThreshold() throws {
        let py = try #require(XtermRig.pythonWithPillow)
        let dir = TestPaths.temporaryDirectory("layers")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runProcess(py, ["-c", Self.makeInputs, dir.path]).status == 0)
        let base = dir.appendingPathComponent("base.nii.gz").path, stat = dir.appendingPathComponent("stat.nii.gz").path
        let plain = dir.appendingPathComponent("plain.png").path, layered = dir.appendingPathComponent("layered.png").path
        #expect(try runVoxterm(["export", base, "--slice", "2", "-o", plain]).status == 0)
        let r = try runVoxterm(["export", base, "--slice", "2", "-o", layered, "--overlay", "\(stat):hot:0,5",
                                "--overlay-threshold", "2.5", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let layer = try #require((json["overlays"] as? [[String: Any]])?.first)
        #expect(layer["colormap"] as? String == "hot" && layer["threshold"] as? Double == 2.5)
        let c = try runProcess(py, ["-c", Self.compareLayer, layered, plain, stat, "2.5"])
        let v = c.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(v.count == 3, "\(c.stdout) \(c.stderr)")
        #expect(v[1] > 300 && v[0] == v[1] && v[2] == 0, "changed \(v[0]), expected \(v[1]), mismatched \(v[2])")
        // A bad spec is one line naming the option.
        let bad = try runVoxterm(["export", base, "-o", layered + ".bad.png", "--overlay", "\(stat):nosuchmap"])
        // A malformed value is a command-line error (64), as in voxterm view.
        #expect(bad.status == 64 && bad.stderr.contains("--overlay"), "\(bad.stderr)")
    }

    @Test func fourDimensionalFilesShowTheirVolumesAndStep() throws {
        let py = try #require(XtermRig.pythonWithPillow)
        let dir = TestPaths.temporaryDirectory("series")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runProcess(py, ["-c", Self.makeInputs, dir.path]).status == 0)
        let series = dir.appendingPathComponent("series.nii.gz").path
        let info = try runVoxterm(["info", series])
        #expect(info.status == 0 && info.stdout.contains("5 along the 4th dimension, step 2 s (TR)"), "\(info.stdout)")
        let infoJSON = try runVoxterm(["info", series, "--json"])
        #expect(infoJSON.stdout.contains("\"volumes\" : 5") && infoJSON.stdout.contains("\"time_units\" : \"s\""), "\(infoJSON.stdout)")
        // Volume 3 of the series: voxel (i, j, 1) = 300 + i; window 300,311 maps i to 255 i / 11.
        let png = dir.appendingPathComponent("v3.png").path
        let r = try runVoxterm(["export", series, "--volume", "3", "--window", "300,311", "--slice", "1", "-o", png, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"volume\" : 3") && r.stdout.contains("\"volume_count\" : 5"), "\(r.stdout)")
        let row = try runProcess(py, ["-c", "import sys; from PIL import Image; im = Image.open(sys.argv[1]).convert('RGB'); "
                                      + "w, h = im.size; print(' '.join(str(im.getpixel((int((i + 0.5) * w / 12), int(h * 0.8)))[1]) for i in range(12)))", png])
        let greens = row.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let expected = (0..<12).map { Int((Double($0) * 255 / 11).rounded()) }
        #expect(greens.count == 12 && zip(greens, expected).allSatisfy { abs($0 - $1) <= 1 }, "\(greens) vs \(expected)")
        let out = try runVoxterm(["export", series, "--volume", "5", "-o", dir.appendingPathComponent("v5.png").path])
        #expect(out.status == 2 && out.stderr.contains("--volume: 5 is out of range 0...4"), "\(out.stderr)")
    }
}
