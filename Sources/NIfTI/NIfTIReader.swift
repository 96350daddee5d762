import VolumeCore
#if canImport(Glibc)
import Glibc
#endif

/// How the image's bytes are laid out on disk.
public enum NIfTIStorage: String, Sendable {
    /// One `.nii` file: header, extensions, data.
    case single = "nii"
    /// One gzipped `.nii.gz` file.
    case singleGzip = "nii.gz"
    /// A `.hdr` header and `.img` data pair (each possibly gzipped).
    case pair = "hdr/img"
    /// FreeSurfer MGH, plain (`.mgh`) or gzipped (`.mgz`); read by ImageIO.
    case mgh = "mgh"
    case mgz = "mgz"
    /// NRRD with attached (`.nrrd`) or detached (`.nhdr`) data; read by ImageIO.
    case nrrd = "nrrd"
    case nhdr = "nhdr"
    /// MetaImage with attached (`.mha`) or detached (`.mhd`) data; read by ImageIO.
    case mha = "mha"
    case mhd = "mhd"
    /// A DICOM series converted by dcm2niix; read by ImageIO.
    case dicom = "dicom"

    /// True for the NIfTI layouts (the header fields are the file's own).
    public var isNIfTI: Bool { self == .single || self == .singleGzip || self == .pair }

    /// The format's name as users know it: "NIfTI", "MGH", "NRRD", "MetaImage" or "DICOM".
    public var formatName: String {
        switch self {
        case .single, .singleGzip, .pair: "NIfTI"
        case .mgh, .mgz: "MGH"
        case .nrrd, .nhdr: "NRRD"
        case .mha, .mhd: "MetaImage"
        case .dicom: "DICOM"
        }
    }
}

/// Limits applied while reading, so a hostile header cannot make voxterm allocate without bound.
public struct NIfTIReadLimits: Sendable {
    /// Largest image data voxterm will allocate, in bytes.
    public var maxDataBytes: Int
    /// Whether a header whose geometry is unusable (`NIfTIHeader.geometryProblem`: NaN/Inf
    /// pixdim, sform or quaternion, a singular affine) is refused. On for every command; `info`
    /// turns it off to show such headers.
    public var requireUsableGeometry: Bool

    public init(maxDataBytes: Int, requireUsableGeometry: Bool = true) {
        self.maxDataBytes = maxDataBytes
        self.requireUsableGeometry = requireUsableGeometry
    }

    /// 8 GiB, or `VOXTERM_MAX_VOLUME_MB` megabytes when that environment variable is set.
    public static var standard: NIfTIReadLimits {
        if let s = getenv("VOXTERM_MAX_VOLUME_MB"), let mb = Int(String(cString: s)), mb > 0 {
            return NIfTIReadLimits(maxDataBytes: mb << 20)
        }
        return NIfTIReadLimits(maxDataBytes: 8 << 30)
    }
}

/// Reads NIfTI-1 and NIfTI-2 images (`.nii`, `.nii.gz`, `.hdr`/`.img`, gzipped pairs).
public enum NIfTIReader {
    /// Largest ratio of uncompressed to compressed size deflate can reach (about 1032:1).
    static let maxDeflateRatio = 1032

    /// Reads the header and the image data of `path`.
    public static func read(_ path: String, limits: NIfTIReadLimits = .standard) throws -> NIfTIImage {
        let lower = path.lowercased()
        if lower.hasSuffix(".hdr") || lower.hasSuffix(".hdr.gz") || lower.hasSuffix(".img") || lower.hasSuffix(".img.gz") {
            return try readPair(path, limits: limits)
        }
        return try readSingle(path, limits: limits)
    }

    /// Reads only the header (and its warnings) of `path`; refuses an unusable geometry unless
    /// `requireUsableGeometry` is false.
    public static func readHeader(_ path: String, requireUsableGeometry: Bool = true) throws -> NIfTIHeader {
        try read(path, limits: NIfTIReadLimits(maxDataBytes: Int.max, requireUsableGeometry: requireUsableGeometry),
                 headerOnly: true).header
    }

    static func read(_ path: String, limits: NIfTIReadLimits, headerOnly: Bool) throws -> NIfTIImage {
        let lower = path.lowercased()
        if lower.hasSuffix(".hdr") || lower.hasSuffix(".hdr.gz") || lower.hasSuffix(".img") || lower.hasSuffix(".img.gz") {
            return try readPair(path, limits: limits, headerOnly: headerOnly)
        }
        return try readSingle(path, limits: limits, headerOnly: headerOnly)
    }

    // MARK: From memory

    /// Reads a single-file image (`.nii`, or `.nii.gz` when the bytes start with the gzip magic)
    /// held in memory; `path` only names the source in errors. The same checks as for a file apply.
    public static func read(bytes: UnsafeRawBufferPointer, path: String = "<memory>",
                            limits: NIfTIReadLimits = .standard) throws -> NIfTIImage {
        try readSingle(.memory(bytes), path: path, limits: limits)
    }

    /// Reads a header + image pair held in memory (either part possibly gzipped); `path` names
    /// the header in errors and `imagePath` the image.
    public static func readPair(header: UnsafeRawBufferPointer, image: UnsafeRawBufferPointer,
                                path: String = "<memory>.hdr", imagePath: String = "<memory>.img",
                                limits: NIfTIReadLimits = .standard) throws -> NIfTIImage {
        try readPair(hdr: .memory(header), hdrPath: path, img: { .memory(image) }, imgPath: imagePath,
                     limits: limits, headerOnly: false)
    }

    // MARK: Single file

    private static func readSingle(_ path: String, limits: NIfTIReadLimits, headerOnly: Bool = false) throws -> NIfTIImage {
        do {
            let fd = try FileIO.openForReading(path)
            defer { close(fd) }
            let fileSize = try FileIO.regularFileSize(fd, path: path)
            return try readSingle(.file(fd, size: fileSize), path: path, limits: limits, headerOnly: headerOnly)
        } catch let e as FileError {
            throw NIfTIError(e)
        }
    }

    private static func readSingle(_ source: ByteSource, path: String, limits: NIfTIReadLimits,
                                   headerOnly: Bool = false) throws -> NIfTIImage {
        do {
            let fileSize = source.size
            guard fileSize >= 2 else { throw NIfTIError(path, "file is \(fileSize) bytes, shorter than a NIfTI header (348 bytes)") }
            let magic = try source.read(at: 0, count: 2, path: path)
            if Gzip.isGzip(magic) {
                let compressed = try source.read(at: 0, count: fileSize, path: path)
                return try readSingleGzip(compressed, path: path, limits: limits, headerOnly: headerOnly)
            }
            guard fileSize >= 348 else {
                throw NIfTIError(path, "file is \(fileSize) bytes, shorter than a NIfTI header (348 bytes)")
            }
            var head = try source.read(at: 0, count: 348, path: path)
            if isNIfTI2(head) {
                guard fileSize >= 540 else { throw NIfTIError(path, "file is \(fileSize) bytes, shorter than a NIfTI-2 header (540 bytes)") }
                head += try source.read(at: 348, count: 192, path: path)
            }
            let header = try NIfTIHeader.parse(head, path: path)
            try header.validateForReading(path: path, singleFile: true)
            if limits.requireUsableGeometry { try header.validateGeometry(path: path) }
            let bytes = header.byteCountChecked!
            let offset = Int(header.voxOffset)
            if headerOnly { return NIfTIImage(path: path, header: header, storage: .single, raw: []) }
            guard offset <= fileSize else {
                throw NIfTIError(path, "vox_offset \(offset) is past the end of the file (\(fileSize) bytes)")
            }
            guard bytes <= fileSize - offset else {
                throw NIfTIError(path, "data is shorter than the header claims: \(shapeText(header)) \(header.datatype!) needs \(bytes) bytes from offset \(offset), the file has \(fileSize - offset)")
            }
            try checkLimit(bytes, path: path, limits: limits)
            let raw = try source.read(at: offset, count: bytes, path: path)
            return NIfTIImage(path: path, header: header, storage: .single, raw: raw)
        } catch let e as FileError {
            throw NIfTIError(e)
        }
    }

    private static func readSingleGzip(_ compressed: [UInt8], path: String, limits: NIfTIReadLimits,
                                       headerOnly: Bool) throws -> NIfTIImage {
        let inflater = try Gzip.Inflater(compressed, path: path)
        var head = [UInt8](repeating: 0, count: 348)
        let got = try head.withUnsafeMutableBytes { try inflater.read(into: $0) }
        guard got == 348 else {
            throw NIfTIError(path, "file is \(got) bytes after decompression, shorter than a NIfTI header (348 bytes)")
        }
        if isNIfTI2(head) { head += try inflater.readExactly(192, what: "NIfTI-2 header") }
        let header = try NIfTIHeader.parse(head, path: path)
        try header.validateForReading(path: path, singleFile: true)
        if limits.requireUsableGeometry { try header.validateGeometry(path: path) }
        if headerOnly { return NIfTIImage(path: path, header: header, storage: .singleGzip, raw: []) }
        let bytes = header.byteCountChecked!
        let offset = Int(header.voxOffset)
        guard offset >= head.count else {
            throw NIfTIError(path, "vox_offset \(offset) lies inside the \(head.count)-byte header")
        }
        // Nothing is allocated beyond what the compressed size can possibly expand to.
        let bound = compressed.count.multipliedReportingOverflow(by: maxDeflateRatio).partialValue
        guard bytes <= bound, offset - head.count <= bound - bytes else {
            throw NIfTIError(path, "data is shorter than the header claims: \(shapeText(header)) \(header.datatype!) needs \(bytes) bytes, more than \(compressed.count) compressed bytes can hold")
        }
        try checkLimit(bytes, path: path, limits: limits)
        if compressed.count <= Gzip.wholeInflateLimit, let whole = Gzip.inflateImageWhole(compressed, offset: offset, byteCount: bytes, header: header) {
            return NIfTIImage(path: path, header: header, storage: .singleGzip, raw: whole.raw, decoded: whole.floats)
        }
        try inflater.skip(offset - head.count, what: "header extension (vox_offset \(offset))")
        let (raw, floats) = try inflater.readImageData(bytes, header: header)
        return NIfTIImage(path: path, header: header, storage: .singleGzip, raw: raw, decoded: floats)
    }

    // MARK: Header + image pair

    private static func readPair(_ path: String, limits: NIfTIReadLimits, headerOnly: Bool = false) throws -> NIfTIImage {
        let (hdrPath, imgPath) = try pairPaths(path)
        do {
            let hdrBytes = try FileIO.readAll(hdrPath, limit: 1 << 24)
            var imageFD: Int32 = -1
            defer { if imageFD >= 0 { close(imageFD) } }
            let image = try hdrBytes.withUnsafeBytes { hdr in
                try readPair(hdr: .memory(hdr), hdrPath: hdrPath, img: {
                    imageFD = try FileIO.openForReading(imgPath)
                    return .file(imageFD, size: try FileIO.regularFileSize(imageFD, path: imgPath))
                }, imgPath: imgPath, limits: limits, headerOnly: headerOnly,
                   checkHeader: { try refuseSPMSidecar(of: $0, hdrPath: hdrPath) })
            }
            return image
        } catch let e as FileError {
            throw NIfTIError(e)
        }
    }

    /// The pair reader on any byte sources; `img` is opened only once the header is valid and
    /// `checkHeader` (e.g. the SPM sidecar refusal) has accepted it, so a refused pair's image
    /// data is never read.
    private static func readPair(hdr: ByteSource, hdrPath: String, img: () throws -> ByteSource, imgPath: String,
                                 limits: NIfTIReadLimits, headerOnly: Bool,
                                 checkHeader: (NIfTIHeader) throws -> Void = { _ in }) throws -> NIfTIImage {
        do {
            var head = try hdr.read(at: 0, count: min(hdr.size, 540), path: hdrPath)
            if Gzip.isGzip(head) {
                let inf = try Gzip.Inflater(try hdr.read(at: 0, count: hdr.size, path: hdrPath), path: hdrPath)
                head = try inf.readExactly(348, what: "header")
                if isNIfTI2(head) { head += try inf.readExactly(192, what: "NIfTI-2 header") }
            }
            let header = try NIfTIHeader.parse(head, path: hdrPath)
            try header.validateForReading(path: hdrPath, singleFile: false)
            if limits.requireUsableGeometry { try header.validateGeometry(path: hdrPath) }
            try checkHeader(header)
            if headerOnly { return NIfTIImage(path: hdrPath, header: header, storage: .pair, raw: []) }
            let bytes = header.byteCountChecked!
            let offset = Int(header.voxOffset)
            let source = try img()
            let imgSize = source.size
            let imgMagic = imgSize >= 2 ? try source.read(at: 0, count: 2, path: imgPath) : []
            var raw: [UInt8]
            var floats: [Float]? = nil
            if Gzip.isGzip(imgMagic) {
                let bound = imgSize.multipliedReportingOverflow(by: maxDeflateRatio).partialValue
                guard bytes <= bound, offset <= bound - bytes else {
                    throw NIfTIError(imgPath, "data is shorter than the header claims: needs \(bytes) bytes, more than \(imgSize) compressed bytes can hold")
                }
                try checkLimit(bytes, path: hdrPath, limits: limits)
                let inf = try Gzip.Inflater(try source.read(at: 0, count: imgSize, path: imgPath), path: imgPath)
                try inf.skip(offset, what: "image data (vox_offset \(offset))")
                (raw, floats) = try inf.readImageData(bytes, header: header)
            } else {
                guard offset <= imgSize else {
                    throw NIfTIError(imgPath, "vox_offset \(offset) is past the end of the file (\(imgSize) bytes)")
                }
                guard bytes <= imgSize - offset else {
                    throw NIfTIError(imgPath, "data is shorter than the header claims: \(shapeText(header)) \(header.datatype!) needs \(bytes) bytes, the file has \(imgSize - offset)")
                }
                try checkLimit(bytes, path: hdrPath, limits: limits)
                // Only the image data is read (no copy of the whole file).
                raw = try source.read(at: offset, count: bytes, path: imgPath)
            }
            return NIfTIImage(path: hdrPath, header: header, storage: .pair, raw: raw, decoded: floats)
        } catch let e as FileError {
            throw NIfTIError(e)
        }
    }

    /// The SPM `.mat` sidecar of an Analyze pair (`x.hdr` -> `x.mat`), or nil when there is none
    /// or it is empty. nibabel (Spm99/Spm2AnalyzeImage) and SPM take the affine from its `mat`
    /// (or `M`) matrix instead of the header; NIfTI pairs ignore it (nibabel's Nifti1Pair too).
    static func spmSidecar(of hdrPath: String) -> String? {
        let lower = hdrPath.lowercased()
        let stem = String(hdrPath.dropLast(lower.hasSuffix(".gz") ? 7 : 4))
        for ext in [".mat", ".MAT"] {
            let p = stem + ext
            var st = stat()
            if stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && st.st_size > 0 { return p }
        }
        return nil
    }

    /// Refuses an Analyze pair that has an SPM `.mat` sidecar: voxterm does not read MATLAB
    /// files, and ignoring the sidecar would place the image tens of millimetres away from where
    /// nibabel and SPM put it.
    static func refuseSPMSidecar(of header: NIfTIHeader, hdrPath: String) throws {
        guard header.isAnalyze, let mat = spmSidecar(of: hdrPath) else { return }
        throw NIfTIError(hdrPath, "has an SPM affine sidecar \(mat), which voxterm does not read (nibabel and SPM take the orientation from it); save the image as NIfTI first, e.g. python3 -c \"import nibabel as nib; nib.save(nib.load('\(hdrPath)'), 'out.nii.gz')\"")
    }

    /// The names the other half of the pair `path` (`.hdr`/`.img`, either case, optionally `.gz`)
    /// may have, in the order the reader tries them: same case and compression first, then the
    /// other compression.
    public static func pairCandidates(_ path: String) -> (isHeader: Bool, names: [String]) {
        let lower = path.lowercased()
        let gz = lower.hasSuffix(".gz")
        let stem = String(path.dropLast(gz ? 7 : 4))
        let hdrExt = String(path.dropFirst(stem.count).prefix(4))
        let isHdr = hdrExt.lowercased() == ".hdr"
        let upper = hdrExt == hdrExt.uppercased()
        let otherExt = isHdr ? (upper ? ".IMG" : ".img") : (upper ? ".HDR" : ".hdr")
        return (isHdr, [stem + otherExt + (gz ? ".gz" : ""), stem + otherExt + (gz ? "" : ".gz")])
    }

    /// The header and image paths of a pair, whichever of the two was named.
    static func pairPaths(_ path: String) throws -> (String, String) {
        let (isHdr, candidates) = pairCandidates(path)
        guard let other = candidates.first(where: FileIO.exists) else {
            guard FileIO.exists(path) else { throw NIfTIError(path, FileIO.errnoReason(ENOENT)) }
            throw NIfTIError(path, "the matching \(isHdr ? "image (.img)" : "header (.hdr)") file \(candidates[0]) does not exist")
        }
        return isHdr ? (path, other) : (other, path)
    }

    private static func isNIfTI2(_ head: [UInt8]) -> Bool {
        let v = UInt32(head[0]) | UInt32(head[1]) << 8 | UInt32(head[2]) << 16 | UInt32(head[3]) << 24
        return v == 540 || v == UInt32(540).byteSwapped
    }

    private static func checkLimit(_ bytes: Int, path: String, limits: NIfTIReadLimits) throws {
        guard bytes <= limits.maxDataBytes else {
            throw NIfTIError(path, "image data is \(bytes >> 20) MB, above the limit of \(limits.maxDataBytes >> 20) MB; set VOXTERM_MAX_VOLUME_MB to raise it")
        }
    }

    private static func shapeText(_ h: NIfTIHeader) -> String {
        h.shape.map(String.init).joined(separator: "x")
    }
}
