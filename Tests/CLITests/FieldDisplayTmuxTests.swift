import Foundation
import Testing
import TestSupport

/// Deformation fields in the workbench (tmux, half blocks): direction glyphs only on the image,
/// pointing the way of a known uniform field; the magnitude colour layer and its colour bar in
/// every compare mode.
@Suite(.serialized, .enabled(if: TmuxSession.executable != nil && XtermRig.pythonWithPillow != nil, "needs tmux and python3 with nibabel"))
struct FieldDisplayTmuxTests {
    /// 40 x 40 x 5 RAS with a bright 20 x 20 square in the middle (x, y in 10...29); fields:
    /// `uniform` (+1.5 mm along x, Right) and `ramp` (x displacement 0 to 3 mm growing with y).
    static let makeInputs = #"""
import sys, numpy as np, nibabel as nib
out = sys.argv[1]
img = np.zeros((40, 40, 5), np.float32); img[10:30, 10:30, :] = 100
nib.save(nib.Nifti1Image(img, np.eye(4)), out + '/square.nii.gz')
nib.save(nib.Nifti1Image(img, np.eye(4)), out + '/square_copy.nii.gz')
h = nib.Nifti1Header(); h.set_intent('vector')
f = np.zeros((40, 40, 5, 1, 3), np.float32); f[..., 0, 0] = -1.5          # ITK LPS: -x is Right
nib.save(nib.Nifti1Image(f, np.eye(4), h), out + '/uniform.nii.gz')
g = np.zeros((40, 40, 5, 1, 3), np.float32); g[..., 0, 0] = -3.0 * (np.arange(40) / 39.0)[None, :, None, None]
nib.save(nib.Nifti1Image(g, np.eye(4), h), out + '/ramp.nii.gz')
"""#

    static let env: [String: String] = ["LC_ALL": "C.UTF-8", "COLORTERM": "truecolor"]

    func inputs() throws -> URL {
        let dir = TestPaths.temporaryDirectory("tmux-field")
        let r = try runProcess(XtermRig.pythonWithPillow!, ["-c", Self.makeInputs, dir.path])
        try #require(r.status == 0, "\(r.stderr)")
        return dir
    }

    @Test func arrowGlyphsSitOnTheImageAndPointTheFieldsWay() throws {
        let dir = try inputs()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cmd = [Workbench.binary, "view", dir.appendingPathComponent("square.nii.gz").path,
                   "--field", dir.appendingPathComponent("uniform.nii.gz").path].map(TmuxSession.quote).joined(separator: " ")
        let t = try TmuxSession(cmd, width: 100, height: 40, environment: Self.env)
        _ = try t.waitForStatus()
        let screen = try t.waitForSettled { $0.contains("→") }
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        // The image's edges from its orientation letters (L left, R right, A top, P bottom, just inside).
        func find(_ ch: Character) -> (x: Int, y: Int)? {
            for (y, l) in lines.enumerated().dropFirst(2) { if let x = l.firstIndex(of: ch), l.filter({ $0 == ch }).count == 1 { return (x, y) } }
            return nil
        }
        let left = try #require(find("L")), right = try #require(find("R")), top = try #require(find("A")), bottom = try #require(find("P"))
        var glyphs: [(x: Int, y: Int, c: Character)] = []
        for (y, l) in lines.enumerated() where (top.y...bottom.y).contains(y) {
            for (x, c) in l.enumerated() where (left.x...right.x).contains(x) && "→←↑↓↗↖↙↘·".contains(c) { glyphs.append((x, y, c)) }
        }
        #expect(glyphs.count >= 4, "\(screen)")
        // Every glyph points right (the field's +x is Right, to the right in neurological axial views)...
        #expect(glyphs.allSatisfy { $0.c == "→" }, "\(glyphs.map { String($0.c) }.joined())")
        // ...and sits over the square: the middle half of the image between the letters (one cell of slack).
        let w = Double(right.x - left.x), h = Double(bottom.y - top.y)
        for g in glyphs {
            let fx = (Double(g.x - left.x)) / w, fy = Double(g.y - top.y) / h
            #expect(fx > 0.25 - 1.5 / w && fx < 0.75 + 1.5 / w && fy > 0.25 - 1.5 / h && fy < 0.75 + 1.5 / h,
                    "glyph at \(g.x),\(g.y) outside the square (image \(left.x)...\(right.x) x \(top.y)...\(bottom.y))")
        }
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }

    @Test func magnitudeLayerAndBarInEveryCompareMode() throws {
        let dir = try inputs()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cmd = [Workbench.binary, "view", dir.appendingPathComponent("square.nii.gz").path,
                   "--compare", dir.appendingPathComponent("square_copy.nii.gz").path,
                   "--field", dir.appendingPathComponent("ramp.nii.gz").path].map(TmuxSession.quote).joined(separator: " ")
        let t = try TmuxSession(cmd, width: 120, height: 40, environment: Self.env)
        _ = try t.waitForStatus()
        try t.send("f")   // arrows -> magnitude
        _ = try t.waitForSettled { $0.contains("field: magnitude") }
        var seen: Set<String> = []
        for _ in 0..<5 {
            let text = try t.screen()
            let mode = ["side by side", "checkerboard", "difference", "flicker", "overlay"].first { text.contains("compare: \($0)") || text.contains("  \($0)") } ?? "side by side"
            seen.insert(mode)
            let colours = try t.screen(escapes: true)
            // Hot colours (red well above blue) from the magnitude layer: the two images are identical
            // and grey, and their difference is white, so only the field can make them.
            let reddish = colourSpecs(sgrParameters(colours)).filter { spec in
                let f = spec.split(separator: ";").compactMap { Int($0) }
                return f.count == 5 && f[1] == 2 && f[2] - f[4] > 80 && f[2] > 120
            }.count
            #expect(reddish >= 20, "\(mode): \(reddish) hot-coloured cells")
            // The on-screen colour bar: its title and top value (the largest displacement, 3 mm).
            #expect(text.contains("mm") && text.contains("3"), "\(mode): no colour bar\n\(text)")
            try t.send("b")
            _ = try t.waitForSettled { $0.contains("compare: ") }
        }
        #expect(seen.count == 5, "modes seen: \(seen)")
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }
}
