import Foundation
import VolumeCore

/// What shows one subject of a batch folder: the files `voxterm batch report`'s QC pictures and
/// the workbench's `view --cohort` both draw, and its headline score. Register: the warped image
/// with its warped labels, scored against the fixed image's labels, beside the fixed image;
/// segment: the subject's image with the prediction, against its truth. A subject without
/// outputs (not done, or its files gone) shows its input image alone.
public struct SubjectView: Equatable, Sendable {
    /// The image shown.
    public var image: String
    /// The labels drawn over it (nil without outputs).
    public var labels: String?
    /// Reference labels the overlay is scored against.
    public var truth: String?
    /// Register: the fixed image, as the second image.
    public var compare: String?
    /// True when the subject is done and its main output is there.
    public var hasOutputs: Bool

    public init(folder: BatchFolder, settings: BatchSettings, row: CohortSubject, status: SubjectStatus) {
        let dir = folder.subjectFolder(row.subject)
        func output(_ name: String) -> String? {
            let p = (dir as NSString).appendingPathComponent(name)
            return status.state == .done && FileIO.exists(p) ? p : nil
        }
        image = row.image
        hasOutputs = false
        switch settings.task {
        case .register:
            if let warped = output("warped.nii.gz") {
                image = warped
                labels = output("warped_labels.nii.gz")
                truth = row.truth ?? settings.fixedLabels
                compare = row.fixed ?? settings.fixed
                hasOutputs = true
            }
        case .segment:
            labels = output("prediction.nii.gz")
            truth = labels == nil ? nil : row.truth
            hasOutputs = labels != nil
        }
    }
}

extension SubjectStatus {
    /// A subject's headline score: its mean Dice when it has one, else its similarity after registration.
    public enum Headline: Equatable, Sendable {
        case dice(Double), similarity(Double)
    }

    /// The headline score (the batch report's order and the cohort view's title use it).
    public var headline: Headline? {
        if let d = meanDice { return .dice(d) }
        if let s = similarityAfter { return .similarity(s) }
        return nil
    }
}
