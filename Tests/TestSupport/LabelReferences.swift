import VoxtermModel

/// The voxel of `label` nearest its centroid (mean voxel index), first in index order on ties.
/// It restates the workbench's `nearestVoxelToCentroid` (same definition, same loops), so tests
/// that compare the cursor with it check the wiring of `:goto LABEL` and `n`/`N`, not the
/// definition; `CentroidTests` checks both against answers worked out by hand.
public func referenceNearestToCentroid(_ label: Int32, _ labels: LabelVolume) -> SIMD3<Int>? {
    let g = labels.geometry
    var sum = SIMD3<Double>(0, 0, 0), n = 0
    for i in 0..<labels.labels.count where labels.labels[i] == label { sum += SIMD3<Double>(g.voxel(ofIndex: i)); n += 1 }
    guard n > 0 else { return nil }
    let c = sum / Double(n)
    var best: SIMD3<Int>?, bestD = Double.infinity
    for i in 0..<labels.labels.count where labels.labels[i] == label {
        let v = g.voxel(ofIndex: i)
        let d = SIMD3<Double>(v) - c
        if (d * d).sum() < bestD { bestD = (d * d).sum(); best = v }
    }
    return best
}
