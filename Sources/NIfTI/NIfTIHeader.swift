import VolumeCore

/// A NIfTI-1 (348-byte) or NIfTI-2 (540-byte) header, fields widened to a common form.
///
/// Byte offsets of each field are given as `n1 offset / n2 offset`.
public struct NIfTIHeader: Sendable, Equatable {
    /// 1 or 2.
    public var version: Int
    /// True when the file's byte order differs from this machine's (big-endian files here).
    public var isByteSwapped: Bool
    /// `sizeof_hdr` (0/0): 348 or 540.
    public var sizeofHdr: Int
    /// `dim_info` (39/524).
    public var dimInfo: UInt8 = 0
    /// `dim[8]` (40 int16 / 16 int64): dim[0] is the number of dimensions.
    public var dim: [Int]
    /// `intent_p1..p3` (56/80).
    public var intentParameters: [Double] = [0, 0, 0]
    /// `intent_code` (68/504).
    public var intentCode: Int = 0
    /// `datatype` (70/12), raw code.
    public var datatypeCode: Int16
    /// `bitpix` (72/14).
    public var bitpix: Int
    /// `slice_start` (74/224).
    public var sliceStart: Int = 0
    /// `pixdim[8]` (76/104): pixdim[0] is qfac, pixdim[1...] voxel sizes.
    public var pixdim: [Double]
    /// `vox_offset` (108/168): byte offset of the data in a single file.
    public var voxOffset: Double
    /// `scl_slope` (112/176), `scl_inter` (116/184).
    public var sclSlope: Double
    public var sclInter: Double
    /// `slice_end` (120/232), `slice_code` (122/496), `xyzt_units` (123/500).
    public var sliceEnd: Int = 0
    public var sliceCode: Int = 0
    public var xyztUnits: Int = 0
    /// `cal_max` (124/192), `cal_min` (128/200), `slice_duration` (132/208), `toffset` (136/216).
    public var calMax: Double = 0
    public var calMin: Double = 0
    public var sliceDuration: Double = 0
    public var toffset: Double = 0
    /// `descrip[80]` (148/240), `aux_file[24]` (228/320).
    public var descrip: String = ""
    public var auxFile: String = ""
    /// `qform_code` (252/344), `sform_code` (254/348).
    public var qformCode: Int
    public var sformCode: Int
    /// `quatern_b,c,d` (256/352) and `qoffset_x,y,z` (268/376).
    public var quaternion: SIMD3<Double>
    public var qoffset: SIMD3<Double>
    /// `srow_x,y,z[4]` (280/400).
    public var srow: [[Double]]
    /// `intent_name[16]` (328/508).
    public var intentName: String = ""
    /// `magic` (344 char[4] / 4 char[8]), as read (NUL-terminated part).
    public var magic: String
    /// SPM's Analyze `originator` (253, int16[3]): 1-based voxel of the world origin; read for
    /// NIfTI-1-sized headers, meaningful only in Analyze 7.5 files (`isAnalyze`).
    public var analyzeOrigin: SIMD3<Int> = .zero

    /// True for a 348-byte header without a NIfTI magic ("ni1"/"n+1"): an Analyze 7.5 header,
    /// whose bytes at qform_code/sform_code and after belong to other fields.
    public var isAnalyze: Bool { version == 1 && magic != "n+1" && magic != "ni1" }

    /// The datatype, if the code is a known one.
    public var datatype: NIfTIDatatype? { NIfTIDatatype(rawValue: datatypeCode) }

    /// Number of dimensions (dim[0]).
    public var rank: Int { dim[0] }

    /// Array shape: dim[1...dim[0]].
    public var shape: [Int] { Array(dim[1...max(1, min(dim[0], 7))]) }

    /// Units of the spatial axes from `xyzt_units`: "m", "mm", "um" or "unknown".
    public var spatialUnits: String {
        switch xyztUnits & 0x07 { case 1: "m"; case 2: "mm"; case 3: "um"; default: "unknown" }
    }

    /// Units of the time axis from `xyzt_units`: "s", "ms", "us", "Hz", "ppm", "rad/s" or "unknown".
    public var temporalUnits: String {
        switch xyztUnits & 0x38 { case 8: "s"; case 16: "ms"; case 24: "us"; case 32: "Hz"; case 40: "ppm"; case 48: "rad/s"; default: "unknown" }
    }

    /// The `intent_code` for vector images.
    public static let intentVector = 1007
    /// The `intent_code` for displacement vectors.
    public static let intentDisplacementVector = 1006
}

extension NIfTIHeader {
    /// Parses a header from the first 348 or 540 bytes; `path` only names the file in errors.
    public static func parse(_ bytes: [UInt8], path: String) throws -> NIfTIHeader {
        guard bytes.count >= 348 else {
            throw NIfTIError(path, "file is \(bytes.count) bytes, shorter than a NIfTI header (348 bytes)")
        }
        let le = ByteReader(bytes: bytes, swapped: false)
        let raw = le.u32(0)
        var swapped = false, version = 1
        switch raw {
        case 348: version = 1
        case UInt32(348).byteSwapped: version = 1; swapped = true
        case 540: version = 2
        case UInt32(540).byteSwapped: version = 2; swapped = true
        default:
            throw NIfTIError(path, "sizeof_hdr is \(Int32(bitPattern: raw)), not 348 (NIfTI-1) or 540 (NIfTI-2) in either byte order: not a NIfTI file")
        }
        if version == 2 && bytes.count < 540 {
            throw NIfTIError(path, "file is \(bytes.count) bytes, shorter than a NIfTI-2 header (540 bytes)")
        }
        let r = ByteReader(bytes: bytes, swapped: swapped)
        return version == 1 ? parse1(r, swapped: swapped) : parse2(r, swapped: swapped)
    }

    private static func parse1(_ r: ByteReader, swapped: Bool) -> NIfTIHeader {
        var h = NIfTIHeader(
            version: 1, isByteSwapped: swapped, sizeofHdr: 348,
            dim: (0..<8).map { Int(r.i16(40 + 2 * $0)) },
            datatypeCode: r.i16(70), bitpix: Int(r.i16(72)),
            pixdim: (0..<8).map { Double(r.f32(76 + 4 * $0)) },
            voxOffset: Double(r.f32(108)), sclSlope: Double(r.f32(112)), sclInter: Double(r.f32(116)),
            qformCode: Int(r.i16(252)), sformCode: Int(r.i16(254)),
            quaternion: SIMD3(Double(r.f32(256)), Double(r.f32(260)), Double(r.f32(264))),
            qoffset: SIMD3(Double(r.f32(268)), Double(r.f32(272)), Double(r.f32(276))),
            srow: (0..<3).map { row in (0..<4).map { Double(r.f32(280 + 16 * row + 4 * $0)) } },
            magic: r.string(344, 4))
        h.dimInfo = r.u8(39)
        h.intentParameters = (0..<3).map { Double(r.f32(56 + 4 * $0)) }
        h.intentCode = Int(r.i16(68))
        h.sliceStart = Int(r.i16(74))
        h.sliceEnd = Int(r.i16(120))
        h.sliceCode = Int(r.u8(122))
        h.xyztUnits = Int(r.u8(123))
        h.calMax = Double(r.f32(124)); h.calMin = Double(r.f32(128))
        h.sliceDuration = Double(r.f32(132)); h.toffset = Double(r.f32(136))
        h.descrip = r.string(148, 80); h.auxFile = r.string(228, 24)
        h.intentName = r.string(328, 16)
        h.analyzeOrigin = SIMD3(Int(r.i16(253)), Int(r.i16(255)), Int(r.i16(257)))
        return h
    }

    private static func parse2(_ r: ByteReader, swapped: Bool) -> NIfTIHeader {
        var h = NIfTIHeader(
            version: 2, isByteSwapped: swapped, sizeofHdr: 540,
            dim: (0..<8).map { Int(clamping: r.i64(16 + 8 * $0)) },
            datatypeCode: r.i16(12), bitpix: Int(r.i16(14)),
            pixdim: (0..<8).map { r.f64(104 + 8 * $0) },
            voxOffset: Double(r.i64(168)), sclSlope: r.f64(176), sclInter: r.f64(184),
            qformCode: Int(r.i32(344)), sformCode: Int(r.i32(348)),
            quaternion: SIMD3(r.f64(352), r.f64(360), r.f64(368)),
            qoffset: SIMD3(r.f64(376), r.f64(384), r.f64(392)),
            srow: (0..<3).map { row in (0..<4).map { r.f64(400 + 32 * row + 8 * $0) } },
            magic: r.string(4, 8))
        h.intentParameters = (0..<3).map { r.f64(80 + 8 * $0) }
        h.calMax = r.f64(192); h.calMin = r.f64(200)
        h.sliceDuration = r.f64(208); h.toffset = r.f64(216)
        h.sliceStart = Int(clamping: r.i64(224)); h.sliceEnd = Int(clamping: r.i64(232))
        h.descrip = r.string(240, 80); h.auxFile = r.string(320, 24)
        h.sliceCode = Int(r.i32(496)); h.xyztUnits = Int(r.i32(500)); h.intentCode = Int(r.i32(504))
        h.intentName = r.string(508, 16)
        h.dimInfo = r.u8(524)
        return h
    }
}
