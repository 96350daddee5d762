import Foundation
@testable import NIfTI
import TestSupport
import Testing
import VolumeCore

/// Files voxterm writes read back identically in nibabel (python3 + nibabel, run by the test).
@Suite("voxterm writes, nibabel reads")
struct WriterNibabelTests {
    /// What nibabel reports about a written file.
    struct NibabelView: Decodable {
        var path: String
        var shape: [Int]
        var dtype: String
        var byte_order: String
        var affine: [[Double]]
        var sform: [[Double]]
        var qform: [[Double]]
        var sform_code: Int
        var qform_code: Int
        var qfac: Double
        var intent_code: Int
        var slope_inter: [Double]?
        var axcodes: String
        var diagnosis: String
        var values: [Double]
    }

    static let nibabelScript = """
    import json, sys
    import numpy as np, nibabel as nib
    out = []
    for p in sys.argv[1:]:
        img = nib.load(p)
        h = img.header
        with nib.openers.ImageOpener(p) as f:
            raw = h.__class__.from_fileobj(f)
        s, i = img.dataobj.slope, img.dataobj.inter
        out.append(dict(path=p, shape=list(img.shape), dtype=np.dtype(h.get_data_dtype()).name,
            byte_order='big' if h.endianness == '>' else 'little',
            affine=img.affine.tolist(), sform=raw.get_sform().tolist(), qform=raw.get_qform().tolist(),
            sform_code=int(raw['sform_code']), qform_code=int(raw['qform_code']), qfac=float(raw['pixdim'][0]),
            intent_code=int(raw['intent_code']),
            slope_inter=None if (s == 1 and i == 0) else [float(s), float(i)],
            axcodes=''.join(nib.aff2axcodes(img.affine)),
            diagnosis=raw.__class__.diagnose_binaryblock(raw.binaryblock),
            values=np.asarray(img.dataobj).astype(np.float64).ravel(order='F').tolist()))
    print(json.dumps(out))
    """

    /// A rigid rotation about three axes with anisotropic voxels and an offset.
    static let oblique: VolumeCore.AffineTransform = {
        func rot(_ axis: Int, _ deg: Double) -> [[Double]] {
            let t = deg * .pi / 180, c = cos(t), s = sin(t)
            switch axis {
            case 0: return [[1, 0, 0], [0, c, -s], [0, s, c]]
            case 1: return [[c, 0, s], [0, 1, 0], [-s, 0, c]]
            default: return [[c, -s, 0], [s, c, 0], [0, 0, 1]]
            }
        }
        func mul(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
            (0..<3).map { r in (0..<3).map { c in (0..<3).reduce(0) { $0 + a[r][$1] * b[$1][c] } } }
        }
        let r = mul(mul(rot(2, 30), rot(0, -15)), rot(1, 10))
        let z = [1.25, 0.8, 2.0]
        return VolumeCore.AffineTransform(linear: (0..<3).map { row in (0..<3).map { r[row][$0] * z[$0] } },
                               translation: [-31.5, 12.25, 40])
    }()

    static let geometries: [(String, VolumeGeometry)] = [
        ("ras", VolumeGeometry(size: [7, 5, 4], spacing: [1, 1.5, 2.5], origin: [-3, -3.75, -5])),
        ("las", VolumeGeometry(size: [6, 5, 3], affine: VolumeCore.AffineTransform(rows: [-2, 0, 0, 5], [0, 2, 0, -4], [0, 0, 3, -3]))),
        ("oblique", VolumeGeometry(size: [5, 6, 4], affine: oblique)),
    ]

    static func expectedAxcodes(_ name: String) -> String {
        switch name { case "ras": "RAS"; case "las": "LAS"; default: "RAS" }
    }

    /// Deterministic volume content with negative, fractional and large values.
    static func volume(_ g: VolumeGeometry) -> Volume {
        let n = g.voxelCount
        return Volume(geometry: g, voxels: (0..<n).map { i in Float(sin(Double(i) * 0.37)) * 1234.5 + Float(i % 7) - 3 })
    }

    static func checkAffine(_ a: [[Double]], _ b: VolumeCore.AffineTransform, _ what: String, tolerance: Double = 1e-5,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        let m = b.matrix4x4
        var worst = 0.0
        for r in 0..<4 { for c in 0..<4 { worst = Swift.max(worst, abs(a[r][c] - m[r][c])) } }
        #expect(worst <= tolerance, "\(what) differs from voxterm's affine by \(worst)", sourceLocation: sourceLocation)
    }

    @Test("volumes, labels and vector fields (.nii, .nii.gz; RAS, LAS, oblique) read back identically in nibabel")
    func nibabelReadsWhatVoxtermWrites() throws {
        let dir = TestPaths.temporaryDirectory("nifti-writer")
        defer { try? FileManager.default.removeItem(at: dir) }

        struct Written { var path: String; var kind: String; var geometry: VolumeGeometry; var values: [Double]; var dtype: String; var axcodes: String }
        var written: [Written] = []
        for (name, g) in Self.geometries {
            for ext in ["nii", "nii.gz"] {
                let vol = Self.volume(g)
                let vp = dir.appendingPathComponent("vol_\(name).\(ext)").path
                try NIfTIWriter.write(vol, to: vp)
                written.append(Written(path: vp, kind: "volume", geometry: g, values: vol.voxels.map(Double.init),
                                       dtype: "float32", axcodes: Self.expectedAxcodes(name)))

                // Labels in three ranges pick uint8, int16 and int32.
                for (dtype, scale, offset) in [("uint8", 37, 0), ("int16", 4099, -20000), ("int32", 1_000_003, -7)] {
                    let n = g.voxelCount
                    let labels = LabelVolume(geometry: g, labels: (0..<n).map { Int32((($0 * 13) % 7) * scale + (($0 % 3 == 0) ? offset : 0)) })
                    let lp = dir.appendingPathComponent("labels_\(dtype)_\(name).\(ext)").path
                    try NIfTIWriter.write(labels, to: lp)
                    written.append(Written(path: lp, kind: "labels", geometry: g, values: labels.labels.map(Double.init),
                                           dtype: dtype, axcodes: Self.expectedAxcodes(name)))
                }

                let n = g.voxelCount
                let field = VectorField(geometry: g, data: (0..<(3 * n)).map { Float(cos(Double($0) * 0.11)) * 4.5 + Float($0 / n) })
                let fp = dir.appendingPathComponent("field_\(name).\(ext)").path
                try NIfTIWriter.write(field, to: fp)
                // On disk the vectors are LPS (ITK/ANTs): x and y negated.
                var lps = field.data.map(Double.init)
                for i in 0..<(2 * n) { lps[i] = -lps[i] }
                written.append(Written(path: fp, kind: "field", geometry: g, values: lps, dtype: "float32",
                                       axcodes: Self.expectedAxcodes(name)))
            }
        }

        guard let out = try runNibabel(Self.nibabelScript, written.map(\.path)) else { return }
        let views = try decodeJSON([NibabelView].self, out)
        #expect(views.count == written.count)
        for (w, v) in zip(written, views) {
            let s = w.geometry.size
            #expect(v.path == w.path)
            #expect(v.shape == (w.kind == "field" ? [s.x, s.y, s.z, 1, 3] : [s.x, s.y, s.z]), "\(w.path)")
            #expect(v.dtype == w.dtype, "\(w.path): nibabel sees \(v.dtype)")
            #expect(v.byte_order == "little")
            #expect(v.intent_code == (w.kind == "field" ? 1007 : 0), "\(w.path)")
            #expect(v.slope_inter == nil, "\(w.path): nibabel applies scaling \(String(describing: v.slope_inter))")
            #expect(v.sform_code > 0 && v.qform_code > 0, "\(w.path): sform_code \(v.sform_code), qform_code \(v.qform_code)")
            #expect(v.qfac == (w.geometry.affine.determinant < 0 ? -1 : 1), "\(w.path): qfac \(v.qfac)")
            Self.checkAffine(v.affine, w.geometry.affine, "\(w.path) img.affine")
            Self.checkAffine(v.sform, w.geometry.affine, "\(w.path) sform")
            // The qform is stored as a float32 quaternion: agreement to float32 rounding of mm values.
            Self.checkAffine(v.qform, w.geometry.affine, "\(w.path) qform", tolerance: 1e-4)
            #expect(v.axcodes == w.axcodes, "\(w.path)")
            #expect(v.axcodes == w.geometry.orientation.description, "\(w.path)")
            #expect(v.diagnosis.isEmpty, "\(w.path): nibabel's header check says: \(v.diagnosis)")
            #expect(v.values == w.values, "\(w.path): values differ")

            // And voxterm reads its own file back to the same values and geometry.
            let back = try NIfTIReader.read(w.path)
            #expect(back.geometry.affine.maxDifference(to: w.geometry.affine) <= 1e-5)
            #expect(back.warnings.isEmpty, "\(w.path): \(back.warnings)")
            switch w.kind {
            case "labels": #expect(try back.labelVolume().labels.map(Double.init) == w.values)
            case "field":
                let f = try back.vectorField()
                var lps = f.data.map(Double.init)
                for i in 0..<(2 * w.geometry.voxelCount) { lps[i] = -lps[i] }
                #expect(lps == w.values)
            default: #expect(try back.volume().voxels.map(Double.init) == w.values)
            }
        }
    }

    @Test("large .nii.gz (parallel chunked deflate, levels 1 and 9; at level 1 the noise chunks stored): one gzip member, gzip -t passes, nibabel reads every voxel",
          arguments: [1, 9])
    func largeCompressed(_ level: Int) throws {
        let dir = TestPaths.temporaryDirectory("nifti-writer-large")
        defer { try? FileManager.default.removeItem(at: dir) }
        let g = VolumeGeometry(size: [100, 80, 100], affine: Self.oblique) // 3.2 MB: several chunks
        var state: UInt32 = 12345
        let n = g.voxelCount
        let vol = Volume(geometry: g, voxels: (0..<n).map { i in
            state = state &* 1_664_525 &+ 1_013_904_223
            // First half: a smooth ramp plus noise (compressible, not trivially); second half:
            // random bits in every byte, the exponent's top bit cleared so each value is finite
            // (incompressible: level 1 stores those chunks, checked below).
            return i < n / 2 ? Float(i % 1000) * 0.5 + Float(state >> 24) : Float(bitPattern: state & 0xBFFF_FFFF)
        })
        // The member mixes both kinds of chunk at level 1: the noise half is judged incompressible,
        // the ramp half is not (1 MiB chunks, as the writer cuts them).
        vol.voxels.withUnsafeBytes { bytes in
            let half = bytes.count / 2, chunk = Gzip.chunkSize
            let noise = UnsafeRawBufferPointer(rebasing: bytes[half..<(half + chunk)])
            let ramp = UnsafeRawBufferPointer(rebasing: bytes[0..<chunk])
            #expect(Gzip.estimatedDeflateRatio(noise) > Gzip.storeAbove, "the noise half would be compressed")
            #expect(Gzip.estimatedDeflateRatio(ramp) <= Gzip.storeAbove, "the ramp half would be stored")
        }
        let path = dir.appendingPathComponent("large.nii.gz").path
        try NIfTIWriter.write(vol, to: path, options: .init(compressionLevel: level))
        let gzipTest = try runProcess("/bin/sh", ["-c", "gzip -t \"$0\"", path])
        #expect(gzipTest.status == 0, "gzip -t: \(gzipTest.stderr)")
        let bin = dir.appendingPathComponent("values.bin").path
        let script = """
        import sys, zlib, numpy as np, nibabel as nib
        img = nib.load(sys.argv[1])
        np.asarray(img.dataobj).astype('<f4').ravel(order='F').tofile(sys.argv[2])
        d = zlib.decompressobj(31)  # one gzip member: nothing is left after its end
        d.decompress(open(sys.argv[1], 'rb').read())
        print(list(img.shape), d.eof, len(d.unused_data))
        """
        guard let out = try runNibabel(script, [path, bin]) else { return }
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "[100, 80, 100] True 0")
        let theirs = try Data(contentsOf: URL(fileURLWithPath: bin))
        let ours = vol.voxels.withUnsafeBytes { Data($0) }
        #expect(theirs == ours, "nibabel's voxels differ from what voxterm wrote")
        let back = try NIfTIReader.read(path).volume()
        #expect(back.voxels == vol.voxels)
        #expect(back.geometry.affine.maxDifference(to: g.affine) <= 1e-5) // float32 header fields
    }

    @Test("the writer refuses protected inputs, existing files without overwrite, and other extensions")
    func writerRefusals() throws {
        let dir = TestPaths.temporaryDirectory("nifti-writer-refuse")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Fixtures.copy("las.nii", to: dir)
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        let vol = try NIfTIReader.read(input).volume()
        #expect(throws: NIfTIError.self) {
            try NIfTIWriter.write(vol, to: input, options: .init(protectedPaths: [input]))
        }
        // Through a different spelling of the same path, too.
        #expect(throws: NIfTIError.self) {
            try NIfTIWriter.write(vol, to: dir.path + "/./las.nii", options: .init(protectedPaths: [input]))
        }
        #expect(throws: NIfTIError.self) {
            try NIfTIWriter.write(vol, to: input, options: .init(overwrite: false))
        }
        #expect(throws: NIfTIError.self) { try NIfTIWriter.write(vol, to: dir.path + "/out.img") }
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before, "the input changed")
        // A missing folder is a one-line error naming the file, and leaves nothing behind.
        do {
            try NIfTIWriter.write(vol, to: dir.path + "/missing/out.nii")
            Issue.record("writing into a missing folder succeeded")
        } catch let e as NIfTIError {
            #expect(e.path.hasSuffix("missing/out.nii"))
            #expect(!e.description.contains("\n"))
        }
        // NIfTI-1 stores each dimension in an int16: a longer axis is refused, not clamped.
        let long = Volume(geometry: VolumeGeometry(size: [40_000, 1, 1]), repeating: 1)
        do {
            try NIfTIWriter.write(long, to: dir.path + "/long.nii")
            Issue.record("a 40000-voxel axis was written into an int16 dim")
        } catch let e as NIfTIError {
            #expect(e.reason.contains("32767"))
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(left == ["las.nii"], "temporary files left behind: \(left)")
    }
}
