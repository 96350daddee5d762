import NIfTI
import VolumeCore
#if canImport(Glibc)
import Glibc
#endif

/// The image formats voxterm reads, recognised by content first and by extension second.
public enum ImageFormat: String, Sendable, CaseIterable {
    /// NIfTI-1/2 and Analyze (`.nii`, `.nii.gz`, `.hdr`/`.img`).
    case nifti = "NIfTI"
    /// FreeSurfer MGH (`.mgh`, gzipped `.mgz`).
    case mgh = "MGH"
    /// NRRD (`.nrrd`, `.nhdr` + detached data).
    case nrrd = "NRRD"
    /// MetaImage (`.mha`, `.mhd` + `.raw`/`.zraw`).
    case metaImage = "MetaImage"
    /// A DICOM series (a folder, or a file of the series), converted by dcm2niix.
    case dicom = "DICOM"

    /// The format an output path asks for by its extension (NIfTI when none is recognised).
    public static func forOutput(_ path: String) -> ImageFormat {
        let l = path.lowercased()
        if l.hasSuffix(".mgh") || l.hasSuffix(".mgz") { return .mgh }
        if l.hasSuffix(".nrrd") || l.hasSuffix(".nhdr") { return .nrrd }
        if l.hasSuffix(".mha") || l.hasSuffix(".mhd") { return .metaImage }
        return .nifti
    }

    /// True when `path` ends in an extension voxterm can write.
    public static func isWritableExtension(_ path: String) -> Bool {
        let l = path.lowercased()
        return [".nii", ".nii.gz", ".mgh", ".mgz", ".nrrd", ".nhdr", ".mha", ".mhd"].contains { l.hasSuffix($0) }
    }

    /// The data file voxterm writes beside a detached header (`X.nhdr`, `X.mhd` -> `X.raw`), or nil.
    public static func dataFile(forHeader path: String) -> String? {
        let l = path.lowercased()
        if l.hasSuffix(".nhdr") { return String(path.dropLast(5)) + ".raw" }
        if l.hasSuffix(".mhd") { return String(path.dropLast(4)) + ".raw" }
        return nil
    }
}

/// Recognises a file's format from its first bytes (through one gzip layer) and its extension.
public enum FormatDetection {
    /// What the first bytes of a file are.
    public enum Content: Equatable, Sendable {
        /// A format voxterm reads.
        case readable(ImageFormat)
        /// A known file type that is not a volume voxterm reads; the text says what it is and
        /// what to do ("PNG is not a volume format").
        case unsupported(String)
        /// Nothing recognised.
        case unknown
    }

    /// Bytes read from the start of a file (after gunzipping) to recognise it.
    static let sniffLength = 1024

    /// The format of `path`: a folder is a DICOM series; a file by its content, falling back to
    /// its extension; throws one line saying what the file looks like when it is not readable.
    public static func format(of path: String) throws -> ImageFormat {
        var st = stat()
        guard stat(path, &st) == 0 else {
            // A pair named by either half, or a missing file: NIfTIReader words both.
            return .nifti
        }
        // A folder is a DICOM series, unless named like an image file (then "is a directory").
        if st.st_mode & S_IFMT == S_IFDIR { return byExtension(path) == nil ? .dicom : .nifti }
        guard st.st_mode & S_IFMT == S_IFREG else { return .nifti }
        // Either half of an Analyze/NIfTI pair (the .img holds raw voxels, which say nothing).
        let lower = path.lowercased()
        if [".hdr", ".img", ".hdr.gz", ".img.gz"].contains(where: { lower.hasSuffix($0) }) { return .nifti }
        let head: [UInt8]
        do { head = try prefix(path) } catch { return .nifti } // unreadable: NIfTIReader words it
        switch classify(head, path: path) {
        case .readable(let f): return f
        case .unsupported(let what): throw NIfTIError(path, what)
        case .unknown:
            if let f = byExtension(path) { return f }
            throw NIfTIError(path, "not a recognised image format (expected NIfTI, MGH/MGZ, NRRD, MetaImage or a DICOM folder)")
        }
    }

    /// The first `sniffLength` bytes of the file, gunzipped when it is gzip.
    static func prefix(_ path: String) throws -> [UInt8] {
        let fd = try FileIO.openForReading(path)
        defer { close(fd) }
        let size = try FileIO.regularFileSize(fd, path: path)
        var head = try FileIO.read(fd, count: min(size, 4096), path: path)
        if GzipLayer.isGzip(head) {
            // The whole compressed file is not needed: the first few kB hold the first 1 kB.
            let more = try FileIO.read(fd, count: min(size - head.count, 1 << 16), path: path)
            head += more
            head = (try? GzipLayer.inflatePrefix(head, maxCount: sniffLength, path: path)) ?? []
            return head.isEmpty ? [0x1f, 0x8b] : head
        }
        return Array(head.prefix(sniffLength))
    }

    /// The format by extension alone (for files whose content says nothing definite).
    static func byExtension(_ path: String) -> ImageFormat? {
        let l = path.lowercased()
        for (ext, f) in [(".mgz", ImageFormat.mgh), (".mgh", .mgh), (".nrrd", .nrrd), (".nhdr", .nrrd),
                         (".mha", .metaImage), (".mhd", .metaImage), (".nii", .nifti), (".nii.gz", .nifti),
                         (".hdr", .nifti), (".img", .nifti), (".hdr.gz", .nifti), (".img.gz", .nifti)] where l.hasSuffix(ext) {
            return f
        }
        return nil
    }

    /// What `head` (the first bytes, gunzipped) looks like.
    public static func classify(_ head: [UInt8], path: String) -> Content {
        func starts(_ s: [UInt8], at o: Int = 0) -> Bool { head.count >= o + s.count && Array(head[o..<(o + s.count)]) == s }
        func ascii(_ s: String, at o: Int = 0) -> Bool { starts(Array(s.utf8), at: o) }
        let lower = path.lowercased()
        if ascii("NRRD000") { return .readable(.nrrd) }
        if head.count >= 4 {
            let le = UInt32(head[0]) | UInt32(head[1]) << 8 | UInt32(head[2]) << 16 | UInt32(head[3]) << 24
            if le == 348 || le == 540 || le.byteSwapped == 348 || le.byteSwapped == 540 { return .readable(.nifti) }
            // MGH: big-endian version 1, then four positive dimensions and a known type code.
            if le.byteSwapped == 1 && head.count >= 24 {
                let be = { (o: Int) -> Int32 in Int32(bitPattern: UInt32(head[o]) << 24 | UInt32(head[o + 1]) << 16 | UInt32(head[o + 2]) << 8 | UInt32(head[o + 3])) }
                if (1...4).allSatisfy({ be(4 * $0) > 0 }) && [0, 1, 3, 4, 10].contains(be(20)) { return .readable(.mgh) }
            }
        }
        if ascii("DICM", at: 128) { return .readable(.dicom) }
        if MetaImageHeader.looksLikeMetaImage(head) { return .readable(.metaImage) }
        if starts([0x89, 0x50, 0x4e, 0x47]) { return .unsupported("PNG is not a volume format") }
        if starts([0xff, 0xd8, 0xff]) { return .unsupported("JPEG is not a volume format") }
        if ascii("GIF8") { return .unsupported("GIF is not a volume format") }
        if ascii("BM") && lower.hasSuffix(".bmp") { return .unsupported("BMP is not a volume format") }
        if starts([0x49, 0x49, 0x2a, 0x00]) || starts([0x4d, 0x4d, 0x00, 0x2a]) {
            return .unsupported("TIFF is not a volume format voxterm reads; convert it to NIfTI first")
        }
        if ascii("%PDF") { return .unsupported("PDF is not a volume format") }
        if starts([0x89, 0x48, 0x44, 0x46]) {
            return .unsupported("this is an HDF5 file (MINC 2 or another HDF5 format), which voxterm does not read; convert it to NIfTI first (e.g. mnc2nii)")
        }
        if ascii("CDF\u{01}") || ascii("CDF\u{02}") {
            return .unsupported("this is a NetCDF file (MINC 1), which voxterm does not read; convert it to NIfTI first (e.g. mnc2nii)")
        }
        if ascii("PK\u{03}\u{04}") { return .unsupported("this is a ZIP archive: unpack it first") }
        if ascii("BZh") { return .unsupported("this is bzip2-compressed: decompress it first (bunzip2)") }
        if starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return .unsupported("this is xz-compressed: decompress it first (unxz)") }
        if starts([0x28, 0xb5, 0x2f, 0xfd]) { return .unsupported("this is zstd-compressed: decompress it first (unzstd)") }
        if head.count > 262 && ascii("ustar", at: 257) { return .unsupported("this is a tar archive: unpack it first") }
        if starts([0x1f, 0x8b]) && head.count == 2 { return .unsupported("gzip data is corrupt or empty") }
        if lower.hasSuffix(".dcm") || lower.hasSuffix(".ima") {
            // DICOM without the 128-byte preamble (older files) are still DICOM by name.
            return .readable(.dicom)
        }
        return .unknown
    }
}
