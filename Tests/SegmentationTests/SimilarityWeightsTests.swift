import Foundation
import Testing
import VolumeCore
@testable import Segmentation

/// `similarityWeights` finds the best support per voxel once and turns each support's distances
/// into weights in place; the weights are those of the definition written out directly
/// (`exp(-D_s / (min_t D_t + eps))`, the minimum taken again for every support), bit for bit.
@Suite struct SimilarityWeightsTests {
    @Test func weightsAreTheDefinitionsBitForBit() {
        let (img, lab) = phantom()
        var supports: [MappedSupport] = []
        for t in 0..<4 {
            var im = img
            for i in im.voxels.indices { im.voxels[i] += Float((i * (t + 3)) % 17) * Float(t) }
            var f = VectorField(zeroOn: img.geometry)
            for n in 0..<img.geometry.voxelCount { f.setVector([Float(t) * 0.7, 0, -0.3 * Float(t)], at: n) }
            supports.append(MappedSupport(image: im, labels: lab, field: f))
        }
        let weights = similarityWeights(query: img, supports: supports, radius: 2)
        // The definition, written out.
        let n = img.geometry.voxelCount
        let dists = supports.map { s -> [Float] in
            let warped = warpImage(s.image, through: s.field)
            let (a, b) = linearIntensityFit(from: warped.voxels, to: img.voxels)
            let sq = (0..<n).map { v -> Float in let d = img.voxels[v] - (a * warped.voxels[v] + b); return d * d }
            return boxMean(sq, size: img.geometry.size, radius: 2)
        }
        let scale = max(1e-6, img.percentiles([0.99], ignoringZeros: true).first ?? 1)
        let eps = 1e-4 * scale * scale
        #expect(weights.count == supports.count)
        for s in supports.indices {
            var differ = 0
            for v in 0..<n {
                var h = Float.infinity
                for t in supports.indices { h = min(h, dists[t][v]) }
                if weights[s][v] != exp(-dists[s][v] / (h + eps)) { differ += 1 }
            }
            #expect(differ == 0, "support \(s): \(differ) voxels")
        }
        // Weights lie in 0...1 (0 where a support is far worse than the best, in Float).
        #expect(weights.allSatisfy { $0.allSatisfy { $0 >= 0 && $0 <= 1 } })
    }
}
