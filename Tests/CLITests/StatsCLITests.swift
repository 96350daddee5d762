import Foundation
import TestSupport
import Testing

/// `voxterm stats` run as a built binary and checked against numpy/nibabel on every AAL label.
@Suite("voxterm stats")
struct StatsCLITests {
    static let numpyScript = """
    import json, sys
    import numpy as np, nibabel as nib
    img, lab = nib.load(sys.argv[1]), nib.load(sys.argv[2])
    d = img.get_fdata(dtype=np.float64)
    if d.ndim == 4: d = d[..., int(sys.argv[5])]   # nibabel's volume N of a 4-D image
    l = np.asarray(lab.dataobj).astype(np.int64)
    axis = int(sys.argv[3]); index = int(sys.argv[4])
    if axis >= 0:
        sl = [slice(None)] * 3; sl[axis] = slice(index, index + 1)
        d, l = d[tuple(sl)], l[tuple(sl)]
        off = [0, 0, 0]; off[axis] = index
    else:
        off = [0, 0, 0]
    vv = abs(np.linalg.det(img.affine[:3, :3]))
    out = []
    for v in np.unique(l):
        if v == 0: continue
        m = l == v
        idx = np.argwhere(m).astype(np.float64) + np.array(off, dtype=np.float64)
        c = idx.mean(axis=0)
        mm = img.affine[:3, :3] @ c + img.affine[:3, 3]
        vals = d[m]
        out.append(dict(label=int(v), voxels=int(m.sum()), volume_mm3=float(m.sum() * vv),
                        mean=float(vals.mean()), sd=float(vals.std()), centroid_mm=mm.tolist(), centroid_voxel=c.tolist()))
    print(json.dumps(dict(voxel_volume=float(vv), labels=out)))
    """

    struct Expected: Decodable {
        struct Label: Decodable {
            var label: Int; var voxels: Int; var volume_mm3: Double; var mean: Double; var sd: Double
            var centroid_mm: [Double]; var centroid_voxel: [Double]
        }
        var voxel_volume: Double
        var labels: [Label]
    }

    static func close(_ a: Double, _ b: Double, _ tol: Double = 1e-9) -> Bool { abs(a - b) <= tol * Swift.max(1, abs(b)) }

    /// Compares `voxterm stats --json` with numpy for one region (axis -1 = whole volume).
    func compare(plane: String?, slice: Int?, axis: Int, image: String? = nil, volume: Int? = nil) throws {
        guard let python = pythonWithNibabel else {
            Issue.record("python3 with nibabel is required and was not found (pip install nibabel numpy)")
            return
        }
        let image = image ?? TestPaths.samples.appendingPathComponent("colin27_2mm.nii.gz").path
        let labels = TestPaths.samples.appendingPathComponent("colin27_2mm_aal.nii.gz").path
        let py = try runProcess(python, ["-c", Self.numpyScript, image, labels, String(axis), String(slice ?? -1), String(volume ?? 0)])
        try #require(py.status == 0, "numpy failed: \(py.stderr)")
        let expected = try JSONDecoder().decode(Expected.self, from: Data(py.stdout.utf8))

        var args = ["stats", image, "--labels", labels, "--json"]
        if let plane, let slice { args += ["--plane", plane, "--slice", String(slice)] }
        if let volume { args += ["--volume", String(volume)] }
        let r = try runVoxterm(args)
        try #require(r.status == 0, "stderr: \(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        if let volume {
            #expect(report["volume"] as? Int == volume && report["volume_count"] as? Int == 3, "\(report["volume"] ?? "-")")
        }
        #expect(Self.close(report["voxel_volume_mm3"] as? Double ?? -1, expected.voxel_volume))
        // The label table is found beside the label map (Samples/aal.txt for colin27_2mm_aal).
        #expect((report["label_table"] as? String)?.hasSuffix("aal.txt") == true)
        let rows = try #require(report["statistics"] as? [[String: Any]])
        #expect(rows.map { $0["label"] as? Int ?? -1 } == expected.labels.map(\.label))
        for (row, e) in zip(rows, expected.labels) {
            let l = e.label
            #expect(row["voxels"] as? Int == e.voxels, "label \(l)")
            #expect(Self.close(row["volume_mm3"] as? Double ?? -1, e.volume_mm3), "label \(l)")
            #expect(Self.close(row["volume_ml"] as? Double ?? -1, e.volume_mm3 / 1000), "label \(l)")
            // float32 intensities summed in Double on both sides: agreement to ~1e-9 relative.
            #expect(Self.close(row["mean"] as? Double ?? .nan, e.mean, 1e-9), "label \(l) mean")
            #expect(Self.close(row["sd"] as? Double ?? .nan, e.sd, 1e-7), "label \(l) sd")
            let c = row["centroid_mm"] as? [Double] ?? []
            #expect(c.count == 3 && zip(c, e.centroid_mm).allSatisfy { abs($0 - $1) <= 1e-9 }, "label \(l) centroid \(c) vs \(e.centroid_mm)")
            let cv = row["centroid_voxel"] as? [Double] ?? []
            #expect(cv.count == 3 && zip(cv, e.centroid_voxel).allSatisfy { abs($0 - $1) <= 1e-9 }, "label \(l)")
            if plane == nil { #expect(row["name"] as? String != "label \(l)", "label \(l) has a name from aal.txt") }
        }
        if plane == nil { #expect(rows.count == 116, "every AAL label is present in the 2 mm sample") }
    }

    @Test("stats --json agrees with numpy/nibabel on every AAL label of the 2 mm sample (whole volume)")
    func volumeAgreesWithNumpy() throws { try compare(plane: nil, slice: nil, axis: -1) }

    @Test("stats --plane axial --slice 40 agrees with numpy on that voxel slice; coronal 60 too")
    func sliceAgreesWithNumpy() throws {
        try compare(plane: "axial", slice: 40, axis: 2)
        try compare(plane: "coronal", slice: 60, axis: 1)
    }

    /// A 4-D series made by nibabel from the 2 mm sample: volume 0 the sample, volume 1 half of it
    /// plus seeded noise, volume 2 its 1.1th power (float32, 2 s TR).
    static let makeSeries = """
    import sys, numpy as np, nibabel as nib
    img = nib.load(sys.argv[1]); d = img.get_fdata(dtype=np.float32)
    rng = np.random.default_rng(7)
    s = np.stack([d, 0.5 * d + rng.normal(0, 3, d.shape).astype(np.float32), d ** 1.1], axis=-1).astype(np.float32)
    out = nib.Nifti1Image(s, img.affine); out.header.set_xyzt_units('mm', 'sec')
    nib.save(out, sys.argv[2])
    """

    @Test("stats --volume N on a 4-D series agrees with numpy on nibabel's data[..., N]; out of range is one line, exit 2")
    func volumeOfASeriesAgreesWithNumpy() throws {
        let python = try #require(pythonWithNibabel, "python3 with nibabel is required")
        let dir = TestPaths.temporaryDirectory("stats-series")
        defer { try? FileManager.default.removeItem(at: dir) }
        let series = dir.appendingPathComponent("series.nii.gz").path
        let source = TestPaths.samples.appendingPathComponent("colin27_2mm.nii.gz").path
        let made = try runProcess(python, ["-c", Self.makeSeries, source, series])
        try #require(made.status == 0, "\(made.stderr)")
        try compare(plane: nil, slice: nil, axis: -1, image: series, volume: 1)
        try compare(plane: "axial", slice: 40, axis: 2, image: series, volume: 2)
        // Without --volume: the first volume, and a warning naming the count.
        let labels = TestPaths.samples.appendingPathComponent("colin27_2mm_aal.nii.gz").path
        let first = try runVoxterm(["stats", series, "--labels", labels, "--csv"])
        let zero = try runVoxterm(["stats", series, "--labels", labels, "--csv", "--volume", "0"])
        let one = try runVoxterm(["stats", series, "--labels", labels, "--csv", "--volume", "1"])
        #expect(first.status == 0 && first.stdout == zero.stdout && first.stdout != one.stdout)
        #expect(!zero.stderr.contains("warning"), "\(zero.stderr)")
        #expect(first.stderr.contains("has 3 volumes; statistics of the first (--volume N)"), "\(first.stderr)")
        let bad = try runVoxterm(["stats", series, "--labels", labels, "--volume", "3"])
        #expect(bad.status == 2 && bad.stderr.split(separator: "\n").count == 1
                && bad.stderr.contains("--volume: 3 is out of range 0...2"), "\(bad.stderr)")
    }

    @Test("stats --csv has one row per label and the text table names the labels; bad input is one line, exit 2")
    func csvTextAndErrors() throws {
        let image = TestPaths.samples.appendingPathComponent("colin27_2mm.nii.gz").path
        let labels = TestPaths.samples.appendingPathComponent("colin27_2mm_aal.nii.gz").path
        let csv = try runVoxterm(["stats", image, "--labels", labels, "--csv"])
        #expect(csv.status == 0)
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first == "label,name,voxels,volume_mm3,volume_ml,mean,sd,centroid_x_mm,centroid_y_mm,centroid_z_mm")
        #expect(lines.count == 117)
        #expect(lines.dropFirst().first?.hasPrefix("1,Precentral_L,") == true)
        let text = try runVoxterm(["stats", image, "--labels", labels])
        #expect(text.status == 0 && text.stdout.contains("Hippocampus_L"))
        let one = TestPaths.samples.appendingPathComponent("colin27_1mm_aal.nii.gz").path
        let bad = try runVoxterm(["stats", image, "--labels", one])
        #expect(bad.status == 2)
        #expect(bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains("differs from"), "\(bad.stderr)")
        let range = try runVoxterm(["stats", image, "--labels", labels, "--slice", "91"])
        #expect(range.status == 2 && range.stderr.contains("out of range 0...90"), "\(range.stderr)")
    }
}
