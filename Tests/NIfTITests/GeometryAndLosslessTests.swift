import Foundation
import NIfTI
import TestSupport
import Testing
import VolumeCore

/// Issue 13 in the NIfTI module: unusable geometry refused by every read (and shown when asked),
/// the SPM .mat sidecar, lossless rewriting.
@Suite struct GeometryRefusalTests {
    @Test(arguments: BadGeometry.allCases)
    func refusedByEveryRead(_ bad: BadGeometry) throws {
        let dir = TestPaths.temporaryDirectory("geom")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try bad.make(in: dir)
        for read in [{ _ = try NIfTIReader.read(path) }, { _ = try NIfTIReader.readHeader(path) }] {
            #expect { try read() } throws: { e in
                guard let e = e as? NIfTIError else { return false }
                return e.path == path && e.reason.contains(bad.expectedReason) && e.reason.contains("geometry is unusable")
                    && !e.description.contains("\n")
            }
        }
        // From memory as well (the fuzz target's path).
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: NIfTIError.self) { try bytes.withUnsafeBytes { _ = try NIfTIReader.read(bytes: $0, path: path) } }
        // `info` reads it anyway and names the problem.
        let image = try NIfTIReader.read(path, limits: NIfTIReadLimits(maxDataBytes: 1 << 20, requireUsableGeometry: false))
        #expect(try #require(image.header.geometryProblem).contains(bad.expectedReason))
    }

    @Test func nonUnitQuaternionIsAWarningAndNormalisedAsNifti1IO() throws {
        let dir = TestPaths.temporaryDirectory("quat")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try NIfTIReader.read(try BadGeometry.makeNonUnitQuaternion(in: dir))
        #expect(image.warnings.contains { $0.field == "quatern_b/c/d" && $0.message.contains("nibabel refuses") })
        // b = 1.2, c = d = 0 -> normalised to b = 1, a = 0: a half turn about x (y and z negated).
        let a = image.affine.affine
        #expect(a[0, 0] > 0 && a[1, 1] < 0 && a[2, 2] < 0)
        #expect(image.header.geometryProblem == nil)
    }

    /// nibabel (Spm99/Spm2AnalyzeImage) and SPM take an Analyze image's affine from x.mat; voxterm
    /// refuses rather than place the image elsewhere. A NIfTI pair ignores it (as nibabel's Nifti1Pair).
    @Test func spmMatSidecarOfAnAnalyzePairIsRefused() throws {
        let dir = TestPaths.temporaryDirectory("spm")
        defer { try? FileManager.default.removeItem(at: dir) }
        var hdr = try Data(contentsOf: BadNIfTI.fixtures.appendingPathComponent("pair_int16.hdr"))
        let img = try Data(contentsOf: BadNIfTI.fixtures.appendingPathComponent("pair_int16.img"))
        let nifti = dir.appendingPathComponent("n.hdr")
        try hdr.write(to: nifti); try img.write(to: dir.appendingPathComponent("n.img"))
        try Data("MATLAB 5.0 MAT-file".utf8).write(to: dir.appendingPathComponent("n.mat"))
        _ = try NIfTIReader.read(nifti.path) // a NIfTI pair: the sidecar does not apply
        for k in 0..<4 { hdr[344 + k] = 0 } // no magic: Analyze 7.5
        let analyze = dir.appendingPathComponent("a.hdr")
        try hdr.write(to: analyze); try img.write(to: dir.appendingPathComponent("a.img"))
        _ = try NIfTIReader.read(analyze.path) // no sidecar yet
        try Data("MATLAB 5.0 MAT-file".utf8).write(to: dir.appendingPathComponent("a.mat"))
        #expect { try NIfTIReader.read(dir.appendingPathComponent("a.img").path) } throws: { e in
            (e as? NIfTIError)?.description.contains("a.hdr: has an SPM affine sidecar \(dir.path)/a.mat") == true
        }
        // The refusal comes before the image data is read: a truncated a.img is not what is reported.
        try img.prefix(10).write(to: dir.appendingPathComponent("a.img"))
        #expect { try NIfTIReader.read(analyze.path) } throws: { e in
            (e as? NIfTIError)?.description.contains("has an SPM affine sidecar") == true
        }
        try img.write(to: dir.appendingPathComponent("a.img"))
        // An empty .mat is ignored, as nibabel does.
        try Data().write(to: dir.appendingPathComponent("a.mat"))
        _ = try NIfTIReader.read(analyze.path)
    }
}

@Suite struct LosslessWriteTests {
    /// Every fixture datatype, 4-D and 5-D, big-endian and scaled: same shape, datatype, scaling
    /// and stored values after a rewrite (and after a RAS reorientation, values follow the voxels).
    @Test(arguments: ["dim4_float32_las.nii.gz", "dt_float64_be.nii", "dt_int32_be.nii", "dt_uint64_le.nii", "dt_int8_be.nii",
                      "scaled_int16.nii", "scaled_uint8_be.nii", "nifti2.nii", "vec5d_float64_be_dispvect.nii", "lpi.nii.gz",
                      "pair_gz_float32_be.hdr.gz"])
    func rewriteKeepsEverything(_ name: String) throws {
        let dir = TestPaths.temporaryDirectory("lossless")
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = try NIfTIReader.read(BadNIfTI.fixtures.appendingPathComponent(name).path)
        let out = dir.appendingPathComponent("out.nii.gz").path
        try NIfTIWriter.writeLossless(src, to: out, options: .init(overwrite: false))
        let back = try NIfTIReader.read(out)
        #expect(back.shape == src.shape)
        #expect(back.header.datatype == src.header.datatype)
        #expect(back.scaling.map { [$0.slope, $0.intercept] } == src.scaling.map { [Double(Float($0.slope)), Double(Float($0.intercept))] })
        #expect(back.floatValues() == src.floatValues())
        #expect(back.affine.affine.maxDifference(to: src.affine.affine) < 1e-4)
        #expect(back.header.intentCode == src.header.intentCode)
        // Reoriented: each voxel keeps its value at its world position.
        let canon = dir.appendingPathComponent("canon.nii").path
        try NIfTIWriter.writeLossless(src, to: canon, canonical: true)
        let c = try NIfTIReader.read(canon)
        #expect(c.geometry.orientation.description == "RAS")
        let sv = try src.volume(frame: src.frameCount - 1), cv = try c.volume(frame: src.frameCount - 1)
        for n in stride(from: 0, to: sv.geometry.voxelCount, by: 7) {
            let w = sv.geometry.world(ofVoxel: SIMD3(sv.geometry.voxel(ofIndex: n)))
            let v = cv.geometry.voxel(ofWorld: w)
            #expect(cv.sampleNearest(at: v, outside: .nan) == sv.voxels[n])
        }
        // Exclusive creation: a second write without overwrite is refused.
        #expect(throws: NIfTIError.self) { try NIfTIWriter.writeLossless(src, to: out, options: .init(overwrite: false)) }
    }

    @Test func whatCannotBeKeptIsNamed() throws {
        let dir = TestPaths.temporaryDirectory("lossless-warn")
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = try NIfTIReader.read(BadNIfTI.fixtures.appendingPathComponent("extension.nii").path)
        let warnings = try NIfTIWriter.writeLossless(src, to: dir.appendingPathComponent("o.nii").path)
        #expect(warnings.count == 1 && warnings[0].contains("header extensions"), "\(warnings)")
        let plain = try NIfTIReader.read(BadNIfTI.fixtures.appendingPathComponent("dt_int16_le.nii").path)
        #expect(try NIfTIWriter.writeLossless(plain, to: dir.appendingPathComponent("p.nii").path).isEmpty)
    }
}
