/// An 8-bit RGBA colour (alpha 255 = opaque).
public struct RGBA8: Equatable, Hashable, Sendable {
    /// Red, green, blue and alpha, 0...255.
    public var r: UInt8, g: UInt8, b: UInt8, a: UInt8

    @inlinable
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8, _ a: UInt8 = 255) {
        self.r = r; self.g = g; self.b = b; self.a = a
    }

    /// `#rrggbb` (alpha omitted when opaque, else `#rrggbbaa`).
    public var hex: String {
        func h(_ v: UInt8) -> String { let s = String(v, radix: 16); return s.count == 1 ? "0" + s : s }
        return "#" + h(r) + h(g) + h(b) + (a == 255 ? "" : h(a))
    }
}

/// One label's display name and colour.
public struct LabelEntry: Equatable, Sendable {
    /// The integer value in the label volume.
    public var value: Int32
    /// Display name, e.g. "Precentral_L".
    public var name: String
    /// Display colour; alpha is the table's own opacity (255 when the format has none).
    public var color: RGBA8
    /// False when the table marks the label hidden (ITK-SNAP's VIS column).
    public var visible: Bool

    public init(value: Int32, name: String, color: RGBA8, visible: Bool = true) {
        self.value = value; self.name = name; self.color = color; self.visible = visible
    }
}

/// Where a label table came from.
public enum LabelTableFormat: String, Sendable, CaseIterable {
    /// `index name [code]` per line, as mricron's `aal.nii.txt` (no colours: the default palette).
    case indexName = "index-name"
    /// ITK-SNAP label description: `IDX R G B A VIS MSH "LABEL"`, alpha 0...1.
    case itkSnap = "itk-snap"
    /// FreeSurfer colour table: `index name R G B A`, A = transparency 0...255 (0 = opaque).
    case freeSurfer = "freesurfer"
    /// mricron binary `.lut`: 768 bytes, 256 reds then 256 greens then 256 blues.
    case mricronLUT = "mricron-lut"
    /// No file: the built-in distinct palette.
    case palette = "palette"
}

/// Names and colours of label values; labels missing from a file get the default palette colour.
///
/// The same table serves the PNG renderer and the terminal workbench (label names under the cursor).
public struct LabelTable: Equatable, Sendable {
    /// Entries by label value (background 0 may be present but is never drawn).
    public var entries: [Int32: LabelEntry]
    /// The format this table was read from.
    public var format: LabelTableFormat

    public init(entries: [Int32: LabelEntry] = [:], format: LabelTableFormat = .palette) {
        self.entries = entries; self.format = format
    }

    /// The built-in table: no names, palette colours.
    public static let palette = LabelTable()

    /// Display colour of `value`: the table's, else the default palette's.
    public func color(of value: Int32) -> RGBA8 { entries[value]?.color ?? LabelTable.defaultColor(value) }

    /// Display name of `value`: the table's, else "label N".
    public func name(of value: Int32) -> String { entries[value]?.name ?? "label \(value)" }

    /// Label values whose name equals one of `names` (exact, then case-insensitive), or whose
    /// decimal value is given; unknown names are returned in `unknown`.
    public func values(named names: [String]) -> (values: Set<Int32>, unknown: [String]) {
        var out = Set<Int32>(), unknown: [String] = []
        for raw in names {
            let n = raw.trimmingSpaces
            if n.isEmpty { continue }
            if let v = Int32(n) { out.insert(v); continue }
            let exact = entries.values.filter { $0.name == n }
            let matches = exact.isEmpty ? entries.values.filter { $0.name.lowercased() == n.lowercased() } : exact
            if matches.isEmpty { unknown.append(n) } else { for m in matches { out.insert(m.value) } }
        }
        return (out, unknown)
    }

    // MARK: Default palette

    /// A fixed list of 20 mutually distinct colours (Kelly / Tableau-like) for labels 1...20.
    public static let distinctColors: [RGBA8] = [
        RGBA8(230, 25, 75), RGBA8(60, 180, 75), RGBA8(255, 225, 25), RGBA8(0, 130, 200),
        RGBA8(245, 130, 48), RGBA8(145, 30, 180), RGBA8(70, 240, 240), RGBA8(240, 50, 230),
        RGBA8(210, 245, 60), RGBA8(250, 190, 212), RGBA8(0, 128, 128), RGBA8(220, 190, 255),
        RGBA8(170, 110, 40), RGBA8(255, 250, 200), RGBA8(128, 0, 0), RGBA8(170, 255, 195),
        RGBA8(128, 128, 0), RGBA8(255, 215, 180), RGBA8(0, 0, 128), RGBA8(128, 128, 128),
    ]

    /// Default colour of a label: `distinctColors` for 1...20, beyond that golden-ratio hues
    /// (neighbouring values differ strongly), deterministic. Background 0 is transparent black.
    public static func defaultColor(_ value: Int32) -> RGBA8 {
        if value == 0 { return RGBA8(0, 0, 0, 0) }
        if value >= 1 && value <= Int32(distinctColors.count) { return distinctColors[Int(value) - 1] }
        let x = Double(value.magnitude)
        var hue = (x * 0.618_033_988_749_895).truncatingRemainder(dividingBy: 1)
        if hue < 0 { hue += 1 }
        let sat = [0.85, 0.65, 0.95][Int(value.magnitude % 3)]
        let val = [0.95, 0.80, 1.0, 0.70][Int(value.magnitude % 4)]
        return hsv(hue, sat, val)
    }

    /// Converts hue, saturation, value (each 0...1) to an opaque colour.
    public static func hsv(_ h: Double, _ s: Double, _ v: Double) -> RGBA8 {
        let h6 = (h - h.rounded(.down)) * 6
        let i = Int(h6) % 6, f = h6 - h6.rounded(.down)
        let p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f))
        let (r, g, b): (Double, Double, Double)
        switch i {
        case 0: (r, g, b) = (v, t, p)
        case 1: (r, g, b) = (q, v, p)
        case 2: (r, g, b) = (p, v, t)
        case 3: (r, g, b) = (p, q, v)
        case 4: (r, g, b) = (t, p, v)
        default: (r, g, b) = (v, p, q)
        }
        func c(_ x: Double) -> UInt8 { UInt8(max(0, min(255, (x * 255).rounded()))) }
        return RGBA8(c(r), c(g), c(b))
    }
}

// MARK: Reading

/// A label table file that could not be understood; names the file and line.
public struct LabelTableError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The table file.
    public var path: String
    /// What is wrong, with the line number.
    public var reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    /// `path: reason`, one line.
    public var description: String { "\(path): \(reason)" }
}

extension LabelTable {
    /// Reads a label table, detecting the format (ITK-SNAP, FreeSurfer, `index name [code]`, mricron `.lut`).
    public static func read(_ path: String) throws -> LabelTable {
        let bytes = try FileIO.readAll(path, limit: 64 << 20)
        return try parse(bytes, path: path)
    }

    /// A label-name file next to a label map, as FSLeyes and MRIcron find them: `X.txt`, `X.nii.txt`,
    /// `X.lut`, `X.label`, `X.ctbl` for `X.nii[.gz]` (or `.hdr`/`.img`), the first that exists; failing
    /// those, the atlas named by the stem's last `_` part in the same folder (`aal.txt` for
    /// `colin27_1mm_aal.nii.gz`, as the atlas files mricron ships are named).
    public static func sidecar(forLabels labelsPath: String) -> String? {
        let stem = FileIO.imageStem(labelsPath)
        let exts = [".txt", ".nii.txt", ".lut", ".label", ".ctbl"]
        for ext in exts {
            let p = stem + ext
            if FileIO.exists(p) { return p }
        }
        let slash = stem.lastIndex(of: "/").map { stem.index(after: $0) } ?? stem.startIndex
        let base = stem[slash...]
        if let underscore = base.lastIndex(of: "_"), base.index(after: underscore) < base.endIndex {
            let atlas = String(stem[..<slash]) + String(base[base.index(after: underscore)...])
            for ext in exts {
                let p = atlas + ext
                if FileIO.exists(p) { return p }
            }
        }
        return nil
    }

    /// The label-name file beside the first of `labelsPaths` that has one (`sidecar(forLabels:)`),
    /// read, with its path; nil when none has one. A sidecar that cannot be read throws.
    public static func readSidecar(forLabels labelsPaths: String?...) throws -> (table: LabelTable, path: String)? {
        for case let labels? in labelsPaths {
            if let p = sidecar(forLabels: labels) { return (try read(p), p) }
        }
        return nil
    }

    /// Parses label table bytes; `path` only names the source in errors.
    public static func parse(_ bytes: [UInt8], path: String = "<labels>") throws -> LabelTable {
        if bytes.count == 768 && bytes.contains(where: { $0 == 0 || $0 > 126 || ($0 < 32 && $0 != 9 && $0 != 10 && $0 != 13) }) {
            return mricronLUT(bytes)
        }
        guard let text = String(validatingUTF8CString: bytes) else {
            throw LabelTableError(path: path, reason: "not a text label table (invalid UTF-8) nor a 768-byte mricron .lut")
        }
        return try parse(text: text, path: path)
    }

    /// Parses a text label table (ITK-SNAP, FreeSurfer or `index name [code]`, detected per file).
    public static func parse(text: String, path: String = "<labels>") throws -> LabelTable {
        var lines: [(Int, String)] = []
        for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).enumerated() {
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            let t = line.trimmingSpaces
            if t.isEmpty || t.hasPrefix("#") { continue }
            lines.append((n + 1, t))
        }
        guard !lines.isEmpty else { throw LabelTableError(path: path, reason: "no label lines found") }
        let format: LabelTableFormat
        if lines.contains(where: { $0.1.contains("\"") }) {
            format = .itkSnap
        } else if lines.allSatisfy({ l in
            let f = l.1.fields
            return f.count >= 5 && Int32(f[0]) != nil && f[f.count - 4..<f.count - 1].allSatisfy { Int($0) != nil }
        }) {
            format = .freeSurfer
        } else {
            format = .indexName
        }
        var entries: [Int32: LabelEntry] = [:]
        for (lineNumber, line) in lines {
            func fail(_ why: String) -> LabelTableError {
                LabelTableError(path: path, reason: "line \(lineNumber): \(why) (read as \(format.rawValue))")
            }
            switch format {
            case .itkSnap:
                guard let q0 = line.firstIndex(of: "\""), let q1 = line.lastIndex(of: "\""), q0 < q1 else {
                    throw fail("expected IDX R G B A VIS MSH \"LABEL\"")
                }
                let f = String(line[..<q0]).fields
                let name = String(line[line.index(after: q0)..<q1])
                guard f.count >= 6, let v = Int32(f[0]), let r = Int(f[1]), let g = Int(f[2]), let b = Int(f[3]),
                      let a = Double(f[4]), let vis = Int(f[5]) else {
                    throw fail("expected IDX R G B A VIS MSH \"LABEL\"")
                }
                entries[v] = LabelEntry(value: v, name: name, color: RGBA8(clamp8(r), clamp8(g), clamp8(b), clamp8(Int(((a.isNaN ? 1 : min(max(a, 0), 1)) * 255).rounded()))),
                                        visible: vis != 0)
            case .freeSurfer:
                let f = line.fields
                guard let v = Int32(f[0]), let r = Int(f[f.count - 4]), let g = Int(f[f.count - 3]),
                      let b = Int(f[f.count - 2]), let t = Int(f[f.count - 1]) else { throw fail("expected index name R G B A") }
                let name = f[1..<(f.count - 4)].joined(separator: " ")
                entries[v] = LabelEntry(value: v, name: name, color: RGBA8(clamp8(r), clamp8(g), clamp8(b), clamp8(255 - t)))
            case .indexName:
                let f = line.fields
                guard f.count >= 2, let v = Int32(f[0]) else { throw fail("expected `index name [code]`") }
                // A trailing integer is the atlas code; the name is everything between.
                let nameFields = f.count >= 3 && Int(f[f.count - 1]) != nil ? f[1..<(f.count - 1)] : f[1...]
                entries[v] = LabelEntry(value: v, name: nameFields.joined(separator: " "), color: defaultColor(v))
            case .mricronLUT, .palette:
                break
            }
        }
        return LabelTable(entries: entries, format: format)
    }

    /// A mricron binary `.lut` (index i coloured `(r[i], g[i], b[i])`, no names).
    static func mricronLUT(_ bytes: [UInt8]) -> LabelTable {
        var entries: [Int32: LabelEntry] = [:]
        for i in 1..<256 {
            let v = Int32(i)
            entries[v] = LabelEntry(value: v, name: "label \(i)", color: RGBA8(bytes[i], bytes[256 + i], bytes[512 + i]))
        }
        return LabelTable(entries: entries, format: .mricronLUT)
    }
}

@inline(__always) private func clamp8(_ v: Int) -> UInt8 { UInt8(max(0, min(255, v))) }

extension String {
    /// Decodes UTF-8 bytes, nil when invalid.
    init?(validatingUTF8CString bytes: [UInt8]) {
        guard let s = String(validating: bytes, as: UTF8.self) else { return nil }
        self = s
    }

    /// The string without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }

    /// Whitespace-separated fields.
    var fields: [String] { split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) }
}
