import VolumeCore

/// A support example loaded into memory.
public struct LoadedSupport: Sendable {
    /// The example's image.
    public var image: Volume
    /// Its labels, on the image's grid (0 = background; outside `slices` when set, unlabelled).
    public var labels: LabelVolume
    /// When set, only these slices carry labels.
    public var slices: SliceSelection?
    /// A short name for progress messages (e.g. the file name).
    public var name: String

    public init(image: Volume, labels: LabelVolume, slices: SliceSelection? = nil, name: String = "support") {
        self.image = image; self.labels = labels; self.slices = slices; self.name = name
    }
}

/// A segmentation of a query: labels plus per-voxel confidence.
public struct Prediction: Sendable {
    /// Predicted labels on the query grid.
    public var labels: LabelVolume
    /// Per-voxel agreement of the supports for the chosen label, 0...1 (1 = all weight agrees).
    public var confidence: Volume

    public init(labels: LabelVolume, confidence: Volume) { self.labels = labels; self.confidence = confidence }
}

/// What a predictor reports while it works.
public struct SegmentationProgress: Sendable, Equatable {
    /// Index (0-based) of the unit of work in progress: a support, or a target slice.
    public var step: Int
    /// Number of units of work.
    public var total: Int
    /// What is happening, e.g. "registering support 2 of 3 (sub-00004)".
    public var message: String
    /// Seconds since the prediction started.
    public var elapsed: Double

    public init(step: Int, total: Int, message: String, elapsed: Double) {
        self.step = step; self.total = total; self.message = message; self.elapsed = elapsed
    }
}

/// Turns a query image and a support set into a label volume and a confidence map.
///
/// The first implementation propagates labels by registration and fuses them; a learned
/// in-context model (UniverSeg-style) can implement the same protocol.
public protocol SegmentationPredictor {
    /// Segments `query` from `supports`; calls `progress` as work advances and throws
    /// `SegmentationError.cancelled` soon after `isCancelled()` turns true.
    func predict(query: Volume, supports: [LoadedSupport],
                 progress: (SegmentationProgress) -> Void,
                 isCancelled: @escaping () -> Bool) throws -> Prediction
}

/// Finds where each fixed-image point lies in a moving image: the link to the registration engine.
///
/// Threads: `RegistrationPropagationPredictor(concurrentSupports: true)` calls `align` on several
/// threads at once, one support each, so an aligner must be safe to call concurrently (no shared
/// mutable state, or its own locks). Each call should spread its work over `effectiveThreadCount`
/// threads and read it again whenever it polls `isCancelled`: the predictor changes the calling
/// thread's count there (`setThreadCountOfThisThread`) as other registrations start and end, so
/// the last one running gets the freed cores. The result must not depend on the thread count
/// (voxterm's engine gives identical fields at 1 and N threads). The predictor calls its own
/// `progress` only on the thread that called `predict`, never from these threads.
public protocol PairwiseAligner {
    /// Registers `moving` to `fixed` and returns the total map as a displacement field on the fixed
    /// grid: fixed world point x (RAS mm) corresponds to moving world point x + u(x).
    func align(fixed: Volume, moving: Volume, isCancelled: @escaping () -> Bool) throws -> VectorField
}
