import Foundation
import Testing
import VolumeCore

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
}
