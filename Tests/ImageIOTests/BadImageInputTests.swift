import Foundation
import ImageIO
import NIfTI
import Testing
import TestSupport
import VolumeCore

/// Broken files of each format: one error naming the file and the problem (docs/bad-inputs.md).
@Suite("Bad MGH, NRRD, MetaImage and DICOM inputs")
struct BadImageInputTests {
    let dir = TestPaths.temporaryDirectory("voxterm-imageio-bad")

    /// A small oblique volume written by voxterm in `name`'s format.
    func written(_ name: String, labels: Bool = false) throws -> String {
        let g = VolumeGeometry(size: [5, 4, 3], affine: VolumeCore.AffineTransform(linear: [[-1, 0.1, 0], [0, 1, 0], [0, 0, 2]], translation: [1, 2, 3]))
        let p = dir.appendingPathComponent(name).path
        if labels {
            try ImageFile.write(LabelVolume(geometry: g, labels: (0..<60).map { Int32($0) * 300 }), to: p)
        } else {
            try ImageFile.write(Volume(geometry: g, voxels: (0..<60).map(Float.init)), to: p)
        }
        return p
    }

    func bytes(_ p: String) -> [UInt8] { Array(FileManager.default.contents(atPath: p)!) }
    func put(_ name: String, _ b: [UInt8]) -> String {
        let p = dir.appendingPathComponent(name).path
        _ = FileManager.default.createFile(atPath: p, contents: Data(b))
        return p
    }
    func put(_ name: String, _ s: String) -> String { put(name, Array(s.utf8)) }

    /// The reason of the error reading `path` (after "path: ").
    func reason(_ path: String) -> String {
        do {
            _ = try ImageFile.read(path)
            return "(read without error)"
        } catch let e as NIfTIError {
            #expect(e.path == path || e.path.hasPrefix(dir.path), "error names \(e.path)")
            return e.reason
        } catch {
            return "\(error)"
        }
    }

    @Test("MGH: truncated data, truncated gzip, unknown type, zero dimension, huge claim")
    func mgh() throws {
        let mgh = bytes(try written("a.mgh"))
        #expect(reason(put("cut.mgh", Array(mgh[0..<300]))) == "data is shorter than the header claims: 5x4x3x1 float32 needs 240 bytes from offset 284, the file has 16")
        #expect(reason(put("short.mgh", Array(mgh[0..<200]))) == "file is 200 bytes, shorter than an MGH header (284 bytes)")
        let mgz = bytes(try written("a.mgz"))
        // Cut into the compressed voxels (60 bytes: past the tail and the CRC).
        let cut = reason(put("cut.mgz", Array(mgz[0..<(mgz.count - 60)])))
        #expect(cut.hasPrefix("gzip data is truncated") || cut.hasPrefix("data is shorter than the header claims"), "\(cut)")
        var typed = mgh; typed[23] = 2
        #expect(reason(put("type.mgh", typed)) == "MGH data type 2 is not supported (0 uchar, 1 int, 3 float, 4 short, 10 ushort)")
        var zero = mgh; zero[4...7] = [0, 0, 0, 0]
        #expect(reason(put("zero.mgh", zero)) == "MGH dimension 1 is 0; every dimension must be at least 1")
        var huge = mgz
        // A gzip of a header claiming 1000^3 floats: refused before allocating.
        var head = Array(mgh[0..<284]); head[4...15] = [0, 0, 3, 232, 0, 0, 3, 232, 0, 0, 3, 232]
        huge = try head.withUnsafeBytes { try GzipLayer.gzip([$0], path: "x") }
        #expect(reason(put("huge.mgz", huge)) == "data is shorter than the header claims: 1000x1000x1000x1 float32 needs 4000000000 bytes, more than \(huge.count) compressed bytes can hold")
    }

    @Test("NRRD: size mismatch, unknown encoding, unknown type, missing detached file, vectors")
    func nrrd() throws {
        let raw = try written("a.nhdr")
        let text = String(decoding: bytes(raw), as: UTF8.self)
        let rawData = bytes(dir.appendingPathComponent("a.raw").path)
        let attached = text.replacingOccurrences(of: "data file: a.raw\n", with: "")
        #expect(reason(put("cut.nrrd", Array(attached.utf8) + rawData.prefix(100))) == "data is shorter than the header claims: 5x4x3 float32 needs 240 bytes, the file has 100")
        #expect(reason(put("enc.nrrd", attached.replacingOccurrences(of: "encoding: raw", with: "encoding: bzip2"))) == "NRRD encoding \"bzip2\" is not supported (raw, gzip, ascii)")
        #expect(reason(put("type.nrrd", attached.replacingOccurrences(of: "type: float", with: "type: block"))) == "NRRD type \"block\" is not supported (integer, float or double scalars only)")
        #expect(reason(put("sizes.nrrd", attached.replacingOccurrences(of: "sizes: 5 4 3", with: "sizes: 5 4"))) == "NRRD sizes has 2 values for dimension 3")
        #expect(reason(put("endian.nrrd", attached.replacingOccurrences(of: "endian: little\n", with: ""))) == "NRRD header has no \"endian\" field for float data")
        let lonely = dir.appendingPathComponent("lonely").path
        try FileManager.default.createDirectory(atPath: lonely, withIntermediateDirectories: true)
        let nhdr = lonely + "/a.nhdr"
        try FileManager.default.copyItem(atPath: raw, toPath: nhdr)
        #expect(reason(nhdr) == "the data file \(lonely)/a.raw named in the header does not exist")
        let vec = attached.replacingOccurrences(of: "dimension: 3", with: "dimension: 4")
            .replacingOccurrences(of: "sizes: 5 4 3", with: "sizes: 3 5 4 3")
            .replacingOccurrences(of: "space directions: ", with: "space directions: none ")
        #expect(reason(put("vec.nrrd", vec)) == "NRRD axes none,space,space,space: per-voxel vectors or lists are not supported; only spatial axes first, then others (e.g. time)")
        #expect(reason(put("not.nrrd", "NRRD0004\nhello\n\n")) == "NRRD header line \"hello\" is not `field: value`")
    }

    @Test("MetaImage: size mismatch, unknown type, missing data file, corrupt compressed data")
    func metaImage() throws {
        let mhd = try written("a.mhd")
        let text = String(decoding: bytes(mhd), as: UTF8.self)
        let rawData = bytes(dir.appendingPathComponent("a.raw").path)
        let local = text.replacingOccurrences(of: "ElementDataFile = a.raw", with: "ElementDataFile = LOCAL")
        #expect(reason(put("cut.mha", Array(local.utf8) + rawData.prefix(100))) == "data is shorter than the header claims: 5x4x3 float32 needs 240 bytes, the file has 100")
        #expect(reason(put("type.mha", local.replacingOccurrences(of: "MET_FLOAT", with: "MET_FOO") + "xx")) == "MetaImage ElementType MET_FOO is not supported (MET_CHAR ... MET_DOUBLE scalars)")
        #expect(reason(put("dims.mha", local.replacingOccurrences(of: "DimSize = 5 4 3", with: "DimSize = 5 4"))) == "MetaImage DimSize has 2 values for NDims 3")
        let lonely = dir.appendingPathComponent("lonely").path
        try FileManager.default.createDirectory(atPath: lonely, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: mhd, toPath: lonely + "/a.mhd")
        #expect(reason(lonely + "/a.mhd") == "the data file \(lonely)/a.raw named by ElementDataFile does not exist")
        var mha = bytes(try written("z.mha"))
        mha[mha.count - 8] ^= 0xff
        let corrupt = reason(put("corrupt.mha", mha))
        #expect(corrupt.hasPrefix("gzip data is corrupt") || corrupt.hasPrefix("data is shorter"), "\(corrupt)")
        let notZ = local.replacingOccurrences(of: "CompressedData = False", with: "CompressedData = True")
        #expect(reason(put("notz.mha", Array(notZ.utf8) + [UInt8](repeating: 0, count: 240))) == "CompressedData is True but the data is not a zlib stream")
        #expect(reason(put("noend.mha", "ObjectType = Image\nNDims = 3\n")) == "MetaImage header has no ElementDataFile line (it must end the header)")
    }

    @Test("other files say what they are")
    func recognised() throws {
        #expect(reason(put("x.png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] + [UInt8](repeating: 0, count: 64))) == "PNG is not a volume format")
        #expect(reason(put("x.nii", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] + [UInt8](repeating: 0, count: 400))) == "PNG is not a volume format")
        #expect(reason(put("x.jpg", [0xff, 0xd8, 0xff, 0xe0] + [UInt8](repeating: 0, count: 64))) == "JPEG is not a volume format")
        #expect(reason(put("x.zip", Array("PK\u{03}\u{04}".utf8) + [UInt8](repeating: 0, count: 64))) == "this is a ZIP archive: unpack it first")
        #expect(reason(put("x.mnc", [0x89, 0x48, 0x44, 0x46] + [UInt8](repeating: 0, count: 64))) == "this is an HDF5 file (MINC 2 or another HDF5 format), which voxterm does not read; convert it to NIfTI first (e.g. mnc2nii)")
        #expect(reason(put("x.dat", "hello world\n")) == "not a recognised image format (expected NIfTI, MGH/MGZ, NRRD, MetaImage or a DICOM folder)")
        // A gzipped MGH named .nii.gz is still read as MGH: content first.
        let mgz = bytes(try written("m.mgz"))
        let renamed = put("m.nii.gz", mgz)
        #expect(try ImageFile.read(renamed).storage == .mgz)
        // Existing NIfTI messages are unchanged for NIfTI-named text.
        #expect(reason(put("text.nii", "hello, this is not an image at all; it is text.\n" + String(repeating: "x", count: 400))).hasPrefix("sizeof_hdr is"))
    }

    @Test("a folder without DICOM says so, and nothing is written into it")
    func emptyFolder() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/dcm2niix"), "dcm2niix is required (Scripts/install-deps.sh --test)")
        let empty = dir.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let why = reason(empty)
        #expect(why.hasPrefix("no DICOM images found") || why.hasPrefix("dcm2niix could not convert"), "\(why)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty).isEmpty, "something was written next to the user's files")
    }
}
