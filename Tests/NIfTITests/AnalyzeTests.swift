import Foundation
import NIfTI
import TestSupport
import Testing
import VolumeCore

/// Analyze 7.5 pairs (no NIfTI magic), as nibabel reads them (Spm2AnalyzeImage): no qform or
/// sform, x-flipped pixdim affine centred or on SPM's originator. Files made by nibabel at test time.
@Suite("Analyze 7.5 pairs read as nibabel reads them")
struct AnalyzeTests {
    struct Case: Decodable {
        var path: String
        var kind: String
        var shape: [Int]
        var affine: [[Double]]
        var axcodes: String
        var values: [Double]
    }

    static let script = """
    import json, os, struct, sys
    import numpy as np, nibabel as nib
    out = sys.argv[1]
    cases = []
    data = (np.arange(60, dtype=np.int16).reshape(5, 4, 3, order='F') * 3 - 40)
    for kind, endian, origin in [('centred', '<', None), ('centred-be', '>', None),
                                 ('spm-origin', '<', (3, 2, 2)), ('spm-origin-be', '>', (4, 1, 3)),
                                 ('origin-out-of-range', '<', (100, 2, 2))]:
        p = os.path.join(out, kind + '.hdr')
        hdr = nib.AnalyzeHeader(endianness=endian)
        hdr.set_data_dtype(np.int16)
        hdr.set_data_shape(data.shape)
        hdr.set_zooms((2.0, 2.5, 3.0))
        nib.save(nib.AnalyzeImage(data, None, header=hdr), p)
        if origin is not None:
            with open(p, 'r+b') as f:
                f.seek(253); f.write(struct.pack(endian + 'hhh', *origin))
        img = nib.load(p)
        assert not os.path.exists(p[:-4] + '.mat')
        cases.append(dict(path=p, kind=kind + ' (' + type(img).__name__ + ')', shape=list(img.shape),
                          affine=img.affine.tolist(), axcodes=''.join(nib.aff2axcodes(img.affine)),
                          values=img.get_fdata().ravel(order='F').tolist()))
    print(json.dumps(cases))
    """

    @Test("centred, SPM originator and out-of-range originator, both byte orders")
    func analyzePairs() throws {
        let dir = TestPaths.temporaryDirectory("nifti-analyze")
        defer { try? FileManager.default.removeItem(at: dir) }
        guard let out = try runNibabel(Self.script, [dir.path]) else { return }
        let cases = try decodeJSON([Case].self, out)
        #expect(cases.count == 5)
        for c in cases {
            let image = try NIfTIReader.read(c.path)
            #expect(image.header.isAnalyze, "\(c.kind)")
            #expect(image.shape == c.shape, "\(c.kind)")
            #expect(image.affine.source == .pixdim)
            let m = image.affine.affine.matrix4x4
            var worst = 0.0
            for r in 0..<4 { for k in 0..<4 { worst = Swift.max(worst, abs(m[r][k] - c.affine[r][k])) } }
            #expect(worst <= 1e-6, "\(c.kind): affine \(m), nibabel \(c.affine)")
            #expect(image.geometry.orientation.description == c.axcodes, "\(c.kind)")
            #expect(image.floatValues().map(Double.init) == c.values, "\(c.kind)")
            #expect(image.warnings.map(\.field) == ["magic"], "\(c.kind): \(image.warnings)")
        }
    }

    @Test("an originator whose bytes overlap qform_code/sform_code does not become a NIfTI affine")
    func originatorIsNotQform() throws {
        // Originator (46, 64, 37) puts non-zero bytes at offsets 253-255, i.e. inside the
        // NIfTI qform_code and sform_code; the srow bytes hold garbage Analyze history.
        let dir = TestPaths.temporaryDirectory("nifti-analyze-codes")
        defer { try? FileManager.default.removeItem(at: dir) }
        var hdr = try Data(contentsOf: Fixtures.folder.appendingPathComponent("pair_int16.hdr"))
        for k in 344..<348 { hdr[k] = 0 } // no magic: Analyze
        let origin: [Int16] = [3, 2, 2]
        for (i, v) in origin.enumerated() { hdr[253 + 2 * i] = UInt8(v & 0xff); hdr[254 + 2 * i] = UInt8(v >> 8) }
        for k in 280..<328 { hdr[k] = 0x41 } // srow: garbage
        let path = dir.appendingPathComponent("spm.hdr").path
        try hdr.write(to: URL(fileURLWithPath: path))
        try FileManager.default.copyItem(at: Fixtures.folder.appendingPathComponent("pair_int16.img"),
                                         to: dir.appendingPathComponent("spm.img"))
        let image = try NIfTIReader.read(path)
        #expect(image.header.sformCode != 0, "the test must put non-zero bytes at sform_code")
        let a = image.affine.affine
        #expect(a.column(0).x < 0 && a.column(1).y > 0 && a.column(2).z > 0, "\(a)")
        #expect(a.apply(SIMD3(2, 1, 1)) == SIMD3(0, 0, 0), "originator (3, 2, 2), 1-based, is world 0")
    }
}
