import Foundation
import NIfTI
import TestSupport
import Testing
import VolumeCore

/// voxterm reads every committed fixture as nibabel does (expected.json, made by
/// Scripts/make_fixtures.py).
@Suite("Fixtures read as nibabel reads them")
struct NibabelFixtureTests {
    @Test("expected.json lists the fixtures on disk")
    func fixtureListIsComplete() throws {
        let e = Fixtures.expected
        #expect(e.fixtures.count >= 40)
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: Fixtures.folder.path)
        let listed = Set(e.fixtures.map(\.file) + e.unsupported.map(\.file))
        for f in onDisk where f != "expected.json" && f != "README.md" {
            // The data half of a pair is named by its header.
            let header = f.replacingOccurrences(of: ".img", with: ".hdr")
            #expect(listed.contains(f) || listed.contains(header), "\(f) is not described in expected.json")
        }
        for dt in ["uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"] {
            #expect(e.fixtures.contains { $0.datatype == dt && $0.byte_order == "little" }, "no little-endian \(dt)")
            #expect(e.fixtures.contains { $0.datatype == dt && $0.byte_order == "big" }, "no big-endian \(dt)")
        }
        for rank in 2...5 { #expect(e.fixtures.contains { $0.shape.count == rank }, "no \(rank)-D fixture") }
    }

    @Test("header fields, affine, orientation and values match nibabel", arguments: Fixtures.expected.fixtures)
    func readsLikeNibabel(_ e: ExpectedFixture) throws {
        let image = try NIfTIReader.read(Fixtures.path(e.file))
        let h = image.header

        #expect(h.version == e.version)
        #expect(h.isByteSwapped == (e.byte_order == "big"))
        #expect(image.shape == e.shape)
        #expect(h.datatype?.description == e.datatype)
        #expect(Int(h.datatypeCode) == e.datatype_code)
        #expect(h.intentCode == e.intent_code)
        #expect(h.pixdim == e.pixdim)
        #expect(h.voxOffset == e.vox_offset)
        #expect(e.scl_slope.matches(h.sclSlope), "scl_slope \(h.sclSlope), nibabel \(e.scl_slope.value)")
        #expect(e.scl_inter.matches(h.sclInter), "scl_inter \(h.sclInter), nibabel \(e.scl_inter.value)")
        if let si = e.slope_inter {
            #expect(image.scaling?.slope == si[0] && image.scaling?.intercept == si[1],
                    "scaling \(String(describing: image.scaling)), nibabel \(si)")
        } else {
            #expect(image.scaling == nil, "voxterm applies \(String(describing: image.scaling)); nibabel applies none")
        }
        #expect(h.qformCode == e.qform_code)
        #expect(h.sformCode == e.sform_code)
        #expect(image.affine.source == (e.sform_code > 0 ? .sform : e.qform_code > 0 ? .qform : .pixdim))

        let m = image.affine.affine.matrix4x4
        for r in 0..<4 {
            for c in 0..<4 {
                #expect(abs(m[r][c] - e.affine[r][c]) <= 1e-5, "affine[\(r)][\(c)] is \(m[r][c]), nibabel \(e.affine[r][c])")
            }
        }
        #expect(image.geometry.orientation.description == e.axcodes)

        let values = image.floatValues()
        #expect(values.count == e.shape.reduce(1, *))
        let stats = IntensityStatistics(values)
        let scale = Swift.max(abs(e.min), abs(e.max), 1)
        #expect(abs(stats.minimum - e.min) <= float32Tolerance(scale), "min \(stats.minimum), nibabel \(e.min)")
        #expect(abs(stats.maximum - e.max) <= float32Tolerance(scale), "max \(stats.maximum), nibabel \(e.max)")
        #expect(abs(stats.mean - e.mean) <= float32Tolerance(scale), "mean \(stats.mean), nibabel \(e.mean)")
        for p in e.probes {
            let v = Double(values[flatIndex(p.index, shape: e.shape)])
            let tol = float32Tolerance(Swift.max(abs(p.value), abs(e.slope_inter?[1] ?? 0)))
            #expect(abs(v - p.value) <= tol, "voxel \(p.index) is \(v), nibabel \(p.value)")
        }

        // The header-only path parses the same header (compared as text: NaN slopes).
        #expect(String(describing: try NIfTIReader.readHeader(Fixtures.path(e.file))) == String(describing: h))
    }

    @Test("each 3-D frame of a 4-D image is its slice of the data")
    func framesOf4D() throws {
        let image = try NIfTIReader.read(Fixtures.path("dim4_float32_las.nii.gz"))
        let all = image.floatValues()
        #expect(image.frameCount == 3)
        let n = 4 * 3 * 2
        for f in 0..<3 {
            let v = try image.volume(frame: f)
            #expect(v.size == SIMD3(4, 3, 2))
            #expect(v.voxels == Array(all[(f * n)..<((f + 1) * n)]))
        }
        #expect(throws: NIfTIError.self) { try image.volume(frame: 3) }
    }

    @Test("5-D vector images read as fields, in both vector conventions",
          arguments: ["vec5d_float32.nii.gz", "vec5d_float64_be_dispvect.nii"])
    func vectorFields(_ name: String) throws {
        let image = try NIfTIReader.read(Fixtures.path(name))
        #expect(image.isVectorField)
        let raw = image.floatValues()
        let ras = try image.vectorField(convention: .ras)
        let lps = try image.vectorField(convention: .itkLPS)
        let n = ras.geometry.voxelCount
        #expect(n == 24 && ras.data.count == 3 * n)
        #expect(ras.data == raw, "RAS convention keeps the stored components")
        for i in 0..<n {
            #expect(lps.data[i] == -raw[i] && lps.data[n + i] == -raw[n + i] && lps.data[2 * n + i] == raw[2 * n + i])
        }
        #expect(ras.geometry.affine == image.affine.affine)
        #expect(throws: NIfTIError.self) { try NIfTIReader.read(Fixtures.path("dim5_uint8.nii")).vectorField() }
    }

    @Test("integer images read as labels identical to their values")
    func labels() throws {
        for name in ["dt_uint8_le.nii", "dt_int8_be.nii", "dt_int16_be.nii", "dt_uint16_le.nii", "dt_int32_le.nii",
                     "pair_int16.hdr", "scaled_uint8_be.nii"] {
            let image = try NIfTIReader.read(Fixtures.path(name))
            let values = try image.volume().voxels
            if name.hasPrefix("scaled") {
                // 0.125 * v + 3 is not whole for most v: not a label map.
                #expect(throws: NIfTIError.self) { try image.labelVolume() }
                continue
            }
            let labels = try image.labelVolume()
            #expect(labels.labels.map(Float.init) == values, "\(name)")
            // Exact against nibabel's probes (float32 would round large int32 values).
            let e = try #require(Fixtures.expected.fixtures.first { $0.file == name })
            for p in e.probes {
                #expect(Double(labels.labels[flatIndex(p.index, shape: e.shape)]) == p.value, "\(name) \(p.index)")
            }
        }
        // int32 extremes (Int32.min included) are labels.
        let i32 = try NIfTIReader.read(Fixtures.path("dt_int32_be.nii")).labelVolume()
        #expect(i32.labels.first == Int32.min && i32.labels.last == Int32.max)
        // int64 extremes do not fit int32 labels: refused with the file named.
        let big = try NIfTIReader.read(Fixtures.path("dt_int64_le.nii"))
        #expect(throws: NIfTIError.self) { try big.labelVolume() }
    }

    @Test("a pair reads the same whichever half is named")
    func pairByEitherName() throws {
        for (hdr, img) in [("pair_int16.hdr", "pair_int16.img"), ("pair_gz_float32_be.hdr.gz", "pair_gz_float32_be.img.gz"),
                           ("nifti2_pair.hdr", "nifti2_pair.img")] {
            let a = try NIfTIReader.read(Fixtures.path(hdr))
            let b = try NIfTIReader.read(Fixtures.path(img))
            #expect(a.header == b.header)
            #expect(a.floatValues() == b.floatValues())
            #expect(a.storage == .pair)
        }
    }

    @Test("RGB and complex images are refused with the file and datatype named",
          arguments: Fixtures.expected.unsupported.map(\.file))
    func unsupported(_ name: String) throws {
        let path = Fixtures.path(name)
        do {
            _ = try NIfTIReader.read(path)
            Issue.record("\(name) was read; it should be refused")
        } catch let e as NIfTIError {
            #expect(e.description.hasPrefix(path + ": "))
            #expect(e.reason.contains("not supported"))
            #expect(e.reason.contains(name.contains("rgb") ? "RGB24" : "complex64"))
        }
    }

    @Test("header warnings: sform/qform disagreement, no orientation")
    func warnings() throws {
        let differ = try NIfTIReader.read(Fixtures.path("sform_qform_differ.nii"))
        #expect(differ.warnings.contains { $0.field == "sform/qform" })
        let none = try NIfTIReader.read(Fixtures.path("no_orientation.nii"))
        #expect(none.warnings.contains { $0.field == "qform_code/sform_code" })
        let clean = try NIfTIReader.read(Fixtures.path("las.nii"))
        #expect(clean.warnings.isEmpty, "\(clean.warnings)")
        let pair = try NIfTIReader.read(Fixtures.path("pair_int16.hdr"))
        #expect(pair.warnings.isEmpty, "\(pair.warnings)")
    }
}
