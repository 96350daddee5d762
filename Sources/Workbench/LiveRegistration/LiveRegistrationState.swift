import Foundation
import VoxtermModel
import SliceRendering

/// A running registration's report to the UI (throttled: a few per second).
public struct LiveRegistrationUpdate: Sendable, Equatable {
    /// The latest iteration.
    public var progress: RegistrationProgress?
    /// Objective values of the iterations since the previous update, in order.
    public var values: [Double]
    /// A new preview to show, when one was computed.
    public var preview: Shared<RegistrationPreview>?
    /// What the job does besides iterating (e.g. "computing the summary"), if anything.
    public var activity: String?

    public init(progress: RegistrationProgress?, values: [Double], preview: Shared<RegistrationPreview>? = nil,
                activity: String? = nil) {
        self.progress = progress; self.values = values; self.preview = preview; self.activity = activity
    }
}

/// A finished live registration: its outputs (ready to save) and the final preview.
public struct LiveRegistrationResult: Sendable {
    public var outputs: RegistrationOutputs
    public var preview: RegistrationPreview
    public init(outputs: RegistrationOutputs, preview: RegistrationPreview) { self.outputs = outputs; self.preview = preview }
}

/// The numbers shown when a registration finishes.
public struct RegistrationSummary: Sendable, Equatable {
    /// Similarity (`metric`, lower is better) before (world space) and after.
    public var similarityBefore: Double
    public var similarityAfter: Double
    public var metric: String
    /// Mean Dice before and after, with fixed and moving labels.
    public var meanDiceBefore: Double?
    public var meanDice: Double?
    /// Percentage of voxels with Jacobian ≤ 0.
    public var foldingPercent: Double
    /// Wall-clock seconds of the registration.
    public var seconds: Double

    public init(_ o: RegistrationOutputs) {
        similarityBefore = o.similarityBefore; similarityAfter = o.similarityAfter; metric = o.metric.rawValue
        meanDiceBefore = o.diceBefore.map(VolumeCore.meanDice); meanDice = o.dice.map(VolumeCore.meanDice)
        foldingPercent = o.foldingPercent; seconds = o.seconds
    }

    /// One line, e.g. "LNCC -0.41 → -0.66 · Dice 0.631 → 0.802 · folding 0.000 % · 12.3 s".
    public var text: String {
        var t = String(format: "%@ %.4f → %.4f", metric.uppercased(), similarityBefore, similarityAfter)
        if let d = meanDice {
            t += meanDiceBefore.map { String(format: " · Dice %.3f → %.3f", $0, d) } ?? String(format: " · Dice %.3f", d)
        }
        t += String(format: " · folding %.3f %% · %.1f s", foldingPercent, seconds)
        return t
    }
}

/// Live registration of the moving image in the workbench, as a value in the state.
public struct LiveRegistrationState: Sendable, Equatable {
    /// Where the registration is.
    public enum Phase: Sendable, Equatable {
        /// Not started yet.
        case ready
        case running
        /// Esc was pressed; waiting for the job to stop.
        case cancelling
        case cancelled
        case failed(String)
        case finished
    }

    public var phase: Phase = .ready
    /// Preset of the next (or running) registration.
    public var preset: RegistrationPlan.Preset = .default
    /// Iteration budget per stage and level of the running plan (for the progress bar).
    public var budget: [[Int]] = []
    /// Stage names of the running plan.
    public var stageNames: [String] = []
    /// The latest iteration reported.
    public var progress: RegistrationProgress?
    /// Objective value of every iteration so far.
    public var values: [Double] = []
    /// Index in `values` where the current level began (the curve shows this level: values of
    /// different levels are not comparable).
    public var levelStart = 0
    /// What the job does besides iterating, if anything.
    public var activity: String?
    /// Previews shown so far in this run.
    public var previews = 0
    /// Folding voxel counts per slice of the shown field (x, y, z axes).
    public var foldingPerSlice: [[Int]] = []
    /// The finished registration's outputs, until replaced by another run.
    public var outputs: Shared<RegistrationOutputs>?
    public var summary: RegistrationSummary?
    /// Folder the save key writes to.
    public var outputDirectory: String
    /// Where the outputs were last saved.
    public var savedTo: String?
    /// Whether a save is running.
    public var saving = false
    /// Whether S may replace an earlier run's files in `outputDirectory` (`voxterm view --force`).
    public var replacesOutputs = false
    /// The final preview of the last finished registration (shown again when a later run is cancelled).
    public var finishedPreview: Shared<RegistrationPreview>?

    /// A state for a session saving into `outputDirectory`.
    public init(outputDirectory: String) { self.outputDirectory = outputDirectory }

    /// Fraction of the iteration budget done (levels that converge early count as done), 0...1.
    public var fractionDone: Double {
        if phase == .finished { return 1 }
        guard let p = progress, !budget.isEmpty else { return 0 }
        let total = budget.joined().reduce(0, +)
        guard total > 0 else { return 0 }
        var done = 0
        for s in 0..<min(p.stage, budget.count) { done += budget[s].reduce(0, +) }
        if p.stage < budget.count {
            let levels = budget[p.stage]
            done += levels.prefix(min(p.level, levels.count)).reduce(0, +)
            done += min(p.iteration, p.level < levels.count ? levels[p.level] : 0)
        }
        return min(1, Double(done) / Double(total))
    }

    /// The default output folder for a fixed image path: `./voxterm-registration-<stem>`.
    public static func defaultOutputDirectory(fixedPath: String) -> String {
        "voxterm-registration-" + FileIO.imageStem((fixedPath as NSString).lastPathComponent)
    }
}
