import Foundation
import Testing
import TestSupport

/// `voxterm export` run as a built binary on mricron-data files and small nibabel-made files;
/// every PNG is read back by an independent decoder (Python's zlib, not libpng).
@Suite(.serialized) struct ExportCLITests {
    static let templates = TestPaths.mricronTemplates.path
    /// The bundled Colin27 1 mm sample (mricron-data's ch2bet) and its AAL labels and table.
    static var ch2: String { TestPaths.samples.appendingPathComponent("colin27_1mm.nii.gz").path }
    static var aal: String { TestPaths.samples.appendingPathComponent("colin27_1mm_aal.nii.gz").path }
    static var aalTable: String { TestPaths.samples.appendingPathComponent("aal.txt").path }
    static var haveTemplates: Bool { FileManager.default.fileExists(atPath: ch2) && FileManager.default.fileExists(atPath: aal) }

    /// Decodes a PNG in Python (signature, chunk CRCs, inflate, filters) and reports size, text
    /// chunks, a SHA-256 of the RGBA pixels and the centroid of coloured pixels (not grey, not the
    /// yellow orientation letters).
    static let decoder = #"""
    import hashlib, json, struct, sys, zlib
    path = sys.argv[1]
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'bad signature'
    pos, idat, text = 8, b'', {}
    while pos < len(data):
        n, t = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc, = struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(t + body) & 0xffffffff == crc, 'bad CRC in ' + t.decode()
        if t == b'IHDR': w, h, depth, ctype, _, _, inter = struct.unpack('>IIBBBBB', body)
        elif t == b'IDAT': idat += body
        elif t == b'tEXt':
            k, v = body.split(b'\0', 1); text[k.decode('latin-1')] = v.decode('latin-1')
        elif t == b'IEND': break
        pos += 12 + n
    assert depth == 8 and ctype == 6 and inter == 0, (depth, ctype, inter)
    raw, stride, bpp = zlib.decompress(idat), w * 4, 4
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        ln = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = ln[x - bpp] if x >= bpp else 0
            b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
            if f == 1: ln[x] = (ln[x] + a) & 255
            elif f == 2: ln[x] = (ln[x] + b) & 255
            elif f == 3: ln[x] = (ln[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                ln[x] = (ln[x] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 255
            else: assert f == 0, 'bad filter'
        rows.append(ln); prev = ln
    xs, ys = [], []
    for y in range(h):
        r = rows[y]
        for x in range(w):
            p = r[4 * x:4 * x + 3]
            if max(p) - min(p) > 60 and not (p[0] > 180 and p[1] > 180): xs.append(x); ys.append(y)  # skip yellow letters
    out = {'width': w, 'height': h, 'text': text, 'sha256': hashlib.sha256(b''.join(rows)).hexdigest(), 'colored': len(xs)}
    if xs: out['centroid'] = [sum(xs) / len(xs), sum(ys) / len(ys)]
    print(json.dumps(out))
    """#

    struct Decoded {
        var width: Int, height: Int, text: [String: String], sha256: String, colored: Int, centroid: [Double]?
    }

    /// Any python3 will do for the decoder (it needs only the standard library).
    static let python3: String? = pythonWithNibabel
        ?? ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func decode(_ png: String) throws -> Decoded? {
        guard let py = python3 else { return nil }
        let r = try runProcess(py, ["-c", decoder, png])
        #expect(r.status == 0, "python PNG decoder failed: \(r.stderr)")
        let j = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        return Decoded(width: j["width"] as! Int, height: j["height"] as! Int, text: j["text"] as! [String: String],
                       sha256: j["sha256"] as! String, colored: j["colored"] as! Int, centroid: j["centroid"] as? [Double])
    }

    static func json(_ r: ProcessResult) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    }

    /// Runs a nibabel script with `dir` as argv[1].
    static func python(_ script: String, _ dir: URL) throws {
        let r = try runProcess(pythonWithNibabel!, ["-c", script, dir.path])
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test func exportsAxialWithLabelsAndProvenance() throws {
        guard ExportCLITests.haveTemplates else { return }
        let dir = TestPaths.temporaryDirectory("export")
        let out = dir.appendingPathComponent("ax.png").path
        let r = try runVoxterm(["export", ExportCLITests.ch2, "-o", out, "--labels", ExportCLITests.aal,
                                "--lut", ExportCLITests.aalTable, "--outline", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try ExportCLITests.json(r)
        #expect(j["width"] as? Int == 181 && j["height"] as? Int == 217)
        #expect(j["slice"] as? Int == 90)
        #expect((j["orientation"] as? [String: String]) == ["left": "L", "right": "R", "top": "A", "bottom": "P"])
        #expect(((j["labels"] as? [String: Any])?["labels_present"] as? Int) == 116)
        let inSlice = try #require((j["labels"] as? [String: Any])?["in_slice"] as? [[String: Any]])
        #expect(inSlice.contains { $0["name"] as? String == "Thalamus_L" } && inSlice.count > 30 && inSlice.count < 116)
        guard let d = try ExportCLITests.decode(out) else { return }
        #expect(d.width == 181 && d.height == 217)
        #expect(d.text["Plane"] == "axial" && d.text["Slice"] == "90" && d.text["Software"] == "voxterm export")
        #expect(d.text["Source"]?.hasSuffix("colin27_1mm.nii.gz") == true && d.text["Labels"]?.hasSuffix("colin27_1mm_aal.nii.gz") == true)
        #expect(d.text["Window"]?.contains("auto") == true && d.text["Command"]?.contains("--outline") == true)
        #expect(d.colored > 500)
    }


    /// Without `--lut`, names come from a table beside the label map (`X.txt` for `X.nii.gz`, as
    /// FSLeyes and MRIcron find them); a broken one is reported and the default palette used.
    @Test func labelNamesBesideTheLabelMapAreFound() throws {
        guard ExportCLITests.haveTemplates else { return }
        let dir = TestPaths.temporaryDirectory("export-sidecar")
        let labels = dir.appendingPathComponent("atlas.nii.gz").path
        try FileManager.default.copyItem(atPath: ExportCLITests.aal, toPath: labels)
        try FileManager.default.copyItem(atPath: ExportCLITests.aalTable, toPath: dir.appendingPathComponent("atlas.txt").path)
        let out = dir.appendingPathComponent("ax.png").path
        var r = try runVoxterm(["export", ExportCLITests.ch2, "-o", out, "--labels", labels, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        var names = (((try ExportCLITests.json(r))["labels"] as? [String: Any])?["in_slice"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names.contains("Thalamus_L"))
        try Data([0xff, 0x00, 0x12]).write(to: dir.appendingPathComponent("atlas.txt"))
        r = try runVoxterm(["export", ExportCLITests.ch2, "-o", out, "--labels", labels, "--json", "--force"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try ExportCLITests.json(r)
        names = ((j["labels"] as? [String: Any])?["in_slice"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(!names.contains("Thalamus_L") && names.contains { $0.hasPrefix("label ") })
        #expect((j["notes"] as? [String])?.contains { $0.contains("atlas.txt") } == true)
    }
    /// AAL's Precentral_L lies at negative x: on the image's left in neurological display, right in radiological.
    @Test func leftLabelLandsOnTheLeftUnlessRadiological() throws {
        guard ExportCLITests.haveTemplates, pythonWithNibabel != nil else { return }
        let dir = TestPaths.temporaryDirectory("export")
        for (plane, radiological) in [("axial", false), ("axial", true), ("coronal", false), ("coronal", true)] {
            let out = dir.appendingPathComponent("\(plane)\(radiological).png").path
            var args = ["export", ExportCLITests.ch2, "-o", out, "--labels", ExportCLITests.aal, "--lut",
                        ExportCLITests.aalTable, "--only", "Precentral_L", "--opacity", "1",
                        "--at", "-40,-6,50", "--plane", plane]
            if radiological { args.append("--radiological") }
            let r = try runVoxterm(args)
            #expect(r.status == 0, "\(r.stderr)")
            let d = try #require(try ExportCLITests.decode(out))
            let c = try #require(d.centroid, "no label pixels in \(plane)")
            #expect((c[0] < Double(d.width) / 2) == !radiological, "\(plane) radiological=\(radiological): centroid \(c)")
            #expect(c[1] < Double(d.height) / 2, "\(plane): Precentral (superior, near the vertex) should be in the top half")
        }
    }

    /// HarvardOxford is stored LAS; nibabel's canonical RAS copy must export to the very same picture.
    @Test func lasFileAndItsRASCopyGiveTheSamePicture() throws {
        let ho = "\(ExportCLITests.templates)/HarvardOxford-cort-maxprob-thr0-1mm.nii.gz"
        guard FileManager.default.fileExists(atPath: ho), pythonWithNibabel != nil else { return }
        let dir = TestPaths.temporaryDirectory("export")
        try ExportCLITests.python("""
            import nibabel as nib, sys
            im = nib.load('\(ho)')
            assert ''.join(nib.aff2axcodes(im.affine)) == 'LAS'
            nib.save(nib.as_closest_canonical(im), sys.argv[1] + '/ho_ras.nii.gz')
            """, dir)
        for plane in ["axial", "coronal", "sagittal"] {
            var hashes: [String] = []
            for (name, file) in [("las", ho), ("ras", dir.appendingPathComponent("ho_ras.nii.gz").path)] {
                let out = dir.appendingPathComponent("\(name)-\(plane).png").path
                let r = try runVoxterm(["export", file, "-o", out, "--plane", plane, "--at", "30,-20,10",
                                        "--colormap", "jet", "--window", "0,48"])
                #expect(r.status == 0, "\(r.stderr)")
                hashes.append(try #require(try ExportCLITests.decode(out)).sha256)
            }
            #expect(hashes[0] == hashes[1], "\(plane): LAS and RAS copies differ")
        }
    }

    @Test func montageAndScale() throws {
        guard ExportCLITests.haveTemplates else { return }
        let dir = TestPaths.temporaryDirectory("export")
        let out = dir.appendingPathComponent("m.png").path
        let r = try runVoxterm(["export", ExportCLITests.ch2, "-o", out, "--montage", "2x3", "--scale", "2",
                                "--plane", "sagittal", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try ExportCLITests.json(r)
        // Tiles of 217 x 181 at scale 2, separated by 2-pixel gaps.
        #expect(j["width"] as? Int == 3 * 2 * 217 + 2 * 2 && j["height"] as? Int == 2 * 2 * 181 + 2)
        // Evenly spaced over the slices holding brain (Colin27 is brain-extracted: the outer ones are empty).
        let slices = try #require(j["slices"] as? [Int])
        #expect(slices.count == 6 && slices == slices.sorted() && Set(slices).count == 6)
        #expect(slices.first! > 15 && slices.last! < 165, "\(slices)")
    }

    /// A uniform +x (Right) field written the ITK way (LPS vectors) and a radial expansion.
    @Test func fieldArrowsPointRightAndExpansionReadsAboveOne() throws {
        guard pythonWithNibabel != nil else { return }
        let dir = TestPaths.temporaryDirectory("export")
        try ExportCLITests.python("""
            import nibabel as nib, numpy as np, sys
            d = sys.argv[1]
            A = np.diag([-2.0, 2.0, 2.0, 1.0]); A[:3, 3] = [30, -30, -20]   # LAS, 2 mm
            img = np.zeros((31, 31, 21), np.float32); img[10:20, 10:20, :] = 100
            nib.save(nib.Nifti1Image(img, A), d + '/img.nii.gz')
            u = np.zeros((31, 31, 21, 1, 3), np.float32); u[..., 0] = -3.0            # LPS x = -3: 3 mm toward Right
            f = nib.Nifti1Image(u, A); f.header.set_intent('vector'); nib.save(f, d + '/right.nii.gz')
            ijk = np.stack(np.meshgrid(*[np.arange(n) for n in (31, 31, 21)], indexing='ij'), -1)
            xyz = ijk @ A[:3, :3].T + A[:3, 3]
            e = 0.1 * (xyz - xyz.reshape(-1, 3).mean(0)); e[..., :2] *= -1                 # RAS expansion, stored LPS
            f = nib.Nifti1Image(e[:, :, :, None, :].astype(np.float32), A); f.header.set_intent('vector')
            nib.save(f, d + '/expand.nii.gz')
            """, dir)
        let img = dir.appendingPathComponent("img.nii.gz").path
        let out = dir.appendingPathComponent("arrows.png").path
        var r = try runVoxterm(["export", img, "-o", out, "--field", dir.appendingPathComponent("right.nii.gz").path,
                                "--step", "30", "--scale", "4", "--gain", "4", "--window", "0,1000", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(abs((((try ExportCLITests.json(r))["field"] as? [String: Any])?["max_displacement_mm"] as? Double ?? 0) - 3) < 1e-6)
        // One arrow, tail at display (15, 15), 3 mm x gain 4 / 2 mm voxels x scale 4 = 24 px long:
        // its coloured pixels lie to the right of the tail, the head's mass past the middle.
        let d = try #require(try ExportCLITests.decode(out))
        let c = try #require(d.centroid)
        let tail = (15.5 * 4 - 0.5)
        #expect(c[0] - tail > 12 && c[0] - tail < 24, "arrow centroid \(c) vs tail \(tail)")
        #expect(abs(c[1] - tail) < 2)
        r = try runVoxterm(["export", img, "-o", dir.appendingPathComponent("jac.png").path, "--field",
                            dir.appendingPathComponent("expand.nii.gz").path, "--field-mode", "jacobian", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let jac = try #require((try ExportCLITests.json(r))["field"] as? [String: Any])["jacobian"] as? [String: Double]
        #expect(abs((jac?["min"] ?? 0) - 1.331) < 1e-3 && abs((jac?["max"] ?? 0) - 1.331) < 1e-3)
        #expect(jac?["folding_fraction"] == 0)
    }

    @Test func badInputGivesOneLineErrorsAndNoFile() throws {
        guard ExportCLITests.haveTemplates else { return }
        let dir = TestPaths.temporaryDirectory("export")
        let out = dir.appendingPathComponent("bad.png").path
        let cases: [([String], String)] = [
            (["--slice", "181"], "out of range 0...180"),
            (["--window", "100,20"], "LOW (100) must be less than HIGH (20)"),
            (["--window", "abc"], "expected LOW,HIGH"),
            // Typed options: swift-argument-parser's message names the option and lists the values.
            (["--colormap", "rainbowz"], "'rainbowz' is invalid for '--colormap <colormap>'. Please provide one of the following: 'gray', 'hot', 'viridis'"),
            (["--plane", "oblique"], "'oblique' is invalid for '--plane <plane>'. Please provide one of 'axial', 'coronal' or 'sagittal'"),
            (["--field-mode", "quiver"], "'quiver' is invalid for '--field-mode <field-mode>'. Please provide one of 'arrows', 'magnitude', 'jacobian' or 'grid'"),
            (["--overlay", "x.nii:nosuchmap"], "is invalid for '--overlay <overlay>': expected FILE[:COLORMAP[:LOW,HIGH]]"),
            (["--opacity", "2"], "--opacity: 2.0 is outside 0...1"),
            (["--at", "500,0,0", "--plane", "sagittal"], "outside"),
            (["--only", "NoSuchRegion", "--labels", ExportCLITests.aal, "--lut", ExportCLITests.aalTable],
             "unknown label name NoSuchRegion"),
            (["--montage", "0x3"], "--montage"),
            (["--montage", "20x20", "--scale", "32"], "more than the limit"),
            (["--labels", "/nonexistent/l.nii.gz"], "/nonexistent/l.nii.gz"),
        ]
        // A malformed option value is a command-line error (64, as ArgumentParser's own); a value
        // that does not fit this image, or a missing file, is bad input (2). README's table.
        let usage: Set<String> = ["--window", "--colormap", "--plane", "--montage", "--field-mode", "--overlay", "--opacity"]
        for (extra, message) in cases {
            let r = try runVoxterm(["export", ExportCLITests.ch2, "-o", out] + extra)
            let expected: Int32 = usage.contains(extra[0]) && !extra.contains("--scale") ? 64 : 2
            #expect(r.status == expected, "\(extra): status \(r.status), expected \(expected)")
            #expect(r.stderr.contains(message), "\(extra): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(extra): \(r.stderr)")
        }
        let unwritable = try runVoxterm(["export", ExportCLITests.ch2, "-o", "/nonexistent-dir/x.png"])
        #expect(unwritable.status == 3 && unwritable.stderr.split(separator: "\n").count == 1, "\(unwritable.stderr)")
        #expect(unwritable.stderr.contains("/nonexistent-dir/x.png"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "a partial file was left behind")
        // Never overwrite an input.
        let inputPNG = dir.appendingPathComponent("in.png").path
        #expect(FileManager.default.createFile(atPath: inputPNG, contents: Data([1, 2, 3])))
        let r = try runVoxterm(["export", ExportCLITests.ch2, "-o", inputPNG, "--lut", inputPNG])
        #expect(r.status == 3 && r.stderr.contains("is also an input (--lut)"), "\(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: inputPNG)) == Data([1, 2, 3]))
    }

    @Test func labelsOutsideTheImageAreRefusedAndOverlappingOnesResampled() throws {
        guard ExportCLITests.haveTemplates, pythonWithNibabel != nil else { return }
        let dir = TestPaths.temporaryDirectory("export")
        try ExportCLITests.python("""
            import nibabel as nib, numpy as np, sys
            A = np.diag([2.0, 2.0, 2.0, 1.0]); A[:3, 3] = [5000, 0, 0]
            nib.save(nib.Nifti1Image(np.ones((5, 5, 5), np.uint8), A), sys.argv[1] + '/far.nii.gz')
            A[:3, 3] = [-40, -40, -20]
            nib.save(nib.Nifti1Image(np.ones((40, 40, 30), np.uint8), A), sys.argv[1] + '/near.nii.gz')
            """, dir)
        let out = dir.appendingPathComponent("o.png").path
        var r = try runVoxterm(["export", ExportCLITests.ch2, "-o", out, "--labels", dir.appendingPathComponent("far.nii.gz").path])
        #expect(r.status == 2 && r.stderr.contains("does not overlap the image in world space"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        r = try runVoxterm(["export", ExportCLITests.ch2, "-o", out, "--labels", dir.appendingPathComponent("near.nii.gz").path,
                            "--json", "--opacity", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let notes = (try ExportCLITests.json(r))["notes"] as? [String] ?? []
        #expect(notes.contains { $0.contains("resampled onto the image grid") })
        // The 80 mm box centred near the origin covers the middle of the axial slice, and only it.
        if let d = try ExportCLITests.decode(out), let c = d.centroid {
            #expect(abs(c[0] - 90) < 3 && d.colored > 70 * 70 && d.colored < 90 * 90, "\(c) \(d.colored)")
        }
    }

    /// An oblique affine (15 degrees about S) is shown as the nearest axis-aligned view, and said so.
    @Test func obliqueImageIsShownNearestAxisAlignedAndStated() throws {
        guard pythonWithNibabel != nil else { return }
        let dir = TestPaths.temporaryDirectory("export")
        try ExportCLITests.python("""
            import nibabel as nib, numpy as np, sys
            c, s = np.cos(np.radians(15)), np.sin(np.radians(15))
            A = np.array([[c, -s, 0, -10], [s, c, 0, -10], [0, 0, 3, -9], [0, 0, 0, 1.0]])
            d = np.zeros((20, 20, 7), np.float32); d[15:18, 8:12, 3] = 100   # a block toward +i (Right)
            nib.save(nib.Nifti1Image(d, A), sys.argv[1] + '/obl.nii.gz')
            """, dir)
        let out = dir.appendingPathComponent("obl.png").path
        let r = try runVoxterm(["export", dir.appendingPathComponent("obl.nii.gz").path, "-o", out, "--plane", "coronal",
                                "--colormap", "hot", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try ExportCLITests.json(r)
        #expect(j["oblique"] as? Bool == true)
        #expect((j["notes"] as? [String] ?? []).contains { $0.contains("nearest axis-aligned coronal view") })
        // 3 mm slices along S: the coronal picture is 20 x 21 (square 1 mm pixels).
        #expect(j["width"] as? Int == 20 && j["height"] as? Int == 21)
    }

    /// The unregistered atlas labels as a prediction of the synthetic subject's true labels.
    @Test func truthComparisonCountsAllThreeCategories() throws {
        let subject = TestPaths.samples.appendingPathComponent("subject01_2mm.nii.gz").path
        guard FileManager.default.fileExists(atPath: subject) else { return }
        let dir = TestPaths.temporaryDirectory("export")
        let out = dir.appendingPathComponent("cmp.png").path
        let r = try runVoxterm(["export", subject, "-o", out, "--plane", "coronal", "--scale", "2",
                                "--labels", TestPaths.samples.appendingPathComponent("colin27_2mm_aal.nii.gz").path,
                                "--truth", TestPaths.samples.appendingPathComponent("subject01_2mm_aal.nii.gz").path,
                                "--lut", ExportCLITests.aalTable, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let labels = try #require((try ExportCLITests.json(r))["labels"] as? [String: Any])
        let c = try #require(labels["slice_voxels"] as? [String: Int])
        let tp = c["true_positive"] ?? 0, fp = c["false_positive"] ?? 0, fn = c["false_negative"] ?? 0
        // Before registration Dice is about 0.63: most labelled voxels agree, a good share do not.
        #expect(tp > 1000 && fp > 200 && fn > 100 && tp > fp && tp > fn, "\(c)")
        if let d = try ExportCLITests.decode(out) {
            #expect(d.text["Truth"]?.hasSuffix("subject01_2mm_aal.nii.gz") == true)
            #expect(d.colored > tp) // every category is drawn in colour, at scale 2 (4 pixels per voxel)
        }
    }
}
