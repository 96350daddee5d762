/// A scalar intensity volume: float32 voxels on a `VolumeGeometry`.
public struct Volume: Sendable, Equatable {
    /// The grid the voxels live on.
    public var geometry: VolumeGeometry
    /// Intensities in linear index order (x fastest); `count == geometry.voxelCount`.
    public var voxels: [Float]

    public init(geometry: VolumeGeometry, voxels: [Float]) {
        precondition(voxels.count == geometry.voxelCount, "voxel count does not match the geometry")
        self.geometry = geometry
        self.voxels = voxels
    }

    /// A volume filled with one value.
    public init(geometry: VolumeGeometry, repeating value: Float = 0) {
        self.init(geometry: geometry, voxels: [Float](repeating: value, count: geometry.voxelCount))
    }

    /// Number of voxels along i, j, k.
    @inlinable public var size: SIMD3<Int> { geometry.size }

    /// Voxel value at integer indices (no bounds check beyond the array's).
    @inlinable public subscript(i: Int, j: Int, k: Int) -> Float {
        get { voxels[geometry.index(i, j, k)] }
        set { voxels[geometry.index(i, j, k)] = newValue }
    }

    /// Minimum, maximum and mean (Double accumulation), ignoring NaN.
    public var statistics: IntensityStatistics { IntensityStatistics(voxels) }
}

/// Summary statistics of a set of intensities.
public struct IntensityStatistics: Sendable, Equatable {
    public var minimum: Double
    public var maximum: Double
    public var mean: Double
    /// Number of finite values the statistics were computed over.
    public var count: Int

    public init(minimum: Double, maximum: Double, mean: Double, count: Int) {
        self.minimum = minimum; self.maximum = maximum; self.mean = mean; self.count = count
    }

    /// Computes min, max and mean over the finite values (Double accumulation).
    public init(_ values: [Float]) {
        var lo = Float.infinity, hi = -Float.infinity
        var sum = 0.0, n = 0
        values.withUnsafeBufferPointer { buf in
            for v in buf where v.isFinite {
                lo = Swift.min(lo, v); hi = Swift.max(hi, v)
                sum += Double(v); n += 1
            }
        }
        self.init(minimum: n > 0 ? Double(lo) : .nan, maximum: n > 0 ? Double(hi) : .nan,
                  mean: n > 0 ? sum / Double(n) : .nan, count: n)
    }
}

extension Volume {
    /// The intensity at fraction `p` (0...1) of the sorted finite values, interpolated linearly
    /// between the two nearest ranks. The ranks are found by selection (O(n) each) rather than by
    /// sorting all values; the result is the same as reading them from the sorted values.
    public func percentiles(_ ps: [Double], ignoringZeros: Bool = false) -> [Float] {
        var vals = voxels.filter { $0.isFinite && (!ignoringZeros || $0 != 0) }
        guard !vals.isEmpty else { return ps.map { _ in 0 } }
        let count = vals.count
        let ranks = ps.map { p -> (Int, Int, Float) in
            let r = min(max(p, 0), 1) * Double(count - 1)
            let lo = Int(r.rounded(.down)), hi = min(lo + 1, count - 1)
            return (lo, hi, Float(r - Double(lo)))
        }
        var value: [Int: Float] = [:]
        vals.withUnsafeMutableBufferPointer { b in
            for rank in Set(ranks.flatMap { [$0.0, $0.1] }).sorted() { value[rank] = selectRank(b, rank) }
        }
        return ranks.map { lo, hi, f in value[lo]! * (1 - f) + value[hi]! * f }
    }
}

/// The value that would sit at index `rank` if `b` were sorted ascending (no NaNs). Reorders `b`
/// (quickselect with three-way partitioning, so runs of equal values cost no extra passes).
func selectRank(_ b: UnsafeMutableBufferPointer<Float>, _ rank: Int) -> Float {
    var lo = 0, hi = b.count - 1
    var rounds = 0
    while lo < hi {
        rounds += 1
        if rounds > 64 {
            // Degenerate pivots: finish by sorting what is left.
            var rest = UnsafeMutableBufferPointer(rebasing: b[lo...hi])
            rest.sort()
            return b[rank]
        }
        // Median of three as the pivot.
        let a = b[lo], c = b[hi], m = b[lo + (hi - lo) / 2]
        let pivot = max(min(a, m), min(max(a, m), c))
        // Three-way partition of [lo, hi]: < pivot | == pivot | > pivot.
        var lt = lo, i = lo, gt = hi
        while i <= gt {
            let v = b[i]
            if v < pivot { b.swapAt(lt, i); lt += 1; i += 1 }
            else if v > pivot { b.swapAt(i, gt); gt -= 1 }
            else { i += 1 }
        }
        if rank < lt { hi = lt - 1 } else if rank > gt { lo = gt + 1 } else { return pivot }
    }
    return b[rank]
}
