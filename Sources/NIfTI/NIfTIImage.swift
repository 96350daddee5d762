import VolumeCore

/// How the vectors of a displacement field file are expressed.
public enum VectorConvention: String, Sendable, CaseIterable {
    /// ITK/ANTs: vectors in LPS+ physical space (x toward Left, y toward Posterior), mm.
    case itkLPS = "lps"
    /// Vectors along the NIfTI world axes, RAS+, mm (nibabel-style tools).
    case ras
}

/// A NIfTI image as read from disk: its header and its raw data, decoded on request.
public struct NIfTIImage: Sendable {
    /// The file read (the header file of a pair).
    public let path: String
    /// The parsed header.
    public let header: NIfTIHeader
    /// On-disk layout.
    public let storage: NIfTIStorage
    /// Raw voxel bytes in file order and byte order; empty when `decoded` holds them exactly
    /// (`header.floatsAreExact`), which saves keeping both.
    let raw: [UInt8]
    /// All voxels as scaled float32, when the reader decoded them while inflating.
    let decoded: [Float]?

    init(path: String, header: NIfTIHeader, storage: NIfTIStorage, raw: [UInt8], decoded: [Float]? = nil) {
        self.path = path; self.header = header; self.storage = storage; self.raw = raw; self.decoded = decoded
    }

    /// Array shape, dim[1...dim[0]].
    public var shape: [Int] { header.shape }

    /// The affine chosen by nibabel's policy and where it came from.
    public var affine: (affine: AffineTransform, source: AffineSource) { header.bestAffine }

    /// The spatial grid (first three dimensions; missing ones are 1).
    public var geometry: VolumeGeometry {
        let s = shape
        return VolumeGeometry(size: SIMD3(s[0], s.count > 1 ? s[1] : 1, s.count > 2 ? s[2] : 1), affine: affine.affine)
    }

    /// Number of 3-D volumes stored (product of dimensions 4 to 7).
    public var frameCount: Int { shape.dropFirst(3).reduce(1, *) }

    /// Header warnings, as `voxterm info` lists them.
    public var warnings: [HeaderWarning] { header.warnings(singleFile: storage != .pair) }

    /// The slope and intercept that apply, or nil when the data is used as stored
    /// (slope 0, NaN or infinite means no scaling, as in nibabel).
    public var scaling: (slope: Double, intercept: Double)? { header.effectiveScaling }
    /// True for a 5-D image whose fifth dimension holds 2 or 3 vector components.
    public var isVectorField: Bool {
        let s = shape
        return s.count == 5 && s[3] == 1 && (s[4] == 3 || s[4] == 2)
    }

    // MARK: Decoding

    /// All voxels as scaled float32, in file order.
    public func floatValues() -> [Float] {
        if let decoded { return decoded }
        return decode(range: 0..<(raw.count / max(1, header.datatype!.byteCount)))
    }

    /// One 3-D volume (`frame` counts over dimensions 4 to 7), scaled, as float32.
    public func volume(frame: Int = 0) throws -> Volume {
        guard frame >= 0 && frame < frameCount else {
            throw NIfTIError(path, "volume \(frame) requested, the file has \(frameCount)")
        }
        let g = geometry
        let n = g.voxelCount
        if let decoded {
            return Volume(geometry: g, voxels: decoded.count == n ? decoded : Array(decoded[(frame * n)..<((frame + 1) * n)]))
        }
        return Volume(geometry: g, voxels: decode(range: (frame * n)..<((frame + 1) * n)))
    }

    /// The first volume as integer labels; float data must hold whole numbers.
    public func labelVolume() throws -> LabelVolume {
        let g = geometry
        let n = g.voxelCount
        let dt = header.datatype!
        if dt.isInteger && scaling == nil && dt.byteCount <= 2 {
            if raw.isEmpty, let decoded { return LabelVolume(geometry: g, labels: decoded.prefix(n).map { Int32($0) }) }
            var out = [Int32](repeating: 0, count: n)
            raw.withUnsafeBytes { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<n {
                        switch dt {
                        case .uint8: dst[i] = Int32(src[i])
                        case .int8: dst[i] = Int32(Int8(bitPattern: src[i]))
                        case .int16: dst[i] = Int32(load(src, i, Int16.self))
                        default: dst[i] = Int32(load(src, i, UInt16.self))
                        }
                    }
                }
            }
            return LabelVolume(geometry: g, labels: out)
        }
        let d = decodeDouble(range: 0..<n)
        var out = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let v = d[i]
            guard v == v.rounded(), v >= Double(Int32.min), v <= Double(Int32.max) else {
                throw NIfTIError(path, "voxel \(i) holds \(v), not a whole number in the int32 range, so this is not a label map")
            }
            out[i] = Int32(v)
        }
        return LabelVolume(geometry: g, labels: out)
    }

    /// A displacement field from a 5-D vector image (X, Y, Z, 1, 3), converted to voxterm's
    /// convention (RAS+ mm). Two-component fields (2-D) get a zero z component.
    public func vectorField(convention: VectorConvention = .itkLPS) throws -> VectorField {
        guard isVectorField else {
            throw NIfTIError(path, "shape \(shape.map(String.init).joined(separator: "x")) is not a vector field; expected X x Y x Z x 1 x 3 (NIfTI intent VECTOR or DISPVECT)")
        }
        let g = geometry
        let n = g.voxelCount
        let comps = shape[4]
        var data = [Float](repeating: 0, count: 3 * n)
        let values = floatValues()
        for c in 0..<comps {
            let sign: Float = (convention == .itkLPS && c < 2) ? -1 : 1
            for i in 0..<n { data[c * n + i] = sign * values[c * n + i] }
        }
        return VectorField(geometry: g, data: data)
    }

    // MARK: Raw conversion

    @inline(__always)
    private func load<T: FixedWidthInteger>(_ src: UnsafeRawBufferPointer, _ i: Int, _: T.Type) -> T {
        let v = src.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)
        return header.isByteSwapped ? v.byteSwapped : v
    }

    /// Converts voxels `range` to scaled Float32, in parallel over chunks.
    func decode(range: Range<Int>) -> [Float] {
        let count = range.count
        var out = [Float](hugePagesCount: count) { _ in } // every element is written below
        raw.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { dst in
                let chunks = max(1, min(64, count / 65536))
                parallelFor(chunks) { c in
                    let lo = count * c / chunks, hi = count * (c + 1) / chunks
                    header.convertScaled(src, from: range.lowerBound + lo, count: hi - lo,
                                         into: UnsafeMutableBufferPointer(rebasing: dst[lo..<hi]))
                }
            }
        }
        return out
    }

    /// Converts voxels `range` to scaled Double (exact for all integer types up to 2^53).
    func decodeDouble(range: Range<Int>) -> [Double] {
        if raw.isEmpty, let decoded { return decoded[range].map(Double.init) } // exact: floatsAreExact
        let dt = header.datatype!
        var out = [Double](repeating: 0, count: range.count)
        raw.withUnsafeBytes { src in
            for (k, i) in range.enumerated() {
                out[k] = value(src, dt, i)
            }
        }
        if let (s, i) = scaling { for k in out.indices { out[k] = out[k] * s + i } }
        return out
    }

    private func value(_ src: UnsafeRawBufferPointer, _ dt: NIfTIDatatype, _ i: Int) -> Double {
        switch dt {
        case .uint8: return Double(src[i])
        case .int8: return Double(Int8(bitPattern: src[i]))
        case .int16: return Double(load(src, i, Int16.self))
        case .uint16: return Double(load(src, i, UInt16.self))
        case .int32: return Double(load(src, i, Int32.self))
        case .uint32: return Double(load(src, i, UInt32.self))
        case .int64: return Double(load(src, i, Int64.self))
        case .uint64: return Double(load(src, i, UInt64.self))
        case .float32: return Double(Float(bitPattern: load(src, i, UInt32.self)))
        case .float64: return Double(bitPattern: load(src, i, UInt64.self))
        default: return .nan
        }
    }
}

extension NIfTIHeader {
    /// The slope and intercept that apply, or nil when the data is used as stored
    /// (slope 0, NaN or infinite means none, as in nibabel; a non-finite intercept counts as 0).
    var effectiveScaling: (slope: Double, intercept: Double)? {
        let s = sclSlope, i = sclInter
        guard s.isFinite, s != 0 else { return nil }
        let inter = i.isFinite ? i : 0
        if s == 1 && inter == 0 { return nil }
        return (s, inter)
    }

    /// True when float32 holds every stored value exactly (no scaling; 8/16-bit integers or
    /// float32), so the raw bytes need not be kept once decoded.
    var floatsAreExact: Bool {
        guard effectiveScaling == nil, let dt = datatype else { return false }
        return [.uint8, .int8, .int16, .uint16, .float32].contains(dt)
    }

    /// Converts `count` voxels starting at voxel `from` of the raw data `src` to scaled float32.
    func convertScaled(_ src: UnsafeRawBufferPointer, from: Int, count: Int, into dst: UnsafeMutableBufferPointer<Float>) {
        convert(src, datatype!, isByteSwapped, from: from, count: count, into: dst)
        if let (s, i) = effectiveScaling {
            let fs = Float(s), fi = Float(i)
            for k in 0..<count { dst[k] = dst[k] * fs + fi }
        }
    }
}

/// Converts `count` voxels starting at voxel `from` of `src` to Float32 (no scaling).
private func convert(_ src: UnsafeRawBufferPointer, _ dt: NIfTIDatatype, _ swapped: Bool,
                     from: Int, count: Int, into dst: UnsafeMutableBufferPointer<Float>) {
    @inline(__always) func run<T>(_: T.Type, _ f: (T) -> Float) {
        let base = src.baseAddress! + from * MemoryLayout<T>.size
        for k in 0..<count { dst[k] = f(base.loadUnaligned(fromByteOffset: k * MemoryLayout<T>.size, as: T.self)) }
    }
    switch (dt, swapped) {
    case (.uint8, _): run(UInt8.self) { Float($0) }
    case (.int8, _): run(Int8.self) { Float($0) }
    case (.int16, false): run(Int16.self) { Float($0) }
    case (.int16, true): run(Int16.self) { Float($0.byteSwapped) }
    case (.uint16, false): run(UInt16.self) { Float($0) }
    case (.uint16, true): run(UInt16.self) { Float($0.byteSwapped) }
    case (.int32, false): run(Int32.self) { Float($0) }
    case (.int32, true): run(Int32.self) { Float($0.byteSwapped) }
    case (.uint32, false): run(UInt32.self) { Float($0) }
    case (.uint32, true): run(UInt32.self) { Float($0.byteSwapped) }
    case (.int64, false): run(Int64.self) { Float($0) }
    case (.int64, true): run(Int64.self) { Float($0.byteSwapped) }
    case (.uint64, false): run(UInt64.self) { Float($0) }
    case (.uint64, true): run(UInt64.self) { Float($0.byteSwapped) }
    case (.float32, false): run(Float.self) { $0 }
    case (.float32, true): run(UInt32.self) { Float(bitPattern: $0.byteSwapped) }
    case (.float64, false): run(Double.self) { Float($0) }
    case (.float64, true): run(UInt64.self) { Float(Double(bitPattern: $0.byteSwapped)) }
    default: for k in 0..<count { dst[k] = .nan }
    }
}

extension NIfTIImage {
    /// An image read from another format (MGH, NRRD, MetaImage, DICOM), held as a NIfTI image
    /// would be: `raw` holds the voxels in file order (x fastest) in the file's byte order
    /// (`bigEndian`), `affine` maps voxel indices to world RAS+ millimetres (stored as sform and
    /// qform, code 1), `shape` has up to 7 dimensions, `timeStep` becomes pixdim[4].
    /// `raw.count` must equal the product of `shape` times the datatype's size.
    public init(path: String, storage: NIfTIStorage, datatype: NIfTIDatatype, shape: [Int], affine: AffineTransform,
                bigEndian: Bool, raw: [UInt8], slope: Double = 1, intercept: Double = 0, timeStep: Double = 0,
                description: String = "") {
        precondition(shape.count >= 1 && shape.count <= 7 && raw.count == shape.reduce(datatype.byteCount, *))
        let h = Self.header(datatype: datatype, shape: shape, affine: affine, bigEndian: bigEndian, slope: slope,
                            intercept: intercept, timeStep: timeStep, description: description)
        self.init(path: path, header: h, storage: storage, raw: raw)
    }

    /// The NIfTI-1 header of an image of another format (what `init(path:storage:datatype:...)`
    /// stores): `dim` from `shape`, `pixdim` from the affine's column lengths (mm) and `timeStep`
    /// (s), qform and sform both `affine` (RAS+ mm) with code 1, units mm and s.
    public static func header(datatype: NIfTIDatatype, shape: [Int], affine: AffineTransform, bigEndian: Bool,
                              slope: Double = 1, intercept: Double = 0, timeStep: Double = 0,
                              description: String = "") -> NIfTIHeader {
        let voxelSizes = (0..<3).map { c -> Double in let v = affine.column(c); return (v * v).sum().squareRoot() }
        var pixdim = [1.0] + voxelSizes + [timeStep, 1, 1, 1]
        if pixdim[4] == 0 { pixdim[4] = 1 }
        var h = NIfTIHeader(version: 1, isByteSwapped: bigEndian != (1.bigEndian == 1), sizeofHdr: 348,
                            dim: [shape.count] + shape + [Int](repeating: 1, count: 7 - shape.count),
                            datatypeCode: datatype.rawValue, bitpix: datatype.byteCount * 8,
                            pixdim: pixdim, voxOffset: 352, sclSlope: slope, sclInter: intercept,
                            qformCode: 0, sformCode: 0, quaternion: .zero, qoffset: .zero,
                            srow: [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], magic: "n+1")
        h.setQform(affine, code: 1)
        h.setSform(affine, code: 1)
        h.xyztUnits = 2 | 8
        h.descrip = description
        return h
    }

    /// The same image named `path` (DICOM: the folder, not dcm2niix's temporary file).
    public func renamed(_ path: String, storage: NIfTIStorage) -> NIfTIImage {
        NIfTIImage(path: path, header: header, storage: storage, raw: raw, decoded: decoded)
    }

    /// Raw voxel bytes in file order and the file's byte order (`header.isByteSwapped`), as
    /// stored; for an image whose floats were decoded exactly while reading, the float32 values.
    public var rawData: (bytes: [UInt8], datatype: NIfTIDatatype, byteSwapped: Bool) {
        if raw.isEmpty, let decoded {
            return (decoded.withUnsafeBytes { Array($0) }, .float32, false)
        }
        return (raw, header.datatype!, header.isByteSwapped)
    }
}
