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

/// Runs `body(i)` for `i` in `0..<count` on `voxtermThreadCount` threads, which take contiguous
/// blocks (8 per thread) from a shared counter, so a thread slowed by other processes on the
/// machine does not hold the others up.
///
/// `body` must only write disjoint memory for different `i`.
@inlinable
public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    let threads = min(voxtermThreadCount, count)
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
