import Foundation
import Testing
import Terminal
import TestSupport

/// libchafa's sixel and kitty output, decoded by an independent reference decoder (Python, below,
/// written from the DEC VT330/340 sixel chapter and kitty's graphics-protocol page) on a known
/// picture: every pixel must come back.
@Suite struct GraphicsEncodingTests {
    /// 60 x 48: four flat quadrants, a 16-step grey ramp band and a one-pixel checker line, so
    /// colours, edges and single pixels are all checked. 22 distinct colours (< 256 registers).
    static func picture() -> (rgba: [UInt8], width: Int, height: Int) {
        let w = 60, h = 48
        var px = [UInt8](repeating: 255, count: w * h * 4)
        for y in 0..<h {
            for x in 0..<w {
                var c: (UInt8, UInt8, UInt8)
                if y < 12 { c = x < 30 ? (200, 30, 40) : (20, 180, 60) }
                else if y < 24 { c = x < 30 ? (30, 60, 220) : (250, 250, 250) }
                else if y < 40 { let g = UInt8(min(255, (x * 16 / w) * 17)); c = (g, g, g) }
                else if y == 43 { c = x % 2 == 0 ? (255, 255, 0) : (0, 0, 0) }
                else { c = (0, 0, 0) }
                let o = 4 * (y * w + x)
                px[o] = c.0; px[o + 1] = c.1; px[o + 2] = c.2
            }
        }
        return (px, w, h)
    }

    /// Decodes one sixel or kitty image from stdin; prints `width height` and then hex RGB rows.
    static let decoder = #"""
import sys, base64, re
data = sys.stdin.buffer.read().decode('latin-1')
mode = sys.argv[1]
if mode == 'sixel':
    m = re.search(r'\x1bP([0-9;]*)q(.*?)\x1b\\', data, re.S)
    body = m.group(2)
    regs, pixels = {}, {}
    x = y = 0; cur = 0; i = 0; width = height = 0
    def num():
        global i
        j = i
        while i < len(body) and body[i].isdigit(): i += 1
        return int(body[j:i]) if i > j else 0
    while i < len(body):
        ch = body[i]
        if ch == '"':                      # raster attributes Pan;Pad;Ph;Pv
            i += 1; parts = [num()]
            while i < len(body) and body[i] == ';': i += 1; parts.append(num())
            if len(parts) >= 4: width, height = parts[2], parts[3]
        elif ch == '#':                    # colour: #n or #n;2;r;g;b (percent)
            i += 1; n = num(); parts = []
            while i < len(body) and body[i] == ';': i += 1; parts.append(num())
            if len(parts) == 4 and parts[0] == 2:
                regs[n] = tuple(round(v * 255 / 100) for v in parts[1:])
            cur = n
        elif ch == '!':                    # repeat
            i += 1; n = num(); s = ord(body[i]) - 63; i += 1
            for k in range(n):
                for b in range(6):
                    if s >> b & 1: pixels[(x, y + b)] = regs[cur]
                x += 1
        elif ch == '$': x = 0; i += 1
        elif ch == '-': x = 0; y += 6; i += 1
        elif '?' <= ch <= '~':
            s = ord(ch) - 63
            for b in range(6):
                if s >> b & 1: pixels[(x, y + b)] = regs[cur]
            x += 1; i += 1
        else: i += 1
    w, h = width, height
    rows = [[pixels.get((xx, yy), (0, 0, 0)) for xx in range(w)] for yy in range(h)]
else:
    ctrl = None; raw = b''
    for m in re.finditer(r'\x1b_G([^;\x1b]*)(?:;([^\x1b]*))?\x1b\\', data):
        keys = dict(kv.split('=') for kv in m.group(1).split(',') if kv)
        if 'a' in keys: ctrl = keys
        raw += base64.b64decode(m.group(2) or '')   # each chunk is padded base64 on its own
    w, h = int(ctrl['s']), int(ctrl['v']); bpp = int(ctrl.get('f', '32')) // 8
    assert len(raw) == w * h * bpp, (len(raw), w, h, bpp)
    rows = [[tuple(raw[(yy * w + xx) * bpp:(yy * w + xx) * bpp + 3]) for xx in range(w)] for yy in range(h)]
print(w, h)
for r in rows: print(''.join('%02x%02x%02x' % p for p in r))
"""#

    func decode(_ bytes: [UInt8], _ mode: String) throws -> (width: Int, height: Int, rgb: [[(Int, Int, Int)]]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("voxterm-gfx-\(getpid())-\(mode)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("decode.py"), input = dir.appendingPathComponent("image.bin")
        try GraphicsEncodingTests.decoder.write(to: script, atomically: true, encoding: .utf8)
        try Data(bytes).write(to: input)
        let r = try runProcess("/bin/sh", ["-c", "python3 \"$0\" \"$1\" < \"$2\"", script.path, mode, input.path])
        guard r.status == 0 else { throw ProcessRunError("decoder failed: \(r.stderr)") }
        let lines = r.stdout.split(separator: "\n")
        let size = lines[0].split(separator: " ").map { Int($0)! }
        let rows = lines.dropFirst().map { line -> [(Int, Int, Int)] in
            let b = Array(line.utf8)
            return stride(from: 0, to: b.count, by: 6).map { i in
                let hex = String(decoding: b[i..<i + 6], as: UTF8.self)
                let v = Int(hex, radix: 16)!
                return (v >> 16, (v >> 8) & 0xFF, v & 0xFF)
            }
        }
        return (size[0], size[1], rows)
    }

    /// Largest channel difference between the decoded picture and the original.
    func worstDifference(_ d: (width: Int, height: Int, rgb: [[(Int, Int, Int)]]), _ p: (rgba: [UInt8], width: Int, height: Int)) -> Int {
        var worst = 0
        for y in 0..<d.height {
            for x in 0..<d.width {
                let o = 4 * (y * p.width + x), c = d.rgb[y][x]
                worst = max(worst, abs(c.0 - Int(p.rgba[o])), abs(c.1 - Int(p.rgba[o + 1])), abs(c.2 - Int(p.rgba[o + 2])))
            }
        }
        return worst
    }

    @Test func sixelDecodesToThePicture() throws {
        let p = GraphicsEncodingTests.picture()
        // 10 x 4 cells of 6 x 12 pixels: exactly the picture, height a multiple of 6.
        #expect(SixelGeometry.height(rows: 4, cellHeight: 12) == 48)
        let bytes = Chafa.encode(rgba: p.rgba, width: p.width, height: p.height, columns: 10, rows: 4,
                                 cellWidth: 6, cellHeight: 12, protocol: .sixel)
        #expect(bytes.starts(with: Array("\u{1B}P".utf8)))
        let d = try decode(bytes, "sixel")
        #expect(d.width == 60 && d.height == 48)
        // Sixel colours are percentages: within 255/200 of the original after rounding.
        #expect(worstDifference(d, p) <= 2)
    }

    @Test func kittyDecodesToThePicture() throws {
        let p = GraphicsEncodingTests.picture()
        let bytes = Chafa.encode(rgba: p.rgba, width: p.width, height: p.height, columns: 10, rows: 4,
                                 cellWidth: 6, cellHeight: 12, protocol: .kitty)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("q=2") && text.contains("c=10,r=4"))
        let d = try decode(bytes, "kitty")
        #expect(d.width == 60 && d.height == 48)
        #expect(worstDifference(d, p) == 0)
    }

    @Test func symbolModeUsesFinerSymbolsThanHalfBlocks() {
        // A 2x2-pixel-per-quadrant checker in one cell pair: quadrant symbols can show it, half blocks cannot.
        let p = GraphicsEncodingTests.picture()
        let half = Chafa.symbolCells(rgba: p.rgba, width: p.width, height: p.height, columns: 30, rows: 12, symbols: .half)
        let blocks = Chafa.symbolCells(rgba: p.rgba, width: p.width, height: p.height, columns: 30, rows: 12, symbols: .blocks)
        #expect(half.count == 360 && blocks.count == 360)
        let halfSymbols = Set(half.map(\.character)), blockSymbols = Set(blocks.map(\.character))
        #expect(halfSymbols.isSubset(of: [" ", "▀", "▄", "█", "▌", "▐"]))
        // The symbol set draws with shapes the half blocks do not have (quadrants, eighths...).
        #expect(!blockSymbols.subtracting(halfSymbols).isEmpty, "\(blockSymbols.sorted())")
    }
}
