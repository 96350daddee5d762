import Foundation

/// Broken NIfTI files, each made in a test from a good committed fixture, with the words the
/// one-line error must contain. Shared by the library tests (NIfTITests) and the CLI tests.
public enum BadNIfTI: String, CaseIterable, Sendable, CustomStringConvertible {
    case emptyFile, notNIfTI, truncatedHeader, truncatedHeaderNIfTI2, truncatedData, wrongSizeofHdr
    case corruptGzip, truncatedGzip, truncatedHeaderGzip
    case zeroDim, negativeDim, badRank, overflowingDims, overflowingDimsNIfTI2
    case voxOffsetPastEnd, voxOffsetInsideHeader, voxOffsetNaN
    case dataShorterThanHeader, dataShorterThanHeaderGzip, hugeClaimGzip, hugeClaimNIfTI2Gzip, hugeClaimPairGzip
    case unknownDatatype, unsupportedRGB, unsupportedComplex
    case pairWithoutImage, directory, missing

    public var description: String { rawValue }

    /// Words the error message must contain.
    public var expectedReason: String {
        switch self {
        case .emptyFile: "file is 0 bytes, shorter than a NIfTI header"
        case .notNIfTI: "not a NIfTI file"
        case .truncatedHeader: "shorter than a NIfTI header"
        case .truncatedHeaderNIfTI2: "shorter than a NIfTI-2 header"
        case .truncatedData: "data is shorter than the header claims"
        case .wrongSizeofHdr: "sizeof_hdr is 349"
        case .corruptGzip: "gzip data is corrupt"
        case .truncatedGzip: "truncated"
        case .truncatedHeaderGzip: "shorter than a NIfTI header"
        case .zeroDim: "dim[2] is 0"
        case .negativeDim: "dim[1] is -5"
        case .badRank: "dim[0] is 9"
        case .overflowingDims, .overflowingDimsNIfTI2: "more voxels than can be addressed"
        case .voxOffsetPastEnd: "vox_offset 100000 is past the end of the file"
        case .voxOffsetInsideHeader: "vox_offset 100 lies inside the 348-byte header"
        case .voxOffsetNaN: "vox_offset nan is not a valid byte offset"
        case .dataShorterThanHeader, .dataShorterThanHeaderGzip: "data is shorter than the header claims"
        case .hugeClaimGzip, .hugeClaimNIfTI2Gzip, .hugeClaimPairGzip: "compressed bytes can hold"
        case .unknownDatatype: "datatype 999 is not a NIfTI datatype code"
        case .unsupportedRGB: "datatype RGB24 (128) is not supported"
        case .unsupportedComplex: "datatype complex64 (32) is not supported"
        case .pairWithoutImage: "does not exist"
        case .directory: "is a directory"
        case .missing: "no such file or directory"
        }
    }

    /// True for the files whose header claims far more data than the file can hold, which
    /// must be refused before anything of that size is allocated.
    public var claimsHugeVolume: Bool {
        self == .hugeClaimGzip || self == .hugeClaimNIfTI2Gzip || self == .hugeClaimPairGzip || self == .overflowingDims
            || self == .overflowingDimsNIfTI2
    }

    /// Committed fixtures the bad files are made from.
    public static let fixtures = TestPaths.packageRoot.appendingPathComponent("Tests/NIfTITests/Fixtures")

    /// Makes the bad file in `dir`; returns the path to read and the path the error must name.
    public func make(in dir: URL) throws -> (read: String, named: String) {
        // las.nii: NIfTI-1 little-endian, 5x4x3 int16, vox_offset 352, 472 bytes.
        var las = try Data(contentsOf: Self.fixtures.appendingPathComponent("las.nii"))
        var n2 = try Data(contentsOf: Self.fixtures.appendingPathComponent("nifti2.nii"))
        func out(_ name: String, _ data: Data) throws -> (String, String) {
            let p = dir.appendingPathComponent(name).path
            try data.write(to: URL(fileURLWithPath: p))
            return (p, p)
        }
        func gz(_ name: String, _ data: Data) throws -> (String, String) {
            let (p, _) = try out(name, data)
            try gzip(p)
            return (p + ".gz", p + ".gz")
        }
        switch self {
        case .emptyFile: return try out("empty.nii", Data())
        case .notNIfTI: return try out("text.nii", Data(String(repeating: "not an image\n", count: 40).utf8))
        case .truncatedHeader: return try out("truncated_header.nii", las.prefix(200))
        case .truncatedHeaderNIfTI2: return try out("truncated_header2.nii", n2.prefix(400))
        case .truncatedData: return try out("truncated_data.nii", las.prefix(400))
        case .wrongSizeofHdr: las.put(Int32(349), at: 0); return try out("sizeof_hdr.nii", las)
        case .corruptGzip:
            let (p, _) = try gz("corrupt.nii", las)
            var g = try Data(contentsOf: URL(fileURLWithPath: p))
            for i in 40..<60 { g[i] ^= 0x5a }
            try g.write(to: URL(fileURLWithPath: p))
            return (p, p)
        case .truncatedGzip:
            let (p, _) = try gz("truncated.nii", las)
            let g = try Data(contentsOf: URL(fileURLWithPath: p))
            try g.prefix(g.count * 3 / 4).write(to: URL(fileURLWithPath: p))
            return (p, p)
        case .truncatedHeaderGzip: return try gz("truncated_header_gz.nii", las.prefix(200))
        case .zeroDim: las.put(Int16(0), at: 44); return try out("zero_dim.nii", las)
        case .negativeDim: las.put(Int16(-5), at: 42); return try out("negative_dim.nii", las)
        case .badRank: las.put(Int16(9), at: 40); return try out("bad_rank.nii", las)
        case .overflowingDims:
            for i in 0..<8 { las.put(Int16(i == 0 ? 7 : 32767), at: 40 + 2 * i) }
            return try out("overflow.nii", las)
        case .overflowingDimsNIfTI2:
            for i in 1...3 { n2.put(Int64(1) << 40, at: 16 + 8 * i) }
            return try out("overflow2.nii", n2)
        case .voxOffsetPastEnd: las.put(Float(100_000).bitPattern, at: 108); return try out("offset_past_end.nii", las)
        case .voxOffsetInsideHeader: las.put(Float(100).bitPattern, at: 108); return try out("offset_inside.nii", las)
        case .voxOffsetNaN: las.put(Float.nan.bitPattern, at: 108); return try out("offset_nan.nii", las)
        case .dataShorterThanHeader: las.put(Int16(50), at: 42); return try out("short_data.nii", las)
        case .dataShorterThanHeaderGzip: las.put(Int16(50), at: 42); return try gz("short_data_gz.nii", las)
        case .hugeClaimGzip:
            // 1000 x 1000 x 500 uint8: a 500 MB claim in a file of a few hundred bytes.
            las.put(Int16(2), at: 70); las.put(Int16(8), at: 72)
            las.put(Int16(1000), at: 42); las.put(Int16(1000), at: 44); las.put(Int16(500), at: 46)
            return try gz("huge_claim.nii", las)
        case .hugeClaimNIfTI2Gzip:
            // 2^20 x 2^20 x 2^10 float64: 8 PB in NIfTI-2's 64-bit dims.
            n2.put(Int64(1) << 20, at: 24); n2.put(Int64(1) << 20, at: 32); n2.put(Int64(1) << 10, at: 40)
            return try gz("huge_claim2.nii", n2)
        case .hugeClaimPairGzip:
            var hdr = try Data(contentsOf: Self.fixtures.appendingPathComponent("pair_int16.hdr"))
            hdr.put(Int16(1000), at: 42); hdr.put(Int16(1000), at: 44); hdr.put(Int16(200), at: 46)
            let (h, _) = try out("huge_pair.hdr", hdr)
            let img = try Data(contentsOf: Self.fixtures.appendingPathComponent("pair_int16.img"))
            let (i, _) = try gz("huge_pair.img", img)
            return (h, i)
        case .unknownDatatype: las.put(Int16(999), at: 70); return try out("unknown_datatype.nii", las)
        case .unsupportedRGB:
            return try out("rgb.nii", try Data(contentsOf: Self.fixtures.appendingPathComponent("unsupported_rgb24.nii")))
        case .unsupportedComplex:
            return try out("complex.nii", try Data(contentsOf: Self.fixtures.appendingPathComponent("unsupported_complex64.nii")))
        case .pairWithoutImage:
            let hdr = try Data(contentsOf: Self.fixtures.appendingPathComponent("pair_int16.hdr"))
            let (h, _) = try out("lonely.hdr", hdr)
            return (h, h)
        case .directory:
            let p = dir.appendingPathComponent("folder.nii").path
            try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
            return (p, p)
        case .missing:
            let p = dir.appendingPathComponent("does_not_exist.nii").path
            return (p, p)
        }
    }
}

/// Compresses `path` to `path.gz` with the system's gzip (no name or time stored), replacing `path`.
public func gzip(_ path: String) throws {
    let tool = ["/bin/gzip", "/usr/bin/gzip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "gzip"
    let r = try runProcess(tool, ["-n", "-f", path])
    guard r.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "gzip \(path): \(r.stderr)"]) }
}

extension Data {
    /// Overwrites bytes at `offset` with `value`, little-endian.
    mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        let bytes = Swift.withUnsafeBytes(of: value.littleEndian) { Array($0) }
        for (k, b) in bytes.enumerated() { self[offset + k] = b }
    }
}

/// Peak resident memory of this process so far (`VmHWM` in /proc/self/status), in bytes.
public func peakResidentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}
