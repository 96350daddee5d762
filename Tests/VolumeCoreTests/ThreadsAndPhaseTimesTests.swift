import Foundation
import Synchronization
import Testing
import VolumeCore
#if canImport(Glibc)
import Glibc
#endif

/// glibc's `pthread_getattr_np` (a GNU extension the Glibc module does not export without
/// `_GNU_SOURCE`): the attributes, stack size included, of a running thread.
@_silgen_name("pthread_getattr_np")
private func threadAttributes(_ thread: pthread_t, _ attributes: UnsafeMutablePointer<pthread_attr_t>) -> Int32

@Suite("runOnThreads and PhaseTimes")
struct ThreadsAndPhaseTimesTests {
    /// Every body runs on its own new thread with the stack size asked for; none runs on the
    /// caller's thread (whose stack may be smaller).
    @Test func everyBodyRunsOnANewThreadWithTheStackAskedFor() {
        let caller = pthread_self()
        let seen = Mutex<[Int: (onCaller: Bool, stack: Int)]>([:])
        let stackSize = 24 << 20
        runOnThreads(3, stackSize: stackSize) { t in
            var attributes = pthread_attr_t()
            var size = 0
            if threadAttributes(pthread_self(), &attributes) == 0 {
                pthread_attr_getstacksize(&attributes, &size)
                pthread_attr_destroy(&attributes)
            }
            let onCaller = pthread_equal(pthread_self(), caller) != 0
            seen.withLock { $0[t] = (onCaller, size) }
        }
        let result = seen.withLock { $0 }
        #expect(result.keys.sorted() == [0, 1, 2])
        for (_, v) in result {
            #expect(!v.onCaller)
            #expect(v.stack >= stackSize)
        }
    }

    /// Laps and notes from several threads at once are all kept (the recorder is locked).
    @Test func phaseTimesKeepsEveryRowFromManyThreads() {
        let times = PhaseTimes()
        runOnThreads(4) { t in
            for i in 0..<500 {
                if i % 2 == 0 { times.lap("t\(t) lap \(i)") } else { times.note("t\(t) note \(i)", wall: 0) }
            }
        }
        let phases = times.phases
        #expect(phases.count == 4 * 500)
        #expect(Set(phases.map(\.name)).count == 4 * 500)
        // Laps tile the time: their wall seconds add up to no more than the total.
        let lapped = phases.filter { $0.name.contains(" lap ") }.reduce(0) { $0 + $1.wall }
        #expect(lapped <= times.total.wall + 1e-9)
        #expect(phases.allSatisfy { $0.wall >= 0 })
    }
}
