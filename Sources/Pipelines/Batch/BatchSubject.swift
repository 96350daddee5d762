import Foundation
import Synchronization
import VolumeCore
import NIfTI
import ImageIO
import Registration
import Segmentation

/// What a batch does to every subject, with the settings shared by all of them.
public struct BatchSettings: Sendable, Equatable, Codable {
    public enum Task: String, Sendable, Codable, CaseIterable {
        /// Register each subject's image (moving) to a fixed image, as `voxterm register`.
        case register
        /// Segment each subject's image from a support set, as `voxterm segment --support-set`.
        case segment
    }

    public var task: Task
    /// The fixed image for every row without a `fixed` column (register).
    public var fixed: String?
    /// Labels on the fixed image's grid for rows without `truth` (register): Dice of the warped labels.
    public var fixedLabels: String?
    /// The support-set manifest for every row without a `support_set` column (segment).
    public var supportSet: String?
    /// Registration preset for the segment aligner.
    public var preset: RegistrationPlan.Preset
    /// Register: the registration options as words (`--preset fast --mode both --levels 4x2x1 ...`),
    /// the plan's identity in fingerprints and what SLURM tasks are given.
    public var registrationOptions: [String]
    /// Segment: label fusion.
    public var fusion: FusionMethod

    public init(task: Task, fixed: String? = nil, fixedLabels: String? = nil, supportSet: String? = nil,
                preset: RegistrationPlan.Preset = .default, registrationOptions: [String] = [], fusion: FusionMethod = .weighted) {
        self.task = task; self.fixed = fixed; self.fixedLabels = fixedLabels; self.supportSet = supportSet
        self.preset = preset; self.registrationOptions = registrationOptions; self.fusion = fusion
    }

    enum CodingKeys: String, CodingKey {
        case task, fixed, preset, fusion
        case fixedLabels = "fixed_labels", supportSet = "support_set", registrationOptions = "registration_options"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        task = try c.decode(Task.self, forKey: .task)
        fixed = try c.decodeIfPresent(String.self, forKey: .fixed)
        fixedLabels = try c.decodeIfPresent(String.self, forKey: .fixedLabels)
        supportSet = try c.decodeIfPresent(String.self, forKey: .supportSet)
        preset = RegistrationPlan.Preset(rawValue: try c.decode(String.self, forKey: .preset)) ?? .default
        registrationOptions = try c.decodeIfPresent([String].self, forKey: .registrationOptions) ?? []
        fusion = FusionMethod(rawValue: try c.decode(String.self, forKey: .fusion)) ?? .weighted
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(task, forKey: .task)
        try c.encodeIfPresent(fixed, forKey: .fixed)
        try c.encodeIfPresent(fixedLabels, forKey: .fixedLabels)
        try c.encodeIfPresent(supportSet, forKey: .supportSet)
        try c.encode(preset.rawValue, forKey: .preset)
        try c.encode(registrationOptions, forKey: .registrationOptions)
        try c.encode(fusion.rawValue, forKey: .fusion)
    }

    /// The file names a subject's result folder can hold: those of `voxterm register` or
    /// `SubjectRunner.segmentFileNames` (the only names an earlier result may replace).
    public var resultNames: Set<String> {
        Set(task == .register ? RegistrationOutputs.fileNames : SubjectRunner.segmentFileNames)
    }

    /// Checks the settings against the cohort: every row has a fixed image or support set.
    public func validate(for cohort: Cohort) throws {
        switch task {
        case .register:
            if fixed == nil, let row = cohort.subjects.first(where: { $0.fixed == nil }) {
                throw CohortError("\(cohort.path): subject \(row.subject) has no fixed image: give --fixed TEMPLATE or a fixed column")
            }
        case .segment:
            if supportSet == nil, let row = cohort.subjects.first(where: { $0.supportSet == nil }) {
                throw CohortError("\(cohort.path): subject \(row.subject) has no support set: give --support-set SET.json or a support_set column")
            }
        }
    }

    /// The settings part of a subject's fingerprint (inputs are added by their checksums).
    var fingerprintText: String {
        task == .register ? "task=register " + registrationOptions.joined(separator: " ") + " v1" + levelRulesMark
            : "task=segment preset=\(preset.rawValue) fusion=\(fusion.rawValue) v1"
    }

    /// The settings part of `row`'s fingerprint: with " labels=generic" for a registration that
    /// carries the subject's labels, whose warped labels are ANTs' GenericLabel since 2026-12-07
    /// (nearest voxel before), so a resumed cohort re-runs such a subject done before rather than
    /// mixing the two label samplings in one summary.csv (review h53). Other subjects unchanged.
    func fingerprintText(for row: CohortSubject) -> String {
        fingerprintText + (task == .register && row.labels != nil ? " labels=generic" : "")
    }

    /// " rules2" when `--iterations` or `--smoothing` is given without `--levels`: those words run
    /// other levels since 2026-12-07 (the preset's level rules now apply to them), so a subject done
    /// before under the same words is run again rather than mixed with new ones. Empty otherwise, so
    /// every other fingerprint is unchanged.
    var levelRulesMark: String {
        func given(_ name: String) -> Bool { registrationOptions.contains { $0 == name || $0.hasPrefix(name + "=") } }
        return (given("--iterations") || given("--smoothing")) && !given("--levels") ? " rules2" : ""
    }
}

/// The result of one subject: its scores, as they go into the status record.
public struct SubjectScores: Sendable {
    public var similarityBefore: Double?
    public var similarityAfter: Double?
    public var metric: String?
    public var foldingPercent: Double?
    public var dice: [Int32: Double]?
    public var meanDiceBefore: Double?
    public var threads: Int
}

/// Thrown when a subject was stopped by cancellation (Ctrl-C, SIGTERM, `scancel`).
public struct SubjectInterrupted: Error {}

/// Runs single subjects: the same loading, registration / prediction, scoring and output files
/// as `voxterm register` and `voxterm segment --support-set`, written atomically into
/// `DIR/<subject>/`.
public struct SubjectRunner: Sendable {
    public let settings: BatchSettings
    /// The registration plan of `register` (built from the same options as `voxterm register`).
    public let plan: RegistrationPlan
    public let folder: BatchFolder
    let supports = SupportCache()

    public init(settings: BatchSettings, plan: RegistrationPlan, folder: BatchFolder) {
        self.settings = settings; self.plan = plan; self.folder = folder
    }

    /// Every input file of `row` (never written over): images, labels, manifests and support examples.
    public func inputs(of row: CohortSubject) -> [String] {
        switch settings.task {
        case .register:
            return [row.fixed ?? settings.fixed, row.image, row.labels, row.truth ?? settings.fixedLabels].compactMap { $0 }
        case .segment:
            let manifest = row.supportSet ?? settings.supportSet
            var paths = [row.image, row.truth, manifest].compactMap { $0 }
            if let manifest, let set = try? SupportSet.load(manifest, validate: false) {
                paths += set.examples.flatMap { [$0.image, $0.labels] }
            }
            return paths
        }
    }

    /// Checksums of the inputs ("missing: reason" for an unreadable one, so a fixed file changes
    /// the fingerprint) and the fingerprint over settings and inputs.
    public func fingerprint(of row: CohortSubject) -> (inputs: [String: String], fingerprint: String) {
        var sums: [String: String] = [:]
        for p in inputs(of: row) {
            do { sums[p] = try Self.checksum(p) } catch { sums[p] = "unreadable: \(describeFileError(error))" }
        }
        var c = Checksum64()
        c.update(settings.fingerprintText(for: row) + coarseFieldFloorMark(row))
        // Roles matter (the same file as image or as labels), so hash in role order, then the sums.
        for p in inputs(of: row) { c.update(p); c.update(sums[p] ?? "") }
        return (sums, c.hex)
    }

    /// " floorN" when the plan raises the full-resolution iterations on this subject's grid to N:
    /// the default preset on a 1 mm brain (its full-resolution field capped at 2 mm) since
    /// 2026-12-07 (`RegistrationStage.minimumCoarseFieldIterations`; 5 before), so a cohort resumed
    /// across that change runs such a subject again rather than mixing both in one summary.csv
    /// (review h58). The grid: the fixed image's (register) or the query's (segment: its supports
    /// are registered onto it), from its header; empty for every other grid, so 2 mm and 2-D
    /// cohorts keep their fingerprints. A DICOM series is not converted for this (no mark).
    func coarseFieldFloorMark(_ row: CohortSubject) -> String {
        let stages: [RegistrationStage], gridPath: String?
        switch settings.task {
        case .register: (stages, gridPath) = (plan.stages, row.fixed ?? settings.fixed)
        case .segment: (stages, gridPath) = (RegistrationPlan.preset(settings.preset, mode: .both).stages, row.image)
        }
        guard stages.contains(where: { $0.minimumCoarseFieldIterations != nil }), let path = gridPath,
              !DICOM.isSeriesSelector(path), (try? FormatDetection.format(of: path)) != .dicom,
              let h = try? ImageFile.readHeader(path) else { return "" }
        let shape = h.shape
        let g = VolumeGeometry(size: SIMD3(shape[0], shape.count > 1 ? shape[1] : 1, shape.count > 2 ? shape[2] : 1))
        let raised = stages.compactMap { s in s.hasCoarseFullResolutionField(on: g) ? s.minimumCoarseFieldIterations : nil }
        return raised.max().map { " floor\($0)" } ?? ""
    }

    /// A file's checksum; for a folder (a DICOM series), the checksum over its entries' names and
    /// contents.
    static func checksum(_ path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { return try Checksum64.file(path) }
        var c = Checksum64()
        for name in try FileManager.default.contentsOfDirectory(atPath: path).sorted() {
            c.update(name)
            c.update((try? Checksum64.file(join(path, name))) ?? "-")
        }
        return "folder:" + c.hex
    }

    /// Runs `row` and moves its outputs into `DIR/<subject>/` (replacing an older result only
    /// once the new one is complete). Throws `SubjectInterrupted` when `token` is cancelled, or
    /// an error whose description is the one-line reason.
    public func run(_ row: CohortSubject, token: CancellationToken) throws -> SubjectScores {
        let final = folder.subjectFolder(row.subject)
        let partial = folder.path + "/." + row.subject + ".partial-\(getpid())"
        removeLeftovers(of: row.subject)
        try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        do {
            let scores: SubjectScores
            switch settings.task {
            case .register: scores = try register(row, into: partial, token: token)
            case .segment: scores = try segment(row, into: partial, token: token)
            }
            if token.isCancelled { throw SubjectInterrupted() }
            try swapIn(partial, as: final)
            return scores
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    /// Removes `.partial-`/`.old-` folders a killed run of this subject left behind.
    func removeLeftovers(of subject: String) {
        let prefix = "." + subject + "."
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        where name.hasPrefix(prefix) && (name.dropFirst(prefix.count).hasPrefix("partial-") || name.dropFirst(prefix.count).hasPrefix("old-")) {
            try? FileManager.default.removeItem(atPath: join(folder.path, name))
        }
    }

    /// Renames the finished folder into place in one step (`FileIO.swapFolder`: renameat2
    /// RENAME_EXCHANGE with an earlier result, the rename shared with `OutputFolder`), so at every
    /// moment `DIR/<subject>/` is either the complete old or the complete new result; the old one
    /// is then removed. (On a file system without RENAME_EXCHANGE, as NFS, the earlier result is
    /// renamed aside first, so `DIR/<subject>` is missing between two renames there.) Refuses (the subject fails, nothing removed) when what is at
    /// `DIR/<subject>` is not an earlier result (`checkSubjectFolder`), checked again here because
    /// files may have been put there while the subject ran.
    func swapIn(_ partial: String, as final: String) throws {
        let subject = (final as NSString).lastPathComponent
        try folder.checkSubjectFolder(subject, resultNames: settings.resultNames)
        // Where RENAME_EXCHANGE is missing (NFS): the earlier result is renamed aside first, a
        // `.old-` folder `removeLeftovers` removes if the process dies right then.
        let aside = folder.path + "/." + subject + ".old-\(getpid())"
        if try FileIO.swapFolder(partial, into: final, naming: final, aside: aside) {
            try? FileManager.default.removeItem(atPath: partial) // the earlier result, exchanged out
        }
    }

    /// Refuses, before any work, a cohort whose run would remove or replace what voxterm did not
    /// write: an input file (image, labels, truth, fixed, support set or its examples) of any row
    /// that is, or lies inside, a subject's folder `DIR/<subject>` (replaced when that subject
    /// finishes), and a `DIR/<subject>` that is not an earlier result (`checkSubjectFolder`).
    /// Throws a one-line `FileError` naming the path.
    public func checkCohortOutputs(_ subjects: [CohortSubject]) throws {
        let names = Set(subjects.map(\.subject))
        let dirs = Set([(folder.path as NSString).standardizingPath, FileIO.realPath(folder.path)].compactMap { $0 })
        for row in subjects {
            for input in inputs(of: row) {
                // The path as written (its folder resolved) and the file it leads to (links followed).
                let spellings = [FileIO.comparablePath(input), FileIO.realPath(input), (input as NSString).standardizingPath]
                for p in spellings.compactMap({ $0 }) {
                    for d in dirs where p.hasPrefix(d + "/") {
                        let first = String(p.dropFirst(d.count + 1).prefix { $0 != "/" })
                        guard names.contains(first) else { continue }
                        let role = first == row.subject ? "its" : "subject \(first)'s"
                        let place = p == d + "/" + first ? "is the path of \(role) output folder"
                            : "lies in \(role) output folder \(folder.subjectFolder(first))"
                        throw FileError(path: input, reason: "is an input of subject \(row.subject) and \(place), which voxterm batch replaces with the results; move the inputs out of it or choose another --out")
                    }
                }
            }
        }
        // A subject recorded done with its folder in place is skipped unless its inputs or settings
        // changed; its folder is not touched then, so a note left in it must not stop the cohort.
        // (A redo checks the folder again before replacing it: that subject fails, nothing removed.)
        for row in subjects where !isRecordedDone(row.subject) {
            try folder.checkSubjectFolder(row.subject, resultNames: settings.resultNames)
        }
    }

    /// Whether `subject` is recorded done and its folder is there (the first half of the skip rule;
    /// the fingerprint decides the rest, when the subject's turn comes).
    func isRecordedDone(_ subject: String) -> Bool {
        folder.status(of: subject)?.state == .done && FileIO.exists(folder.subjectFolder(subject))
    }

    func register(_ row: CohortSubject, into dir: String, token: CancellationToken) throws -> SubjectScores {
        guard let fixedPath = row.fixed ?? settings.fixed else { throw CohortError("no fixed image: give --fixed or a fixed column") }
        let fixedLabelsPath = row.truth ?? settings.fixedLabels
        let fixed = try ImageFile.read(fixedPath).volume()
        let moving = try ImageFile.read(row.image).volume()
        let movingLabels = try row.labels.map { try readLabels($0, matching: moving.geometry, imagePath: row.image) }
        let fixedLabels = try fixedLabelsPath.map { try readLabels($0, matching: fixed.geometry, imagePath: fixedPath) }
        let result: RegistrationResult
        do {
            result = try Registration.register(fixed: fixed, moving: moving, plan: plan, token: token)
        } catch RegistrationError.cancelled {
            throw SubjectInterrupted()
        } catch RegistrationError.unusableImage(let role, let reason) {
            throw CohortError("\(role == "fixed" ? fixedPath : row.image): \(reason)")
        }
        if token.isCancelled { throw SubjectInterrupted() }
        let outputs = RegistrationOutputs(result: result, fixed: fixed, moving: moving, movingLabels: movingLabels,
                                          fixedLabels: fixedLabels, metric: plan.stages.last!.metric)
        if token.isCancelled { throw SubjectInterrupted() }
        try outputs.write(to: dir, sources: RegistrationSources(fixed: fixedPath, moving: row.image, movingLabels: row.labels,
                                                                fixedLabels: fixedLabelsPath))
        return SubjectScores(similarityBefore: outputs.similarityBefore, similarityAfter: outputs.similarityAfter,
                             metric: outputs.metric.rawValue, foldingPercent: outputs.foldingPercent, dice: outputs.dice,
                             meanDiceBefore: outputs.diceBefore.map(meanDice), threads: outputs.threads)
    }

    /// Files `batch segment` writes per subject.
    public static let segmentFileNames = ["prediction.nii.gz", "confidence.nii.gz", "summary.json"]

    func segment(_ row: CohortSubject, into dir: String, token: CancellationToken) throws -> SubjectScores {
        guard let manifest = row.supportSet ?? settings.supportSet else { throw CohortError("no support set: give --support-set or a support_set column") }
        let preset = settings.preset, fusion = settings.fusion
        let loaded = try supports.load(manifest)
        let query = try ImageFile.read(row.image).volume()
        let truth = try row.truth.map { try ImageFile.read($0).labelVolume() }
        if let truth, let t = row.truth, truth.geometry.size != query.geometry.size {
            throw CohortError("\(t): truth is not on the grid of \(row.image)")
        }
        let start = monotonicSeconds()
        let predictor = RegistrationPropagationPredictor(aligner: EngineAligner.volumes(preset).cancelled(by: token),
                                                         fusion: FusionOptions(method: fusion))
        let prediction: Prediction
        do {
            prediction = try predictor.predict(query: query, supports: loaded, progress: { _ in }, isCancelled: { token.isCancelled })
        } catch SegmentationError.cancelled { throw SubjectInterrupted() }
          catch RegistrationError.cancelled { throw SubjectInterrupted() }
        if token.isCancelled { throw SubjectInterrupted() }
        let dice = truth.map { predictionDice(prediction.labels, truth: $0) }
        let options = NIfTIWriter.Options(protectedPaths: inputs(of: row), overwrite: true)
        try ImageFile.write(prediction.labels, to: join(dir, "prediction.nii.gz"), options: options)
        try ImageFile.write(prediction.confidence, to: join(dir, "confidence.nii.gz"), options: options)
        var summary: [String: Any] = [
            "query": row.image, "support_set": manifest, "supports": loaded.count, "fusion": fusion.rawValue,
            "preset": preset.rawValue, "seconds_total": monotonicSeconds() - start,
            "labels_present": prediction.labels.presentLabels.count, "peak_memory_mb": peakMemoryMB() ?? -1,
            "threads": effectiveThreadCount,
        ]
        if let dice, let t = row.truth {
            summary["truth"] = t
            summary["dice"] = Dictionary(uniqueKeysWithValues: dice.map { ("\($0.key)", $0.value) })
            summary["mean_dice"] = meanDice(dice)
        }
        let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try FileIO.writeAtomically(join(dir, "summary.json"), Array(data) + [10])
        return SubjectScores(dice: dice, threads: effectiveThreadCount)
    }

    /// Reads a label map and checks it lies on its image's grid (as `voxterm register` does).
    func readLabels(_ path: String, matching g: VolumeGeometry, imagePath: String) throws -> LabelVolume {
        let labels = try ImageFile.read(path).labelVolume()
        let lg = labels.geometry
        guard lg.size == g.size, lg.affine.maxDifference(to: g.affine) < 1e-3 * max(1, g.spacing.max()) else {
            throw FileError(path: path, reason: "labels are on grid \(lg.size.x)x\(lg.size.y)x\(lg.size.z) but \(imagePath) is on \(g.size.x)x\(g.size.y)x\(g.size.z) or has a different affine; labels must share their image's grid")
        }
        return labels
    }
}

/// Support sets loaded once per manifest and shared by the subjects that use them.
final class SupportCache: @unchecked Sendable {
    private let lock = NSLock()
    private var loaded: [String: Result<[LoadedSupport], Error>] = [:]

    func load(_ manifest: String) throws -> [LoadedSupport] {
        lock.lock()
        defer { lock.unlock() }
        if let r = loaded[manifest] { return try r.get() }
        let r = Result<[LoadedSupport], Error> {
            let set = try SupportSet.load(manifest)
            guard !set.examples.isEmpty else {
                throw SegmentationError.manifest(manifest, "lists no examples; add at least one image with its labels")
            }
            return try set.loadedSupports()
        }
        loaded[manifest] = r
        return try r.get()
    }
}
