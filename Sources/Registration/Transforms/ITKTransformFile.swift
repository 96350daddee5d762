import VolumeCore

/// ITK / ANTs affine transform text files (`#Insight Transform File V1.0`), read and written.
///
/// ITK maps fixed-space LPS points to moving-space LPS points, `y = M (x - c) + c + T` with
/// `Parameters: M (9, row-major) T (3)` and `FixedParameters: c (3)`. voxterm's affines map fixed
/// world to moving world in RAS, so `A = P M P` and `t = P (T + c - M c)` with `P = diag(-1, -1, 1)`.
public enum ITKTransformFile {
    /// Largest transform file read, in bytes (real ones are a few hundred bytes).
    public static let maxFileBytes = 1 << 20

    /// The transform types read: affine-like ones with 12 parameters, translations (3), identity (0).
    public static let supportedTypes = [
        "AffineTransform", "MatrixOffsetTransformBase", "TranslationTransform", "IdentityTransform",
    ]

    /// The text voxterm writes for `affine` (fixed world → moving world, RAS mm):
    /// `AffineTransform_double_3_3` with centre 0.
    public static func text(for affine: AffineTransform) -> String {
        let p: [Double] = [-1, -1, 1]
        var params: [Double] = []
        for r in 0..<3 { for c in 0..<3 { params.append(p[r] * affine[r, c] * p[c]) } }
        for r in 0..<3 { params.append(p[r] * affine[r, 3]) }
        return "#Insight Transform File V1.0\n#Transform 0\nTransform: AffineTransform_double_3_3\n"
            + "Parameters: " + params.map { "\($0)" }.joined(separator: " ") + "\nFixedParameters: 0 0 0\n"
    }

    /// Reads a transform file: the fixed world → moving world map in RAS mm.
    public static func read(_ path: String) throws -> AffineTransform {
        try parse(try FileIO.readAll(path, limit: maxFileBytes), path: path)
    }

    /// Parses transform file bytes; `path` only names the file in errors (`FileError`, one line).
    /// Accepts one transform, or a `CompositeTransform` holding exactly one.
    public static func parse(_ bytes: [UInt8], path: String = "<transform>") throws -> AffineTransform {
        func fail(_ why: String) -> FileError { FileError(path: path, reason: why) }
        guard bytes.count <= maxFileBytes else { throw fail("file is \(bytes.count) bytes, too large for a transform file") }
        let text = String(decoding: bytes, as: UTF8.self)
        var lines: [(number: Int, text: Substring)] = []
        for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).enumerated() {
            let t = raw.drop(while: { $0 == " " || $0 == "\t" })
            if !t.isEmpty { lines.append((n + 1, t)) }
        }
        guard let first = lines.first, first.text.hasPrefix("#Insight Transform File") else {
            if bytes.contains(0) {
                throw fail("not an ITK transform text file (binary; convert a MATLAB .mat transform with ANTs: ConvertTransformFile 3 IN.mat OUT.txt)")
            }
            throw fail("not an ITK transform file (the first line must be \"#Insight Transform File V1.0\")")
        }
        // Collect the transforms in order: each starts at a `Transform:` line.
        struct Entry { var type: Substring; var line: Int; var parameters: [Double]?; var fixed: [Double]? }
        var entries: [Entry] = []
        for (number, line) in lines.dropFirst() where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { throw fail("line \(number): expected \"Key: values\"") }
            let key = line[..<colon].trimmingCharacters(" \t")
            let value = line[line.index(after: colon)...]
            switch key {
            case "Transform":
                entries.append(Entry(type: value.trimmingCharacters(" \t\r"), line: number))
            case "Parameters", "FixedParameters":
                guard !entries.isEmpty else { throw fail("line \(number): \(key) before any Transform line") }
                var numbers: [Double] = []
                for field in value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }) {
                    guard numbers.count < 64 else { throw fail("line \(number): more than 64 \(key)") }
                    guard let v = Double(field), v.isFinite else {
                        throw fail("line \(number): \(key) value \"\(field.prefix(32))\" is not a finite number")
                    }
                    numbers.append(v)
                }
                if key == "Parameters" {
                    guard entries[entries.count - 1].parameters == nil else { throw fail("line \(number): Parameters given twice") }
                    entries[entries.count - 1].parameters = numbers
                } else {
                    guard entries[entries.count - 1].fixed == nil else { throw fail("line \(number): FixedParameters given twice") }
                    entries[entries.count - 1].fixed = numbers
                }
            default:
                throw fail("line \(number): unknown key \"\(key.prefix(32))\"")
            }
        }
        if let c = entries.first, c.type.hasPrefix("CompositeTransform") { entries.removeFirst() }
        guard entries.count == 1, let entry = entries.first else {
            throw fail(entries.isEmpty ? "no Transform line" : "holds \(entries.count) transforms; voxterm reads a single affine")
        }
        return try affine(entry.type, parameters: entry.parameters, fixed: entry.fixed, line: entry.line, fail: fail)
    }

    /// The RAS affine of one ITK transform given its type name and parameters.
    private static func affine(_ type: Substring, parameters: [Double]?, fixed: [Double]?, line: Int,
                               fail: (String) -> FileError) throws -> AffineTransform {
        // `Name_double_3_3` / `Name_float_3_3` (3-D in, 3-D out); translations use `_3`.
        let parts = type.split(separator: "_")
        guard let name = parts.first, supportedTypes.contains(String(name)) else {
            throw fail("line \(line): transform type \"\(type.prefix(64))\" is not supported (voxterm reads \(supportedTypes.joined(separator: ", ")))")
        }
        let dims = parts.dropFirst(2)
        guard parts.count >= 2, ["double", "float"].contains(parts[1]), !dims.isEmpty, dims.allSatisfy({ $0 == "3" }) else {
            throw fail("line \(line): transform \"\(type.prefix(64))\" is not a 3-D double or float transform")
        }
        let p = parameters ?? []
        let c = fixed ?? []
        var m: [Double] = [1, 0, 0, 0, 1, 0, 0, 0, 1]
        var translation = SIMD3<Double>.zero
        var centre = SIMD3<Double>.zero
        switch name {
        case "IdentityTransform":
            break
        case "TranslationTransform":
            guard p.count == 3 else { throw fail("line \(line): \(name) needs 3 Parameters, the file gives \(p.count)") }
            translation = SIMD3(p[0], p[1], p[2])
        default:
            guard p.count == 12 else {
                throw fail("line \(line): \(name) needs 12 Parameters (9 matrix, 3 translation), the file gives \(parameters == nil ? "none" : "\(p.count)")")
            }
            guard c.isEmpty || c.count == 3 else {
                throw fail("line \(line): \(name) needs 3 FixedParameters (the centre), the file gives \(c.count)")
            }
            m = Array(p[0..<9])
            translation = SIMD3(p[9], p[10], p[11])
            if c.count == 3 { centre = SIMD3(c[0], c[1], c[2]) }
        }
        // LPS: y = M x + o with o = T + c - M c; RAS: A = P M P, t = P o.
        var lps = AffineTransform.identity
        for r in 0..<3 { for k in 0..<3 { lps[r, k] = m[3 * r + k] } }
        let o = translation + centre - lps.applyLinear(centre)
        let flip: [Double] = [-1, -1, 1]
        var ras = AffineTransform.identity
        for r in 0..<3 {
            for k in 0..<3 { ras[r, k] = flip[r] * lps[r, k] * flip[k] }
            ras[r, 3] = flip[r] * o[r]
        }
        let det = ras.determinant
        guard det.isFinite, abs(det) > 1e-12, (0..<3).allSatisfy({ r in (0..<4).allSatisfy { ras[r, $0].isFinite } }) else {
            throw fail("line \(line): the matrix is singular or not finite (determinant \(det)); it cannot map one image onto another")
        }
        return ras
    }
}

private extension Substring {
    func trimmingCharacters(_ set: String) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return s
    }
}
