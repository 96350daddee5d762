#if canImport(Glibc)
import Glibc
#endif

/// Runs `body(0)` ... `body(count - 1)` each on a new plain thread (stack `stackSize` bytes), and
/// returns when all have finished. Every body gets the same stack size: none runs on the caller's
/// stack, which may be smaller (a Swift concurrency thread's is 512 KiB). If a thread cannot be
/// made (out of resources), that body runs on the calling thread after all the others have
/// started, in order.
///
/// Plain threads, not `DispatchQueue.concurrentPerform`: libdispatch runs a concurrentPerform
/// nested in another one on fewer threads, so work that sets its own thread count
/// (`withThreadCount`, `setThreadCountOfThisThread`) would not get the threads it asks for. The
/// one pool of long-lived workers: the batch pool's subjects and the few-shot predictor's supports.
public func runOnThreads(_ count: Int, stackSize: Int = 16 << 20, _ body: (Int) -> Void) {
    withoutActuallyEscaping(body) { body in
        var threads: [pthread_t] = []
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        var notStarted: [Int] = []
        for t in 0..<max(1, count) {
            // The thread releases the box (and with it `body`) before it ends, and every thread is
            // joined before `withoutActuallyEscaping` ends (it traps if something still holds `body`).
            let box = Unmanaged.passRetained(ThreadBody { body(t) }).toOpaque()
            var thread = pthread_t()
            let started = pthread_create(&thread, &attributes, { raw in
                Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
                return nil
            }, box)
            if started == 0 {
                threads.append(thread)
            } else {
                Unmanaged<ThreadBody>.fromOpaque(box).release()
                notStarted.append(t)
            }
        }
        // No thread for these (out of resources): they run here, in order, only after every other
        // body has started (a body may wait for the others, e.g. a progress loop).
        for t in notStarted { body(t) }
        for thread in threads { pthread_join(thread, nil) }
    }
}

/// Carries a closure the compiler cannot prove `Sendable` to another thread; `runOnThreads`'s
/// caller makes sure it is used safely (disjoint writes or locks), and `runOnThreads` joins the thread.
private final class ThreadBody: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Runs `body(0)` ... `body(count - 1)` at once, each on its own thread (`runOnThreads`) with an
/// equal share of this thread's `effectiveThreadCount` (at least 1) for its own parallel loops, e.g.
/// two images read or rescaled side by side: the shares (`threads / count`, at least 1) add up to at
/// most the caller's count (3 threads and 2 bodies give 1 + 1), so nested
/// loops neither oversubscribe the machine nor fall back to fewer threads (libdispatch runs a
/// `concurrentPerform` nested in another on fewer threads). With one thread (or one body) the
/// bodies run here, in order.
public func runSharingThreads(_ count: Int, _ body: (Int) -> Void) {
    let threads = effectiveThreadCount
    if threads <= 1 || count <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    let share = max(1, threads / count)
    runOnThreads(count) { i in withThreadCount(share) { body(i) } }
}
