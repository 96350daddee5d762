import Testing
import VoxtermModel
import TestSupport
@testable import Workbench

/// `:goto LABEL` and `n`/`N` land on the voxel of the label nearest its centroid. The other tests
/// compare the cursor with `referenceNearestToCentroid`, which restates the same definition; these
/// phantoms have answers worked out by hand, so a wrong definition fails here.
struct CentroidTests {
    /// A hollow 5 × 5 square (its border, label 1) in a 7 × 7 slice: the centroid (3, 3) is not in
    /// the label; four border voxels are 2 voxels away, and the first in index order is (3, 1).
    @Test func aHollowSquareLandsOnItsFirstNearestBorderVoxel() {
        let g = VolumeGeometry(size: [7, 7, 1], spacing: [1, 1, 1], origin: [0, 0, 0])
        var l = LabelVolume(geometry: g)
        for y in 1...5 { for x in 1...5 where x == 1 || x == 5 || y == 1 || y == 5 { l[x, y, 0] = 1 } }
        #expect(nearestVoxelToCentroid(of: 1, in: l) == SIMD3(3, 1, 0))
        #expect(referenceNearestToCentroid(1, l) == SIMD3(3, 1, 0))
    }

    /// An L of three voxels (0,0,0), (2,0,0), (0,0,3) in a 3-D grid: centroid (2/3, 0, 1); squared
    /// distances 13/9, 25/9 and 40/9, so (0,0,0). A label that is absent has no voxel.
    @Test func threeVoxelsLandOnTheNearestAndAnAbsentLabelOnNone() {
        let g = VolumeGeometry(size: [4, 3, 5], spacing: [1, 1, 1], origin: [0, 0, 0])
        var l = LabelVolume(geometry: g)
        l[0, 0, 0] = 7; l[2, 0, 0] = 7; l[0, 0, 3] = 7
        #expect(nearestVoxelToCentroid(of: 7, in: l) == SIMD3(0, 0, 0))
        #expect(nearestVoxelToCentroid(of: 8, in: l) == nil)
    }
}
