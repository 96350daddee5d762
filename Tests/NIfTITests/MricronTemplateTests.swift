import Foundation
import NIfTI
import TestSupport
import Testing
import VolumeCore

/// Every template of Debian's mricron-data package reads as nibabel reads it (nibabel run
/// at test time on the installed files).
@Suite("mricron-data templates agree with nibabel")
struct MricronTemplateTests {
    struct NibabelTemplate: Decodable {
        var path: String
        var shape: [Int]
        var dtype: String
        var affine: [[Double]]
        var axcodes: String
        var zooms: [Double]
        var min: Double
        var max: Double
        var mean: Double
    }

    static let script = """
    import json, sys
    import numpy as np, nibabel as nib
    out = []
    for p in sys.argv[1:]:
        img = nib.load(p)
        d = np.asarray(img.dataobj)
        s, i = img.dataobj.slope, img.dataobj.inter
        v = d.astype(np.float64) * s + i
        out.append(dict(path=p, shape=list(img.shape), dtype=np.dtype(img.get_data_dtype()).name,
            affine=img.affine.tolist(), axcodes=''.join(nib.aff2axcodes(img.affine)),
            zooms=[float(z) for z in img.header.get_zooms()],
            min=float(np.nanmin(v)), max=float(np.nanmax(v)), mean=float(np.nanmean(v))))
    print(json.dumps(out))
    """

    @Test("all 13 templates: dimensions, datatype, affine, orientation and value statistics")
    func templates() throws {
        let dir = TestPaths.mricronTemplates
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { $0.hasSuffix(".nii.gz") }.sorted().map { dir.appendingPathComponent($0).path }
        guard files.count >= 13 else {
            Issue.record("mricron-data templates missing: found \(files.count) .nii.gz files in \(dir.path), expected 13 (apt-get install mricron-data)")
            return
        }
        guard let out = try runNibabel(Self.script, files) else { return }
        let expected = try decodeJSON([NibabelTemplate].self, out)
        #expect(expected.count == files.count)
        var datatypes = Set<String>(), orientations = Set<String>()
        for e in expected {
            let image = try NIfTIReader.read(e.path)
            #expect(image.shape == e.shape, "\(e.path)")
            #expect(image.header.datatype?.description == e.dtype, "\(e.path)")
            let m = image.affine.affine.matrix4x4
            var worst = 0.0
            for r in 0..<4 { for c in 0..<4 { worst = Swift.max(worst, abs(m[r][c] - e.affine[r][c])) } }
            #expect(worst <= 1e-5, "\(e.path): affine differs from nibabel's by \(worst)")
            #expect(image.geometry.orientation.description == e.axcodes, "\(e.path)")
            #expect(image.header.pixdim[1...3].map { $0 } == Array(e.zooms.prefix(3)), "\(e.path)")
            let stats = IntensityStatistics(image.floatValues())
            let scale = Swift.max(abs(e.min), abs(e.max), 1)
            #expect(abs(stats.minimum - e.min) <= float32Tolerance(scale), "\(e.path): min \(stats.minimum), nibabel \(e.min)")
            #expect(abs(stats.maximum - e.max) <= float32Tolerance(scale), "\(e.path): max \(stats.maximum), nibabel \(e.max)")
            // Means over millions of voxels: voxterm sums float32 values in double, as nibabel does in float64.
            #expect(abs(stats.mean - e.mean) <= float32Tolerance(scale), "\(e.path): mean \(stats.mean), nibabel \(e.mean)")
            datatypes.insert(e.dtype)
            orientations.insert(e.axcodes)
        }
        // The set really is varied (the issue promises uint8/int16/float32 and several orientations).
        #expect(datatypes.count >= 3, "\(datatypes)")
        #expect(orientations.count >= 2, "\(orientations)")
    }
}
