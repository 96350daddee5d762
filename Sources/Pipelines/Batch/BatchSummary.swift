import Foundation
import VolumeCore
import NIfTI
import Registration
import Segmentation

/// `DIR/batch.json`: what a batch folder holds — the cohort (file and subjects, in order) and the
/// settings — so `batch status` and `batch report` need only the folder.
public struct BatchManifest: Codable, Sendable, Equatable {
    public var format = "voxterm-batch"
    public var version = 1
    /// The cohort file (absolute path).
    public var cohort: String
    public var subjects: [CohortSubject]
    public var settings: BatchSettings
    /// SLURM array jobs submitted for this folder, newest last.
    public var slurmJobs: [String]

    public init(cohort: String, subjects: [CohortSubject], settings: BatchSettings, slurmJobs: [String] = []) {
        self.cohort = cohort; self.subjects = subjects; self.settings = settings; self.slurmJobs = slurmJobs
    }

    enum CodingKeys: String, CodingKey {
        case format, version, cohort, subjects, settings
        case slurmJobs = "slurm_jobs"
    }

    /// Reads `DIR/batch.json`; a one-line error when the folder is not a batch folder.
    public static func read(_ folder: BatchFolder) throws -> BatchManifest {
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(folder.manifestPath, limit: 256 << 20) } catch let e as FileError {
            throw CohortError("\(folder.path): not a batch folder (\(e.path): \(e.reason))")
        }
        do { return try JSONDecoder().decode(BatchManifest.self, from: Data(bytes)) } catch {
            throw CohortError("\(folder.manifestPath): not a voxterm batch manifest")
        }
    }

    /// Writes `DIR/batch.json` atomically.
    public func write(_ folder: BatchFolder) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileIO.writeAtomically(folder.manifestPath, Array(try enc.encode(self)) + [10])
    }
}

/// The per-subject table of a batch folder: `DIR/summary.csv` and `DIR/summary.json`.
public struct BatchSummary: Sendable {
    public var task: BatchSettings.Task
    /// Records in cohort order.
    public var rows: [SubjectStatus]

    public init(task: BatchSettings.Task, rows: [SubjectStatus]) { self.task = task; self.rows = rows }

    /// Reads every record of the manifest's subjects.
    public init(folder: BatchFolder, manifest: BatchManifest) {
        self.init(task: manifest.settings.task, rows: folder.statuses(manifest.subjects.map(\.subject)))
    }

    /// Label values scored in any row, ascending.
    public var labels: [Int32] {
        Set(rows.flatMap { ($0.dice ?? [:]).keys.compactMap { Int32($0) } }).sorted()
    }

    public func count(_ state: SubjectState) -> Int { rows.filter { $0.state == state }.count }

    /// Rows worst first: failed, then interrupted, running and pending, then done ones by mean
    /// Dice ascending (when scored), then by similarity after registration, worst (highest)
    /// first, then by folding, most first; ties by subject name.
    public var worstFirst: [SubjectStatus] {
        func rank(_ s: SubjectState) -> Int {
            switch s { case .failed: 0; case .interrupted: 1; case .running: 2; case .pending: 3; case .done: 4 }
        }
        return rows.sorted { a, b in
            if rank(a.state) != rank(b.state) { return rank(a.state) < rank(b.state) }
            if let x = a.meanDice, let y = b.meanDice, x != y { return x < y }
            if (a.meanDice == nil) != (b.meanDice == nil) { return a.meanDice != nil }
            if let x = a.similarityAfter, let y = b.similarityAfter, x != y { return x > y }
            if let x = a.foldingPercent, let y = b.foldingPercent, x != y { return x > y }
            return a.subject < b.subject
        }
    }

    /// CSV columns: subject, status, reason, seconds, peak memory, similarity before/after,
    /// folding, mean Dice (before), then `dice_<label>` per label.
    public var csv: String {
        var header = ["subject", "status", "reason", "seconds", "peak_memory_mb", "similarity_before", "similarity_after",
                      "metric", "folding_percent", "mean_dice", "mean_dice_before", "attempts"]
        header += labels.map { "dice_\($0)" }
        var lines = [header.joined(separator: ",")]
        for r in rows {
            var f = [r.subject, r.state.rawValue, r.reason ?? "", num(r.seconds, 2), num(r.peakMemoryMB, 1),
                     num(r.similarityBefore, 6), num(r.similarityAfter, 6), r.metric ?? "", num(r.foldingPercent, 4),
                     num(r.meanDice, 6), num(r.meanDiceBefore, 6), "\(r.attempts)"]
            f += labels.map { num(r.dice?["\($0)"], 6) }
            lines.append(f.map(csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The JSON form: counts plus one object per subject (its status record without the inputs).
    public var json: [String: Any] {
        var counts: [String: Int] = [:]
        for s in SubjectState.allCases { counts[s.rawValue] = count(s) }
        let enc = JSONEncoder()
        let subjects: [[String: Any]] = rows.map { r in
            var o = (try? JSONSerialization.jsonObject(with: enc.encode(r))) as? [String: Any] ?? [:]
            o["inputs"] = nil
            return o
        }
        return ["task": task.rawValue, "subjects": subjects, "counts": counts, "total": rows.count]
    }

    /// Writes `summary.csv` and `summary.json` atomically, under the folder's summary lock so
    /// concurrent SLURM tasks leave the newest table in place.
    public func write(_ folder: BatchFolder) throws {
        let lock = try FileLock.lock(join(folder.statusFolder, ".summary.lock"))
        defer { lock.unlock() }
        try FileIO.writeAtomically(join(folder.path, "summary.csv"), Array(csv.utf8))
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try FileIO.writeAtomically(join(folder.path, "summary.json"), Array(data) + [10])
    }

    /// Re-reads every record and writes the summary (under the lock, so the last writer sees all).
    public static func refresh(_ folder: BatchFolder, manifest: BatchManifest) throws -> BatchSummary {
        let lock = try FileLock.lock(join(folder.statusFolder, ".summary.lock"))
        let s = BatchSummary(folder: folder, manifest: manifest)
        lock.unlock()
        try s.write(folder)
        return s
    }

    /// The table `batch report` prints: worst first, one line per subject.
    public func table(limit: Int? = nil) -> String {
        let head = ["subject", "status", "seconds", "mem MB", "sim before", "sim after", "fold %", "mean Dice", "reason"]
        var rowsText: [[String]] = []
        for r in worstFirst.prefix(limit ?? Int.max) {
            rowsText.append([r.subject, r.state.rawValue, num(r.seconds, 1), num(r.peakMemoryMB, 0),
                             num(r.similarityBefore, 4), num(r.similarityAfter, 4), num(r.foldingPercent, 3),
                             num(r.meanDice, 4), r.reason ?? ""])
        }
        var widths = head.map(\.count)
        for row in rowsText { for (i, c) in row.enumerated() where i < head.count - 1 { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(head)] + rowsText.map(line)).joined(separator: "\n") + "\n"
    }
}

/// A number with `digits` decimals, or an empty cell.
func num(_ v: Double?, _ digits: Int) -> String {
    guard let v, v.isFinite else { return "" }
    return String(format: "%.\(digits)f", v)
}

/// A CSV field, quoted when it holds a comma, quote or line break.
func csvField(_ s: String) -> String {
    s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
        ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}
