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
    /// `percentiles` and the display's `IntensityWindow.percentiles` interpolate its answers.
    /// Exact (the values a sort would give), in O(n): a 65,536-bin histogram (built in parallel)
    /// locates each rank, then only the values of that bin are sorted; inputs of up to 16,384
    /// values are sorted outright.
    public static func percentileNeighbours(_ values: [Float], _ ps: [Double],
                                            ignoringZeros: Bool = false) -> [(low: Float, high: Float, fraction: Double)] {
        @inline(__always) func counts(_ x: Float) -> Bool { x.isFinite && (!ignoringZeros || x != 0) }
        func neighbours(_ n: Int, _ ranked: (Int) -> Float) -> [(low: Float, high: Float, fraction: Double)] {
            ps.map { p in
                let r = min(max(p, 0), 1) * Double(n - 1)
                let r0 = Int(r.rounded(.down)), r1 = min(r0 + 1, n - 1)
                return (ranked(r0), ranked(r1), r - Double(r0))
            }
        }
        // Small inputs (a 2-D slice, a thumbnail): sorting is cheaper than filling and scanning
        // 65,536 bins (which took 40 % of the fuzzer's time on 4,096-voxel images).
        if values.count <= 16_384 {
            let sorted = values.filter(counts).sorted()
            guard !sorted.isEmpty else { return ps.map { _ in (0, 0, 0) } }
            return neighbours(sorted.count) { sorted[$0] }
        }
        let chunks = max(1, min(64, values.count / 65536))
        // Pass 1: min, max and count per chunk of the values that count.
        var lows = [Float](repeating: .infinity, count: chunks), highs = [Float](repeating: -.infinity, count: chunks)
        var tallies = [Int](repeating: 0, count: chunks)
        values.withUnsafeBufferPointer { v in
            lows.withUnsafeMutableBufferPointer { lo in highs.withUnsafeMutableBufferPointer { hi in tallies.withUnsafeMutableBufferPointer { cn in
                parallelFor(chunks) { c in
                    var a = Float.infinity, b = -Float.infinity, n = 0
                    for i in (v.count * c / chunks)..<(v.count * (c + 1) / chunks) where counts(v[i]) {
                        a = Swift.min(a, v[i]); b = Swift.max(b, v[i]); n += 1
                    }
                    lo[c] = a; hi[c] = b; cn[c] = n
                }
            } } }
        }
        let n = tallies.reduce(0, +)
        guard n > 0 else { return ps.map { _ in (0, 0, 0) } }
        let lo = lows.min()!, hi = highs.max()!
        if lo == hi { return ps.map { p in (lo, lo, min(max(p, 0), 1) * Double(n - 1) - (min(max(p, 0), 1) * Double(n - 1)).rounded(.down)) } }
        // Pass 2: histogram per chunk, merged.
        let bins = 65536
        let scale = Double(bins) / (Double(hi) - Double(lo))
        @inline(__always) func bin(_ x: Float) -> Int { Swift.min(bins - 1, Int((Double(x) - Double(lo)) * scale)) }
        var hist = [Int32](repeating: 0, count: bins * chunks)
        values.withUnsafeBufferPointer { v in
            hist.withUnsafeMutableBufferPointer { h in
                parallelFor(chunks) { c in
                    let base = c * bins
                    for i in (v.count * c / chunks)..<(v.count * (c + 1) / chunks) where counts(v[i]) { h[base + bin(v[i])] += 1 }
                }
            }
        }
        var cumulative = [Int](repeating: 0, count: bins + 1) // values in bins before b
        for b in 0..<bins {
            var t = 0
            for c in 0..<chunks { t += Int(hist[c * bins + b]) }
            cumulative[b + 1] = cumulative[b] + t
        }
        // The value of sorted rank r: find its bin, sort that bin's values.
        var cache: [Int: [Float]] = [:]
        return neighbours(n) { r in
            var a = 0, z = bins // first bin with cumulative[b + 1] > r
            while a < z { let m = (a + z) / 2; if cumulative[m + 1] > r { z = m } else { a = m + 1 } }
            if cache[a] == nil {
                // Most often a bin holds one repeated value (e.g. a zero background): skip the sort.
                var bl = Float.infinity, bh = -Float.infinity
                values.withUnsafeBufferPointer { v in for x in v where counts(x) && bin(x) == a { bl = Swift.min(bl, x); bh = Swift.max(bh, x) } }
                cache[a] = bl == bh ? [bl] : values.filter { counts($0) && bin($0) == a }.sorted()
            }
            return cache[a]!.count == 1 ? cache[a]![0] : cache[a]![r - cumulative[a]]
        }
    }
}

