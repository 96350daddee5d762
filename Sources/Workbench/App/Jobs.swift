import Foundation
import Synchronization
import VoxtermModel
#if canImport(Glibc)
import Glibc
#endif

// Background jobs: long work (registration, saving, prediction) runs on its own thread and talks to
// the UI only by posting `Action`s into a `JobInbox`; the run loop polls while a job runs and feeds
// those actions through `reduce`, so the reducer stays pure and single-threaded.
//
// Flow: a key's action -> the feature's reducer records the job in `state.jobs` (`JobTable.start`
// with the feature's `JobSpec`) and returns `Effect.startJob(id, request)` -> the run loop calls
// `JobRunner.start` with the request's work -> the work posts `.jobProgress(id, value)` and finally
// the runner posts `.jobFinished(id, outcome)` -> `reduce` drops actions of ids that are no longer
// current (a cancelled job's late progress) and hands the rest, as a `JobEvent`, to the kind's one
// entry point (`JobKind.reduce`). `Effect.cancelJob(id)` sets the job's `CancellationToken`.
//
// A feature's jobs live in its folder (`LiveRegistration/LiveRegistrationJob.swift`,
// `Curation/CurationJob.swift`): the `JobKind` with its entry point, the `JobSpec`, the progress and
// result types. This file holds only the kind-independent machinery; a new kind touches no file here.
// Jobs run at nice 10 on `JobRunner.jobThreads` threads (cores - 1), so the UI keeps a core.

/// Identifies one background job of a session; ids increase and are never reused.
public struct JobID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: Int
    public init(_ raw: Int) { self.raw = raw }
    public static func < (a: JobID, b: JobID) -> Bool { a.raw < b.raw }
    public var description: String { "job \(raw)" }
}

/// A kind of background job, declared by the feature that owns it together with the feature's one
/// entry point for the kind's events (`JobKind("prediction") { state, id, event in ... }`); at most
/// one job of each kind runs at a time. App/ names no kind: a new kind of job is a `JobKind`, a
/// `JobSpec` and the types its work posts and returns, all in the feature's folder.
public struct JobKind: Hashable, Sendable, CustomStringConvertible {
    /// The kind's name (messages, tests); kinds are equal when their names are.
    public let name: String
    /// The feature's entry point: how an event of a current job of this kind changes the state.
    let reduce: @Sendable (inout WorkbenchState, JobID, JobEvent) -> [Effect]

    /// A kind named `name` whose events go to `reduce`.
    public init(_ name: String, reduce: @escaping @Sendable (inout WorkbenchState, JobID, JobEvent) -> [Effect]) {
        self.name = name
        self.reduce = reduce
    }

    public static func == (a: JobKind, b: JobKind) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
    public var description: String { name }
}

/// A reference to a (large, immutable) value carried by actions; equal when it is the same object,
/// so actions stay cheap to compare.
public final class Shared<Value: Sendable>: Sendable, Equatable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
    public static func == (a: Shared, b: Shared) -> Bool { a === b }
}

/// What a feature asks to run in the background: its kind and how to build the work from the
/// state at the moment it starts. Conform an `Equatable` struct (requests are compared in tests
/// and by `Effect`'s equality).
public protocol JobSpec: Sendable {
    /// The kind of job this request starts.
    var kind: JobKind { get }
    /// The work, reading what it needs from `state` (on the UI thread, when the job starts).
    func work(state: WorkbenchState) -> JobWork
    /// Whether `other` is the same request.
    func isEqual(to other: any JobSpec) -> Bool
}

extension JobSpec where Self: Equatable {
    public func isEqual(to other: any JobSpec) -> Bool { (other as? Self) == self }
}

/// Background work the reducer asks for (carried by `Effect.startJob`): one feature's `JobSpec`.
public struct JobRequest: Sendable, Equatable, CustomStringConvertible {
    /// The feature's request.
    public let spec: any JobSpec
    public init(_ spec: any JobSpec) { self.spec = spec }

    /// The kind of job this request starts.
    public var kind: JobKind { spec.kind }
    /// The request as the feature's type, or nil when it is another feature's.
    public func `as`<T: JobSpec>(_ type: T.Type) -> T? { spec as? T }
    /// The work of this request (see `JobSpec.work`).
    public func work(state: WorkbenchState) -> JobWork { spec.work(state: state) }

    public static func == (a: JobRequest, b: JobRequest) -> Bool { a.spec.isEqual(to: b.spec) }
    public var description: String { "\(spec)" }
}

/// A value a job posts (progress) or returns (its result): any `Sendable`, `Equatable` value of
/// the feature's own type, compared by value.
public struct JobValue: Sendable, Equatable, CustomStringConvertible {
    private let value: any Sendable
    private let equals: @Sendable (any Sendable) -> Bool

    public init<T: Sendable & Equatable>(_ value: T) {
        self.value = value
        self.equals = { ($0 as? T) == value }
    }

    /// The value as the feature's type, or nil when it is another type.
    public func `as`<T>(_ type: T.Type) -> T? { value as? T }

    public static func == (a: JobValue, b: JobValue) -> Bool { a.equals(b.value) }
    public var description: String { "\(value)" }
}

/// What a running job reports (`Action.jobProgress`): the feature's progress value.
public typealias JobProgress = JobValue

/// How a job ended (`Action.jobFinished`).
public enum JobOutcome: Sendable, Equatable {
    /// Stopped through its token.
    case cancelled
    /// Failed; the text names the file or problem.
    case failed(String)
    /// Finished with the feature's result.
    case finished(JobValue)
}

extension JobOutcome {
    /// The result of a finished job as the feature's type, or nil (cancelled, failed, another type).
    public func result<T>(_ type: T.Type) -> T? {
        if case .finished(let v) = self { return v.as(type) }
        return nil
    }
}

/// What happens to a current job, as its feature's reducer sees it.
public enum JobEvent: Sendable, Equatable {
    /// Esc was pressed: the job was asked to stop and ends with `.cancelled` shortly.
    case cancelling
    /// The job reported progress.
    case progress(JobProgress)
    /// The job ended (already removed from `state.jobs`).
    case finished(JobOutcome)
}

/// The reducer's record of running jobs: a pure value inside `WorkbenchState`.
public struct JobTable: Sendable, Equatable {
    /// The current job of each running kind.
    public private(set) var running: [JobKind: JobID] = [:]
    private var nextID = 1

    public init() {}

    /// Allocates an id for `request`, records it as the current job of its kind, and returns the
    /// effect that starts it. The caller must first check `isRunning` if it must not replace a job.
    public mutating func start(_ request: JobRequest) -> Effect {
        let id = JobID(nextID)
        nextID += 1
        running[request.kind] = id
        return .startJob(id, request)
    }

    /// Whether a job of `kind` runs.
    public func isRunning(_ kind: JobKind) -> Bool { running[kind] != nil }

    /// The kind of `id` when it is a current job (nil for a stale or unknown id).
    public func kind(of id: JobID) -> JobKind? { running.first { $0.value == id }?.key }

    /// Forgets `id`; returns its kind when it was current, nil for a stale job (ignore its actions).
    public mutating func finish(_ id: JobID) -> JobKind? {
        guard let kind = kind(of: id) else { return nil }
        running[kind] = nil
        return kind
    }
}

/// Where background work posts actions for the UI thread: a lock-protected FIFO.
public final class JobInbox: Sendable {
    private let queue = Mutex<[Action]>([])

    public init() {}

    /// Appends `action` (any thread).
    public func post(_ action: Action) { queue.withLock { $0.append(action) } }

    /// Removes and returns every waiting action, oldest first.
    public func drain() -> [Action] { queue.withLock { q in defer { q = [] }; return q } }

    /// True when nothing waits.
    public var isEmpty: Bool { queue.withLock { $0.isEmpty } }
}

/// What running work sees: its id, its cancellation token and a way to report progress.
public struct JobContext: Sendable {
    public let id: JobID
    public let token: CancellationToken
    let inbox: JobInbox

    public init(id: JobID, token: CancellationToken, inbox: JobInbox) { self.id = id; self.token = token; self.inbox = inbox }

    /// Posts `.jobProgress(id, progress)`: the feature's progress value.
    public func post<P: Sendable & Equatable>(_ progress: P) { inbox.post(.jobProgress(id, JobValue(progress))) }

    /// True once the job was asked to stop.
    public var isCancelled: Bool { token.isCancelled }
}

/// The work of a job: runs on a background thread and returns how it ended.
public typealias JobWork = @Sendable (JobContext) -> JobOutcome

/// Runs jobs on background threads for the run loop (used from the UI thread only).
public final class JobRunner {
    /// Actions posted by running jobs, drained by the run loop.
    public let inbox = JobInbox()
    /// Nice value (0...19) of job threads, so the UI thread wins the CPU when both want it.
    public let niceness: Int32
    /// Threads a job's parallel loops use (`withThreadCount`): by default one fewer than the
    /// cores, so the UI thread keeps one.
    public let jobThreads: Int
    private var tokens: [JobID: CancellationToken] = [:]
    /// Jobs running now, and started so far (shared with the job threads).
    private final class Counters: Sendable {
        let active = Atomic<Int>(0)
        let started = Atomic<Int>(0)
    }
    private let counters = Counters()
    /// Small file work (manifests, saving a prediction) runs here, one task at a time, so two
    /// saves never pick the same free file name at once.
    private let fileQueue = DispatchQueue(label: "voxterm file work")

    /// A runner whose job threads run at `niceness` (default 10) with `jobThreads` threads for
    /// their parallel loops (default: `voxtermThreadCount - 1`, at least 1).
    public init(niceness: Int32 = 10, jobThreads: Int? = nil) {
        self.niceness = niceness
        self.jobThreads = max(1, jobThreads ?? voxtermThreadCount - 1)
    }

    /// True while a job runs or its actions wait in the inbox.
    public var isBusy: Bool { counters.active.load(ordering: .acquiring) > 0 || !inbox.isEmpty }

    /// Number of jobs started so far.
    public var jobsStarted: Int { counters.started.load(ordering: .relaxed) }

    /// Starts `work` as job `id` on a new thread; when it returns, posts `.jobFinished(id, outcome)`.
    public func start(_ id: JobID, work: @escaping JobWork) {
        let token = CancellationToken()
        tokens[id] = token
        let context = JobContext(id: id, token: token, inbox: inbox)
        counters.active.add(1, ordering: .acquiringAndReleasing)
        counters.started.add(1, ordering: .relaxed)
        let nice = niceness, threads = jobThreads
        let inbox = self.inbox, counters = self.counters
        let thread = Thread {
            #if canImport(Glibc)
            // On Linux the nice value is per thread; 0 means the calling thread.
            if nice > 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) }
            #endif
            let outcome = withThreadCount(threads) { work(context) }
            inbox.post(.jobFinished(id, outcome))
            counters.active.subtract(1, ordering: .acquiringAndReleasing)
        }
        thread.name = "voxterm job \(id.raw)"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Runs `work` (file reading or writing that needs no progress or cancellation) off the UI
    /// thread, one such task at a time, and posts the actions it returns; counts as busy meanwhile.
    public func runFileWork(_ work: @escaping @Sendable () -> [Action]) {
        counters.active.add(1, ordering: .acquiringAndReleasing)
        let inbox = self.inbox, counters = self.counters
        fileQueue.async {
            for action in work() { inbox.post(action) }
            counters.active.subtract(1, ordering: .acquiringAndReleasing)
        }
    }

    /// Asks job `id` to stop (it posts `.jobFinished(id, .cancelled)` when it has).
    public func cancel(_ id: JobID) { tokens.removeValue(forKey: id)?.cancel() }

    /// Cancels every job and waits up to `seconds` for them to end (e.g. before quitting).
    public func cancelAll(waitingUpTo seconds: Double = 2) {
        for t in tokens.values { t.cancel() }
        tokens = [:]
        let deadline = monotonicSeconds() + seconds
        while counters.active.load(ordering: .acquiring) > 0 && monotonicSeconds() < deadline { Thread.sleep(forTimeInterval: 0.005) }
    }

    /// Removes and returns the actions jobs posted, oldest first.
    public func drain() -> [Action] {
        let actions = inbox.drain()
        for a in actions { if case .jobFinished(let id, _) = a { tokens[id] = nil } }
        return actions
    }

    /// Waits until no job runs (for tests and benchmarks); false on timeout.
    @discardableResult
    public func waitUntilIdle(timeout: Double = 60) -> Bool {
        let deadline = monotonicSeconds() + timeout
        while counters.active.load(ordering: .acquiring) > 0 {
            if monotonicSeconds() > deadline { return false }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return true
    }
}
