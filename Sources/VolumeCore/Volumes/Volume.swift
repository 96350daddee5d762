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
    /// locates each rank, then one parallel pass finds the bins asked for that hold one repeated
    /// value, and only the others' values are gathered and sorted; inputs of up to 16,384 values
    /// are sorted outright.
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
        // 16 chunks balance the threads; each has its own 65,536-bin histogram (4 MB in all).
        let chunks = max(1, min(16, values.count / 65536))
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
        // Bin totals chunk by chunk (sequential reads), then the running count.
        var cumulative = [Int](repeating: 0, count: bins + 1) // values in bins before b
        hist.withUnsafeBufferPointer { h in
            cumulative.withUnsafeMutableBufferPointer { cu in
                for c in 0..<chunks { let base = c * bins; for b in 0..<bins { cu[b + 1] &+= Int(h[base + b]) } }
                for b in 0..<bins { cu[b + 1] &+= cu[b] }
            }
        }
        // The bin of each rank that is asked for.
        func binOf(_ r: Int) -> Int {
            var a = 0, z = bins // first bin with cumulative[b + 1] > r
            while a < z { let m = (a + z) / 2; if cumulative[m + 1] > r { z = m } else { a = m + 1 } }
            return a
        }
        let ranks = ps.flatMap { p -> [Int] in
            let r = min(max(p, 0), 1) * Double(n - 1)
            let r0 = Int(r.rounded(.down))
            return [r0, min(r0 + 1, n - 1)]
        }
        let needed = Array(Set(ranks.map(binOf))).sorted()
        var slot = [Int32](repeating: -1, count: bins)
        for (i, b) in needed.enumerated() { slot[b] = Int32(i) }
        // One parallel pass: each needed bin's smallest and largest value. Most often a bin holds
        // one repeated value (e.g. a zero background), and then nothing needs sorting.
        let nb = needed.count
        var binLow = [Float](repeating: .infinity, count: nb * chunks), binHigh = [Float](repeating: -.infinity, count: nb * chunks)
        values.withUnsafeBufferPointer { v in slot.withUnsafeBufferPointer { sl in
            binLow.withUnsafeMutableBufferPointer { bl in binHigh.withUnsafeMutableBufferPointer { bh in
                parallelFor(chunks) { c in
                    for i in (v.count * c / chunks)..<(v.count * (c + 1) / chunks) where counts(v[i]) {
                        let k = Int(sl[bin(v[i])])
                        if k >= 0 {
                            bl[c * nb + k] = Swift.min(bl[c * nb + k], v[i]); bh[c * nb + k] = Swift.max(bh[c * nb + k], v[i])
                        }
                    }
                }
            } }
        } }
        var sortedBins = [[Float]](repeating: [], count: nb)
        var mixed = [Bool](repeating: false, count: nb)
        for k in 0..<nb {
            var a = Float.infinity, z = -Float.infinity
            for c in 0..<chunks { a = Swift.min(a, binLow[c * nb + k]); z = Swift.max(z, binHigh[c * nb + k]) }
            if a == z { sortedBins[k] = [a] } else { mixed[k] = true }
        }
        // A second pass gathers the values of the bins with several values (chunk by chunk), sorted.
        if mixed.contains(true) {
            var gathered = [[[Float]]](repeating: [], count: chunks)
            values.withUnsafeBufferPointer { v in slot.withUnsafeBufferPointer { sl in mixed.withUnsafeBufferPointer { mx in
                gathered.withUnsafeMutableBufferPointer { out in
                    parallelFor(chunks) { c in
                        var mine = [[Float]](repeating: [], count: nb)
                        for i in (v.count * c / chunks)..<(v.count * (c + 1) / chunks) where counts(v[i]) {
                            let k = Int(sl[bin(v[i])])
                            if k >= 0 && mx[k] { mine[k].append(v[i]) }
                        }
                        out[c] = mine
                    }
                }
            } } }
            for k in 0..<nb where mixed[k] { sortedBins[k] = gathered.flatMap { $0[k] }.sorted() }
        }
        return neighbours(n) { r in
            let a = binOf(r), k = Int(slot[a])
            return sortedBins[k].count == 1 ? sortedBins[k][0] : sortedBins[k][r - cumulative[a]]
        }
    }
}

