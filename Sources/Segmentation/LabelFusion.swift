import Foundation
import VolumeCore

/// How the labels of several mapped supports are combined at each voxel.
public enum FusionMethod: String, Sendable, CaseIterable {
    /// Every support votes with weight 1.
    case majority
    /// Each support's vote is weighted by its local image similarity to the query (patch-based,
    /// `exp(-D_s / min_s D_s)` with `D_s` the local mean squared intensity difference after a
    /// linear intensity match), in the spirit of locally weighted / joint label fusion.
    case weighted
}

/// A support's labels brought to the query: the support and the map from query to support.
public struct MappedSupport: Sendable {
    /// The support image, on its own grid.
    public var image: Volume
    /// The support labels, on the support image's grid.
    public var labels: LabelVolume
    /// On the query grid: query world point x corresponds to support world point x + u(x) (RAS mm).
    public var field: VectorField
    /// A constant factor on this support's votes (e.g. slice-distance weights), default 1.
    public var weight: Float

    public init(image: Volume, labels: LabelVolume, field: VectorField, weight: Float = 1) {
        self.image = image; self.labels = labels; self.field = field; self.weight = weight
    }
}

/// Options of `fuseLabels`.
public struct FusionOptions: Sendable {
    /// Voting rule.
    public var method: FusionMethod
    /// Half-width in voxels of the cubic patch for local similarity (`weighted` only).
    public var patchRadius: Int
    /// When set, labels outside this set are treated as background.
    public var labelSubset: Set<Int32>?

    public init(method: FusionMethod = .weighted, patchRadius: Int = 2, labelSubset: Set<Int32>? = nil) {
        self.method = method; self.patchRadius = patchRadius; self.labelSubset = labelSubset
    }
}

/// Fuses the labels of mapped supports on the query grid.
///
/// Each support votes with soft labels: the 8 support voxels around the mapped point contribute
/// their labels with trilinear weights (so label boundaries move smoothly with the field), times
/// the support's weight (`MappedSupport.weight`, and the local similarity for `.weighted`).
/// The label with the most weight wins; confidence is its share of the total weight.
///
/// `known`, when given, has per support either nil (fully labelled) or a per-voxel mask of its
/// labelled voxels: unlabelled support voxels abstain instead of voting background.
public func fuseLabels(query: Volume, supports: [MappedSupport], options: FusionOptions = FusionOptions(),
                       known: [[Bool]?]? = nil) -> Prediction {
    let g = query.geometry
    let n = g.voxelCount
    let k = supports.count
    guard k > 0 else {
        return Prediction(labels: LabelVolume(geometry: g), confidence: Volume(geometry: g))
    }
    // Query voxel -> support voxel maps (affine part), support labels with the subset applied.
    let maps = supports.map { ($0.labels.geometry.affine.inverse ?? .identity) }
    let labelArrays: [[Int32]] = supports.map { s in
        guard let subset = options.labelSubset else { return s.labels.labels }
        return s.labels.labels.map { subset.contains($0) ? $0 : 0 }
    }
    let localWeights: [[Float]]? = options.method == .weighted
        ? similarityWeights(query: query, supports: supports, radius: options.patchRadius) : nil

    var outLabels = [Int32](repeating: 0, count: n)
    var outConf = [Float](repeating: 0, count: n)
    let size = g.size
    outLabels.withUnsafeMutableBufferPointer { ol in
        outConf.withUnsafeMutableBufferPointer { oc in
            parallelFor(size.z) { kz in
                var candLabel = [Int32](repeating: 0, count: 8 * k)
                var candWeight = [Float](repeating: 0, count: 8 * k)
                for j in 0..<size.y {
                    for i in 0..<size.x {
                        let v = i + size.x * (j + size.y * kz)
                        let x = g.affine.apply(SIMD3(Double(i), Double(j), Double(kz)))
                        var m = 0
                        var total: Float = 0
                        for s in 0..<k {
                            let sup = supports[s]
                            let u = sup.field.vector(at: v)
                            let p = maps[s].apply(x + SIMD3<Double>(Double(u.x), Double(u.y), Double(u.z)))
                            var w0 = sup.weight
                            if let lw = localWeights { w0 *= lw[s][v] }
                            if w0 <= 0 { continue }
                            m = accumulateSoftLabels(labelArrays[s], known?[s], sup.labels.geometry.size, p, w0,
                                                     &candLabel, &candWeight, m, &total)
                        }
                        guard m > 0, total > 0 else { continue }
                        // Candidates are distinct labels already (merged as they were added).
                        var bestLabel: Int32 = 0, bestWeight: Float = -1
                        for a in 0..<m where candWeight[a] > bestWeight || (candWeight[a] == bestWeight && candLabel[a] < bestLabel) {
                            bestWeight = candWeight[a]; bestLabel = candLabel[a]
                        }
                        ol[v] = bestLabel
                        oc[v] = min(1, bestWeight / total)
                    }
                }
            }
        }
    }
    return Prediction(labels: LabelVolume(geometry: g, labels: outLabels), confidence: Volume(geometry: g, voxels: outConf))
}

/// Adds the labels of the 8 voxels around continuous voxel `p` with trilinear weights times `w0`
/// to the candidates (one entry per distinct label: a label already there gets the weight added).
/// Points outside the support grid vote background. Returns the new candidate count.
@inline(__always)
private func accumulateSoftLabels(_ labels: [Int32], _ known: [Bool]?, _ size: SIMD3<Int>, _ p: SIMD3<Double>, _ w0: Float,
                                  _ candLabel: inout [Int32], _ candWeight: inout [Float], _ m0: Int,
                                  _ total: inout Float) -> Int {
    var m = m0
    let fx = p.x.rounded(.down), fy = p.y.rounded(.down), fz = p.z.rounded(.down)
    let x0 = Int(fx), y0 = Int(fy), z0 = Int(fz)
    let tx = Float(p.x - fx), ty = Float(p.y - fy), tz = Float(p.z - fz)
    for c in 0..<8 {
        let dx = c & 1, dy = (c >> 1) & 1, dz = (c >> 2) & 1
        var w = (dx == 1 ? tx : 1 - tx) * (dy == 1 ? ty : 1 - ty)
        // A singleton axis (2-D images) puts all weight on its only voxel.
        if size.z == 1 { if dz == 1 { continue } } else { w *= (dz == 1 ? tz : 1 - tz) }
        if w <= 0 { continue }
        let xi = x0 + dx, yi = y0 + dy, zi = size.z == 1 ? 0 : z0 + dz
        var label: Int32 = 0
        if xi >= 0, yi >= 0, zi >= 0, xi < size.x, yi < size.y, zi < size.z {
            let idx = xi + size.x * (yi + size.y * zi)
            if let known, !known[idx] { continue }
            label = labels[idx]
        } else if known != nil {
            continue
        }
        let wv = w * w0
        total += wv
        var a = 0
        while a < m && candLabel[a] != label { a += 1 }
        if a < m { candWeight[a] += wv } else { candLabel[m] = label; candWeight[m] = wv; m += 1 }
    }
    return m
}

/// Per support, per query voxel: `exp(-D_s / (min_s D_s + eps))`, `D_s` the patch-mean squared
/// difference between the query and the support image warped onto it (linearly intensity-matched).
func similarityWeights(query: Volume, supports: [MappedSupport], radius: Int) -> [[Float]] {
    let g = query.geometry
    let n = g.voxelCount
    let chunk = 1 << 15, chunks = (n + chunk - 1) / chunk
    var dists: [[Float]] = []
    for s in supports {
        let warped = warpImage(s.image, through: s.field)
        let (a, b) = linearIntensityFit(from: warped.voxels, to: query.voxels)
        var sq = [Float](repeating: 0, count: n)
        query.voxels.withUnsafeBufferPointer { q in
            warped.voxels.withUnsafeBufferPointer { w in
                sq.withUnsafeMutableBufferPointer { out in
                    parallelFor(chunks) { c in
                        for v in (c * chunk)..<min(n, (c + 1) * chunk) {
                            let d = q[v] - (a * w[v] + b)
                            out[v] = d * d
                        }
                    }
                }
            }
        }
        dists.append(boxMean(sq, size: g.size, radius: radius))
    }
    // Scale-free adaptive bandwidth: the best support at each voxel sets h. The smallest
    // distance per voxel first (one pass per support), then each support's distances turned into
    // its weights in place: O(k n) and one extra map, not O(k² n) and a copy of all k.
    let scale = max(1e-6, (query.percentiles([0.99], ignoringZeros: true).first ?? 1))
    let eps = 1e-4 * scale * scale
    guard var best = dists.first else { return [] }
    for t in 1..<dists.count {
        dists[t].withUnsafeBufferPointer { d in
            best.withUnsafeMutableBufferPointer { h in
                parallelFor(chunks) { c in
                    for v in (c * chunk)..<min(n, (c + 1) * chunk) { h[v] = min(h[v], d[v]) }
                }
            }
        }
    }
    best.withUnsafeBufferPointer { h in
        for s in dists.indices {
            dists[s].withUnsafeMutableBufferPointer { o in
                parallelFor(chunks) { c in
                    for v in (c * chunk)..<min(n, (c + 1) * chunk) { o[v] = exp(-o[v] / (h[v] + eps)) }
                }
            }
        }
    }
    return dists
}

/// `image` resampled onto the field's grid through `x -> x + u(x)` (trilinear, 0 outside).
public func warpImage(_ image: Volume, through field: VectorField) -> Volume {
    let g = field.geometry
    let toVoxel = image.geometry.affine.inverse ?? .identity
    var out = [Float](repeating: 0, count: g.voxelCount)
    let size = g.size
    image.voxels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            parallelFor(size.z) { k in
                for j in 0..<size.y {
                    for i in 0..<size.x {
                        let v = i + size.x * (j + size.y * k)
                        let u = field.vector(at: v)
                        let x = g.affine.apply(SIMD3(Double(i), Double(j), Double(k)))
                        let p = toVoxel.apply(x + SIMD3<Double>(Double(u.x), Double(u.y), Double(u.z)))
                        dst[v] = Volume.sampleLinear(src, image.geometry.size, p)
                    }
                }
            }
        }
    }
    return Volume(geometry: g, voxels: out)
}

/// Least-squares `a, b` with `a * x + b ≈ y` over voxels where either is non-zero.
func linearIntensityFit(from x: [Float], to y: [Float]) -> (Float, Float) {
    var sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0, m = 0.0
    for v in 0..<x.count where x[v] != 0 || y[v] != 0 {
        let a = Double(x[v]), b = Double(y[v])
        sx += a; sy += b; sxx += a * a; sxy += a * b; m += 1
    }
    guard m > 1 else { return (1, 0) }
    let varx = sxx - sx * sx / m
    guard varx > 1e-12 else { return (1, 0) }
    let a = (sxy - sx * sy / m) / varx
    return (Float(a), Float((sy - a * sx) / m))
}

/// Mean over the cube of half-width `radius` around each voxel (clipped at the border), by
/// separable running sums: O(n) whatever the radius. Singleton axes are left alone.
func boxMean(_ values: [Float], size: SIMD3<Int>, radius: Int) -> [Float] {
    var cur = values
    var counts = [Float](repeating: 1, count: values.count)
    for axis in 0..<3 where size[axis] > 1 && radius > 0 {
        cur = boxSum(cur, size: size, axis: axis, radius: radius)
        counts = boxSum(counts, size: size, axis: axis, radius: radius)
    }
    for v in 0..<cur.count { cur[v] /= counts[v] }
    return cur
}

private func boxSum(_ values: [Float], size: SIMD3<Int>, axis: Int, radius: Int) -> [Float] {
    var out = [Float](repeating: 0, count: values.count)
    let len = size[axis]
    let stride = axis == 0 ? 1 : (axis == 1 ? size.x : size.x * size.y)
    let lines = values.count / len
    values.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            parallelFor(lines) { line in
                // Base index of this line: enumerate the two other axes.
                let base: Int
                switch axis {
                case 0: base = line * size.x
                case 1: base = (line % size.x) + (line / size.x) * size.x * size.y
                default: base = line
                }
                var prefix = [Double](repeating: 0, count: len + 1)
                for t in 0..<len { prefix[t + 1] = prefix[t] + Double(src[base + t * stride]) }
                for t in 0..<len {
                    let lo = max(0, t - radius), hi = min(len, t + radius + 1)
                    dst[base + t * stride] = Float(prefix[hi] - prefix[lo])
                }
            }
        }
    }
    return out
}
