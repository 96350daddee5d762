import NIfTI
import VolumeCore

/// NRRD (teem's format, 3D Slicer's default): a text header ("NRRD000N", `field: value` lines,
/// `key:=value` pairs, a blank line), then the data, attached or in a detached file (`.nhdr`).
/// Encodings raw, gzip and ascii; `space directions` / `space origin` in the named `space`
/// (LPS, RAS or LAS; anything else is read as LPS, as ITK does), converted to RAS+ mm.
public enum NRRD {
    /// A parsed NRRD header.
    public struct Header: Equatable, Sendable {
        /// The data type.
        public var datatype: NIfTIDatatype
        /// Sizes of every axis, fastest first.
        public var sizes: [Int]
        /// Per axis: its world direction (scaled by the spacing) in the file's space, or nil
        /// for a non-spatial axis ("none").
        public var directions: [SIMD3<Double>?]
        /// Origin of voxel 0 in the file's space.
        public var origin: SIMD3<Double>
        /// Signs that take the file's space to RAS (LPS: -1, -1, 1).
        public var toRAS: SIMD3<Double>
        /// `encoding`: "raw", "gzip" or "ascii".
        public var encoding: String
        /// True for `endian: big`.
        public var bigEndian: Bool
        /// `data file`, when detached.
        public var dataFile: String?
        /// `line skip` and `byte skip` (-1: the data is the end of the file).
        public var lineSkip: Int
        public var byteSkip: Int
        /// Length of the header text, including the blank line (offset of attached data).
        public var headerLength: Int

        /// Voxel (0-based) to world RAS+ mm of the spatial axes (missing third axis: unit normal).
        public var affine: AffineTransform {
            var cols = directions.compactMap { $0 }.prefix(3).map { $0 * toRAS }
            while cols.count < 3 {
                if cols.count == 2 {
                    let c = SIMD3(cols[0].y * cols[1].z - cols[0].z * cols[1].y,
                                  cols[0].z * cols[1].x - cols[0].x * cols[1].z,
                                  cols[0].x * cols[1].y - cols[0].y * cols[1].x)
                    let n = (c * c).sum().squareRoot()
                    cols.append(n > 0 ? c / n : SIMD3(0, 0, 1))
                } else {
                    cols.append(SIMD3((0..<3).map { $0 == cols.count ? 1.0 : 0 }))
                }
            }
            return AffineTransform(linear: (0..<3).map { r in (0..<3).map { cols[$0][r] } }, translation: origin * toRAS)
        }

        /// The image shape voxterm holds: the spatial axes (at least 3, missing ones 1), then
        /// the other axes.
        public var shape: [Int] {
            let spatial = zip(sizes, directions).filter { $0.1 != nil }.map(\.0)
            let other = zip(sizes, directions).filter { $0.1 == nil }.map(\.0)
            var s = spatial
            while s.count < 3 { s.append(1) }
            return s + other
        }

        /// Number of voxels times the type's size, or nil when it overflows.
        public var dataByteCount: Int? { voxelByteCount(datatype, sizes) }

        /// Parses the header at the start of `bytes`; `path` names the file in errors.
        public static func parse(_ bytes: [UInt8], path: String) throws -> Header {
            guard bytes.count >= 8, Array(bytes[0..<7]) == Array("NRRD000".utf8) else {
                throw NIfTIError(path, "does not start with NRRD000: not a NRRD file")
            }
            // The header ends at the first empty line (or at the end of a detached header).
            var end = bytes.count
            var lines: [String] = []
            var start = 0
            var i = 0
            while i < bytes.count {
                if bytes[i] == 0x0a {
                    var line = bytes[start..<i]
                    if line.last == 0x0d { line = line.dropLast() }
                    if line.isEmpty && start > 0 { end = i + 1; break }
                    lines.append(String(decoding: line, as: UTF8.self))
                    start = i + 1
                }
                i += 1
            }
            if i >= bytes.count && start < bytes.count {
                lines.append(String(decoding: bytes[start...], as: UTF8.self))
            }
            var fields: [String: String] = [:]
            for line in lines.dropFirst() {
                if line.hasPrefix("#") { continue }
                if line.contains(":=") { continue } // key/value pairs: not needed
                guard let colon = line.range(of: ": ") else {
                    if line.trimmingWhitespace.isEmpty { continue }
                    throw NIfTIError(path, "NRRD header line \"\(line.prefix(60))\" is not `field: value`")
                }
                fields[String(line[..<colon.lowerBound]).lowercased()] = String(line[colon.upperBound...]).trimmingWhitespace
            }
            func need(_ f: String) throws -> String {
                guard let v = fields[f] else { throw NIfTIError(path, "NRRD header has no \"\(f)\" field") }
                return v
            }
            let typeName = try need("type")
            guard let datatype = nrrdType(typeName) else {
                throw NIfTIError(path, "NRRD type \"\(typeName)\" is not supported (integer, float or double scalars only)")
            }
            guard let dim = Int(try need("dimension")), dim >= 1, dim <= 16 else {
                throw NIfTIError(path, "NRRD dimension \"\(fields["dimension"] ?? "")\" must be 1 to 16")
            }
            let sizeWords = try need("sizes").split(whereSeparator: { $0 == " " || $0 == "\t" })
            let sizes = sizeWords.map { Int($0) ?? -1 }
            guard sizes.count == dim else {
                throw NIfTIError(path, "NRRD sizes has \(sizes.count) values for dimension \(dim)")
            }
            for (a, s) in sizes.enumerated() where s < 1 {
                throw NIfTIError(path, "NRRD size of axis \(a) is \(sizeWords[a]); every size must be at least 1")
            }
            var toRAS = SIMD3<Double>(-1, -1, 1)
            if let space = fields["space"]?.lowercased() {
                switch space {
                case "right-anterior-superior", "ras", "scanner-xyz", "3d-right-handed": toRAS = [1, 1, 1]
                case "left-anterior-superior", "las": toRAS = [-1, 1, 1]
                default: toRAS = [-1, -1, 1]
                }
            }
            var directions: [SIMD3<Double>?]
            var origin = SIMD3<Double>.zero
            if let dirText = fields["space directions"] {
                directions = try parseDirections(dirText, count: dim, path: path)
                if let o = fields["space origin"] {
                    guard let v = try parseVectors(o, path: path, field: "space origin").first, let vv = v else {
                        throw NIfTIError(path, "NRRD space origin \"\(o.prefix(60))\" is not a vector")
                    }
                    origin = vv
                }
            } else {
                // No space: spacings (1 when missing) along the first three axes, as ITK reads it.
                let sp = (fields["spacings"] ?? "").split(separator: " ").map { Double($0) ?? .nan }
                directions = (0..<dim).map { a in
                    guard a < 3 else { return nil }
                    let s = a < sp.count && sp[a].isFinite && sp[a] != 0 ? sp[a] : 1
                    return SIMD3((0..<3).map { $0 == a ? s : 0 })
                }
                if let mins = fields["axis mins"]?.split(separator: " ").map({ Double($0) ?? 0 }) {
                    origin = SIMD3((0..<3).map { $0 < mins.count && mins[$0].isFinite ? mins[$0] : 0 })
                }
            }
            let spatial = directions.enumerated().filter { $0.element != nil }.map(\.offset)
            guard spatial.count >= 1, spatial.count <= 3, spatial == Array(0..<spatial.count) else {
                throw NIfTIError(path, "NRRD axes \(directions.map { $0 == nil ? "none" : "space" }.joined(separator: ",")): per-voxel vectors or lists are not supported; only spatial axes first, then others (e.g. time)")
            }
            let encoding = (fields["encoding"] ?? "").lowercased()
            let enc: String
            switch encoding {
            case "raw": enc = "raw"
            case "gzip", "gz": enc = "gzip"
            case "ascii", "text", "txt": enc = "ascii"
            case "": throw NIfTIError(path, "NRRD header has no \"encoding\" field")
            default: throw NIfTIError(path, "NRRD encoding \"\(encoding)\" is not supported (raw, gzip, ascii)")
            }
            let endian = fields["endian"]?.lowercased()
            if datatype.byteCount > 1 && enc != "ascii" && endian == nil {
                throw NIfTIError(path, "NRRD header has no \"endian\" field for \(typeName) data")
            }
            if let e = endian, e != "little" && e != "big" {
                throw NIfTIError(path, "NRRD endian \"\(e)\" must be little or big")
            }
            var dataFile = fields["data file"] ?? fields["datafile"]
            if let f = dataFile {
                if f.hasPrefix("LIST") || f.contains("%") || f.split(separator: " ").count > 1 {
                    throw NIfTIError(path, "NRRD data file \"\(f.prefix(60))\" lists several files; only one data file is supported")
                }
                if f.isEmpty { dataFile = nil }
            }
            let lineSkip = Int(fields["line skip"] ?? fields["lineskip"] ?? "0") ?? -2
            let byteSkip = Int(fields["byte skip"] ?? fields["byteskip"] ?? "0") ?? -2
            guard lineSkip >= 0, byteSkip >= -1 else {
                throw NIfTIError(path, "NRRD line skip / byte skip must be whole numbers (byte skip -1 for data at the end)")
            }
            return Header(datatype: datatype, sizes: sizes, directions: directions, origin: origin, toRAS: toRAS,
                          encoding: enc, bigEndian: endian == "big", dataFile: dataFile,
                          lineSkip: lineSkip, byteSkip: byteSkip, headerLength: end)
        }

        static func parseDirections(_ text: String, count: Int, path: String) throws -> [SIMD3<Double>?] {
            let v = try parseVectors(text, path: path, field: "space directions")
            guard v.count == count else {
                throw NIfTIError(path, "NRRD space directions has \(v.count) entries for dimension \(count)")
            }
            return v
        }

        /// `(a,b,c) none (d,e,f)` as vectors (nil for none); 2-vectors get a zero third component.
        static func parseVectors(_ text: String, path: String, field: String) throws -> [SIMD3<Double>?] {
            var out: [SIMD3<Double>?] = []
            var rest = Substring(text)
            while true {
                rest = rest.drop(while: { $0 == " " || $0 == "\t" })
                if rest.isEmpty { break }
                if rest.lowercased().hasPrefix("none") { out.append(nil); rest = rest.dropFirst(4); continue }
                guard rest.first == "(", let close = rest.firstIndex(of: ")") else {
                    throw NIfTIError(path, "NRRD \(field) \"\(text.prefix(60))\" is not a list of (x,y,z) vectors")
                }
                let nums = rest[rest.index(after: rest.startIndex)..<close].split(separator: ",").map {
                    Double(String($0).trimmingWhitespace) ?? .nan
                }
                guard nums.count == 3 || nums.count == 2, nums.allSatisfy(\.isFinite) else {
                    throw NIfTIError(path, "NRRD \(field) \"\(text.prefix(60))\" holds a vector that is not 2 or 3 finite numbers")
                }
                out.append(SIMD3(nums[0], nums[1], nums.count == 3 ? nums[2] : 0))
                rest = rest[rest.index(after: close)...]
            }
            return out
        }

        static func nrrdType(_ t: String) -> NIfTIDatatype? {
            switch t.lowercased() {
            case "signed char", "int8", "int8_t": .int8
            case "uchar", "unsigned char", "uint8", "uint8_t": .uint8
            case "short", "short int", "signed short", "signed short int", "int16", "int16_t": .int16
            case "ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t": .uint16
            case "int", "signed int", "int32", "int32_t": .int32
            case "uint", "unsigned int", "uint32", "uint32_t": .uint32
            case "longlong", "long long", "long long int", "signed long long", "signed long long int", "int64", "int64_t": .int64
            case "ulonglong", "unsigned long long", "unsigned long long int", "uint64", "uint64_t": .uint64
            case "float": .float32
            case "double": .float64
            default: nil
            }
        }
    }

    /// The header of `path`, read up to the blank line that ends it (not the voxels).
    static func parsedHeader(_ path: String) throws -> Header {
        let (bytes, _) = try readPrefix(path) { b in
            b.withUnsafeBufferPointer { p in
                (1..<max(1, p.count)).contains { p[$0] == 0x0a && (p[$0 - 1] == 0x0a || ($0 >= 2 && p[$0 - 1] == 0x0d && p[$0 - 2] == 0x0a)) }
            }
        }
        return try Header.parse(bytes, path: path)
    }

    /// Reads `path` (`.nrrd` with attached data, or `.nhdr` and its data file).
    public static func read(_ path: String, limits: NIfTIReadLimits = .standard) throws -> NIfTIImage {
        let bytes = try readFile(path)
        return try read(bytes: bytes, path: path, limits: limits) { try readDataFile($0, of: path, named: "in the header") }
    }

    /// The header of `path` as NIfTI fields without the voxels: the text up to the blank line
    /// (a detached data file must exist; it is not read).
    public static func readHeader(_ path: String) throws -> NIfTIHeader {
        let h = try parsedHeader(path)
        guard h.dataByteCount != nil else {
            throw NIfTIError(path, "NRRD sizes \(shapeText(h.sizes)) describe more voxels than can be addressed")
        }
        try checkAxisCount(h.shape.count, path: path)
        if let f = h.dataFile { _ = try existingDataFile(f, of: path, named: "in the header") }
        return NIfTIImage.header(datatype: h.encoding == "ascii" ? .float64 : h.datatype, shape: h.shape, affine: h.affine,
                                 bigEndian: h.encoding == "ascii" ? 1.bigEndian == 1 : h.bigEndian, description: "NRRD")
    }

    /// Reads NRRD from memory; `dataFile` supplies a detached data file's bytes and path.
    public static func read(bytes: [UInt8], path: String, limits: NIfTIReadLimits = .standard,
                            dataFile: (String) throws -> ([UInt8], String)) throws -> NIfTIImage {
        let h = try Header.parse(bytes, path: path)
        guard let dataBytes = h.dataByteCount else {
            throw NIfTIError(path, "NRRD sizes \(shapeText(h.sizes)) describe more voxels than can be addressed")
        }
        try checkAxisCount(h.shape.count, path: path)
        var data: [UInt8]
        var dataPath = path
        var detached = false
        if let f = h.dataFile {
            (data, dataPath) = try dataFile(f)
            detached = true
        } else {
            data = Array(bytes[min(h.headerLength, bytes.count)...])
        }
        // line skip: whole lines before the data (raw: in the file; others: also in the file).
        if h.lineSkip > 0 {
            var skipped = 0, i = 0
            while skipped < h.lineSkip && i < data.count { if data[i] == 0x0a { skipped += 1 }; i += 1 }
            guard skipped == h.lineSkip else { throw NIfTIError(dataPath, "NRRD line skip \(h.lineSkip) is past the end of the data") }
            data.removeSubrange(0..<i)
        }
        var raw: [UInt8]
        switch h.encoding {
        case "gzip":
            let skip = max(0, h.byteSkip)
            guard dataBytes <= data.count.multipliedReportingOverflow(by: GzipLayer.maxDeflateRatio).partialValue else {
                throw NIfTIError(dataPath, "data is shorter than the header claims: \(shapeText(h.sizes)) \(h.datatype) needs \(dataBytes) bytes, more than \(data.count) compressed bytes can hold")
            }
            try checkLimit(dataBytes, path: path, limits: limits)
            raw = try GzipLayer.inflate(data, count: skip + dataBytes, path: dataPath)
            if skip > 0 || raw.count > dataBytes { raw = Array(raw[skip..<(skip + dataBytes)]) }
        case "ascii":
            try checkLimit(dataBytes, path: path, limits: limits)
            raw = try parseASCII(data, count: dataBytes / h.datatype.byteCount, path: dataPath)
            return NIfTIImage(path: path, storage: detached ? .nhdr : .nrrd, datatype: .float64, shape: h.shape,
                              affine: h.affine, bigEndian: 1.bigEndian == 1, raw: raw, description: "NRRD")
        default:
            let start = h.byteSkip == -1 ? data.count - dataBytes : h.byteSkip
            guard start >= 0, start <= data.count, dataBytes <= data.count - start else {
                throw NIfTIError(dataPath, "data is shorter than the header claims: \(shapeText(h.sizes)) \(h.datatype) needs \(dataBytes) bytes\(h.byteSkip > 0 ? " after skipping \(h.byteSkip)" : ""), the file has \(max(0, data.count - max(0, h.byteSkip)))")
            }
            try checkLimit(dataBytes, path: path, limits: limits)
            raw = start == 0 && data.count == dataBytes ? data : Array(data[start..<(start + dataBytes)])
        }
        data = []
        return NIfTIImage(path: path, storage: detached ? .nhdr : .nrrd, datatype: h.datatype, shape: h.shape,
                          affine: h.affine, bigEndian: h.bigEndian, raw: raw, description: "NRRD")
    }

    /// Whitespace-separated numbers as float64 in this machine's byte order.
    static func parseASCII(_ data: [UInt8], count: Int, path: String) throws -> [UInt8] {
        var values = [Double]()
        values.reserveCapacity(count)
        var i = 0
        while i < data.count && values.count < count {
            while i < data.count && (data[i] == 0x20 || data[i] == 0x0a || data[i] == 0x0d || data[i] == 0x09 || data[i] == 0x2c) { i += 1 }
            let s = i
            while i < data.count && !(data[i] == 0x20 || data[i] == 0x0a || data[i] == 0x0d || data[i] == 0x09 || data[i] == 0x2c) { i += 1 }
            if s == i { break }
            guard let v = Double(String(decoding: data[s..<i], as: UTF8.self)) else {
                throw NIfTIError(path, "NRRD ascii data holds \"\(String(decoding: data[s..<min(i, s + 20)], as: UTF8.self))\", not a number")
            }
            values.append(v)
        }
        guard values.count == count else {
            throw NIfTIError(path, "data is shorter than the header claims: \(values.count) of \(count) ascii values present")
        }
        return values.withUnsafeBytes { Array($0) }
    }

    /// The header voxterm writes (LPS space, like ITK and Slicer).
    static func headerText(datatype: NIfTIDatatype, shape: [Int], affine: AffineTransform, encoding: String,
                           dataFile: String?) -> String {
        let type: String
        switch datatype {
        case .uint8: type = "uint8"
        case .int8: type = "int8"
        case .int16: type = "int16"
        case .uint16: type = "uint16"
        case .int32: type = "int32"
        case .uint32: type = "uint32"
        case .int64: type = "int64"
        case .uint64: type = "uint64"
        case .float64: type = "double"
        default: type = "float"
        }
        let lps = SIMD3<Double>(-1, -1, 1)
        func vec(_ v: SIMD3<Double>) -> String { "(\(num(v.x)),\(num(v.y)),\(num(v.z)))" }
        let dirs = (0..<3).map { vec(affine.column($0) * lps) } + Array(repeating: "none", count: max(0, shape.count - 3))
        var t = "NRRD0004\n# Complete NRRD file format specification at:\n# http://teem.sourceforge.net/nrrd/format.html\n"
        t += "type: \(type)\ndimension: \(shape.count)\nspace: left-posterior-superior\n"
        t += "sizes: \(shape.map(String.init).joined(separator: " "))\n"
        t += "space directions: \(dirs.joined(separator: " "))\n"
        t += "kinds: \((["domain", "domain", "domain"] + Array(repeating: "list", count: max(0, shape.count - 3))).joined(separator: " "))\n"
        t += "endian: little\nencoding: \(encoding)\n"
        t += "space origin: \(vec(affine.translation * lps))\n"
        if let dataFile { t += "data file: \(dataFile)\n" }
        return t + "\n"
    }

    /// Writes voxels `data` (this machine's byte order, little-endian) as `.nrrd` (gzip-encoded)
    /// or `.nhdr` + a raw `.raw` data file beside it.
    static func write(data: UnsafeRawBufferPointer, datatype: NIfTIDatatype, shape: [Int], affine: AffineTransform,
                      to path: String, options: NIfTIWriter.Options) throws {
        if path.lowercased().hasSuffix(".nhdr") {
            try writeDetached(path, data: data, options: options) { rawName in
                headerText(datatype: datatype, shape: shape, affine: affine, encoding: "raw", dataFile: rawName)
            }
        } else {
            try writeAttached(path, header: headerText(datatype: datatype, shape: shape, affine: affine, encoding: "gzip", dataFile: nil),
                              body: try GzipLayer.gzip([data], path: path), options: options)
        }
    }
}

/// Shortest text that reads back as the same double.
func num(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
    return "\(v)"
}

extension String {
    /// Without leading and trailing spaces, tabs and line ends.
    var trimmingWhitespace: String {
        // On the UTF-8 view (ASCII whitespace only): no Character iteration, one copy at most.
        // (Reversing Characters twice cost a third of a header parse, seen in the fuzzer's profile.)
        let ws: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
        let u = utf8
        guard let first = u.firstIndex(where: { !ws($0) }) else { return "" }
        let last = u.lastIndex(where: { !ws($0) })!
        if first == u.startIndex && u.index(after: last) == u.endIndex { return self }
        return String(decoding: u[first...last], as: UTF8.self)
    }
}
