import Synchronization
import Testing
import VolumeCore
#if canImport(Glibc)
import Glibc
#endif

/// `runSharingThreads`: bodies at once on their own threads, each with its share of the caller's
/// thread count; in order on the caller with one thread.
@Suite struct RunSharingThreadsTests {
    @Test func eachBodyGetsItsShareOfTheCallersThreads() {
        let caller = pthread_self()
        let seen = Mutex<[Int: (threads: Int, onCaller: Bool)]>([:])
        withThreadCount(6) {
            runSharingThreads(2) { i in
                let t = effectiveThreadCount, onCaller = pthread_equal(pthread_self(), caller) != 0
                seen.withLock { $0[i] = (t, onCaller) }
            }
        }
        let result = seen.withLock { $0 }
        #expect(result.keys.sorted() == [0, 1])
        #expect(result.values.allSatisfy { $0.threads == 3 && !$0.onCaller })
        // The caller's own count is back afterwards.
        #expect(withThreadCount(6) { runSharingThreads(2) { _ in }; return effectiveThreadCount } == 6)
    }

    @Test func oneThreadRunsTheBodiesInOrderHere() {
        let caller = pthread_self()
        var order: [Int] = [], onCaller = true
        withThreadCount(1) {
            runSharingThreads(3) { i in
                order.append(i)
                onCaller = onCaller && pthread_equal(pthread_self(), caller) != 0
            }
        }
        #expect(order == [0, 1, 2])
        #expect(onCaller)
    }
}
