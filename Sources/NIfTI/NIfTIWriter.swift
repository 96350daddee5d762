import VolumeCore

/// Writes NIfTI-1 single files (`.nii`, `.nii.gz`) atomically, with consistent sform and qform.
public enum NIfTIWriter {
    /// What a write may replace.
    public struct Options: Sendable {
        /// Paths that must never be written (the command's inputs). `ImageFile`'s writers add
        /// the files the inputs' voxels are read from (`ImageFile.dataFiles(of:)`) once, on the
        /// first write or check.
        public var protectedPaths: [String] { didSet { dataFilesProtected = false } }
        /// Whether `protectedPaths` already holds its inputs' data files (set by ImageIO's
        /// `protectingDataFiles()`, so a set of outputs detects them once, not per file).
        package var dataFilesProtected = false
        /// Whether an existing file at the destination may be replaced.
        public var overwrite: Bool
        /// `descrip` header text (at most 79 bytes kept).
        public var description: String
        /// gzip level for `.nii.gz`, 1 (fastest, nibabel's default) to 9 (smallest).
        public var compressionLevel: Int
        /// When set, the file is staged in this set and appears only when the set is committed
        /// (with the set's own overwrite rule); otherwise it is written at once, atomically, and
        /// created exclusively unless `overwrite`.
        public var set: OutputSet?

        public init(protectedPaths: [String] = [], overwrite: Bool = true, description: String = "voxterm",
                    compressionLevel: Int = 1, set: OutputSet? = nil) {
            self.protectedPaths = protectedPaths; self.overwrite = overwrite; self.description = description
            self.compressionLevel = compressionLevel; self.set = set
        }

        /// Writes `path`'s contents (through `producer`, given a temporary file's descriptor and
        /// path) the way these options say, for every output format: staged in `set` when there is
        /// one, else atomically at once, created exclusively unless `overwrite`.
        public func write(_ path: String, producer: (Int32, String) throws -> Void) throws {
            if let set {
                try set.write(path, producer: producer)
            } else {
                try FileIO.writeAtomically(path, exclusive: !overwrite, producer: producer)
            }
        }
    }

    /// Writes a float32 intensity volume.
    public static func write(_ volume: Volume, to path: String, options: Options = Options()) throws {
        try volume.voxels.withUnsafeBytes { data in
            try write(data: data, datatype: .float32, shape: [volume.size.x, volume.size.y, volume.size.z],
                      geometry: volume.geometry, intent: 0, to: path, options: options)
        }
    }

    /// Writes labels as uint8 when they fit in 0...255, else int16 when they fit, else int32.
    public static func write(_ labels: LabelVolume, to path: String, options: Options = Options()) throws {
        let lo = labels.labels.min() ?? 0, hi = labels.labels.max() ?? 0
        let shape = [labels.geometry.size.x, labels.geometry.size.y, labels.geometry.size.z]
        if lo >= 0 && hi <= 255 {
            let b = labels.labels.map { UInt8($0) }
            try b.withUnsafeBytes { try write(data: $0, datatype: .uint8, shape: shape, geometry: labels.geometry, intent: 0, to: path, options: options) }
        } else if lo >= Int32(Int16.min) && hi <= Int32(Int16.max) {
            let b = labels.labels.map { Int16($0).littleEndian }
            try b.withUnsafeBytes { try write(data: $0, datatype: .int16, shape: shape, geometry: labels.geometry, intent: 0, to: path, options: options) }
        } else {
            let b = labels.labels.map { $0.littleEndian }
            try b.withUnsafeBytes { try write(data: $0, datatype: .int32, shape: shape, geometry: labels.geometry, intent: 0, to: path, options: options) }
        }
    }

    /// Writes a displacement field as a 5-D float32 vector image (X, Y, Z, 1, 3), intent VECTOR,
    /// the layout ITK and ANTs read as a displacement field. Vectors are converted from voxterm's
    /// RAS+ to `convention` (LPS+ for ITK/ANTs by default).
    public static func write(_ field: VectorField, to path: String, convention: VectorConvention = .itkLPS,
                             options: Options = Options()) throws {
        let s = field.geometry.size, n = field.geometry.voxelCount
        // LPS: the x and y components are written negated, chunk by chunk (no copy of the field).
        try field.data.withUnsafeBytes { all in
            let parts = convention == .itkLPS ? [UnsafeRawBufferPointer(rebasing: all[..<(8 * n)]), UnsafeRawBufferPointer(rebasing: all[(8 * n)...])] : [all]
            try write(parts: parts, negatedFloats: convention == .itkLPS ? [0] : [], datatype: .float32,
                      shape: [s.x, s.y, s.z, 1, 3], geometry: field.geometry, intent: NIfTIHeader.intentVector,
                      to: path, options: options)
        }
    }

    /// The 348-byte NIfTI-1 header voxterm writes, plus the 4-byte empty extension flag.
    static func headerBytes(datatype: NIfTIDatatype, shape: [Int], geometry: VolumeGeometry, intent: Int,
                            description: String, patch: ((inout ByteWriter) -> Void)? = nil) -> [UInt8] {
        var h = NIfTIHeader(version: 1, isByteSwapped: false, sizeofHdr: 348,
                            dim: [shape.count] + shape + [Int](repeating: 1, count: 7 - shape.count),
                            datatypeCode: datatype.rawValue, bitpix: datatype.byteCount * 8,
                            pixdim: [1, 1, 1, 1, 1, 1, 1, 1], voxOffset: 352, sclSlope: 1, sclInter: 0,
                            qformCode: 0, sformCode: 0, quaternion: .zero, qoffset: .zero,
                            srow: [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], magic: "n+1")
        h.setQform(geometry.affine, code: 1)
        h.setSform(geometry.affine, code: 1)
        var w = ByteWriter(count: 352)
        w.i32(348, 0)
        w.bytes[38] = UInt8(ascii: "r")
        for (i, d) in h.dim.enumerated() { w.i16(Int16(d), 40 + 2 * i) } // checked ≤ 32767 by the caller
        w.i16(Int16(intent), 68)
        w.i16(datatype.rawValue, 70)
        w.i16(Int16(h.bitpix), 72)
        for (i, p) in h.pixdim.enumerated() { w.f32(Float(p), 76 + 4 * i) }
        w.f32(352, 108)
        w.f32(1, 112)
        w.f32(0, 116)
        w.bytes[123] = 2 | 8 // mm, seconds
        w.string(description, 148, 80)
        w.i16(Int16(h.qformCode), 252)
        w.i16(Int16(h.sformCode), 254)
        w.f32(Float(h.quaternion.x), 256); w.f32(Float(h.quaternion.y), 260); w.f32(Float(h.quaternion.z), 264)
        w.f32(Float(h.qoffset.x), 268); w.f32(Float(h.qoffset.y), 272); w.f32(Float(h.qoffset.z), 276)
        for r in 0..<3 { for c in 0..<4 { w.f32(Float(h.srow[r][c]), 280 + 16 * r + 4 * c) } }
        if intent == NIfTIHeader.intentVector { w.string("displacement", 328, 16) }
        w.string("n+1", 344, 4)
        patch?(&w)
        return w.bytes
    }

    static func write(data: UnsafeRawBufferPointer, datatype: NIfTIDatatype, shape: [Int], geometry: VolumeGeometry,
                      intent: Int, to path: String, options: Options,
                      patch: ((inout ByteWriter) -> Void)? = nil) throws {
        try write(parts: [data], datatype: datatype, shape: shape, geometry: geometry, intent: intent, to: path,
                  options: options, patch: patch)
    }

    /// As `write(data:...)` with the voxel data given as consecutive parts (no joined copy).
    /// Parts whose index is in `negatedFloats` hold float32 values written negated.
    static func write(parts: [UnsafeRawBufferPointer], negatedFloats: Set<Int> = [], datatype: NIfTIDatatype, shape: [Int], geometry: VolumeGeometry,
                      intent: Int, to path: String, options: Options,
                      patch: ((inout ByteWriter) -> Void)? = nil) throws {
        let lower = path.lowercased()
        guard lower.hasSuffix(".nii") || lower.hasSuffix(".nii.gz") else {
            throw NIfTIError(path, "output must end in .nii or .nii.gz")
        }
        if let big = shape.first(where: { $0 > Int(Int16.max) }) {
            throw NIfTIError(path, "dimension \(big) is larger than NIfTI-1's limit of 32767 voxels along an axis")
        }
        try checkDestination(path, options: options)
        let head = headerBytes(datatype: datatype, shape: shape, geometry: geometry, intent: intent,
                               description: options.description, patch: patch)
        do {
            try head.withUnsafeBytes { h in
                let gz = lower.hasSuffix(".gz")
                let level = Int32(min(9, max(1, options.compressionLevel)))
                let negated = Set(negatedFloats.map { $0 + 1 })
                // zlib streams into the file batch by batch (a 1 mm field's 81 MB compressed are
                // never in memory at once); the libdeflate benchmark writer compresses first.
                let streaming = Gzip.engine == .zlib
                let compressed = gz && !streaming ? try Gzip.compress([h] + parts, level: level, path: path, negatedFloats: negated) : []
                let producer: (Int32, String) throws -> Void = { fd, _ in
                    if gz && streaming {
                        _ = try Gzip.compressWithZlib([h] + parts, level: level, path: path, negatedFloats: negated) {
                            try FileIO.writeAll(fd, $0, path: path)
                        }
                    } else if gz {
                        try compressed.withUnsafeBytes { try FileIO.writeAll(fd, $0, path: path) }
                    } else {
                        try FileIO.writeAll(fd, h, path: path)
                        for (i, data) in parts.enumerated() {
                            if negatedFloats.contains(i) {
                                try writeNegated(data, to: fd, path: path)
                            } else {
                                try FileIO.writeAll(fd, data, path: path)
                            }
                        }
                    }
                }
                try options.write(path, producer: producer)
            }
        } catch let e as FileError {
            throw NIfTIError(e)
        }
    }

    /// Writes the float32 values of `data` negated, through one reusable buffer of
    /// `negatedChunkBytes` (a whole part negated at once is ~68 MB for a 1 mm field's x and y).
    static func writeNegated(_ data: UnsafeRawBufferPointer, to fd: Int32, path: String) throws {
        let chunk = negatedChunkBytes / 4
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: chunk)
        defer { buffer.deallocate() }
        let count = data.count / 4
        var start = 0
        while start < count {
            let n = min(chunk, count - start)
            for i in 0..<n { buffer[i] = -data.loadUnaligned(fromByteOffset: 4 * (start + i), as: Float.self) }
            try FileIO.writeAll(fd, UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[..<(4 * n)]), path: path)
            start += n
        }
    }

    /// Bytes negated per write in `writeNegated` (a multiple of 4).
    static let negatedChunkBytes = 1 << 20

    /// Refuses to write over a protected input, or over any existing file unless allowed.
    public static func checkDestination(_ path: String, options: Options) throws {
        if FileIO.realPath(path) != nil {
            for p in options.protectedPaths where FileIO.sameFile(p, path) {
                throw NIfTIError(path, "refusing to overwrite an input file; choose another output path")
            }
            if !options.overwrite {
                throw NIfTIError(path, FileIO.alreadyExists)
            }
        }
    }
}
