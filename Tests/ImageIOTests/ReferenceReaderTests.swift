import Foundation
import ImageIO
import NIfTI
import Testing
import TestSupport
import VolumeCore

/// python3 that imports nibabel, SimpleITK and pydicom (what `Scripts/install-deps.sh --test` installs), or nil.
let referencePython: String? = {
    for py in ["/usr/bin/env"] {
        if let r = try? runProcess(py, ["python3", "-c", "import nibabel, SimpleITK, pydicom, numpy"]), r.status == 0 { return py }
    }
    return nil
}()

/// Runs a python3 script; records an issue (fails the test) when python3 or its packages are missing.
func runPython(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String? {
    guard let py = referencePython else {
        Issue.record("python3 with nibabel, SimpleITK and pydicom is required (Scripts/install-deps.sh --test)", sourceLocation: sourceLocation)
        return nil
    }
    let r = try runProcess(py, ["python3"] + arguments)
    guard r.status == 0 else {
        Issue.record("python3 \(arguments.first ?? "") failed (status \(r.status)): \(r.stderr.suffix(2000))", sourceLocation: sourceLocation)
        return nil
    }
    return r.stdout
}

/// What a reference reader said about one file (Tests/ImageIOTests/make_fixtures.py).
struct Reference: Decodable {
    var file: String
    var shape: [Int]
    var affine: [[Double]]
    var values: [Double]
    var reader: String
}

/// Fixtures written by the reference writers into a temporary folder, once per test run.
enum Fixtures {
    static let script = TestPaths.packageRoot.appendingPathComponent("Tests/ImageIOTests/make_fixtures.py").path
    static let folder: URL? = {
        let dir = TestPaths.temporaryDirectory("voxterm-imageio")
        guard let r = try? runProcess("/usr/bin/env", ["python3", script, dir.path]), r.status == 0 else { return nil }
        return dir
    }()
    static let references: [Reference] = {
        guard let folder, let d = FileManager.default.contents(atPath: folder.appendingPathComponent("manifest.json").path) else { return [] }
        return (try? JSONDecoder().decode([Reference].self, from: d)) ?? []
    }()
}

/// Largest absolute difference between two 4x4 affines (top three rows).
func affineDifference(_ a: VolumeCore.AffineTransform, _ b: [[Double]]) -> Double {
    var m = 0.0
    for r in 0..<3 { for c in 0..<4 { m = max(m, abs(a[r, c] - b[r][c])) } }
    return m
}

@Suite("Reference readers agree", .serialized)
struct ReferenceReaderTests {
    @Test("the fixture script ran and wrote every kind of file")
    func fixturesExist() throws {
        _ = try runPython(["-c", "import nibabel, SimpleITK, pydicom"])
        let refs = Fixtures.references
        #expect(Fixtures.folder != nil, "make_fixtures.py failed")
        for reader in ["nibabel", "SimpleITK", "pynrrd", "dcm2niix + nibabel", "geometry it was written with"] {
            #expect(refs.contains { $0.reader == reader }, "no fixture read by \(reader)")
        }
        #expect(refs.filter { $0.file.hasSuffix(".mgz") }.count >= 5)
        #expect(refs.filter { $0.file.hasSuffix(".nhdr") }.count == 10)
        #expect(refs.filter { $0.file.hasSuffix(".mhd") }.count == 20)
    }

    @Test("shape, affine (1e-5 mm) and values match the reference reader", arguments: Fixtures.references.indices)
    func agrees(_ index: Int) throws {
        let ref = Fixtures.references[index]
        let path = Fixtures.folder!.appendingPathComponent(ref.file).path
        let image = try ImageFile.read(path)
        let values = image.floatValues()
        if ref.file.hasPrefix("dicom") || ref.file.hasPrefix("pydicom") {
            // dcm2niix ran into a private folder: nothing new beside the user's files.
            let inside = try FileManager.default.contentsOfDirectory(atPath: path)
            #expect(inside.allSatisfy { $0.hasSuffix(".dcm") }, "\(ref.file): \(inside)")
        }
        if ref.reader == "geometry it was written with" {
            // dcm2niix may reorder the voxel axes: compare voxel by voxel through world space.
            try expectSameWorld(image, values, ref)
            return
        }
        #expect(image.shape == ref.shape, "\(ref.file)")
        #expect(affineDifference(image.affine.affine, ref.affine) < 1e-5, "\(ref.file): \(image.affine.affine) vs \(ref.affine)")
        // The header alone (no voxels read) says the same.
        let header = try ImageFile.readHeader(path)
        #expect(header.shape == ref.shape, "\(ref.file): header-only shape \(header.shape)")
        #expect(affineDifference(header.bestAffine.affine, ref.affine) < 1e-5, "\(ref.file): header-only affine")
        #expect(values.count == ref.values.count, "\(ref.file)")
        var worst = 0.0
        for (a, b) in zip(values, ref.values) { worst = max(worst, abs(Double(a) - b) / max(1, abs(b))) }
        #expect(worst < 1e-6, "\(ref.file): values differ by \(worst) (relative)")
    }

    /// Every voxel of `image` lands on a voxel of the reference grid holding the same value.
    func expectSameWorld(_ image: NIfTIImage, _ values: [Float], _ ref: Reference) throws {
        let refAffine = VolumeCore.AffineTransform(linear: (0..<3).map { r in (0..<3).map { ref.affine[r][$0] } },
                                        translation: SIMD3(ref.affine[0][3], ref.affine[1][3], ref.affine[2][3]))
        let inverse = try #require(refAffine.inverse)
        let s = image.shape
        #expect(s.reduce(1, *) == ref.values.count, "\(ref.file): \(s) vs \(ref.shape)")
        var mismatches = 0
        for k in 0..<s[2] { for j in 0..<s[1] { for i in 0..<s[0] {
            let p = inverse.apply(image.affine.affine.apply(SIMD3(Double(i), Double(j), Double(k))))
            let q = p.rounded(.toNearestOrAwayFromZero)
            guard ((p - q) * (p - q)).sum() < 1e-6,
                  (0..<3).allSatisfy({ q[$0] >= 0 && Int(q[$0]) < ref.shape[$0] }) else { mismatches += 1; continue }
            let refValue = ref.values[Int(q.x) + ref.shape[0] * (Int(q.y) + ref.shape[1] * Int(q.z))]
            if Double(values[i + s[0] * (j + s[1] * k)]) != refValue { mismatches += 1 }
        } } }
        #expect(mismatches == 0, "\(ref.file): \(mismatches) voxels off the written grid or with other values")
    }

    /// `readHeader` reads only the header: on a copy cut to half its size (the voxel data, or the
    /// gzip stream, ends early) it gives the full file's shape and affine, while `read` refuses it.
    @Test("readHeader reads only the header of MGH/MGZ, NRRD and MetaImage")
    func headerOnly() throws {
        let out = TestPaths.temporaryDirectory("voxterm-header-only")
        defer { try? FileManager.default.removeItem(at: out) }
        // An oblique 40x36x30 float volume of noisy values (so gzip keeps it large), in each format.
        let affine = VolumeCore.AffineTransform(linear: [[0.9, -0.2, 0.1], [0.25, 1.1, 0], [0, 0.05, 2.5]], translation: [-20, 31, 7.5])
        var rng = SplitMix64(seed: 19)
        let volume = Volume(geometry: VolumeGeometry(size: SIMD3(40, 36, 30), affine: affine),
                            voxels: (0..<(40 * 36 * 30)).map { _ in Float(rng.nextDouble() * 1000) })
        var checked: [String: Int] = [:]
        for ext in ["mgh", "mgz", "nrrd", "mha"] {
            let written = out.appendingPathComponent("full.\(ext)").path
            try ImageFile.write(volume, to: written)
            let data = try Data(contentsOf: URL(fileURLWithPath: written))
            let full = try ImageFile.read(written).header
            #expect(try ImageFile.readHeader(written).shape == full.shape)
            let cut = out.appendingPathComponent("cut.\(ext)").path
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
            let ref = (file: "cut.\(ext)", ext: ext)
            let header = try ImageFile.readHeader(cut)
            #expect(header.shape == full.shape && header.datatype == full.datatype, "\(ref.file)")
            #expect(header.bestAffine.affine.maxDifference(to: full.bestAffine.affine) == 0, "\(ref.file)")
            #expect(throws: NIfTIError.self, "\(ref.file): the cut copy must not read") { _ = try ImageFile.read(cut) }
            checked[ext, default: 0] += 1
        }
        #expect(checked.keys.sorted() == ["mgh", "mgz", "mha", "nrrd"], "\(checked)")
        // A header that names a detached data file that is missing is still refused (before any voxel is read).
        let nhdr = out.appendingPathComponent("lost.nhdr").path
        try Data("NRRD0004\ntype: float\ndimension: 3\nsizes: 2 2 2\nendian: little\nencoding: raw\ndata file: lost.raw\n\n".utf8)
            .write(to: URL(fileURLWithPath: nhdr))
        #expect(throws: NIfTIError.self) { _ = try ImageFile.readHeader(nhdr) }
    }

    @Test("what voxterm writes, the reference readers read back (MGZ, MGH, NRRD, NHDR, MHA, MHD)")
    func writtenFilesReadBack() throws {
        let dir = TestPaths.temporaryDirectory("voxterm-imageio-write")
        defer { try? FileManager.default.removeItem(at: dir) }
        let m: [[Double]] = [[-0.8, 0.3, 0.1], [0.25, 0.9, -0.2], [0.05, 0.1, 2.4]]
        let geometry = VolumeGeometry(size: [6, 5, 4], affine: VolumeCore.AffineTransform(linear: m, translation: [12.5, -40, 7.25]))
        let volume = Volume(geometry: geometry, voxels: (0..<120).map { Float($0) * 1.5 - 30 })
        let labels = LabelVolume(geometry: geometry, labels: (0..<120).map { Int32($0 % 7) * 1000 })
        let names = ["v.mgz", "v.mgh", "v.nrrd", "v.nhdr", "v.mha", "v2.mhd", "l.mgz", "l.nrrd", "l.mha"]
        for n in names {
            let p = dir.appendingPathComponent(n).path
            if n.hasPrefix("v") { try ImageFile.write(volume, to: p) } else { try ImageFile.write(labels, to: p) }
            // And voxterm reads its own files back exactly.
            let back = try ImageFile.read(p)
            #expect(affineDifference(back.affine.affine, geometry.affine.matrix4x4) < 1e-5, "\(n)")
            #expect(back.floatValues() == (n.hasPrefix("v") ? volume.voxels : labels.labels.map(Float.init)), "\(n)")
        }
        let script = """
        import json, sys, numpy as np, nibabel as nib, SimpleITK as sitk
        out = {}
        for f in sys.argv[2:]:
            p = sys.argv[1] + "/" + f
            if f.endswith((".mgz", ".mgh")):
                img = nib.load(p); a = img.affine; v = np.asarray(img.dataobj).reshape(-1, order="F")
            else:
                img = sitk.ReadImage(p); L = np.diag([-1.0, -1.0, 1.0])
                a = np.eye(4); a[:3, :3] = L @ np.array(img.GetDirection()).reshape(3, 3) @ np.diag(img.GetSpacing())
                a[:3, 3] = L @ np.array(img.GetOrigin()); v = sitk.GetArrayFromImage(img).reshape(-1)
            out[f] = dict(affine=np.asarray(a).tolist(), values=[float(x) for x in v])
        print(json.dumps(out))
        """
        guard let text = try runPython(["-c", script, dir.path] + names) else { return }
        struct Read: Decodable { var affine: [[Double]]; var values: [Double] }
        let read = try JSONDecoder().decode([String: Read].self, from: Data(text.utf8))
        for n in names {
            let r = try #require(read[n])
            #expect(affineDifference(geometry.affine, r.affine) < 1e-5, "\(n): \(r.affine)")
            let expected = n.hasPrefix("v") ? volume.voxels.map(Double.init) : labels.labels.map(Double.init)
            #expect(r.values == expected, "\(n)")
        }
    }

    @Test("gzip output larger than one compression chunk is ONE gzip member, as single-stream readers (pynrrd) need")
    func largeGzipOutputsAreOneMember() throws {
        let dir = TestPaths.temporaryDirectory("voxterm-imageio-members")
        defer { try? FileManager.default.removeItem(at: dir) }
        // 64x64x160 float32 = 2.6 MB, more than two 1 MiB chunks of the parallel writer.
        let geometry = VolumeGeometry(size: [64, 64, 160], affine: VolumeCore.AffineTransform(linear: [[2, 0, 0], [0, 2, 0], [0, 0, 2]], translation: [-64, -64, -160]))
        let volume = Volume(geometry: geometry, voxels: (0..<(64 * 64 * 160)).map { Float(($0 * 7919) % 1000) * 0.25 })
        let names = ["big.nrrd", "big.mgz", "big.nii.gz"]
        for n in names { try ImageFile.write(volume, to: dir.appendingPathComponent(n).path) }
        // Python's zlib.decompressobj stops at the end of the first member, as pynrrd's reader does:
        // it must have consumed the whole file (no unused data, nothing left over).
        let script = """
        import sys, zlib, json, numpy as np, nrrd, nibabel as nib
        out = {}
        for f in sys.argv[2:]:
            p = sys.argv[1] + "/" + f
            raw = open(p, "rb").read()
            start = raw.index(b"\\n\\n") + 2 if f.endswith(".nrrd") else 0
            d = zlib.decompressobj(zlib.MAX_WBITS | 16); d.decompress(raw[start:])
            v = nrrd.read(p)[0] if f.endswith(".nrrd") else np.asarray(nib.load(p).dataobj)
            out[f] = dict(one_member=d.eof and not d.unused_data, total=float(np.asarray(v, dtype=np.float64).sum()))
        print(json.dumps(out))
        """
        guard let text = try runPython(["-c", script, dir.path] + names) else { return }
        struct Read: Decodable { var one_member: Bool; var total: Double }
        let read = try JSONDecoder().decode([String: Read].self, from: Data(text.utf8))
        let total = volume.voxels.reduce(0.0) { $0 + Double($1) }
        for n in names {
            let r = try #require(read[n], "\(n)")
            #expect(r.one_member, "\(n) is written as several gzip members")
            #expect(abs(r.total - total) < 1e-6 * total, "\(n): \(r.total) vs \(total)")
        }
    }
}
