/// Measurements of one label of a label map: size, volume, intensity and centroid.
///
/// Conventions: the voxel volume is `|det|` of the affine's 3x3 part (mm³; equals the product of
/// the voxel sizes for unsheared grids); intensities are the image's scaled values (`scl_slope`
/// applied), non-finite ones left out of the mean and standard deviation; the standard deviation
/// is the population one (divisor n, numpy's default `ddof=0`); centroids are the mean voxel index
/// (0-based, continuous) and its world position (mm, RAS+).
public struct LabelStatistics: Equatable, Sendable {
    /// The label value.
    public var label: Int32
    /// Number of voxels with this label.
    public var voxelCount: Int
    /// Volume in mm³ (`voxelCount` × the voxel volume).
    public var volumeMM3: Double
    /// Volume in millilitres (cm³): `volumeMM3 / 1000`.
    public var volumeML: Double { volumeMM3 / 1000 }
    /// Mean intensity over the label's voxels with a finite value (NaN without an image or values).
    public var meanIntensity: Double
    /// Population standard deviation of those intensities (NaN without an image or values).
    public var sdIntensity: Double
    /// Number of voxels whose intensity entered the mean (finite values only).
    public var intensityCount: Int
    /// Mean voxel index (i, j, k), 0-based.
    public var centroidVoxel: SIMD3<Double>
    /// World position (mm, RAS+) of `centroidVoxel`.
    public var centroidMM: SIMD3<Double>

    public init(label: Int32, voxelCount: Int, volumeMM3: Double, meanIntensity: Double, sdIntensity: Double,
                intensityCount: Int, centroidVoxel: SIMD3<Double>, centroidMM: SIMD3<Double>) {
        self.label = label; self.voxelCount = voxelCount; self.volumeMM3 = volumeMM3
        self.meanIntensity = meanIntensity; self.sdIntensity = sdIntensity; self.intensityCount = intensityCount
        self.centroidVoxel = centroidVoxel; self.centroidMM = centroidMM
    }
}

/// Which voxels statistics are taken over.
public enum StatisticsRegion: Equatable, Sendable {
    /// The whole volume.
    case volume
    /// The voxels whose index along voxel axis `axis` (0, 1, 2) equals `index` (0-based).
    case slice(axis: Int, index: Int)
}

/// Volume of one voxel in mm³: `|det|` of the affine's linear part.
public func voxelVolumeMM3(_ geometry: VolumeGeometry) -> Double {
    let a = geometry.affine
    let c0 = a.column(0), c1 = a.column(1), c2 = a.column(2)
    let det = c0.x * (c1.y * c2.z - c1.z * c2.y) - c1.x * (c0.y * c2.z - c0.z * c2.y) + c2.x * (c0.y * c1.z - c0.z * c1.y)
    return abs(det)
}

/// Per-label statistics (non-zero labels present in `region`, ascending) of `labels`, with
/// intensities from `image` when given (it must be on the same grid: same voxel count).
///
/// Two passes over the region's voxels (sums, then squared deviations from the mean, both in
/// Double), so the standard deviation has no cancellation error. Labels are counted in a dense
/// table when they span at most 1 M values, else in a dictionary.
public func labelStatistics(labels: LabelVolume, image: Volume? = nil,
                            region: StatisticsRegion = .volume) -> [LabelStatistics] {
    let g = labels.geometry
    if let image { precondition(image.voxels.count == labels.labels.count, "image and labels differ in size") }
    // The region as ranges of voxel indices.
    var lo = SIMD3<Int>(0, 0, 0), hi = g.size
    if case .slice(let axis, let index) = region {
        guard (0..<3).contains(axis), index >= 0, index < g.size[axis] else { return [] }
        lo[axis] = index; hi[axis] = index + 1
    }
    struct Acc { var n = 0; var sum = SIMD3<Double>(0, 0, 0); var vn = 0; var vsum = 0.0; var dev = 0.0 }
    var acc: [Int32: Acc] = [:]
    labels.labels.withUnsafeBufferPointer { lab in
        let values = image?.voxels
        values.withOptionalBuffer { val in
            forEachLabelRun(lab, size: g.size, from: lo, to: hi) { l, row, i, e, j, k in
                var a = acc[l] ?? Acc()
                let run = e - i
                a.n += run
                a.sum += SIMD3(Double(i + e - 1) * Double(run) / 2, Double(j * run), Double(k * run))
                if let val {
                    for n in (row + i)..<(row + e) where val[n].isFinite { a.vn += 1; a.vsum += Double(val[n]) }
                }
                acc[l] = a
            }
            guard let val else { return }
            let means = acc.mapValues { $0.vn > 0 ? $0.vsum / Double($0.vn) : 0 }
            var dev: [Int32: Double] = [:]
            forEachLabelRun(lab, size: g.size, from: lo, to: hi) { l, row, i, e, _, _ in
                let m = means[l]!
                var s = 0.0
                for n in (row + i)..<(row + e) where val[n].isFinite { let d = Double(val[n]) - m; s += d * d }
                dev[l, default: 0] += s
            }
            for (l, d) in dev { acc[l]!.dev = d }
        }
    }
    let vv = voxelVolumeMM3(g)
    return acc.keys.sorted().map { l in
        let a = acc[l]!
        let c = a.sum / Double(a.n)
        let hasValues = image != nil && a.vn > 0
        return LabelStatistics(label: l, voxelCount: a.n, volumeMM3: Double(a.n) * vv,
                               meanIntensity: hasValues ? a.vsum / Double(a.vn) : .nan,
                               sdIntensity: hasValues ? (a.dev / Double(a.vn)).squareRoot() : .nan,
                               intensityCount: a.vn, centroidVoxel: c, centroidMM: g.world(ofVoxel: c))
    }
}

/// Calls `body(label, row, i, e, j, k)` for every run of one non-zero label along x in the box
/// `lo..<hi` (voxel indices) of a label map of `size` held in `lab` (x fastest), row by row
/// (k, then j, then i ascending): the label, the linear index of voxel (0, j, k), the run's first
/// and past-the-end x. Label maps come in runs, so per-label sums can take a run at a time.
@inline(__always)
func forEachLabelRun(_ lab: UnsafeBufferPointer<Int32>, size: SIMD3<Int>, from lo: SIMD3<Int>, to hi: SIMD3<Int>,
                     _ body: (Int32, Int, Int, Int, Int, Int) -> Void) {
    let nx = size.x, nxy = size.x * size.y
    for k in lo.z..<hi.z {
        for j in lo.y..<hi.y {
            let row = j * nx + k * nxy
            var i = lo.x
            while i < hi.x {
                let l = lab[row + i]
                if l == 0 { i += 1; continue }
                var e = i + 1
                while e < hi.x && lab[row + e] == l { e += 1 }
                body(l, row, i, e, j, k)
                i = e
            }
        }
    }
}

extension Optional where Wrapped == [Float] {
    /// Calls `body` with the array's buffer, or nil.
    fileprivate func withOptionalBuffer<R>(_ body: (UnsafeBufferPointer<Float>?) -> R) -> R {
        switch self {
        case .some(let a): a.withUnsafeBufferPointer { body($0) }
        case .none: body(nil)
        }
    }
}
