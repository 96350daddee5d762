import NIfTI
import VolumeCore
#if canImport(Glibc)
import Glibc
#endif

/// The one entry every command uses to read and write images, whatever the format: NIfTI,
/// MGH/MGZ, NRRD, MetaImage and DICOM series. The format is recognised by the file's content
/// (through one gzip layer), then by its extension; an image of another format comes back as a
/// `NIfTIImage` with world coordinates in RAS+ mm, so everything downstream is format-blind.
public enum ImageFile {
    /// Reads `path`: a file of any supported format, a DICOM folder, a file of a DICOM series,
    /// or `FOLDER@N` for the N-th series of a folder holding several.
    ///
    /// Every format's geometry goes through the one check (`NIfTIHeader.geometryProblem`,
    /// `GeometryValidation`) unless `limits.requireUsableGeometry` is off (`info`).
    public static func read(_ path: String, limits: NIfTIReadLimits = .standard) throws -> NIfTIImage {
        let image = try readAnyFormat(path, limits: limits)
        if limits.requireUsableGeometry, let problem = image.header.geometryProblem {
            throw NIfTIError(path, "\(problem): the image geometry is unusable (voxterm info shows the header)")
        }
        return image
    }

    private static func readAnyFormat(_ path: String, limits: NIfTIReadLimits) throws -> NIfTIImage {
        if DICOM.isSeriesSelector(path) { return try DICOM.read(path, limits: limits) }
        switch try FormatDetection.format(of: path) {
        case .nifti: return try NIfTIReader.read(path, limits: limits)
        case .mgh: return try MGH.read(path, limits: limits)
        case .nrrd: return try NRRD.read(path, limits: limits)
        case .metaImage: return try MetaImage.read(path, limits: limits)
        case .dicom: return try DICOM.read(path, limits: limits)
        }
    }

    /// The header of `path` as NIfTI fields (shape, datatype, affine), without the voxels:
    /// NIfTI reads its header; MGH its 284 bytes (MGZ: only as much of the gzip stream as they
    /// need); NRRD up to the blank line, MetaImage up to the ElementDataFile line (a detached data
    /// file must exist, its content is not read). DICOM converts the series (kept for the read that
    /// follows, see `DICOM.read`). The geometry goes through the same check as `read`. Data that
    /// ends early is only found by `read`. MGH's TR lives in its tail, so `pixdim[4]` is 1 here.
    public static func readHeader(_ path: String) throws -> NIfTIHeader {
        if DICOM.isSeriesSelector(path) { return try read(path).header }
        let header: NIfTIHeader
        switch try FormatDetection.format(of: path) {
        case .nifti: return try NIfTIReader.readHeader(path)
        case .mgh: header = try MGH.readHeader(path)
        case .nrrd: header = try NRRD.readHeader(path)
        case .metaImage: header = try MetaImage.readHeader(path)
        case .dicom: return try read(path).header
        }
        if let problem = header.geometryProblem {
            throw NIfTIError(path, "\(problem): the image geometry is unusable (voxterm info shows the header)")
        }
        return header
    }

    /// The other files `path`'s voxels are read from, which a write must protect as it protects
    /// `path` itself: a detached NRRD or MetaImage header's data file (as the header names it,
    /// beside the header when relative; `a.nhdr` may name `a.raw` or any other file) and the
    /// other half of an Analyze/NIfTI pair (`a.hdr` and `a.img`). Empty for single files, and when
    /// the header cannot be read (reading the input reports that).
    public static func dataFiles(of path: String) -> [String] {
        let lower = path.lowercased()
        if [".hdr", ".img", ".hdr.gz", ".img.gz"].contains(where: lower.hasSuffix) {
            // The reader's own pairing (either case, either half gzipped): the half it would read,
            // or the name it would look for first when neither exists yet.
            let names = NIfTIReader.pairCandidates(path).names
            return [names.first(where: FileIO.exists) ?? names[0]]
        }
        if DICOM.isSeriesSelector(path) { return [] }
        let name: String?
        switch try? FormatDetection.format(of: path) {
        case .nrrd?: name = (try? NRRD.parsedHeader(path))?.dataFile
        case .metaImage?:
            let f = (try? MetaImage.parsedHeader(path))?.dataFile
            name = f.flatMap { $0.uppercased() == "LOCAL" ? nil : $0 }
        default: name = nil
        }
        guard let name else { return [] }
        return [dataFilePath(name, of: path)]
    }

    // MARK: Writing
    //
    // Every image, label map and field voxterm writes goes through these functions (a test scans
    // Sources/ for writes that bypass them): they protect the inputs' data files
    // (`protectingDataFiles()`) as the inputs themselves, so no caller can forget it.

    /// Writes a float32 intensity volume in the format of `path`'s extension (NIfTI when it
    /// names none of MGH/MGZ, NRRD/NHDR, MHA/MHD), atomically; `options` protect the inputs
    /// and their data files.
    public static func write(_ volume: Volume, to path: String, options: NIfTIWriter.Options = NIfTIWriter.Options()) throws {
        let format = ImageFormat.forOutput(path)
        let options = options.protectingDataFiles()
        if format == .nifti { return try NIfTIWriter.write(volume, to: path, options: options) }
        try checkDestination(path, options: options)
        try volume.voxels.withUnsafeBytes {
            try write(data: $0, datatype: .float32, shape: [volume.size.x, volume.size.y, volume.size.z],
                      affine: volume.geometry.affine, format: format, to: path, options: options)
        }
    }

    /// Writes labels as uint8 when they fit in 0...255, else int16, else int32 (MGH: int32),
    /// in the format of `path`'s extension.
    public static func write(_ labels: LabelVolume, to path: String, options: NIfTIWriter.Options = NIfTIWriter.Options()) throws {
        let format = ImageFormat.forOutput(path)
        let options = options.protectingDataFiles()
        if format == .nifti { return try NIfTIWriter.write(labels, to: path, options: options) }
        try checkDestination(path, options: options)
        let lo = labels.labels.min() ?? 0, hi = labels.labels.max() ?? 0
        let s = labels.geometry.size
        let shape = [s.x, s.y, s.z]
        if lo >= 0 && hi <= 255 {
            try labels.labels.map { UInt8($0) }.withUnsafeBytes {
                try write(data: $0, datatype: .uint8, shape: shape, affine: labels.geometry.affine, format: format, to: path, options: options)
            }
        } else if lo >= Int32(Int16.min) && hi <= Int32(Int16.max) {
            try labels.labels.map { Int16($0) }.withUnsafeBytes {
                try write(data: $0, datatype: .int16, shape: shape, affine: labels.geometry.affine, format: format, to: path, options: options)
            }
        } else {
            try labels.labels.withUnsafeBytes {
                try write(data: $0, datatype: .int32, shape: shape, affine: labels.geometry.affine, format: format, to: path, options: options)
            }
        }
    }

    /// Writes a displacement field as NIfTI (`NIfTIWriter.write(_:to:convention:options:)`:
    /// a 5-D vector image, LPS+ vectors for ITK/ANTs by default); `options` protect the inputs and
    /// their data files.
    public static func write(_ field: VectorField, to path: String, convention: VectorConvention = .itkLPS,
                             options: NIfTIWriter.Options = NIfTIWriter.Options()) throws {
        try NIfTIWriter.write(field, to: path, convention: convention, options: options.protectingDataFiles())
    }

    /// Writes `image` as NIfTI without changing its datatype, scaling or volumes
    /// (`NIfTIWriter.writeLossless`); returns warnings naming what NIfTI-1 cannot keep.
    public static func writeLossless(_ image: NIfTIImage, to path: String, canonical: Bool = false, frame: Int? = nil,
                                     options: NIfTIWriter.Options = NIfTIWriter.Options()) throws -> [String] {
        try NIfTIWriter.writeLossless(image, to: path, canonical: canonical, frame: frame, options: options.protectingDataFiles())
    }

    /// Refuses `path`, or the data file written beside it (`X.nhdr`, `X.mhd` -> `X.raw`), when
    /// it is a protected input (or one of its data files) or exists and may not be replaced:
    /// what a command checks before it writes anything (any output, also a text file).
    public static func checkDestination(_ path: String, options: NIfTIWriter.Options) throws {
        let options = options.protectingDataFiles()
        try NIfTIWriter.checkDestination(path, options: options)
        if let raw = ImageFormat.dataFile(forHeader: path) { try NIfTIWriter.checkDestination(raw, options: options) }
    }

    /// Writes in `format`; every file (also an `.nhdr`/`.mhd` header's data file) goes through
    /// `options` (staged in its output set, or created exclusively unless `overwrite`).
    static func write(data: UnsafeRawBufferPointer, datatype: NIfTIDatatype, shape: [Int], affine: AffineTransform,
                      format: ImageFormat, to path: String, options: NIfTIWriter.Options) throws {
        switch format {
        case .mgh: try MGH.write(data: data, datatype: datatype, shape: shape, affine: affine, to: path, options: options)
        case .nrrd: try NRRD.write(data: data, datatype: datatype, shape: shape, affine: affine, to: path, options: options)
        case .metaImage: try MetaImage.write(data: data, datatype: datatype, shape: shape, affine: affine, to: path, options: options)
        case .nifti, .dicom: throw NIfTIError(path, "voxterm writes NIfTI, MGH/MGZ, NRRD and MetaImage; not \(format.rawValue)")
        }
    }
}

/// The first bytes of `path`: 64 KiB, then four times more at each step until `complete` says
/// the header is in them, the file ends, or `limit` bytes were read. `whole` is true when the
/// bytes are the whole file. File errors are worded as image errors.
func readPrefix(_ path: String, limit: Int = 16 << 20, complete: ([UInt8]) -> Bool) throws -> (bytes: [UInt8], whole: Bool) {
    do {
        let fd = try FileIO.openForReading(path)
        defer { close(fd) }
        let size = try FileIO.regularFileSize(fd, path: path)
        var n = min(size, 1 << 16)
        while true {
            guard lseek(fd, 0, SEEK_SET) == 0 else { throw FileError(path: path, reason: FileIO.errnoReason(errno)) }
            let bytes = try FileIO.read(fd, count: n, path: path)
            if n == size || n >= limit || complete(bytes) { return (bytes, n == size) }
            n = min(size, limit, n * 4)
        }
    } catch let e as FileError { throw NIfTIError(e.path, e.reason) }
}

/// A whole file, with file errors worded as image errors.
func readFile(_ path: String) throws -> [UInt8] {
    do { return try FileIO.readAll(path) } catch let e as FileError { throw NIfTIError(e.path, e.reason) }
}

/// The bytes and path of a detached header's data file `name` (NRRD `data file`, MetaImage
/// `ElementDataFile`): relative names are beside `header`; `named` says where the header names it.
func readDataFile(_ name: String, of header: String, named: String) throws -> ([UInt8], String) {
    let dataPath = try existingDataFile(name, of: header, named: named)
    return (try readFile(dataPath), dataPath)
}

/// Where a detached header's data file `name` is: beside `header` when relative.
func dataFilePath(_ name: String, of header: String) -> String {
    name.hasPrefix("/") ? name : FileIO.directoryName(header) + "/" + name
}

/// The path of a detached header's data file `name` (beside `header` when relative), which must
/// exist; the header-only readers check it without reading it.
func existingDataFile(_ name: String, of header: String, named: String) throws -> String {
    let dataPath = dataFilePath(name, of: header)
    guard FileIO.exists(dataPath) else {
        throw NIfTIError(header, "the data file \(dataPath) named \(named) does not exist")
    }
    return dataPath
}

/// Writes `bytes` to `path` as `options` say (`NIfTIWriter.Options.write`).
func writeFile(_ path: String, _ bytes: [UInt8], options: NIfTIWriter.Options) throws {
    try bytes.withUnsafeBytes { try writeFile(path, parts: [$0], options: options) }
}

/// Writes the concatenation of `parts` to `path` as `options` say.
func writeFile(_ path: String, parts: [UnsafeRawBufferPointer], options: NIfTIWriter.Options) throws {
    do {
        try options.write(path) { fd, _ in
            for p in parts { try FileIO.writeAll(fd, p, path: path) }
        }
    } catch let e as FileError { throw NIfTIError(e.path, e.reason) }
}

/// Writes a detached header `path` (`.nhdr`, `.mhd`) and its data file beside it
/// (`ImageFormat.dataFile(forHeader:)`, e.g. `a.raw`) holding `data` as it is: the data file
/// first, then the header, which `header` makes from the data file's name.
///
/// The two files appear as a pair: in the caller's output set when `options` has one, else in
/// an output set of their own, committed once both are written. So a failure while writing
/// either (a full disk, a header path that is a folder) leaves neither, and without
/// `overwrite` a data file or header already in place refuses the pair and leaves that file
/// as it was. With `overwrite`, a failure while placing them (a race at the rename) may leave
/// the new data file beside the old header.
func writeDetached(_ path: String, data: UnsafeRawBufferPointer, options: NIfTIWriter.Options,
                   header: (_ dataFileName: String) -> String) throws {
    let rawPath = ImageFormat.dataFile(forHeader: path)!
    let rawName = rawPath.split(separator: "/").last.map(String.init) ?? rawPath
    var staged = options
    let own = options.set == nil ? OutputSet(overwrite: options.overwrite) : nil
    if let own { staged.set = own }
    try writeFile(rawPath, parts: [data], options: staged)
    try writeFile(path, Array(header(rawName).utf8), options: staged)
    do { try own?.commit() } catch let e as FileError { throw NIfTIError(e.path, e.reason) }
}

/// Writes the text `header` followed by `body` (the encoded data) as the one file `path`
/// (`.nrrd`, `.mha`).
func writeAttached(_ path: String, header: String, body: [UInt8], options: NIfTIWriter.Options) throws {
    let head = Array(header.utf8)
    try head.withUnsafeBytes { h in try body.withUnsafeBytes { b in try writeFile(path, parts: [h, b], options: options) } }
}

extension NIfTIWriter.Options {
    /// These options with every protected input's data files protected too
    /// (`ImageFile.dataFiles(of:)`): writing `a.mhd` must not replace the `a.raw` an input
    /// `a.nhdr` reads its voxels from. `ImageFile`'s writers call it; options that already went
    /// through it come back as they are (the inputs' headers are read once per set of options,
    /// not once per file written).
    public func protectingDataFiles() -> NIfTIWriter.Options {
        if dataFilesProtected { return self }
        var o = self
        let extra = protectedPaths.flatMap { ImageFile.dataFiles(of: $0) }.filter { !protectedPaths.contains($0) }
        o.protectedPaths += extra
        o.dataFilesProtected = true
        return o
    }
}
