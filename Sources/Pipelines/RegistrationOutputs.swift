import Foundation
import VolumeCore
import NIfTI
import ImageIO
import Registration

/// The input files a registration's outputs are described by (paths as given).
public struct RegistrationSources: Sendable, Equatable {
    public var fixed: String
    public var moving: String
    public var movingLabels: String?
    public var fixedLabels: String?
    /// The initial affine transform file (`--initial-affine`), if any.
    public var initialAffine: String?

    public init(fixed: String, moving: String, movingLabels: String? = nil, fixedLabels: String? = nil,
                initialAffine: String? = nil) {
        self.fixed = fixed; self.moving = moving; self.movingLabels = movingLabels; self.fixedLabels = fixedLabels
        self.initialAffine = initialAffine
    }

    /// Every input path (never to be written over).
    public var paths: [String] { [fixed, moving] + [movingLabels, fixedLabels, initialAffine].compactMap { $0 } }
}

/// Everything `voxterm register` (and the workbench's save key) writes, computed in memory first:
/// the warped image and labels, the fields, the Jacobian and the scores of the summary.
public struct RegistrationOutputs: Sendable {
    /// File names written into the output folder (`warped_labels.nii.gz` only with moving labels).
    public static let fileNames = ["warped.nii.gz", "warped_labels.nii.gz", "field.nii.gz", "inverse_field.nii.gz",
                                   "jacobian.nii.gz", "affine.txt", "affine_itk.tfm", "summary.json"]

    public let result: RegistrationResult
    /// The moving image on the fixed grid through the registration.
    public let warped: Volume
    /// The moving labels on the fixed grid (sampled by `labelInterpolation`), with moving labels.
    public let warpedLabels: LabelVolume?
    /// How the moving labels were sampled (`LabelInterpolation.generic`, ANTs' GenericLabel, by default).
    public let labelInterpolation: LabelInterpolation
    /// Determinant of the Jacobian of the complete fixed→moving map.
    public let jacobian: Volume
    /// Percentage of fixed voxels with Jacobian ≤ 0 (folding).
    public let foldingPercent: Double
    /// Dice per label of the warped moving labels against the fixed labels, with both label maps.
    public let dice: [Int32: Double]?
    /// Dice per label before registration (moving labels resampled in world space, no transform).
    public let diceBefore: [Int32: Double]?
    /// Similarity of the fixed image to the moving image before (world space) and after registration
    /// (`metric`, lower is better).
    public let similarityBefore: Double
    public let similarityAfter: Double
    public let metric: MetricKind
    /// `|u(x) + w(x + u(x))|` in mm over the fixed grid.
    public let inverseConsistency: (mean: Double, max: Double)
    /// Threads the calling thread's parallel loops used (`effectiveThreadCount`).
    public let threads: Int

    /// Computes the outputs of `result` (seconds for a 2 mm brain; call it off the UI thread).
    public init(result: RegistrationResult, fixed: Volume, moving: Volume, movingLabels: LabelVolume?,
                fixedLabels: LabelVolume?, metric: MetricKind, labelInterpolation: LabelInterpolation = .generic,
                timings: PhaseTimes? = nil) {
        func lap(_ name: String) { timings?.lap(name) }
        self.result = result
        self.metric = metric
        self.labelInterpolation = labelInterpolation
        threads = effectiveThreadCount
        // One full-size temporary at a time (a 1 mm brain's volumes are 28 MB each): the
        // similarity before registration first, then the warped image and its similarity.
        // The fixed image rescaled once for both similarities.
        // On the fixed grid already (the same grid), the moving image is used as it is: resampling
        // it there would return its own voxels.
        let rescaledFixed = Registration.rescaled(fixed)
        let unregistered = moving.geometry == fixed.geometry ? moving : moving.resampled(to: fixed.geometry)
        similarityBefore = Registration.similarity(rescaledFixed: rescaledFixed, warped: unregistered, metric: metric)
        lap("similarity before")
        warped = result.warp(moving)
        lap("warp image")
        similarityAfter = Registration.similarity(rescaledFixed: rescaledFixed, warped: warped, metric: metric)
        lap("similarity after")
        warpedLabels = movingLabels.map { result.warp($0, interpolation: labelInterpolation) }
        lap("warp labels")
        jacobian = result.jacobian
        foldingPercent = 100 * foldingFraction(jacobian)
        lap("jacobian")
        if let warpedLabels, let fixedLabels, let movingLabels {
            let truth = fixedLabels.geometry == fixed.geometry ? fixedLabels : fixedLabels.resampled(to: fixed.geometry)
            dice = diceScores(prediction: warpedLabels, truth: truth)
            diceBefore = diceScores(prediction: movingLabels.resampled(to: fixed.geometry), truth: truth)
        } else {
            dice = nil; diceBefore = nil
        }
        if fixedLabels != nil { lap("dice") }
        inverseConsistency = result.inverseConsistency()
        lap("inverse consistency")
    }

    /// Wall-clock seconds of all stages.
    public var seconds: Double { result.stages.reduce(0) { $0 + $1.seconds } }

    /// Writes every output into `dir` as one set (`OutputFolder`): a missing or empty folder
    /// receives it; a non-empty one is refused unless `overwrite`, and then may hold only an
    /// earlier set's files (`fileNames`), all replaced in one swap. Never over one of
    /// `protecting` or the sources' paths; every check is made before anything is written, and a
    /// failure leaves `dir` as it was. Returns the paths written.
    @discardableResult
    public func write(to dir: String, sources: RegistrationSources, protecting extra: [String] = [],
                      overwrite: Bool = false, timings: PhaseTimes? = nil) throws -> [String] {
        func lap(_ name: String) { timings?.lap(name) }
        let opts = NIfTIWriter.Options(protectedPaths: sources.paths + extra, overwrite: true).protectingDataFiles()
        func path(_ f: String) -> String { (dir as NSString).appendingPathComponent(f) }
        // Check every destination before writing anything, so a refusal leaves DIR untouched.
        for p in Self.fileNames.map(path) { try ImageFile.checkDestination(p, options: opts) }
        let folder = try OutputFolder(dir, overwrite: overwrite, setNames: Set(Self.fileNames))
        defer { folder.discard() }
        var names = ["warped.nii.gz"]
        try ImageFile.write(warped, to: folder.file("warped.nii.gz"), options: opts)
        lap("write warped")
        if let warpedLabels {
            try ImageFile.write(warpedLabels, to: folder.file("warped_labels.nii.gz"), options: opts)
            names.append("warped_labels.nii.gz")
            lap("write warped_labels")
        }
        try ImageFile.write(result.field, to: folder.file("field.nii.gz"), options: opts)
        lap("write field")
        try ImageFile.write(result.inverseField, to: folder.file("inverse_field.nii.gz"), options: opts)
        lap("write inverse_field")
        try ImageFile.write(jacobian, to: folder.file("jacobian.nii.gz"), options: opts)
        lap("write jacobian")
        try FileIO.writeAtomically(folder.file("affine.txt"), Array(result.affineText.utf8))
        try FileIO.writeAtomically(folder.file("affine_itk.tfm"), Array(result.itkAffineText.utf8))
        names += ["field.nii.gz", "inverse_field.nii.gz", "jacobian.nii.gz", "affine.txt", "affine_itk.tfm"]
        let data = try JSONSerialization.data(withJSONObject: summary(sources: sources), options: [.prettyPrinted, .sortedKeys])
        try FileIO.writeAtomically(folder.file("summary.json"), Array(data) + [10])
        names.append("summary.json")
        try folder.commit()
        lap("write rest, commit")
        return names.map(path)
    }

    /// The contents of `summary.json`.
    public func summary(sources: RegistrationSources) -> [String: Any] {
        var summary: [String: Any] = [
            "fixed": sources.fixed, "moving": sources.moving,
            "metric": metric.rawValue,
            "similarity_before": similarityBefore, "similarity_after": similarityAfter,
            "jacobian_nonpositive_percent": foldingPercent,
            "jacobian_min": Double(jacobian.voxels.min() ?? .nan),
            "inverse_consistency_mm": ["mean": inverseConsistency.mean, "max": inverseConsistency.max],
            "stages": result.stages.map { ["name": $0.name, "seconds": $0.seconds, "iterations": $0.iterations,
                                           "final_values": $0.finalValues.map { $0.isFinite ? $0 : 0 }] as [String: Any] },
            "seconds_total": seconds,
            "peak_memory_mb": peakMemoryMB() ?? -1,
            "threads": threads,
            "affine_ras": result.affine.matrix4x4,
            "conventions": "field.nii.gz: displacement u on the fixed grid, LPS vectors in mm (ITK/ANTs); the fixed->moving map is x -> A(x + u(x)) with A in affine.txt (RAS mm)",
        ]
        if let m = sources.movingLabels {
            summary["moving_labels"] = m
            summary["label_interpolation"] = labelInterpolation.rawValue
        }
        if let i = sources.initialAffine { summary["initial_affine"] = i }
        if let f = sources.fixedLabels { summary["fixed_labels"] = f }
        if let dice {
            summary["dice"] = Dictionary(uniqueKeysWithValues: dice.map { ("\($0.key)", $0.value) })
            summary["mean_dice"] = meanDice(dice)
        }
        if let diceBefore { summary["mean_dice_before"] = meanDice(diceBefore) }
        return summary
    }
}

/// Peak resident memory of this process in MB (VmHWM from /proc/self/status).
public func peakMemoryMB() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first
        return kb.map { $0 / 1024 }
    }
    return nil
}
