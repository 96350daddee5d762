import Foundation
import Synchronization
import VolumeCore
import NIfTI
import Registration
import Segmentation
#if canImport(Glibc)
import Glibc
#endif

/// How many subjects run at once and on how many threads each.
public struct BatchParallelism: Sendable, Equatable {
    /// Subjects at a time (worker threads of the pool).
    public var jobs: Int
    /// Threads each subject's registration uses.
    public var threads: Int

    public init(jobs: Int, threads: Int) { self.jobs = jobs; self.threads = threads }

    /// Cores this process may use: `SLURM_CPUS_PER_TASK` inside a SLURM task, else
    /// `voxtermThreadCount` (the active cores unless set).
    public static var availableCores: Int {
        if let s = ProcessInfo.processInfo.environment["SLURM_CPUS_PER_TASK"], let n = Int(s), n > 0 { return n }
        return max(1, voxtermThreadCount)
    }

    /// Fills `cores` without oversubscribing: one subject per core on one thread each (subjects
    /// scale better across processes than one registration across threads); fewer subjects
    /// than cores share the spare cores as threads. A given `jobs` or `threads` is kept and
    /// the other derived from it.
    public static func choose(jobs: Int?, threads: Int?, subjects: Int, cores: Int = availableCores) -> BatchParallelism {
        let cores = max(1, cores), subjects = max(1, subjects)
        switch (jobs, threads) {
        case let (j?, t?): return BatchParallelism(jobs: max(1, j), threads: max(1, t))
        case let (j?, nil): return BatchParallelism(jobs: max(1, j), threads: max(1, cores / max(1, min(j, subjects))))
        case let (nil, t?): return BatchParallelism(jobs: max(1, min(subjects, cores / max(1, t))), threads: max(1, t))
        case (nil, nil):
            let j = min(cores, subjects)
            return BatchParallelism(jobs: j, threads: max(1, cores / j))
        }
    }
}

/// Counts a running batch reports (progress line and final tally).
public struct BatchCounts: Sendable, Equatable {
    /// Subjects this run is responsible for.
    public var total = 0
    /// Done before this run (unchanged inputs, skipped).
    public var skipped = 0
    /// Done in this run.
    public var done = 0
    public var failed = 0
    public var running = 0
    /// Held by another process (another SLURM task or run) when this run reached them.
    public var busy = 0
    /// Stopped by cancellation, or never started because of it.
    public var interrupted = 0
    /// Seconds since the run started.
    public var elapsed = 0.0

    public init() {}

    /// Subjects finished either way (done, skipped, failed, busy).
    public var finished: Int { skipped + done + failed + busy }
}

/// One line about a finished subject, for the progress output.
public struct SubjectEvent: Sendable {
    public var subject: String
    public var state: SubjectState
    public var reason: String?
    public var seconds: Double
    /// True when it was skipped (done before, inputs unchanged).
    public var skipped: Bool
}

/// The local worker pool: `jobs` threads each take the next subject, run it with `threads`
/// threads, and write its status record; one subject's failure never stops the others;
/// cancelling the token stops taking subjects and interrupts those running (their records say
/// `interrupted`, so the next run redoes them).
public final class BatchPool: @unchecked Sendable {
    public let runner: SubjectRunner
    public let subjects: [CohortSubject]
    public let parallelism: BatchParallelism
    public let token: CancellationToken
    /// `JOBID_TASKID` recorded in status records when running as a SLURM array task.
    public var slurmTask: String?
    /// Called (from worker threads, serialised) whenever the counts change.
    public var onChange: (BatchCounts, SubjectEvent?) -> Void = { _, _ in }

    private let state = Mutex<BatchCounts>(BatchCounts())
    private let next = Atomic<Int>(0)
    private let report = NSLock()
    private let start = monotonicSeconds()

    public init(runner: SubjectRunner, subjects: [CohortSubject], parallelism: BatchParallelism, token: CancellationToken) {
        self.runner = runner; self.subjects = subjects; self.parallelism = parallelism; self.token = token
        state.withLock { $0.total = subjects.count }
    }

    /// Runs every subject; returns the final counts (blocks until the workers finish).
    public func run() -> BatchCounts {
        let jobs = max(1, min(parallelism.jobs, subjects.count))
        // The calling thread only waits; every worker runs on its own thread (runOnThreads).
        runOnThreads(jobs) { _ in withThreadCount(parallelism.threads) { work() } }
        return state.withLock { s in
            // Subjects never started because of cancellation.
            let untouched = max(0, s.total - s.finished - s.interrupted - s.running)
            s.interrupted += untouched
            s.elapsed = monotonicSeconds() - start
            return s
        }
    }

    private func work() {
        while !token.isCancelled {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard i < subjects.count else { return }
            runOne(subjects[i])
        }
    }

    private func update(_ event: SubjectEvent?, _ change: (inout BatchCounts) -> Void) {
        report.lock()
        defer { report.unlock() }
        let counts = state.withLock { s in change(&s); s.elapsed = monotonicSeconds() - start; return s }
        onChange(counts, event)
    }

    private func runOne(_ row: CohortSubject) {
        let folder = runner.folder
        let lock: FileLock
        do {
            guard let l = try FileLock.tryLock(folder.lockPath(row.subject)) else {
                update(SubjectEvent(subject: row.subject, state: .running, reason: "running in another process", seconds: 0, skipped: false)) { $0.busy += 1 }
                return
            }
            lock = l
        } catch {
            update(SubjectEvent(subject: row.subject, state: .failed, reason: "\(error)", seconds: 0, skipped: false)) { $0.failed += 1 }
            return
        }
        defer { lock.unlock() }
        let previous = folder.status(of: row.subject)
        let (sums, fingerprint) = runner.fingerprint(of: row)
        if let p = previous, p.state == .done, p.fingerprint == fingerprint, FileIO.exists(folder.subjectFolder(row.subject)) {
            update(SubjectEvent(subject: row.subject, state: .done, reason: nil, seconds: 0, skipped: true)) { $0.skipped += 1 }
            return
        }
        var status = SubjectStatus(subject: row.subject, state: .running, fingerprint: fingerprint, inputs: sums,
                                   attempts: (previous?.attempts ?? 0) + 1)
        status.started = isoNow()
        status.host = hostName()
        status.pid = getpid()
        status.slurm = slurmTask
        status.threads = parallelism.threads
        do { try folder.write(status) } catch {
            update(SubjectEvent(subject: row.subject, state: .failed, reason: "\(error)", seconds: 0, skipped: false)) { $0.failed += 1 }
            return
        }
        update(nil) { $0.running += 1 }
        // With one subject at a time the process's peak is this subject's: reset it first.
        let ownPeak = parallelism.jobs == 1 && resetPeakMemory()
        let t0 = monotonicSeconds()
        var event: SubjectEvent
        do {
            let scores = try runner.run(row, token: token)
            status.state = .done
            status.similarityBefore = scores.similarityBefore
            status.similarityAfter = scores.similarityAfter
            status.metric = scores.metric
            status.foldingPercent = scores.foldingPercent
            status.dice = scores.dice.map { Dictionary(uniqueKeysWithValues: $0.map { ("\($0.key)", $0.value) }) }
            status.meanDice = scores.dice.map(meanDice)
            status.meanDiceBefore = scores.meanDiceBefore
            status.threads = scores.threads
        } catch is SubjectInterrupted {
            status.state = .interrupted
            status.reason = "interrupted (Ctrl-C, SIGTERM or scancel); redone on the next run"
        } catch {
            status.state = .failed
            status.reason = oneLine("\(error)")
        }
        status.seconds = monotonicSeconds() - t0
        status.peakMemoryMB = peakMemoryMB()
        status.peakMemoryShared = !ownPeak
        status.finished = isoNow()
        do { try folder.write(status) } catch {
            status.state = .failed
            status.reason = oneLine("\(error)")
        }
        event = SubjectEvent(subject: row.subject, state: status.state, reason: status.reason, seconds: status.seconds ?? 0, skipped: false)
        update(event) { c in
            c.running -= 1
            switch status.state {
            case .done: c.done += 1
            case .interrupted: c.interrupted += 1
            default: c.failed += 1
            }
        }
    }
}

/// Resets this process's peak resident memory (VmHWM) to the current size; false when the
/// kernel does not allow it (then `peakMemoryMB()` stays the process's peak).
@discardableResult
public func resetPeakMemory() -> Bool {
    let fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return write(fd, "5", 1) == 1
}

/// The first line of `text`.
func oneLine(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? text
}

/// The current time as ISO 8601 (UTC, seconds).
func isoNow() -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date())
}

/// This machine's host name (`gethostname`, no DNS lookup).
func hostName() -> String {
    var buf = [CChar](repeating: 0, count: 256)
    guard gethostname(&buf, buf.count - 1) == 0 else { return "unknown" }
    return String(cString: buf)
}
