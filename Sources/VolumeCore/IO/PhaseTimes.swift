#if canImport(Glibc)
import Glibc
#endif

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
/// --timings`). A reference type so the steps of one run can add to it from several places.
public final class PhaseTimes: @unchecked Sendable {
    /// One finished phase: its name, wall-clock seconds and process CPU seconds (all threads).
    public struct Phase: Sendable, Equatable {
        public var name: String
        public var wall: Double
        public var cpu: Double
    }

    public private(set) var phases: [Phase] = []
    private var wall = monotonicSeconds(), cpu = processCPUSeconds()
    private let start = monotonicSeconds(), startCPU = processCPUSeconds()

    public init() {}

    /// Ends the current phase, named `name`, and starts the next one now.
    public func lap(_ name: String) {
        let w = monotonicSeconds(), c = processCPUSeconds()
        phases.append(Phase(name: name, wall: w - wall, cpu: c - cpu))
        wall = w; cpu = c
    }

    /// Adds an informational row (e.g. a part of the phase before, CPU unknown) without
    /// touching the clock.
    public func note(_ name: String, wall: Double, cpu: Double = .nan) {
        phases.append(Phase(name: name, wall: wall, cpu: cpu))
    }

    /// Seconds since this recorder was made: wall clock and CPU.
    public var total: (wall: Double, cpu: Double) { (monotonicSeconds() - start, processCPUSeconds() - startCPU) }
}
