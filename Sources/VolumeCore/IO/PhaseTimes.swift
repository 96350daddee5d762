#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// CPU seconds (user + system) this process has used so far, all threads.
public func processCPUSeconds() -> Double {
    #if canImport(Glibc)
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
    return s(u.ru_utime) + s(u.ru_stime)
    #else
    return 0
    #endif
}

/// Wall-clock and CPU seconds of the named phases of a command, in order (`voxterm register
/// --timings`). A reference type so the steps of one run can add to it from several places;
/// every access takes its lock, so threads may lap and note at once (rows then come in the order
/// the lock was taken).
public final class PhaseTimes: Sendable {
    /// One finished phase: its name, wall-clock seconds and process CPU seconds (all threads).
    public struct Phase: Sendable, Equatable {
        /// What the phase did, as printed (e.g. "read", "write fixed_warped.nii.gz").
        public var name: String
        /// Wall-clock seconds the phase took.
        public var wall: Double
        /// Process CPU seconds (user + system, all threads) the phase took; NaN when unknown.
        public var cpu: Double
    }

    private struct State {
        var phases: [Phase] = []
        var wall: Double
        var cpu: Double
    }

    private let state: Mutex<State>
    private let start: Double, startCPU: Double

    /// Starts the clock: the first phase begins now.
    public init() {
        let w = monotonicSeconds(), c = processCPUSeconds()
        start = w; startCPU = c
        state = Mutex(State(wall: w, cpu: c))
    }

    /// The finished phases, in order.
    public var phases: [Phase] { state.withLock { $0.phases } }

    /// Ends the current phase, named `name`, and starts the next one now.
    public func lap(_ name: String) {
        // The clock is read under the lock, so laps from several threads tile time in the
        // order they took it (no negative phase).
        state.withLock { s in
            let w = monotonicSeconds(), c = processCPUSeconds()
            s.phases.append(Phase(name: name, wall: w - s.wall, cpu: c - s.cpu))
            s.wall = w; s.cpu = c
        }
    }

    /// Adds an informational row (e.g. a part of the phase before, CPU unknown) without
    /// touching the clock.
    public func note(_ name: String, wall: Double, cpu: Double = .nan) {
        state.withLock { $0.phases.append(Phase(name: name, wall: wall, cpu: cpu)) }
    }

    /// Seconds since this recorder was made: wall clock and CPU.
    public var total: (wall: Double, cpu: Double) { (monotonicSeconds() - start, processCPUSeconds() - startCPU) }
}
