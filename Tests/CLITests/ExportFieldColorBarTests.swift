import Foundation
import Testing
import TestSupport

/// `voxterm export` arrows at the default gain and colour bars, checked by properties of the PNG
/// (read with Pillow): the bar's strip runs from the colour map's high end (top) to its low end
/// (bottom) and the summary states the window; arrows start only on the image and their mean
/// direction is the field's.
@Suite(.enabled(if: XtermRig.pythonWithPillow != nil, "needs python3 with nibabel and pillow"))
struct ExportFieldColorBarTests {
    /// 40 x 40 x 5, 1 mm, RAS: a bright 20 x 20 square (x, y in 10...29), zero elsewhere; and a
    /// uniform field of `u` mm (RAS) written as ITK/ANTs read it (5-D, LPS vectors).
    static let makeInputs = #"""
import sys, numpy as np, nibabel as nib
out, ux, uy = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
img = np.zeros((40, 40, 5), np.float32); img[10:30, 10:30, :] = 100
img[10:30, 10:30, :] += np.arange(20)[:, None, None]   # a ramp, so the window has a range
nib.save(nib.Nifti1Image(img, np.eye(4)), out + '/square.nii.gz')
f = np.zeros((40, 40, 5, 1, 3), np.float32); f[..., 0, 0] = -ux; f[..., 0, 1] = -uy   # RAS -> LPS
h = nib.Nifti1Header(); h.set_intent('vector')
nib.save(nib.Nifti1Image(f, np.eye(4), h), out + '/field.nii.gz')
"""#

    /// Prints: arrow pixel count, their centroid minus the mean arrow tail (x, y), their bounding
    /// box, the strip's top and bottom colours, and whether the strip is monotonic.
    static let analyse = #"""
import sys, json, numpy as np
from PIL import Image
a = np.asarray(Image.open(sys.argv[1]).convert('RGB')).astype(int)
b = np.asarray(Image.open(sys.argv[2]).convert('RGB')).astype(int)
s = json.loads(open(sys.argv[3]).read())
scale = s['scale']; strip = s['colorbars'][0]['strip']
W = 40 * scale
pic_a, pic_b = a[:, :W], b[:, :W]
grey = (pic_a.max(axis=2) - pic_a.min(axis=2)) <= 2
changed = (np.abs(pic_a - pic_b).sum(axis=2) > 0) & ~grey
changed[-20:, :45] = False                      # the arrow key, bottom left
ys, xs = np.nonzero(changed)
step = 8
cols = [c for c in range(step // 2, 40, step) if 10 <= c < 30]
tails = [((c + 0.5) * scale - 0.5, (r + 0.5) * scale - 0.5) for c in cols for r in cols]   # display row = 39 - y, square symmetric
tx = np.mean([t[0] for t in tails]); ty = np.mean([t[1] for t in tails])
x0, y0, w, h = strip['x'], strip['y'], strip['width'], strip['height']
col = a[y0:y0 + h, x0 + w // 2]
mono = bool(np.all(np.diff(col[:, 0]) <= 0))
print(len(xs), xs.mean() - tx, ys.mean() - ty, xs.min(), xs.max(), ys.min(), ys.max(),
      ' '.join(map(str, col[0])), ' '.join(map(str, col[-1])), int(mono))
"""#

    @Test func defaultGainArrowsPointTheFieldsWayOnlyOnTheImage() throws {
        let py = try #require(XtermRig.pythonWithPillow)
        let dir = TestPaths.temporaryDirectory("export-arrows")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runProcess(py, ["-c", Self.makeInputs, dir.path, "1.5", "0"]).status == 0)
        let img = dir.appendingPathComponent("square.nii.gz").path, field = dir.appendingPathComponent("field.nii.gz").path
        let withField = dir.appendingPathComponent("arrows.png").path, plain = dir.appendingPathComponent("plain.png").path
        let r = try runVoxterm(["export", img, "--field", field, "--colorbar", "--scale", "4", "--slice", "2", "-o", withField, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        try r.stdout.write(toFile: dir.appendingPathComponent("summary.json").path, atomically: true, encoding: .utf8)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let fieldInfo = try #require(json["field"] as? [String: Any])
        // Automatic gain: the 1.5 mm displacement drawn 0.9 arrow spacings (8 voxels) long.
        #expect(abs((fieldInfo["gain"] as? Double ?? 0) - 0.9 * 8 / 1.5) < 1e-6)
        #expect(fieldInfo["gain_source"] as? String == "auto")
        #expect(try runVoxterm(["export", img, "--colorbar", "--scale", "4", "--slice", "2", "-o", plain]).status == 0)
        let a = try runProcess(py, ["-c", Self.analyse, withField, plain, dir.appendingPathComponent("summary.json").path])
        #expect(a.status == 0, "\(a.stderr)")
        let v = a.stdout.split(separator: " ").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan }
        try #require(v.count == 14, "\(a.stdout)")
        // Arrows exist, point right (the field's +x, Right, is to the right in neurological axial views).
        #expect(v[0] > 100)
        let offset = (dx: v[1], dy: v[2])
        #expect(offset.dx > 10, "mean arrow offset \(offset) px")
        #expect(abs(offset.dy) < 0.15 * offset.dx, "mean arrow offset \(offset) px")
        // Only over the square (output pixels 40...119), plus an arrow's length to the right and its halo.
        let box = (x0: v[3], x1: v[4], y0: v[5], y1: v[6])
        let longest: Double = 119 + 0.9 * 8 * 4 + 8
        #expect(box.x0 >= 36, "\(box)")
        #expect(box.y0 >= 34, "\(box)")
        #expect(box.y1 <= 125, "\(box)")
        #expect(box.x1 <= longest, "\(box)")
        // The bar: white (gray's high end) at the top, black at the bottom, monotonic; the summary states the window.
        let top = Array(v[7...9]), bottom = Array(v[10...12])
        #expect(top == [255, 255, 255] && bottom == [0, 0, 0], "\(a.stdout)")
        #expect(v[13] == 1, "strip not monotonic")
        let bar = try #require((json["colorbars"] as? [[String: Any]])?.first)
        let window = try #require(json["window"] as? [Double])
        #expect(bar["low"] as? Double == window[0] && bar["high"] as? Double == window[1])
        // README rule: 2nd and 99.5th percentiles of the square's values (100...119, 100 voxels each).
        #expect(window == [100, 119], "\(window)")
    }
}

extension XtermRig {
    /// python3 with nibabel and Pillow, or nil.
    static var pythonWithPillow: String? {
        pythonWithNibabel.flatMap { py in (try? runProcess(py, ["-c", "import PIL"]))?.status == 0 ? py : nil }
    }
}
