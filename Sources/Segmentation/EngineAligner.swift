import VolumeCore
import Registration

/// `PairwiseAligner` on voxterm's registration engine: runs a plan and returns the total
/// fixed-to-moving map (affine and diffeomorphic parts composed) as one displacement field.
public struct EngineAligner: PairwiseAligner {
    /// The registration plan (stages and levels).
    public var plan: RegistrationPlan
    /// A token the registration also watches between its set-up steps, where `isCancelled`
    /// (polled at every iteration) is not asked; e.g. the one a signal handler cancels.
    public var token: CancellationToken?

    /// Called during each registration, at most every `reportInterval` seconds, with the fraction
    /// done (0...1, by iterations of the plan's budget) and where it is, e.g.
    /// "affine level 2/3 iteration 40"; nil reports nothing.
    public var report: ((_ fraction: Double, _ detail: String) -> Void)?
    /// Least seconds between two `report` calls.
    public var reportInterval = 0.2

    public init(plan: RegistrationPlan, token: CancellationToken? = nil,
                report: ((_ fraction: Double, _ detail: String) -> Void)? = nil) {
        self.plan = plan; self.token = token; self.report = report
    }

    /// The same aligner, also stopped by `token`.
    public func cancelled(by token: CancellationToken) -> EngineAligner {
        var a = self
        a.token = token
        return a
    }

    /// The same aligner, reporting progress to `report`.
    public func reporting(_ report: @escaping (_ fraction: Double, _ detail: String) -> Void) -> EngineAligner {
        var a = self
        a.report = report
        return a
    }

    /// The preset plan for 3-D volumes (affine then deformable).
    public static func volumes(_ preset: RegistrationPlan.Preset = .default) -> EngineAligner {
        EngineAligner(plan: .preset(preset, mode: .both))
    }

    public func align(fixed: Volume, moving: Volume, isCancelled: @escaping () -> Bool) throws -> VectorField {
        let token = self.token ?? CancellationToken()
        let result: RegistrationResult
        do {
            let stages = plan.stages.map { $0.levelsAsRun(on: fixed.geometry) }, report = self.report, interval = reportInterval
            var last = -Double.infinity
            result = try Registration.register(fixed: fixed, moving: moving, plan: plan, token: token) { event in
                if isCancelled() { token.cancel() }
                guard let report, case .iteration(let p) = event, monotonicSeconds() - last > interval,
                      p.stage < stages.count, p.level < stages[p.stage].count else { return }
                last = monotonicSeconds()
                let iterations = max(1, stages[p.stage][p.level].iterations)
                let inStage = (Double(p.level) + min(1, Double(p.iteration) / Double(iterations))) / Double(max(1, p.levelCount))
                report((Double(p.stage) + inStage) / Double(stages.count),
                       "\(p.stageName) level \(p.level + 1)/\(p.levelCount) iteration \(p.iteration)")
            }
        } catch RegistrationError.cancelled {
            throw SegmentationError.cancelled
        }
        return result.totalDisplacement
    }
}

extension EngineAligner {
    /// A deformable-only plan for neighbouring 2-D slices of one volume (already aligned, so no
    /// affine stage): two levels, LNCC, smooth updates.
    public static func slices() -> EngineAligner {
        var stage = RegistrationPlan.deformableStage(.fast)
        stage.levels = [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 40),
                        PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 30)]
        return EngineAligner(plan: RegistrationPlan(stages: [stage], alignCentresOfMass: false))
    }
}

