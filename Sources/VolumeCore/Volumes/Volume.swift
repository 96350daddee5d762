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
    /// between the two nearest ranks (in Float; `percentileNeighbours`).
    public func percentiles(_ ps: [Double], ignoringZeros: Bool = false) -> [Float] {
        Volume.percentileNeighbours(voxels, ps, ignoringZeros: ignoringZeros).map { n in
            n.low * (1 - Float(n.fraction)) + n.high * Float(n.fraction)
        }
    }

    /// For each fraction `p` (0...1) of the sorted finite values of `values` (non-zero ones only
    /// with `ignoringZeros`): the values of the two ranks around `p · (count − 1)` and the
    /// fraction between them; (0, 0, 0) when no value counts. The one percentile implementation:
    /// `percentiles` and the display's `IntensityWindow.percentiles` interpolate its answers. The
    /// ranks are found by selection (O(n) each) rather than by sorting all values; the result is
    /// the same as reading them from the sorted values.
    public static func percentileNeighbours(_ values: [Float], _ ps: [Double],
                                            ignoringZeros: Bool = false) -> [(low: Float, high: Float, fraction: Double)] {
        var vals = values.filter { $0.isFinite && (!ignoringZeros || $0 != 0) }
        guard !vals.isEmpty else { return ps.map { _ in (0, 0, 0) } }
        let ranks = ps.map { p -> (Int, Int, Double) in
            let r = min(max(p, 0), 1) * Double(vals.count - 1)
            let lo = Int(r.rounded(.down))
            return (lo, min(lo + 1, vals.count - 1), r - Double(lo))
        }
        // The values of these ranks by selection (as after a sort, without sorting everything).
        var at: [Int: Float] = [:]
        vals.withUnsafeMutableBufferPointer { a in
            var from = 0
            for k in Set(ranks.flatMap { [$0.0, $0.1] }).sorted() {
                Volume.select(a, rank: k, from: from)
                at[k] = a[k]
                from = k + 1
            }
        }
        return ranks.map { lo, hi, f in (at[lo]!, at[hi]!, f) }
    }

    /// Rearranges `a[from...]` so that `a[rank]` holds the value of that rank in sorted order,
    /// with nothing larger before it and nothing smaller after it (quickselect with a three-way
    /// partition, so long runs of equal values, e.g. a background of zeros, stay linear).
    static func select(_ a: UnsafeMutableBufferPointer<Float>, rank k: Int, from: Int) {
        var lo = from, hi = a.count
        while hi - lo > 16 {
            let m = lo + (hi - lo) / 2
            let x = a[lo], y = a[m], z = a[hi - 1]
            let pivot = Swift.max(Swift.min(x, y), Swift.min(Swift.max(x, y), z))
            var lt = lo, i = lo, gt = hi
            while i < gt {
                let v = a[i]
                if v < pivot { a.swapAt(lt, i); lt += 1; i += 1 } else if v > pivot { gt -= 1; a.swapAt(i, gt) } else { i += 1 }
            }
            if k < lt { hi = lt } else if k >= gt { lo = gt } else { return }
        }
        var rest = UnsafeMutableBufferPointer(rebasing: a[lo..<hi])
        rest.sort()
    }
}

