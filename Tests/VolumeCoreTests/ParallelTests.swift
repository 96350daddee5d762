import Foundation
import Testing
import VolumeCore
import TestSupport

@Suite("Parallel loops")
struct ParallelTests {
    @Test func withThreadCountOverridesOnlyTheCallingThread() {
        let global = voxtermThreadCount
        #expect(effectiveThreadCount == global)
        withThreadCount(1) {
            #expect(effectiveThreadCount == 1)
            withThreadCount(3) { #expect(effectiveThreadCount == 3) }
            #expect(effectiveThreadCount == 1)
            // Another thread still sees the global count.
            final class Box: @unchecked Sendable { var value = 0 }
            let other = Box(), done = DispatchSemaphore(value: 0)
            Thread { other.value = effectiveThreadCount; done.signal() }.start()
            done.wait()
            #expect(other.value == global)
            // Results do not depend on the count.
            var a = [Int](repeating: 0, count: 1000)
            a.withUnsafeMutableBufferPointer { p in parallelFor(1000) { p[$0] = $0 * $0 } }
            #expect(a == (0..<1000).map { $0 * $0 })
        }
        #expect(effectiveThreadCount == global)
        #expect(withThreadCount(0) { effectiveThreadCount } == 1)
    }

    @Test func setThreadCountOfThisThreadLastsUntilTheEnclosingScopeEnds() {
        let global = voxtermThreadCount
        withThreadCount(1) {
            setThreadCountOfThisThread(2)
            #expect(effectiveThreadCount == 2)
            setThreadCountOfThisThread(0)
            #expect(effectiveThreadCount == 1)
        }
        #expect(effectiveThreadCount == global)
    }

    /// Percentiles (histogram, then the bin sorted) equal those read from the sorted values (numpy's linear rule),
    /// with runs of equal values, zeros ignored or not.
    @Test func percentilesMatchSorting() {
        var rng = SystemRandomNumberGenerator()
        for trial in 0..<20 {
            let n = [1, 2, 7, 1000, 20_000][trial % 5]
            let g = VolumeGeometry(size: [n, 1, 1], spacing: [1, 1, 1], origin: [0, 0, 0])
            let voxels = (0..<n).map { _ in trial % 2 == 0 ? Float(Int.random(in: 0...5, using: &rng)) : Float.random(in: -3...9, using: &rng) }
            let v = Volume(geometry: g, voxels: voxels)
            let ps = [0, 0.005, 0.5, 0.99, 0.995, 1]
            for ignoring in [false, true] {
                let vals = voxels.filter { !ignoring || $0 != 0 }.sorted()
                let expected: [Float] = vals.isEmpty ? ps.map { _ in 0 } : ps.map { p in
                    let r = p * Double(vals.count - 1)
                    let lo = Int(r.rounded(.down)), hi = min(lo + 1, vals.count - 1)
                    let f = Float(r - Double(lo))
                    return vals[lo] * (1 - f) + vals[hi] * f
                }
                #expect(v.percentiles(ps, ignoringZeros: ignoring) == expected)
            }
        }
    }
    /// Large inputs (several histogram chunks): a zero background with a brain-like foreground,
    /// NaN voxels, a narrow cluster that puts many distinct values in one bin, ranks at the
    /// extremes; every answer equals the sorted values'.
    @Test func largePercentilesMatchSorting() {
        var rng = SplitMix64(seed: 7)
        for trial in 0..<4 {
            let n = [300_000, 1_048_577, 70_000, 200_003][trial]
            var voxels = [Float](repeating: 0, count: n)
            for i in 0..<n where rng.nextDouble() < 0.45 {
                voxels[i] = trial == 2 ? Float(1 + rng.nextDouble() * 1e-6) : Float(rng.nextDouble() * 900 + 50)
            }
            if trial == 3 { for i in stride(from: 0, to: n, by: 97) { voxels[i] = .nan }; voxels[5] = 1e9 }
            let g = VolumeGeometry(size: [n, 1, 1], spacing: [1, 1, 1], origin: [0, 0, 0])
            let v = Volume(geometry: g, voxels: voxels)
            let ps = [0, 0.005, 0.25, 0.5, 0.9, 0.995, 0.999999, 1]
            for ignoring in [false, true] {
                let vals = voxels.filter { $0.isFinite && (!ignoring || $0 != 0) }.sorted()
                let expected: [Float] = ps.map { p in
                    let r = p * Double(vals.count - 1)
                    let lo = Int(r.rounded(.down)), hi = min(lo + 1, vals.count - 1)
                    let f = Float(r - Double(lo))
                    return vals[lo] * (1 - f) + vals[hi] * f
                }
                #expect(v.percentiles(ps, ignoringZeros: ignoring) == expected, "trial \(trial), ignoring zeros \(ignoring)")
            }
        }
    }
}
