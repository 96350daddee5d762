import Foundation
import VoxtermModel

/// One self-overwriting progress line on stderr, at most ten updates a second.
final class ProgressLine: @unchecked Sendable {
    let enabled: Bool
    /// The metric of each registration stage, named on the line.
    let metrics: [MetricKind]
    var last = 0.0
    var shown = false

    init(enabled: Bool, metrics: [MetricKind] = []) { self.enabled = enabled; self.metrics = metrics }

    func show(_ p: RegistrationProgress) {
        guard enabled else { return }
        let t = monotonicSeconds()
        guard t - last >= 0.1 else { return }
        last = t
        shown = true
        let metric = p.stage < metrics.count ? " \(metrics[p.stage].rawValue)" : ""
        let text = String(format: "\r%@%@ level %d/%d (shrink %d) iteration %d  value %.5f  %.1f s   ",
                          p.stageName, metric, p.level + 1, p.levelCount, p.shrink, p.iteration, p.value, p.elapsed)
        standardError.write(text)
    }

    func finish() { if shown { standardError.write("\n"); shown = false } }
}

extension ProgressLine {
    /// Shows a segmentation progress event (at most ten updates a second).
    func show(_ p: SegmentationProgress) {
        guard enabled else { return }
        let t = monotonicSeconds()
        guard t - last >= 0.1 else { return }
        last = t
        shown = true
        standardError.write(String(format: "\r%@  %.1f s   ", p.message, p.elapsed))
    }
}
