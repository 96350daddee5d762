import NIfTI
import VolumeCore

/// The header of a MetaImage file (ITK's `.mha` / `.mhd`): `Key = Value` lines ending with
/// `ElementDataFile`. Geometry as ITK's MetaImageIO reads it: `TransformMatrix` holds the
/// direction of axis 0, then axis 1, ... (ITK's direction matrix column by column),
/// `ElementSpacing` the spacings, `Offset` (or `Origin`/`Position`) the origin, all in LPS mm;
/// `AnatomicalOrientation` is informational (ITK ignores it when reading, and so does voxterm).
public struct MetaImageHeader: Equatable, Sendable {
    /// The data type.
    public var datatype: NIfTIDatatype
    /// `DimSize`.
    public var sizes: [Int]
    /// `ElementSpacing` (1 when missing).
    public var spacing: [Double]
    /// `Offset` in LPS mm.
    public var origin: [Double]
    /// `TransformMatrix`, nDims x nDims, axis directions one after another.
    public var matrix: [Double]
    /// `BinaryDataByteOrderMSB` / `ElementByteOrderMSB`.
    public var bigEndian: Bool
    /// `CompressedData`.
    public var compressed: Bool
    /// `CompressedDataSize`, when given.
    public var compressedSize: Int?
    /// `HeaderSize` (bytes to skip in the data file; -1: the data is the end of the file).
    public var headerSize: Int
    /// `ElementDataFile`: "LOCAL" or a file name.
    public var dataFile: String
    /// Length of the header text in the file (offset of LOCAL data).
    public var headerLength: Int

    /// True when `head` starts like a MetaImage header (`ObjectType`, `NDims` or `Comment` key).
    public static func looksLikeMetaImage(_ head: [UInt8]) -> Bool {
        let text = String(decoding: head.prefix(64), as: UTF8.self)
        let first = text.drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" })
        return ["ObjectType", "NDims", "Comment", "ObjectSubType", "ObjectName"].contains { key in
            guard first.hasPrefix(key) else { return false }
            return first.dropFirst(key.count).drop(while: { $0 == " " || $0 == "\t" }).first == "="
        }
    }

    /// Voxel (0-based) to world RAS+ mm (first three axes; 2-D images get a unit z axis).
    public var affine: AffineTransform {
        let n = sizes.count
        var cols: [SIMD3<Double>] = (0..<min(n, 3)).map { a in
            SIMD3((0..<3).map { r in r < n ? matrix[a * n + r] : 0 }) * spacing[a]
        }
        while cols.count < 3 { cols.append(SIMD3((0..<3).map { $0 == cols.count ? 1.0 : 0 })) }
        let lps = SIMD3<Double>(-1, -1, 1)
        let o = SIMD3((0..<3).map { $0 < origin.count ? origin[$0] : 0 })
        return AffineTransform(linear: (0..<3).map { r in (0..<3).map { cols[$0][r] * lps[r] } }, translation: o * lps)
    }

    /// Number of voxels times the type's size, or nil when it overflows.
    public var dataByteCount: Int? { voxelByteCount(datatype, sizes) }

    /// The image shape voxterm holds: the first three axes (missing ones 1), then the others.
    public var shape: [Int] {
        var shape = Array(sizes.prefix(3))
        while shape.count < 3 { shape.append(1) }
        return shape + sizes.dropFirst(3)
    }

    /// Refuses an `ElementDataFile` that lists several files (`LIST`, a `%` pattern, several names).
    func checkSingleDataFile(path: String) throws {
        if dataFile.uppercased().hasPrefix("LIST") || dataFile.contains("%") || dataFile.split(separator: " ").count > 1 {
            throw NIfTIError(path, "MetaImage ElementDataFile \"\(dataFile.prefix(60))\" lists several files; only one data file is supported")
        }
    }

    /// Parses the header at the start of `bytes`; `path` names the file in errors.
    public static func parse(_ bytes: [UInt8], path: String) throws -> MetaImageHeader {
        var fields: [String: String] = [:]
        var start = 0
        var end: Int?
        var i = 0
        while i <= bytes.count && end == nil {
            if i == bytes.count || bytes[i] == 0x0a {
                let line = String(decoding: bytes[start..<i], as: UTF8.self).trimmingWhitespace
                if !line.isEmpty {
                    guard let eq = line.firstIndex(of: "=") else {
                        throw NIfTIError(path, "MetaImage header line \"\(line.prefix(60))\" is not `Key = Value`")
                    }
                    let key = String(line[..<eq]).trimmingWhitespace.lowercased()
                    fields[key] = String(line[line.index(after: eq)...]).trimmingWhitespace
                    if key == "elementdatafile" { end = min(i + 1, bytes.count) }
                }
                start = i + 1
                if i - start > 1 << 16 { break }
            }
            i += 1
        }
        guard let end, let dataFile = fields["elementdatafile"], !dataFile.isEmpty else {
            throw NIfTIError(path, "MetaImage header has no ElementDataFile line (it must end the header)")
        }
        func need(_ k: String, _ name: String) throws -> String {
            guard let v = fields[k] else { throw NIfTIError(path, "MetaImage header has no \(name)") }
            return v
        }
        if let t = fields["objecttype"], t.lowercased() != "image" {
            throw NIfTIError(path, "MetaImage ObjectType is \(t), not Image")
        }
        guard let n = Int(try need("ndims", "NDims")), n >= 1, n <= 16 else {
            throw NIfTIError(path, "MetaImage NDims \"\(fields["ndims"] ?? "")\" must be 1 to 16")
        }
        func numbers(_ k: String, _ name: String) throws -> [Double]? {
            guard let v = fields[k] else { return nil }
            let xs = v.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { Double($0) ?? .nan }
            guard xs.allSatisfy(\.isFinite) else { throw NIfTIError(path, "MetaImage \(name) \"\(v.prefix(60))\" holds a value that is not a finite number") }
            return xs
        }
        let sizeValues = try numbers("dimsize", "DimSize") ?? []
        guard sizeValues.count == n else { throw NIfTIError(path, "MetaImage DimSize has \(sizeValues.count) values for NDims \(n)") }
        let sizes = try sizeValues.enumerated().map { (a, v) -> Int in
            guard v >= 1, v == v.rounded(), v < 1e15 else { throw NIfTIError(path, "MetaImage DimSize of axis \(a) is \(v); every size must be a whole number of at least 1") }
            return Int(v)
        }
        let typeName = try need("elementtype", "ElementType")
        guard let datatype = metaType(typeName) else {
            throw NIfTIError(path, "MetaImage ElementType \(typeName) is not supported (MET_CHAR ... MET_DOUBLE scalars)")
        }
        if let ch = fields["elementnumberofchannels"], ch != "1" {
            throw NIfTIError(path, "MetaImage ElementNumberOfChannels is \(ch); voxterm reads one channel per voxel")
        }
        let spacing = try numbers("elementspacing", "ElementSpacing") ?? (try numbers("elementsize", "ElementSize")) ?? Array(repeating: 1, count: n)
        guard spacing.count == n else { throw NIfTIError(path, "MetaImage ElementSpacing has \(spacing.count) values for NDims \(n)") }
        let origin = try numbers("offset", "Offset") ?? (try numbers("origin", "Origin")) ?? (try numbers("position", "Position")) ?? Array(repeating: 0, count: n)
        guard origin.count == n else { throw NIfTIError(path, "MetaImage Offset has \(origin.count) values for NDims \(n)") }
        let identity = (0..<(n * n)).map { $0 / n == $0 % n ? 1.0 : 0 }
        let matrix = try numbers("transformmatrix", "TransformMatrix") ?? (try numbers("rotation", "Rotation")) ?? (try numbers("orientation", "Orientation")) ?? identity
        guard matrix.count == n * n else { throw NIfTIError(path, "MetaImage TransformMatrix has \(matrix.count) values for NDims \(n) (needs \(n * n))") }
        func bool(_ k: String) -> Bool { ["true", "1", "yes"].contains((fields[k] ?? "").lowercased()) }
        let compressedSize = fields["compresseddatasize"].flatMap { Int($0) }
        let headerSize = Int(fields["headersize"] ?? "0") ?? -2
        guard headerSize >= -1 else { throw NIfTIError(path, "MetaImage HeaderSize \"\(fields["headersize"] ?? "")\" must be a whole number (-1: data at the end)") }
        if let b = fields["binarydata"], !bool("binarydata") {
            throw NIfTIError(path, "MetaImage BinaryData = \(b) (text data) is not supported")
        }
        return MetaImageHeader(datatype: datatype, sizes: sizes, spacing: spacing, origin: origin, matrix: matrix,
                               bigEndian: bool("binarydatabyteordermsb") || bool("elementbyteordermsb"),
                               compressed: bool("compresseddata"), compressedSize: compressedSize,
                               headerSize: headerSize, dataFile: dataFile, headerLength: end)
    }

    static func metaType(_ t: String) -> NIfTIDatatype? {
        switch t.uppercased() {
        case "MET_CHAR": .int8
        case "MET_UCHAR": .uint8
        case "MET_SHORT": .int16
        case "MET_USHORT": .uint16
        case "MET_INT", "MET_LONG": .int32
        case "MET_UINT", "MET_ULONG": .uint32
        case "MET_LONG_LONG": .int64
        case "MET_ULONG_LONG": .uint64
        case "MET_FLOAT": .float32
        case "MET_DOUBLE": .float64
        default: nil
        }
    }

    static func metaName(_ d: NIfTIDatatype) -> String {
        switch d {
        case .int8: "MET_CHAR"
        case .uint8: "MET_UCHAR"
        case .int16: "MET_SHORT"
        case .uint16: "MET_USHORT"
        case .int32: "MET_INT"
        case .uint32: "MET_UINT"
        case .int64: "MET_LONG_LONG"
        case .uint64: "MET_ULONG_LONG"
        case .float64: "MET_DOUBLE"
        default: "MET_FLOAT"
        }
    }
}

/// MetaImage (`.mha` with the data after the header, `.mhd` + `.raw`/`.zraw`), read and written in Swift.
public enum MetaImage {
    /// Reads `path`.
    public static func read(_ path: String, limits: NIfTIReadLimits = .standard) throws -> NIfTIImage {
        let bytes = try readFile(path)
        return try read(bytes: bytes, path: path, limits: limits) { try readDataFile($0, of: path, named: "by ElementDataFile") }
    }

    /// The header of `path`, read up to its ElementDataFile line (not the voxels).
    static func parsedHeader(_ path: String) throws -> MetaImageHeader {
        let key = Array("elementdatafile".utf8)
        let (bytes, _) = try readPrefix(path) { b in
            // Complete once a line starting with ElementDataFile has its line end.
            var lineStart = 0
            for i in b.indices where b[i] == 0x0a {
                var s = lineStart
                while s < i && (b[s] == 0x20 || b[s] == 0x09) { s += 1 }
                if i - s >= key.count && zip(b[s..<(s + key.count)], key).allSatisfy({ $0 | 0x20 == $1 }) { return true }
                lineStart = i + 1
            }
            return false
        }
        return try MetaImageHeader.parse(bytes, path: path)
    }

    /// The header of `path` as NIfTI fields without the voxels: the text up to the
    /// ElementDataFile line (a detached data file must exist; it is not read).
    public static func readHeader(_ path: String) throws -> NIfTIHeader {
        let h = try parsedHeader(path)
        guard h.dataByteCount != nil else {
            throw NIfTIError(path, "MetaImage DimSize \(shapeText(h.sizes)) describes more voxels than can be addressed")
        }
        if h.dataFile.uppercased() != "LOCAL" {
            try h.checkSingleDataFile(path: path)
            _ = try existingDataFile(h.dataFile, of: path, named: "by ElementDataFile")
        }
        try checkAxisCount(h.shape.count, path: path)
        return NIfTIImage.header(datatype: h.datatype, shape: h.shape, affine: h.affine, bigEndian: h.bigEndian, description: "MetaImage")
    }

    /// Reads MetaImage from memory; `dataFile` supplies a detached data file's bytes and path.
    public static func read(bytes: [UInt8], path: String, limits: NIfTIReadLimits = .standard,
                            dataFile: (String) throws -> ([UInt8], String)) throws -> NIfTIImage {
        let h = try MetaImageHeader.parse(bytes, path: path)
        guard let dataBytes = h.dataByteCount else {
            throw NIfTIError(path, "MetaImage DimSize \(shapeText(h.sizes)) describes more voxels than can be addressed")
        }
        var data: [UInt8]
        var dataPath = path
        let local = h.dataFile.uppercased() == "LOCAL"
        if local {
            data = Array(bytes[h.headerLength...])
        } else {
            try h.checkSingleDataFile(path: path)
            (data, dataPath) = try dataFile(h.dataFile)
            if h.headerSize > 0 {
                guard h.headerSize <= data.count else { throw NIfTIError(dataPath, "MetaImage HeaderSize \(h.headerSize) is past the end of the data file (\(data.count) bytes)") }
                data.removeSubrange(0..<h.headerSize)
            }
        }
        var raw: [UInt8]
        if h.compressed {
            if let c = h.compressedSize, c >= 0, c < data.count { data.removeSubrange(c...) }
            guard dataBytes <= data.count.multipliedReportingOverflow(by: GzipLayer.maxDeflateRatio).partialValue else {
                throw NIfTIError(dataPath, "data is shorter than the header claims: \(shapeText(h.sizes)) \(h.datatype) needs \(dataBytes) bytes, more than \(data.count) compressed bytes can hold")
            }
            guard GzipLayer.isZlib(data) || GzipLayer.isGzip(data) else {
                throw NIfTIError(dataPath, "CompressedData is True but the data is not a zlib stream")
            }
            try checkLimit(dataBytes, path: path, limits: limits)
            raw = try GzipLayer.inflate(data, count: dataBytes, path: dataPath)
            if raw.count > dataBytes { raw.removeSubrange(dataBytes...) }
        } else {
            let start = h.headerSize == -1 ? data.count - dataBytes : 0
            guard start >= 0, dataBytes <= data.count - start else {
                throw NIfTIError(dataPath, "data is shorter than the header claims: \(shapeText(h.sizes)) \(h.datatype) needs \(dataBytes) bytes, the file has \(data.count)")
            }
            try checkLimit(dataBytes, path: path, limits: limits)
            raw = start == 0 && data.count == dataBytes ? data : Array(data[start..<(start + dataBytes)])
        }
        data = []
        try checkAxisCount(h.shape.count, path: path)
        return NIfTIImage(path: path, storage: local ? .mha : .mhd, datatype: h.datatype, shape: h.shape,
                          affine: h.affine, bigEndian: h.bigEndian, raw: raw, description: "MetaImage")
    }

    /// The header voxterm writes (as SimpleITK writes it).
    static func headerText(datatype: NIfTIDatatype, shape: [Int], affine: AffineTransform, compressedSize: Int?,
                           dataFile: String) -> String {
        let n = shape.count
        let lps = SIMD3<Double>(-1, -1, 1)
        let cols = (0..<3).map { affine.column($0) * lps }
        let spacing = cols.map { ($0 * $0).sum().squareRoot() }
        var matrix: [Double] = []
        for a in 0..<n {
            for r in 0..<n {
                if a < 3 && r < 3 { matrix.append(spacing[a] > 0 ? cols[a][r] / spacing[a] : (a == r ? 1 : 0)) } else { matrix.append(a == r ? 1 : 0) }
            }
        }
        let origin = (0..<n).map { $0 < 3 ? affine.translation[$0] * lps[$0] : 0 }
        let sp = (0..<n).map { $0 < 3 ? spacing[$0] : 1 }
        var t = "ObjectType = Image\nNDims = \(n)\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
        t += "CompressedData = \(compressedSize == nil ? "False" : "True")\n"
        if let compressedSize { t += "CompressedDataSize = \(compressedSize)\n" }
        t += "TransformMatrix = \(matrix.map(num).joined(separator: " "))\n"
        t += "Offset = \(origin.map(num).joined(separator: " "))\n"
        t += "CenterOfRotation = \(Array(repeating: "0", count: n).joined(separator: " "))\n"
        t += "ElementSpacing = \(sp.map(num).joined(separator: " "))\n"
        t += "DimSize = \(shape.map(String.init).joined(separator: " "))\n"
        t += "ElementType = \(MetaImageHeader.metaName(datatype))\n"
        t += "ElementDataFile = \(dataFile)\n"
        return t
    }

    /// Writes voxels `data` (this machine's byte order, little-endian) as `.mha` (zlib-compressed,
    /// data after the header) or `.mhd` + an uncompressed `.raw` beside it.
    static func write(data: UnsafeRawBufferPointer, datatype: NIfTIDatatype, shape: [Int], affine: AffineTransform,
                      to path: String, options: NIfTIWriter.Options) throws {
        if path.lowercased().hasSuffix(".mhd") {
            try writeDetached(path, data: data, options: options) { rawName in
                headerText(datatype: datatype, shape: shape, affine: affine, compressedSize: nil, dataFile: rawName)
            }
        } else {
            let z = try GzipLayer.zlib(data, path: path)
            try writeAttached(path, header: headerText(datatype: datatype, shape: shape, affine: affine, compressedSize: z.count, dataFile: "LOCAL"),
                              body: z, options: options)
        }
    }
}
