import Foundation
import Testing
import VolumeCore
@testable import Segmentation

/// `similarityWeights` against an independent reference written as plain loops in Double (no
/// production helper: no `warpImage`, `linearIntensityFit`, `boxMean` or `percentiles`):
/// `w_s(v) = exp(-D_s(v) / (min_t D_t(v) + eps))`, `D_s` the mean over the 5 x 5 x 5 cube around v
/// (clipped at the border) of the squared difference between the query and support s warped onto
/// it and intensity-matched by least squares.
@Suite struct SimilarityWeightsTests {
    @Test func weightsMatchAPlainDoubleReference() {
        let (img, lab) = phantom()
        let size = img.geometry.size
        let nx = size.x, ny = size.y, nz = size.z, n = nx * ny * nz
        let radius = 2
        // Support t: the phantom plus a pattern, displaced by t whole voxels along +i and -k (2 mm
        // voxels), so the warp is an exact voxel lookup: support voxel (i + t, j, k - t), 0 outside.
        var supports: [MappedSupport] = []
        var supportVoxels: [[Float]] = []
        for t in 0..<4 {
            var im = img
            for i in im.voxels.indices { im.voxels[i] += Float((i * (t + 3)) % 17) * Float(t) }
            var f = VectorField(zeroOn: img.geometry)
            for v in 0..<n { f.setVector([Float(2 * t), 0, -Float(2 * t)], at: v) }
            supports.append(MappedSupport(image: im, labels: lab, field: f))
            supportVoxels.append(im.voxels)
        }
        let weights = similarityWeights(query: img, supports: supports, radius: radius)
        let q = img.voxels.map(Double.init)
        var dists: [[Double]] = []
        for t in 0..<4 {
            var warped = [Double](repeating: 0, count: n)
            for k in 0..<nz { for j in 0..<ny { for i in 0..<nx {
                let si = i + t, sk = k - t
                if si < nx && sk >= 0 { warped[i + nx * (j + ny * k)] = Double(supportVoxels[t][si + nx * (j + ny * sk)]) }
            } } }
            // Least squares a * warped + b ≈ query over voxels where either is non-zero.
            var m = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0
            for v in 0..<n where warped[v] != 0 || q[v] != 0 {
                m += 1; sx += warped[v]; sy += q[v]; sxx += warped[v] * warped[v]; sxy += warped[v] * q[v]
            }
            let a = (m * sxy - sx * sy) / (m * sxx - sx * sx), b = (sy - a * sx) / m
            let sq = (0..<n).map { v -> Double in let d = q[v] - (a * warped[v] + b); return d * d }
            var d = [Double](repeating: 0, count: n)
            for k in 0..<nz { for j in 0..<ny { for i in 0..<nx {
                var sum = 0.0, count = 0.0
                for kk in max(0, k - radius)...min(nz - 1, k + radius) {
                    for jj in max(0, j - radius)...min(ny - 1, j + radius) {
                        for ii in max(0, i - radius)...min(nx - 1, i + radius) { sum += sq[ii + nx * (jj + ny * kk)]; count += 1 }
                    }
                }
                d[i + nx * (j + ny * k)] = sum / count
            } } }
            dists.append(d)
        }
        // eps = 1e-4 x (99th percentile of the query's non-zero voxels)²: those are 50 (the corner
        // block, 500 voxels) and 100 (the ball, 515 voxels), so the percentile is 100 and eps is 1.
        let eps = 1.0
        #expect(weights.count == 4)
        var spread = 0
        for s in 0..<4 {
            var worst = 0.0
            for v in 0..<n {
                let h = dists.map { $0[v] }.min()!
                let expected = exp(-dists[s][v] / (h + eps))
                if expected < 0.5 { spread += 1 }
                worst = max(worst, abs(Double(weights[s][v]) - expected))
            }
            #expect(worst < 1e-4, "support \(s): largest difference \(worst)")
        }
        // The reference is not trivial: many voxels have weights well below 1.
        #expect(spread > n / 10, "\(spread)")
    }
}
