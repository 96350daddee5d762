import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Number of worker threads hot loops use; defaults to the machine's active cores.
/// Set once at start-up (e.g. from a `--threads` option); read-only afterwards.
nonisolated(unsafe) public var voxtermThreadCount: Int = ProcessInfoCores.active

enum ProcessInfoCores {
    static var active: Int {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 2
        #endif
    }
}

#if canImport(Glibc)
/// Thread-specific override of `voxtermThreadCount` (see `withThreadCount`).
@usableFromInline let threadCountKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()
#endif

/// Threads `parallelFor` uses when called from this thread: the `withThreadCount` override, else
/// `voxtermThreadCount`.
@inlinable
public var effectiveThreadCount: Int {
    #if canImport(Glibc)
    if let p = pthread_getspecific(threadCountKey) { return Int(bitPattern: p) }
    #endif
    return voxtermThreadCount
}

/// Runs `body` with parallel loops started from this thread using `count` threads (at least 1),
/// e.g. so a background job leaves a core to the UI thread. Loops started from other threads are
/// unaffected.
public func withThreadCount<T>(_ count: Int, _ body: () throws -> T) rethrows -> T {
    #if canImport(Glibc)
    let old = pthread_getspecific(threadCountKey)
    pthread_setspecific(threadCountKey, UnsafeRawPointer(bitPattern: max(1, count)))
    defer { pthread_setspecific(threadCountKey, old) }
    #endif
    return try body()
}

/// Changes the thread count of parallel loops started from this thread from now until the
/// enclosing `withThreadCount` ends (which restores what was there before). Call it only inside a
/// `withThreadCount` body, e.g. to give a long job more threads once a job beside it has finished.
public func setThreadCountOfThisThread(_ count: Int) {
    #if canImport(Glibc)
    pthread_setspecific(threadCountKey, UnsafeRawPointer(bitPattern: max(1, count)))
    #endif
}

/// Runs `body(i)` for `i` in `0..<count` on `effectiveThreadCount` threads, which take contiguous
/// blocks (8 per thread) from a shared counter, so a thread slowed by other processes on the
/// machine does not hold the others up.
///
/// `body` must only write disjoint memory for different `i`.
@inlinable
public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    let threads = min(effectiveThreadCount, count)
    if threads <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    let blocks = min(count, threads * 8)
    let next = Atomic<Int>(0)
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                let b = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if b >= blocks { break }
                let lo = count * b / blocks, hi = count * (b + 1) / blocks
                for i in lo..<hi { body(i) }
            }
        }
    }
}
