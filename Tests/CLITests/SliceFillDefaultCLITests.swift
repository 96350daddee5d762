import Foundation
import Testing
import TestSupport
import VoxtermModel
import Workbench

/// One slice filler: `voxterm segment --labelled-slices`, `voxterm bench segment` setting B (in
/// process, no tuning options) and the workbench's slice fill all start from
/// `SlicePropagator.standard`, so the bench measures what users get. The three predict the same
/// labels, voxel for voxel, on the Colin27 sample with AAL labels on axial slices 40, 45 and 50.
@Suite(.serialized) struct SliceFillDefaultCLITests {
    @Test func segmentBenchAndWorkbenchFillTheSameSlices() throws {
        let dir = TestPaths.temporaryDirectory("slicefill-default")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = TestPaths.samples.appendingPathComponent("colin27_2mm.nii.gz").path
        let aal = TestPaths.samples.appendingPathComponent("colin27_2mm_aal.nii.gz").path
        let slices = [40, 45, 50]
        // voxterm segment (reads the labels on the labelled slices only).
        let cliOut = dir.appendingPathComponent("segment.nii.gz").path
        let r = try runVoxterm(["segment", image, "--labels", aal, "--labelled-slices", "axial:40,45,50", "--out", cliOut, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let cli = try ImageFile.read(cliOut).labelVolume()
        // voxterm bench segment, setting B in this process.
        let proto = dir.appendingPathComponent("protocol.json").path
        let body: [String: Any] = ["B": ["queries": [[
            "id": "B/colin/N5", "file": "B__colin__N5.nii.gz", "N": 5, "axis": 2,
            "image": image, "truth_labels": aal, "labelled_slices": slices,
        ]]]]
        try JSONSerialization.data(withJSONObject: body).write(to: URL(fileURLWithPath: proto))
        let benchOut = dir.appendingPathComponent("bench").path
        let b = try runVoxterm(["bench", "segment", proto, "--out", benchOut, "--settings", "B"])
        #expect(b.status == 0, "\(b.stderr)")
        let bench = try ImageFile.read("\(benchOut)/voxterm_slices_fused/B__colin__N5.nii.gz").labelVolume()
        // The workbench's prediction job (whole volume from the support slices).
        let volume = try ImageFile.read(image).volume()
        let truth = try ImageFile.read(aal).labelVolume()
        let request = PredictionRequest(scope: .volume, query: volume,
                                        method: .slices(axis: 2, supports: [(labels: truth, indices: slices)]))
        let workbench = try request.run().prediction.labels
        #expect(cli.geometry.size == volume.geometry.size && bench.geometry.size == volume.geometry.size)
        let differ = { (x: LabelVolume, y: LabelVolume) in zip(x.labels, y.labels).filter { $0 != $1 }.count }
        #expect(differ(cli, bench) == 0, "segment and bench differ in \(differ(cli, bench)) voxels")
        #expect(differ(cli, workbench) == 0, "segment and workbench differ in \(differ(cli, workbench)) voxels")
        // Not an empty agreement: the filled slices carry the atlas' labels.
        let g = volume.geometry
        var filled = 0, agree = 0
        for k in 41...49 where !slices.contains(k) {
            for idx in SliceAccess.indices(g, axis: 2, index: k) where truth.labels[idx] != 0 {
                filled += 1
                if cli.labels[idx] == truth.labels[idx] { agree += 1 }
            }
        }
        #expect(filled > 0 && Double(agree) > 0.6 * Double(filled), "\(agree) of \(filled) labelled voxels right")
    }
}
