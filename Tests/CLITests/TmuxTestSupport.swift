import Foundation
import TestSupport

/// What the workbench's status bar says, parsed from a captured screen.
struct StatusBar: Equatable, CustomStringConvertible {
    var plane: String
    /// The slice (0-based voxel index) and the last slice index, as "slice 45/90" shows them.
    var slice: Int, sliceCount: Int
    var voxel: SIMD3<Int>
    var world: SIMD3<Double>
    var value: Double?
    /// Label name and value under the crosshair ("background" has no value), when labels are loaded.
    var labelName: String?
    var labelValue: Int?

    var description: String {
        "\(plane) \(slice)/\(sliceCount) voxel \(voxel) world \(world) value \(value.map { "\($0)" } ?? "-") "
            + "label \(labelName ?? "-") \(labelValue.map(String.init) ?? "")"
    }

    /// The status line of `screen` (the line with "slice i/N │ voxel"), or nil when not shown.
    /// Accepts the ASCII separator `|` of the non-UTF-8 fallback too.
    init?(screen: String) {
        let pattern = #/(axial|coronal|sagittal) slice (\d+)/(\d+) [│|] voxel (\d+),(\d+),(\d+) [│|] (-?[\d.]+), (-?[\d.]+), (-?[\d.]+) mm(?: [│|] value (\S+))?(?:.*? [│|] (?:[■#?] )?(\S+)(?: \((\d+)\))?)?/#
        for line in screen.split(separator: "\n") {
            guard let m = try? pattern.firstMatch(in: String(line)) else { continue }
            let o = m.output
            plane = String(o.1)
            slice = Int(o.2)!; sliceCount = Int(o.3)!
            voxel = SIMD3(Int(o.4)!, Int(o.5)!, Int(o.6)!)
            world = SIMD3(Double(o.7)!, Double(o.8)!, Double(o.9)!)
            value = o.10.flatMap { Double($0) }
            labelName = o.11.map(String.init)
            labelValue = o.12.flatMap { Int($0) }
            return
        }
        return nil
    }
}

extension TmuxSession {
    /// Waits until the screen satisfies `predicate` and is the same on two captures in a row, so a
    /// frame tmux has only partly received is never checked.
    @discardableResult
    func waitForSettled(timeout: Double = 20, _ predicate: (String) -> Bool) throws -> String {
        var previous: String? = nil
        return try waitFor(timeout: timeout) { s in
            defer { previous = s }
            return predicate(s) && s == previous
        }
    }

    /// Waits until the status bar is shown and satisfies `predicate` on two captures in a row
    /// (so a frame tmux has only partly received is not taken for the new state); returns it.
    @discardableResult
    func waitForStatus(timeout: Double = 20, _ predicate: (StatusBar) -> Bool = { _ in true }) throws -> StatusBar {
        var previous: StatusBar? = nil
        let screen = try waitFor(timeout: timeout) { s in
            let now = StatusBar(screen: s).flatMap { predicate($0) ? $0 : nil }
            defer { previous = now }
            return now != nil && now == previous
        }
        return StatusBar(screen: screen)!
    }
}

/// Paths and commands shared by the tmux tests.
enum Workbench {
    static var binary: String { TestPaths.voxtermBinary.path }
    static func sample(_ name: String) -> String { TestPaths.samples.appendingPathComponent(name).path }
    static var image: String { sample("colin27_2mm.nii.gz") }
    static var labels: String { sample("colin27_2mm_aal.nii.gz") }
    static var labelNames: String { sample("aal.txt") }

    /// `voxterm view` on the 2 mm sample with its AAL labels and names, plus `extra` arguments.
    static func viewCommand(_ extra: [String] = []) -> String {
        ([binary, "view", image, "--labels", labels, "--label-names", labelNames] + extra)
            .map(TmuxSession.quote).joined(separator: " ")
    }

    /// The environment of a UTF-8 terminal without direct colour.
    static let utf8: [String: String] = ["LC_ALL": "C.UTF-8", "COLORTERM": ""]

    /// `index name` pairs from an AAL-style label table (`index name code` per line).
    static func readLabelNames(_ path: String) throws -> [Int: String] {
        var names: [Int: String] = [:]
        // aal.txt has CRLF line ends ("\r\n" is one Character in Swift).
        for line in try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline) {
            let f = line.split(whereSeparator: \.isWhitespace)
            if f.count >= 2, let i = Int(f[0]) { names[i] = String(f[1]) }
        }
        return names
    }
}

/// The SGR sequences (`ESC [ ... m`) in a `capture-pane -e` screen, as their parameter strings.
func sgrParameters(_ screen: String) -> [String] {
    var out: [String] = []
    var rest = Substring(screen)
    while let r = rest.range(of: "\u{1B}[") {
        let tail = rest[r.upperBound...]
        guard let end = tail.firstIndex(where: { !($0.isNumber || $0 == ";" || $0 == ":") }) else { break }
        if tail[end] == "m" { out.append(String(tail[..<end])) }
        rest = tail[end...]
    }
    return out
}

/// The foreground/background colour specs (`38;2;r;g;b`, `48;5;n`, `31`, ...) in SGR parameter strings.
func colourSpecs(_ parameters: [String]) -> [String] {
    var specs: [String] = []
    for p in parameters {
        let f = p.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        var i = 0
        while i < f.count {
            if (f[i] == "38" || f[i] == "48"), i + 1 < f.count {
                let n = f[i + 1] == "2" ? 5 : 3
                specs.append(f[i..<Swift.min(f.count, i + n)].joined(separator: ";"))
                i += n
            } else {
                if let v = Int(f[i]), (30...37).contains(v) || (40...47).contains(v) || (90...97).contains(v)
                    || (100...107).contains(v) || v == 39 || v == 49 {
                    specs.append(f[i])
                }
                i += 1
            }
        }
    }
    return specs
}
