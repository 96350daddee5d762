import Foundation
import Testing
import TestSupport

/// `voxterm export --compare FILE [--compare-colormap MAP]`: the workbench's overlay compare mode
/// in a PNG, checked pixel by pixel (Pillow) against the plain export and the files (nibabel).
@Suite(.enabled(if: XtermRig.pythonWithPillow != nil, "needs python3 with nibabel and pillow"))
struct CompareOverlayCLITests {
    /// base: 40 x 40 x 5, a ramp square (as LayersAndVolumesCLITests); second: zero with a 10 x 10
    /// square at i 20..29, j 12..21 (clear of the orientation letters) holding 10, 20, ..., 100 along i.
    static let makeInputs = #"""
import sys, numpy as np, nibabel as nib
out = sys.argv[1]
base = np.zeros((40, 40, 5), np.float32); base[10:30, 10:30, :] = 100 + np.arange(20)[:, None, None]
nib.save(nib.Nifti1Image(base, np.eye(4)), out + '/base.nii.gz')
second = np.zeros((40, 40, 5), np.float32); second[20:30, 12:22, :] = (10 + 10 * np.arange(10))[:, None, None]
nib.save(nib.Nifti1Image(second, np.eye(4)), out + '/second.nii.gz')
"""#

    /// Compares the compare export with the plain one. Mode hot: pixels that changed must be
    /// exactly those where the second image is above its window's low end, each the 50 % blend of
    /// the plain pixel and hot(value); mode fusion: green is the plain grey, red = blue = the
    /// second image's grey (and red = blue). Prints: changed, expected, mismatched pixels, worst channel error.
    static let check = #"""
import sys, numpy as np, nibabel as nib
from PIL import Image
mode, comp, plain, second, lo, hi = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6])
a = np.asarray(Image.open(comp).convert('RGB')).astype(float)
b = np.asarray(Image.open(plain).convert('RGB')).astype(float)
s = np.asarray(nib.load(second).dataobj)[:, :, 2]
v = np.zeros((40, 40))
for i in range(40):
    for j in range(40): v[39 - j, i] = s[i, j]          # axial: row = 39 - y, column = x
keep = np.ones((40, 40), bool)
keep[14:26, :10] = keep[14:26, 30:] = keep[:10, 15:26] = keep[30:, 15:26] = False   # L, R, A, P letters
t = np.clip((v - lo) / (hi - lo), 0, 1)
if mode == 'hot':
    hot = np.stack([np.clip(3 * t, 0, 1), np.clip(3 * t - 1, 0, 1), np.clip(3 * t - 2, 0, 1)], axis=2) * 255
    want = np.where((v > lo)[:, :, None], (b + hot) / 2, b)
    expected = (v > lo) & (np.abs(want - b).max(axis=2) >= 1)   # hot's white over a white voxel changes nothing
else:
    g = t * 255
    want = np.stack([g, b[:, :, 1], g], axis=2)
changed = np.abs(a - b).sum(axis=2) > 0
if mode != 'hot': expected = changed   # the fusion is checked by its colours alone
err = np.abs(a - want).max(axis=2)
print(int((changed & keep).sum()), int((expected & keep).sum()), int(((changed != expected) & keep).sum()), int(err[keep].max()))
"""#

    @Test func compareOverlayWithAColourMapAndAsFusion() throws {
        let py = try #require(XtermRig.pythonWithPillow)
        let dir = TestPaths.temporaryDirectory("compare-overlay")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runProcess(py, ["-c", Self.makeInputs, dir.path]).status == 0)
        let base = dir.appendingPathComponent("base.nii.gz").path, second = dir.appendingPathComponent("second.nii.gz").path
        let plain = dir.appendingPathComponent("plain.png").path
        #expect(try runVoxterm(["export", base, "--slice", "2", "-o", plain]).status == 0)
        for mode in ["hot", "green-magenta"] {
            let out = dir.appendingPathComponent("\(mode).png").path
            let r = try runVoxterm(["export", base, "--slice", "2", "-o", out, "--compare", second, "--compare-colormap", mode, "--json"])
            try #require(r.status == 0, "\(r.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let c = try #require(json["compare"] as? [String: Any])
            #expect(c["colormap"] as? String == mode && c["opacity"] as? Double == (mode == "hot" ? 0.5 : 1), "\(c)")
            let w = try #require(c["window"] as? [Double])
            let v = try runProcess(py, ["-c", Self.check, mode == "hot" ? "hot" : "fusion", out, plain, second, String(w[0]), String(w[1])])
            let n = v.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            try #require(n.count == 4, "\(v.stdout) \(v.stderr)")
            print("export --compare-colormap \(mode): changed \(n[0]), expected \(n[1]), mismatched \(n[2]), worst channel error \(n[3])")
            // The square minus its lowest column (at the window's low end: transparent) and the
            // white-over-white column (value 100 over the base's brightest voxels).
            if mode == "hot" { #expect(n[1] == 80, "\(n)") }
            #expect(n[0] == n[1] && n[2] == 0, "\(mode): changed \(n[0]), expected \(n[1]), mismatched \(n[2])")
            #expect(n[3] <= 2, "\(mode): worst channel error \(n[3])")
            let text = try runProcess(py, ["-c", "import sys; from PIL import Image; print(Image.open(sys.argv[1]).text.get('CompareColormap', ''))", out])
            #expect(text.stdout.hasPrefix(mode), "\(text.stdout)")
        }
        let bad = try runVoxterm(["export", base, "-o", dir.appendingPathComponent("bad.png").path, "--compare", second,
                                  "--compare-colormap", "nosuchmap"])
        // A bad option value is a command-line error (64), as for --colormap.
        #expect(bad.status == 64 && bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains("--compare-colormap"), "\(bad.stderr)")
    }
}
