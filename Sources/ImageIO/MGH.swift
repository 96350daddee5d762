import NIfTI
import VolumeCore

/// FreeSurfer MGH/MGZ: a 284-byte big-endian header, the voxels (big-endian, x fastest, then
/// frames), and an optional tail (TR, flip angle, TE, TI, FoV, then tagged data).
/// The affine follows nibabel's `freesurfer/mghformat.py`: `M = Mdc^T * diag(delta)`,
/// translation `Pxyz_c - M * dims / 2`; with `goodRASFlag` 0, nibabel's default
/// (delta 1, Mdc = [[-1,0,0],[0,0,1],[0,-1,0]], Pxyz_c 0).
public enum MGH {
    /// Byte offset of the voxel data.
    public static let dataOffset = 284

    /// A parsed MGH header (fields as stored).
    public struct Header: Equatable, Sendable {
        /// `version` (0), must be 1.
        public var version: Int32
        /// `dims` (4): width, height, depth, frames.
        public var dims: [Int]
        /// `type` (20): 0 uchar, 1 int32, 3 float32, 4 int16, 10 uint16.
        public var type: Int32
        /// `dof` (24).
        public var dof: Int32
        /// `goodRASFlag` (28): whether `delta`, `Mdc` and `Pxyz_c` are valid.
        public var goodRAS: Int16
        /// `delta` (30): voxel sizes in mm.
        public var delta: SIMD3<Double>
        /// `Mdc` (42): rows are the unit RAS directions of the x, y and z voxel axes.
        public var mdc: [SIMD3<Double>]
        /// `Pxyz_c` (78): RAS mm of the volume centre.
        public var center: SIMD3<Double>
        /// Tail: repetition time (ms), flip angle (rad), TE, TI (ms), FoV, when present.
        public var tr: Double = 0, flipAngle: Double = 0, te: Double = 0, ti: Double = 0, fov: Double = 0
        /// True when the tail's five scan parameters were present.
        public var hasScanParameters = false

        /// The NIfTI datatype of `type`.
        public var datatype: NIfTIDatatype? {
            switch type {
            case 0: .uint8
            case 1: .int32
            case 3: .float32
            case 4: .int16
            case 10: .uint16
            default: nil
            }
        }

        /// Voxel (0-based) to world RAS+ mm, exactly as nibabel's `MGHHeader.get_affine`.
        public var affine: AffineTransform {
            var delta = self.delta, mdc = self.mdc, center = self.center
            if goodRAS == 0 {
                delta = [1, 1, 1]; mdc = [[-1, 0, 0], [0, 0, 1], [0, -1, 0]]; center = .zero
            }
            // Column j of the linear part is Mdc row j times delta[j].
            let cols = (0..<3).map { mdc[$0] * delta[$0] }
            let half = SIMD3<Double>(Double(dims[0]), Double(dims[1]), Double(dims[2])) / 2
            let t = center - (cols[0] * half.x + cols[1] * half.y + cols[2] * half.z)
            return AffineTransform(linear: (0..<3).map { r in (0..<3).map { cols[$0][r] } }, translation: t)
        }

        /// Parses the first 284 (at least 90) bytes; `path` names the file in errors.
        public static func parse(_ b: [UInt8], path: String) throws -> Header {
            guard b.count >= 90 else {
                throw NIfTIError(path, "file is \(b.count) bytes, shorter than an MGH header (284 bytes)")
            }
            let r = BigEndianReader(bytes: b)
            let version = r.i32(0)
            guard version == 1 else { throw NIfTIError(path, "MGH version is \(version), not 1: not an MGH file") }
            let dims = (0..<4).map { Int(r.i32(4 + 4 * $0)) }
            for (i, d) in dims.enumerated() where d < 1 {
                throw NIfTIError(path, "MGH dimension \(i + 1) is \(d); every dimension must be at least 1")
            }
            let h = Header(version: version, dims: dims, type: r.i32(20), dof: r.i32(24), goodRAS: r.i16(28),
                           delta: SIMD3((0..<3).map { Double(r.f32(30 + 4 * $0)) }),
                           mdc: (0..<3).map { row in SIMD3((0..<3).map { Double(r.f32(42 + 12 * row + 4 * $0)) }) },
                           center: SIMD3((0..<3).map { Double(r.f32(78 + 4 * $0)) }))
            guard h.datatype != nil else {
                throw NIfTIError(path, "MGH data type \(h.type) is not supported (0 uchar, 1 int, 3 float, 4 short, 10 ushort)")
            }
            if h.goodRAS != 0 {
                for (i, v) in [h.delta, h.mdc[0], h.mdc[1], h.mdc[2], h.center].enumerated()
                where !(0..<3).allSatisfy({ v[$0].isFinite }) {
                    throw NIfTIError(path, "MGH \(["delta", "Mdc", "Mdc", "Mdc", "Pxyz_c"][i]) holds a non-finite value")
                }
            }
            return h
        }

        /// Reads the optional tail (the bytes after the data): TR, flip angle, TE, TI, FoV.
        public mutating func readTail(_ tail: ArraySlice<UInt8>) {
            guard tail.count >= 20 else { return }
            let r = BigEndianReader(bytes: Array(tail.prefix(20)))
            tr = Double(r.f32(0)); flipAngle = Double(r.f32(4)); te = Double(r.f32(8)); ti = Double(r.f32(12)); fov = Double(r.f32(16))
            hasScanParameters = true
        }

        /// Bytes of voxel data, or nil when the dimensions overflow.
        public var dataByteCount: Int? { voxelByteCount(datatype!, dims) }
    }

    /// Reads `path` (`.mgh`, or gzipped `.mgz`; recognised by content).
    public static func read(_ path: String, limits: NIfTIReadLimits = .standard) throws -> NIfTIImage {
        let bytes = try readFile(path)
        return try read(bytes: bytes, path: path, limits: limits)
    }

    /// The header of `path` as NIfTI fields without the voxels: the first 284 bytes (of an MGZ,
    /// only as much of the gzip stream as they need). `pixdim[4]` is 1: the TR is in the tail.
    public static func readHeader(_ path: String) throws -> NIfTIHeader {
        let (prefix, _) = try readPrefix(path) { _ in true }
        let gz = GzipLayer.isGzip(prefix)
        let head = gz ? try GzipLayer.inflatePrefix(prefix, maxCount: dataOffset, path: path) : Array(prefix.prefix(dataOffset))
        guard head.count >= dataOffset else {
            throw NIfTIError(path, "file is \(head.count) bytes\(gz ? " after decompression" : ""), shorter than an MGH header (284 bytes)")
        }
        let h = try Header.parse(head, path: path)
        guard h.dataByteCount != nil else {
            throw NIfTIError(path, "MGH dimensions \(shapeText(h.dims)) describe more voxels than can be addressed")
        }
        return NIfTIImage.header(datatype: h.datatype!, shape: h.dims[3] > 1 ? h.dims : Array(h.dims.prefix(3)),
                                 affine: h.affine, bigEndian: true, description: "FreeSurfer MGH")
    }

    /// Reads an MGH or MGZ file held in memory; `path` names it in errors.
    public static func read(bytes: [UInt8], path: String, limits: NIfTIReadLimits = .standard) throws -> NIfTIImage {
        let gz = GzipLayer.isGzip(bytes)
        let head = gz ? try GzipLayer.inflatePrefix(bytes, maxCount: dataOffset, path: path) : Array(bytes.prefix(dataOffset))
        guard head.count >= dataOffset else {
            throw NIfTIError(path, "file is \(head.count) bytes\(gz ? " after decompression" : ""), shorter than an MGH header (284 bytes)")
        }
        var h = try Header.parse(head, path: path)
        guard let dataBytes = h.dataByteCount, dataBytes <= Int.max - dataOffset else {
            throw NIfTIError(path, "MGH dimensions \(shapeText(h.dims)) describe more voxels than can be addressed")
        }
        let needed = dataOffset + dataBytes
        var content: [UInt8]
        if gz {
            guard dataBytes <= bytes.count.multipliedReportingOverflow(by: GzipLayer.maxDeflateRatio).partialValue else {
                throw NIfTIError(path, "data is shorter than the header claims: \(shapeText(h.dims)) \(h.datatype!) needs \(dataBytes) bytes, more than \(bytes.count) compressed bytes can hold")
            }
            try checkLimit(dataBytes, path: path, limits: limits)
            // The tail is small; room for it (and its tags) without a second pass.
            content = try GzipLayer.inflate(bytes, count: needed, maxCount: needed + (1 << 16), path: path, what: "data")
        } else {
            guard bytes.count >= needed else {
                throw NIfTIError(path, "data is shorter than the header claims: \(shapeText(h.dims)) \(h.datatype!) needs \(dataBytes) bytes from offset 284, the file has \(bytes.count - dataOffset)")
            }
            try checkLimit(dataBytes, path: path, limits: limits)
            content = bytes
        }
        h.readTail(content[needed...])
        let raw = Array(content[dataOffset..<needed])
        content = []
        let shape = h.dims[3] > 1 ? h.dims : Array(h.dims.prefix(3))
        return NIfTIImage(path: path, storage: gz ? .mgz : .mgh, datatype: h.datatype!, shape: shape,
                          affine: h.affine, bigEndian: true, raw: raw,
                          timeStep: h.dims[3] > 1 ? h.tr / 1000 : 0, description: "FreeSurfer MGH")
    }

    /// The 284-byte header and the 20-byte tail voxterm writes, as nibabel's `_affine2header`:
    /// delta = voxel sizes, Mdc = columns / delta, Pxyz_c = affine applied to dims / 2.
    static func headerBytes(datatype: NIfTIDatatype, shape: [Int], affine: AffineTransform, path: String) throws -> [UInt8] {
        let type: Int32
        switch datatype {
        case .uint8: type = 0
        case .int32: type = 1
        case .float32: type = 3
        case .int16: type = 4
        case .uint16: type = 10
        default: throw NIfTIError(path, "MGH cannot hold \(datatype) data")
        }
        var w = BigEndianWriter(count: dataOffset)
        w.i32(1, 0)
        let dims = (0..<4).map { $0 < shape.count ? shape[$0] : 1 }
        for (i, d) in dims.enumerated() {
            guard d <= Int(Int32.max) else { throw NIfTIError(path, "dimension \(d) is too large for MGH") }
            w.i32(Int32(d), 4 + 4 * i)
        }
        w.i32(type, 20)
        w.i16(1, 28)
        let cols = (0..<3).map { affine.column($0) }
        let delta = cols.map { ($0 * $0).sum().squareRoot() }
        for j in 0..<3 {
            w.f32(Float(delta[j]), 30 + 4 * j)
            let unit = delta[j] > 0 ? cols[j] / delta[j] : SIMD3((0..<3).map { $0 == j ? 1.0 : 0 })
            for k in 0..<3 { w.f32(Float(unit[k]), 42 + 12 * j + 4 * k) }
        }
        let c = affine.apply(SIMD3(Double(dims[0]), Double(dims[1]), Double(dims[2])) / 2)
        for k in 0..<3 { w.f32(Float(c[k]), 78 + 4 * k) }
        return w.bytes
    }

    /// Writes voxels `data` (in this machine's byte order) as `.mgh` or `.mgz` (by `path`'s extension).
    static func write(data: UnsafeRawBufferPointer, datatype: NIfTIDatatype, shape: [Int], affine: AffineTransform,
                      to path: String, options: NIfTIWriter.Options) throws {
        let head = try headerBytes(datatype: datatype, shape: shape, affine: affine, path: path)
        let body = bigEndianCopy(data, elementSize: datatype.byteCount)
        let tail = [UInt8](repeating: 0, count: 20) // TR, flip angle, TE, TI, FoV, as nibabel writes them
        try head.withUnsafeBytes { h in
            try body.withUnsafeBytes { b in
                try tail.withUnsafeBytes { t in
                    if path.lowercased().hasSuffix(".mgz") {
                        try writeFile(path, try GzipLayer.gzip([h, b, t], path: path), options: options)
                    } else {
                        try writeFile(path, parts: [h, b, t], options: options)
                    }
                }
            }
        }
    }
}

/// "AxBxC" for messages.
func shapeText(_ s: [Int]) -> String { s.map(String.init).joined(separator: "x") }

/// Bytes of voxel data: the product of `sizes` times the type's size, or nil when it overflows `Int`.
func voxelByteCount(_ datatype: NIfTIDatatype, _ sizes: [Int]) -> Int? {
    var n = datatype.byteCount
    for d in sizes {
        let (m, o) = n.multipliedReportingOverflow(by: d)
        if o { return nil }
        n = m
    }
    return n
}

/// Refuses images with more axes than a NIfTI header holds (7).
func checkAxisCount(_ n: Int, path: String) throws {
    guard n <= 7 else { throw NIfTIError(path, "the image has \(n) axes; voxterm holds at most 7 (as NIfTI)") }
}

/// Refuses data above the read limit, with the message NIfTIReader uses.
func checkLimit(_ bytes: Int, path: String, limits: NIfTIReadLimits) throws {
    guard bytes <= limits.maxDataBytes else {
        throw NIfTIError(path, "image data is \(bytes >> 20) MB, above the limit of \(limits.maxDataBytes >> 20) MB; set VOXTERM_MAX_VOLUME_MB to raise it")
    }
}

/// Big-endian field reads from a header.
struct BigEndianReader {
    let bytes: [UInt8]
    func u32(_ o: Int) -> UInt32 {
        UInt32(bytes[o]) << 24 | UInt32(bytes[o + 1]) << 16 | UInt32(bytes[o + 2]) << 8 | UInt32(bytes[o + 3])
    }
    func i32(_ o: Int) -> Int32 { Int32(bitPattern: u32(o)) }
    func i16(_ o: Int) -> Int16 { Int16(bitPattern: UInt16(bytes[o]) << 8 | UInt16(bytes[o + 1])) }
    func f32(_ o: Int) -> Float { Float(bitPattern: u32(o)) }
}

/// Big-endian field writes into a zeroed header.
struct BigEndianWriter {
    var bytes: [UInt8]
    init(count: Int) { bytes = [UInt8](repeating: 0, count: count) }
    mutating func u32(_ v: UInt32, _ o: Int) { for k in 0..<4 { bytes[o + k] = UInt8(truncatingIfNeeded: v >> (24 - 8 * k)) } }
    mutating func i32(_ v: Int32, _ o: Int) { u32(UInt32(bitPattern: v), o) }
    mutating func i16(_ v: Int16, _ o: Int) { bytes[o] = UInt8(truncatingIfNeeded: v >> 8); bytes[o + 1] = UInt8(truncatingIfNeeded: v) }
    mutating func f32(_ v: Float, _ o: Int) { u32(v.bitPattern, o) }
}

/// A copy of `data` with every `elementSize`-byte element in big-endian order.
func bigEndianCopy(_ data: UnsafeRawBufferPointer, elementSize: Int) -> [UInt8] {
    var out = Array(data)
    guard elementSize > 1, 1.littleEndian == 1 else { return out }
    out.withUnsafeMutableBytes { o in
        func swap<T: FixedWidthInteger>(_: T.Type) {
            let p = o.bindMemory(to: T.self)
            for i in p.indices { p[i] = p[i].byteSwapped }
        }
        switch elementSize {
        case 2: swap(UInt16.self)
        case 4: swap(UInt32.self)
        default: swap(UInt64.self)
        }
    }
    return out
}
