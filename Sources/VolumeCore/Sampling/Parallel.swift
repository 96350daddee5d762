import Dispatch
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

/// Runs `body(i)` for `i` in `0..<count`, split in contiguous chunks over `voxtermThreadCount` threads.
///
/// `body` must only write disjoint memory for different `i`.
@inlinable
public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    let threads = min(voxtermThreadCount, count)
    if threads <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let lo = count * t / threads, hi = count * (t + 1) / threads
            for i in lo..<hi { body(i) }
        }
    }
}
