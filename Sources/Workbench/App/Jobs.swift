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
// Flow: a key's action -> the feature's reducer records the job in `state.jobs` (`JobTable.start`)
// and returns `Effect.startJob(id, request)` -> the run loop calls `JobRunner.start` with the work
// `JobWorkers.work(for:state:)` gets from the feature -> the work posts `.jobProgress(id, ...)` and
// finally the runner posts `.jobFinished(id, outcome)` -> `reduce` drops actions of ids that are no
// longer current (a cancelled job's late progress) and hands the rest, as a `JobEvent`, to the
// feature's one entry point (`reduceJob` routes by kind: `reduceRegistrationJob`, `reducePredictionJob`).
// `Effect.cancelJob(id)` sets the job's `CancellationToken`.
//
// A feature's job code lives in its folder (`LiveRegistration/LiveRegistrationJob.swift`,
// `Curation/CurationJob.swift`); this file holds only the kind-independent machinery and the
// enums naming the kinds.
// Jobs run at nice 10 on `JobRunner.jobThreads` threads (cores - 1), so the UI keeps a core.

/// Identifies one background job of a session; ids increase and are never reused.
public struct JobID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: Int
    public init(_ raw: Int) { self.raw = raw }
    public static func < (a: JobID, b: JobID) -> Bool { a.raw < b.raw }
    public var description: String { "job \(raw)" }
}

/// What a job does; at most one job of each kind runs at a time.
public enum JobKind: String, Sendable, Hashable, CaseIterable {
    /// Registers the moving image to the image (`LiveRegistration`).
    case registration
    /// Writes a finished registration's outputs to a folder.
    case saveRegistration = "save"
    /// Segments the open image from the support set (`PredictionRequest`).
    case prediction
}

/// A reference to a (large, immutable) value carried by actions; equal when it is the same object,
/// so actions stay cheap to compare.
public final class Shared<Value: Sendable>: Sendable, Equatable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
    public static func == (a: Shared, b: Shared) -> Bool { a === b }
}

/// Background work the reducer asks for (carried by `Effect.startJob`).
public enum JobRequest: Sendable, Equatable {
    /// Register `document.moving` to `document.image` by the preset's plan (affine, then deformable).
    case registration(preset: RegistrationPlan.Preset)
    /// Write `outputs` into `directory` (the files of `voxterm register`).
    case saveRegistration(outputs: Shared<RegistrationOutputs>, sources: RegistrationSources, directory: String,
                          protecting: [String])
    /// Segment the open image (or one slice) from the support set.
    case prediction(Shared<PredictionRequest>)

    /// The kind of job this request starts.
    public var kind: JobKind {
        switch self {
        case .registration: .registration
        case .saveRegistration: .saveRegistration
        case .prediction: .prediction
        }
    }
}

/// What a running job reports (`Action.jobProgress`).
public enum JobProgress: Sendable, Equatable {
    /// Iterations, objective values and (sometimes) a preview of a running registration.
    case registration(LiveRegistrationUpdate)
    /// The predictor's step, total and message.
    case prediction(SegmentationProgress)
}

/// How a job ended (`Action.jobFinished`).
public enum JobOutcome: Sendable, Equatable {
    /// Stopped through its token.
    case cancelled
    /// Failed; the text names the file or problem.
    case failed(String)
    /// A registration finished: outputs, summary and the final preview.
    case registration(Shared<LiveRegistrationResult>)
    /// Files were written (paths) into `directory`.
    case saved(directory: String, files: [String])
    /// A prediction finished: labels, confidence, Dice and disagreement ranking.
    case prediction(Shared<PredictionOutcome>)
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

    /// Posts `.jobProgress(id, progress)`.
    public func post(_ progress: JobProgress) { inbox.post(.jobProgress(id, progress)) }

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
        let deadline = Date().addingTimeInterval(seconds)
        while counters.active.load(ordering: .acquiring) > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
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
        let deadline = Date().addingTimeInterval(timeout)
        while counters.active.load(ordering: .acquiring) > 0 {
            if Date() > deadline { return false }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return true
    }
}

/// Turns a job request into work, reading what it needs from the state at the moment it starts;
/// each feature builds its own work.
public enum JobWorkers {
    /// The work of `request`.
    public static func work(for request: JobRequest, state: WorkbenchState) -> JobWork {
        switch request {
        case .registration(let preset):
            return LiveRegistration.work(preset: preset, document: state.document)
        case .saveRegistration(let outputs, let sources, let directory, let protecting):
            return LiveRegistration.saveWork(outputs: outputs, sources: sources, directory: directory, protecting: protecting)
        case .prediction(let request):
            return request.value.work
        }
    }
}
