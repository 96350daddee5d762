import Foundation
import SliceRendering
import Testing
import TestSupport

/// Real pixels in a real terminal: Debian's xterm in VT340 mode (sixel) under Xvfb runs the
/// workbench on the 1 mm sample; a screenshot of the X display is compared, voxel by voxel along
/// an image row, with the NIfTI slice read by nibabel and windowed by the README's rule. The same
/// check on the half-block picture is the negative control: it must fail there.
@Suite(.serialized, .enabled(if: XtermRig.missing.isEmpty, "needs \(XtermRig.missing.joined(separator: ", ")) (Scripts/install-deps.sh --test installs them)"))
struct XtermGraphicsTests {
    @Test func sixelShowsTheSliceAtTheImagesPixelResolution() throws {
        // The sixel run and the half-block control run at once, each in its own xterm on its own
        // Xvfb display (the test then takes about one run's time instead of two).
        let rigs = [try XtermRig(), try XtermRig()]
        defer { rigs.forEach { $0.stop() } }
        let modes = ["auto", "blocks"]
        final class Outcomes: @unchecked Sendable {
            let lock = NSLock()
            var results: [String: XtermRig.Result] = [:], errors: [String] = []
        }
        let outcomes = Outcomes()
        DispatchQueue.concurrentPerform(iterations: modes.count) { i in
            do {
                let r = try rigs[i].run(graphics: modes[i])
                outcomes.lock.lock(); outcomes.results[modes[i]] = r; outcomes.lock.unlock()
            } catch {
                outcomes.lock.lock(); outcomes.errors.append("\(modes[i]): \(error)"); outcomes.lock.unlock()
            }
        }
        try #require(outcomes.errors.isEmpty, "\(outcomes.errors)")
        let sixel = try #require(outcomes.results["auto"])
        print("xterm sixel: \(sixel)")
        // The terminal answered DA1 with sixel support: the picture is one image, every voxel of
        // the row shown with its own grey level.
        #expect(sixel.pixelsPerVoxel >= 2, "\(sixel)")
        // libchafa's sixel palette (at most 256 registers, percent colour components) merges a few
        // near-white greys, so levels and edges may come out slightly fewer than in the file.
        #expect(Double(sixel.matching) >= 0.9 * Double(sixel.voxels), "\(sixel)")
        #expect(Double(sixel.screenLevels) >= 0.75 * Double(sixel.niftiLevels), "\(sixel)")
        #expect(Double(sixel.screenEdges) >= 0.8 * Double(sixel.niftiEdges), "\(sixel)")

        let blocks = try #require(outcomes.results["blocks"])
        print("xterm half blocks: \(blocks)")
        // Half blocks average several voxels into each terminal pixel: the same row check fails.
        #expect(Double(blocks.matching) < 0.7 * Double(blocks.voxels), "\(blocks)")
        #expect(Double(blocks.screenEdges) < 0.7 * Double(blocks.niftiEdges), "\(blocks)")
    }
}

/// Xvfb + xterm + ImageMagick's `import`, started and stopped by the test.
struct XtermRig {
    static let tools = ["Xvfb", "xterm", "import"]
    static var missing: [String] {
        tools.filter { t in !["/usr/bin/", "/usr/local/bin/", "/bin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + t) } }
            + (pythonWithNibabel.flatMap { py in (try? runProcess(py, ["-c", "import PIL"]))?.status == 0 ? py : nil } == nil
               ? ["python3 with nibabel and pillow"] : [])
    }

    let display: String
    let xvfbPID: Int32
    let dir: URL

    init() throws {
        dir = TestPaths.temporaryDirectory("xterm-sixel")
        var n = 70 + Int(getpid() % 40)
        while FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(n)") || FileManager.default.fileExists(atPath: "/tmp/.X\(n)-lock") { n += 1 }
        display = ":\(n)"
        let r = try runProcess("/bin/sh", ["-c", "Xvfb \(display) -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 & echo $!"])
        xvfbPID = Int32(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        // Wait for the server's socket.
        for _ in 0..<50 where !FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(n)") { usleep(100_000) }
        guard xvfbPID > 0, FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(n)") else {
            throw ProcessRunError("Xvfb \(display) did not start")
        }
    }

    func stop() {
        if xvfbPID > 0 { kill(xvfbPID, SIGTERM) }
        try? FileManager.default.removeItem(at: dir)
    }

    struct Result: CustomStringConvertible {
        var voxels = 0, matching = 0, screenLevels = 0, niftiLevels = 0, screenEdges = 0, niftiEdges = 0
        var pixelsPerVoxel = 0.0
        /// Seconds from starting xterm to the settled screenshot, and for the analysis.
        var settleSeconds = 0.0, analysisSeconds = 0.0
        var description: String {
            "\(matching)/\(voxels) voxels match, grey levels \(screenLevels) on screen vs \(niftiLevels) in the file, edges \(screenEdges) vs \(niftiEdges), \(pixelsPerVoxel) px/voxel"
                + String(format: " (settled after %.1f s, analysis %.1f s)", settleSeconds, analysisSeconds)
        }
    }

    /// Runs the workbench in a 160x50 xterm (VT340: sixel), screenshots the display once the
    /// picture has settled, and compares row 20 voxels below the crosshair with the file.
    func run(graphics: String) throws -> Result {
        let image = TestPaths.samples.appendingPathComponent("colin27_1mm.nii.gz").path
        let shot = dir.appendingPathComponent("shot-\(graphics).png").path
        let command = "\(TestPaths.voxtermBinary.path) view --graphics \(graphics) \(image)"
        let t0 = Date()
        let r = try runProcess("/bin/sh", ["-c", """
            DISPLAY=\(display) COLORTERM=truecolor xterm -ti vt340 -xrm 'XTerm*numColorRegisters: 1024' -fa '' -fn fixed \
              -geometry 160x50+0+0 -e sh -c '\(command) 2>\(dir.path)/err-\(graphics)' >/dev/null 2>&1 & echo $!
            """])
        let xterm = Int32(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        defer { if xterm > 0 { kill(xterm, SIGTERM); var s: Int32 = 0; waitpid(xterm, &s, 0) } }
        // Screenshots until two in a row, 0.3 s apart, are the same and show the view: the green
        // crosshair is on screen (the loading screen has none). Before, a PNG size threshold stood
        // for "the view is there"; the half-block screen compresses below it, so that run always
        // waited out the whole 40 s.
        var previous = Data()
        for _ in 0..<130 {
            usleep(300_000)
            _ = try runProcess("/bin/sh", ["-c", "import -display \(display) -window root png:\(shot).tmp && mv \(shot).tmp \(shot)"])
            guard let data = FileManager.default.contents(atPath: shot) else { continue }
            if data == previous, XtermRig.showsCrosshair(data) { break }
            previous = data
        }
        let t1 = Date()
        let analysis = try runProcess(pythonWithNibabel!, ["-c", XtermRig.analysis, shot, image])
        guard analysis.status == 0 else {
            throw ProcessRunError("analysis failed: \(analysis.stderr)\nvoxterm stderr: \((try? String(contentsOfFile: "\(dir.path)/err-\(graphics)", encoding: .utf8)) ?? "")")
        }
        let v = analysis.stdout.split(separator: " ").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 }
        return Result(voxels: Int(v[0]), matching: Int(v[1]), screenLevels: Int(v[2]), niftiLevels: Int(v[3]),
                      screenEdges: Int(v[4]), niftiEdges: Int(v[5]), pixelsPerVoxel: v[6],
                      settleSeconds: t1.timeIntervalSince(t0), analysisSeconds: Date().timeIntervalSince(t1))
    }

    /// Whether the screenshot shows the workbench's crosshair: at least 200 pure-green pixels.
    static func showsCrosshair(_ png: Data) -> Bool {
        guard let image = try? PNGCodec.decode([UInt8](png)) else { return false }
        var green = 0
        for i in stride(from: 0, to: image.pixels.count, by: 4) {
            let r = image.pixels[i], g = image.pixels[i + 1], b = image.pixels[i + 2]
            if g > 150 && r < 100 && b < 100 { green += 1; if green >= 200 { return true } }
        }
        return false
    }

    /// Finds the pane (the black rectangle inside xterm's white window), places the axial slice
    /// in it as the workbench fits it (centred, square pixels, zoom 1), samples the screen at the
    /// centre of every voxel of display row 128 (20 below the centre) and compares with
    /// nibabel's voxels windowed by the README rule (2nd-99.5th percentiles of voxels above the
    /// minimum). Prints: voxels, matching (within 4 grey levels), distinct levels on screen and
    /// in the file, edges (level changes) on screen and in the file, screen pixels per voxel.
    static let analysis = #"""
import sys, numpy as np, nibabel as nib
from PIL import Image
shot, path = sys.argv[1], sys.argv[2]
s = np.asarray(Image.open(shot).convert('RGB')).astype(int)
img = nib.load(path); d = np.asarray(img.dataobj).astype(np.float64)
nx, ny, nz = d.shape
fg = d[d > d.min()]
lo, hi = np.percentile(fg, [2, 99.5])
k = (nz - 1) // 2
# Axial display: columns run x (R to the right), rows run anterior (top) to posterior: row r is y = ny-1-r.
r = (ny - 1) // 2 + 20
row = d[:, ny - 1 - r, k]
grey = np.clip(np.floor((row - lo) * 255.0 / (hi - lo) + 0.5), 0, 255)
# The pane: the longest run of pure black along the screen column 60 px in from the left,
# and along the middle of that run horizontally.
black = (s.sum(axis=2) == 0)
col = black[:, 60]
best = (0, 0); start = None
for y in range(len(col) + 1):
    if y < len(col) and col[y]:
        start = y if start is None else start
    elif start is not None:
        if y - start > best[1] - best[0]: best = (start, y)
        start = None
y0, y1 = best
top = s[y0 + 1]
x0 = 60
while x0 > 0 and black[y0 + 1, x0 - 1]: x0 -= 1
x1 = 60
while x1 < s.shape[1] and not (top[x1] == 255).all(): x1 += 1
# Cell size from xterm's window (160x50 cells inside a 2-pixel internal border): the picture is
# as wide as the pane and as tall as its rows' whole 6-pixel sixel bands.
nzy, nzx = np.nonzero(s.sum(axis=2))
ch = (nzy.max() - nzy.min() + 1 - 4) / 50.0
rows = int((y1 - y0) // ch)
w = x1 - x0; h = int(rows * ch) // 6 * 6
scale = min(w / nx, h / ny)
ys = y0 + (r - (ny - 1) / 2) * scale + h / 2 - 0.5
samples = []
for c in range(nx):
    xs = x0 + (c - (nx - 1) / 2) * scale + w / 2 - 0.5
    p = s[int(round(ys)), int(round(xs))]
    samples.append(p.mean() if p.max() - p.min() <= 6 else -100)   # crosshair pixels are not grey
samples = np.array(samples)
inside = grey > 0
voxels = int(inside.sum())
matching = int((np.abs(samples - grey)[inside] <= 4).sum())
def edges(v): return int((np.abs(np.diff(v)) > 2).sum())
print(voxels, matching, len(set(np.round(samples[inside] / 3).astype(int))), len(set(np.round(grey[inside] / 3).astype(int))),
      edges(samples[inside]), edges(grey[inside]), round(scale, 3))
"""#
}
