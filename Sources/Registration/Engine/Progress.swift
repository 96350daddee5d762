import Dispatch
import Synchronization
import VolumeCore

/// A flag a running registration checks every iteration; `cancel()` makes it stop promptly
/// by throwing `RegistrationError.cancelled`. Safe to call from any thread or a signal source.
public final class CancellationToken: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    /// Requests the registration to stop.
    public func cancel() { flag.store(true, ordering: .relaxed) }

    /// True once `cancel()` was called.
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// Where a running registration is.
public struct RegistrationProgress: Sendable, Equatable {
    /// Index of the stage (0-based) and its name.
    public var stage: Int
    public var stageName: String
    /// Index of the level within the stage (0-based, coarse first) and the number of levels.
    public var level: Int
    public var levelCount: Int
    /// Shrink factor of the level.
    public var shrink: Int
    /// Iteration within the level (1-based).
    public var iteration: Int
    /// Objective value (similarity + penalty; lower is better).
    public var value: Double
    /// Seconds since the registration started.
    public var elapsed: Double

    public init(stage: Int, stageName: String, level: Int, levelCount: Int, shrink: Int, iteration: Int, value: Double,
                elapsed: Double) {
        self.stage = stage; self.stageName = stageName; self.level = level; self.levelCount = levelCount
        self.shrink = shrink; self.iteration = iteration; self.value = value; self.elapsed = elapsed
    }
}

/// Events streamed while a plan runs.
public enum RegistrationEvent: Sendable {
    /// After every iteration.
    case iteration(RegistrationProgress)
    /// Every `snapshotInterval` deformable iterations: the current forward displacement (RAS mm)
    /// on the level grid, for live display.
    case snapshot(RegistrationProgress, VectorField)
    /// Every `snapshotInterval` affine iterations, and at the start of every deformable level: the
    /// current affine (fixed world → moving world, applied after the displacement), for live display.
    case affine(RegistrationProgress, AffineTransform)
    /// A stage finished after `seconds`.
    case stageFinished(stage: Int, name: String, seconds: Double)
}

/// Errors of the registration engine, in words a user can act on.
public enum RegistrationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The run was cancelled through its token.
    case cancelled
    /// An input image cannot be registered (role: "fixed" or "moving").
    case unusableImage(role: String, reason: String)
    /// The inputs do not fit together.
    case incompatible(String)
    /// The plan is malformed.
    case invalidPlan(String)

    public var description: String {
        switch self {
        case .cancelled: return "registration cancelled"
        case .unusableImage(let role, let reason): return "\(role) image \(reason)"
        case .incompatible(let s): return s
        case .invalidPlan(let s): return "invalid plan: \(s)"
        }
    }
}

extension Registration {
    /// Runs `register` off the caller's task and streams its events; the stream finishes after the
    /// result is delivered through `completion`. Cancel with `token`.
    public static func events(fixed: Volume, moving: Volume, plan: RegistrationPlan, token: CancellationToken,
                              completion: @escaping @Sendable (Result<RegistrationResult, Error>) -> Void)
        -> AsyncStream<RegistrationEvent> {
        AsyncStream { continuation in
            let thread = DispatchQueue(label: "voxterm.registration")
            thread.async {
                let result = Result {
                    try register(fixed: fixed, moving: moving, plan: plan, token: token) { continuation.yield($0) }
                }
                completion(result)
                continuation.finish()
            }
        }
    }
}
