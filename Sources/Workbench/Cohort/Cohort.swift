import Foundation
import VoxtermModel

/// One subject of a batch folder, as the workbench pages through it (`voxterm view --cohort DIR`).
public struct CohortEntry: Equatable, Sendable {
    /// The subject's name (its row in the cohort file, its folder in DIR).
    public var subject: String
    /// `done`, `failed`, `interrupted`, `running` or `pending`.
    public var state: String
    /// The headline score shown with the name: "mean Dice 0.712", "similarity -0.412", or the
    /// failure's one-line reason.
    public var score: String
    /// The image shown: register, the warped image (DIR/<subject>/warped.nii.gz); segment, the
    /// subject's image; a subject without outputs, its input image.
    public var image: String
    /// The overlay: register, warped_labels.nii.gz; segment, prediction.nii.gz (nil when absent).
    public var labels: String?
    /// Reference labels the overlay is scored against (TP/FP/FN): register, the fixed image's
    /// labels; segment, the row's truth.
    public var truth: String?
    /// Register: the fixed image, as the second image (b: checkerboard, difference, ...).
    public var compare: String?

    /// "sub07 · mean Dice 0.712" (with the state when not done).
    public var caption: String {
        subject + (score.isEmpty ? "" : " · " + score) + (state == "done" || state == "failed" ? "" : " (\(state))")
    }
}

/// The subjects of a batch folder worst first (`BatchSummary.worstFirst`, the order of
/// `voxterm batch report`) and which one is on screen.
public struct CohortState: Equatable, Sendable {
    /// The batch folder.
    public var folder: String
    /// Subjects, worst first.
    public var entries: [CohortEntry]
    /// The subject last asked for (0-based into `entries`).
    public var index: Int
    /// The subject whose files are on screen (nil before the first one loaded).
    public var shown: Int?
    /// The subject the running read job reads (nil when none runs), and whether paging on
    /// asked it to stop.
    public var reading: Int?
    public var readStopped = false
    /// Set after one warning about unsaved label edits: the next step drops them.
    public var editsWarned = false

    public init(folder: String, entries: [CohortEntry], index: Int = 0, shown: Int? = nil) {
        self.folder = folder; self.entries = entries; self.index = index; self.shown = shown
    }

    /// "subject 2/12: sub07 · mean Dice 0.712" for the title bar.
    public var caption: String? {
        guard let s = shown, s < entries.count else { return nil }
        return "subject \(s + 1)/\(entries.count) \(entries[s].caption)"
    }

    /// Reads DIR/batch.json and the status records (as `voxterm batch report` does) into the
    /// worst-first list; a one-line error when DIR is not a batch folder or has no subjects.
    public static func read(_ dir: String) throws -> CohortState {
        let path = dir.hasPrefix("/") ? dir : FileManager.default.currentDirectoryPath + "/" + dir
        let folder = BatchFolder(path)
        let manifest = try BatchManifest.read(folder)
        let summary = BatchSummary(folder: folder, manifest: manifest)
        let rows = Dictionary(manifest.subjects.map { ($0.subject, $0) }, uniquingKeysWith: { a, _ in a })
        let settings = manifest.settings
        var entries: [CohortEntry] = []
        for status in summary.worstFirst {
            guard let row = rows[status.subject] else { continue }
            let view = SubjectView(folder: folder, settings: settings, row: row, status: status)
            var score = ""
            switch status.headline {
            case .dice(let d)?: score = String(format: "mean Dice %.3f", d)
            case .similarity(let v)?: score = String(format: "similarity %.3f", v)
            case nil: break
            }
            if status.state == .failed { score = "failed: " + (status.reason ?? "no reason recorded") }
            var e = CohortEntry(subject: row.subject, state: status.state.rawValue, score: score, image: view.image)
            (e.labels, e.truth, e.compare) = (view.labels, view.truth, view.compare)
            entries.append(e)
        }
        guard !entries.isEmpty else { throw CohortError("\(path): the batch folder lists no subjects") }
        return CohortState(folder: path, entries: entries)
    }

    /// Reads a subject's files into a document. Overlays on another grid are resampled onto the
    /// image's (nearest neighbour) so a hand-made cohort still shows.
    /// `isCancelled` is asked between files: a read for a subject the user has paged past stops there.
    public static func load(_ e: CohortEntry, isCancelled: () -> Bool = { false }) throws -> WorkbenchDocument {
        func check() throws { if isCancelled() { throw CancellationError() } }
        try check()
        var doc = try WorkbenchDocument.load(image: e.image, compare: e.compare)
        let grid = doc.image.geometry
        func onGrid(_ path: String) throws -> LabelVolume {
            try check()
            let l = try ImageFile.read(path).labelVolume()
            return l.geometry == grid ? l : l.resampled(to: grid)
        }
        if let p = e.labels {
            let l = try onGrid(p)
            doc.labels = l
            doc.labelsPath = p
            doc.presentLabels = l.presentLabels
            if let (table, t) = try LabelTable.readSidecar(forLabels: p, e.truth) {
                doc.labelTable = table
                doc.labelTablePath = t
            }
        }
        if let t = e.truth, doc.labels != nil { doc.truth = try onGrid(t) }
        if e.state == "failed" { doc.notes.append(e.score) }
        return doc
    }
}

/// Paging through a cohort (wrapped in `Action.cohort`).
public enum CohortAction: Equatable, Sendable {
    /// Shows the subject `delta` places further in the worst-first order (1 next, -1 previous),
    /// or the first (worst) one for `Int.min`.
    case step(Int)
}

extension JobKind {
    /// Reads a cohort subject's files (`CohortReadJob`); at most one runs, and paging on cancels it.
    public static let cohortRead = JobKind("cohort read") { state, id, event in reduceCohortRead(&state, id, event) }
}

/// Read the files of subject `index` of the cohort (`CohortState.load`), stopping between files
/// when cancelled; returns a `CohortSubject`.
public struct CohortReadJob: JobSpec, Equatable {
    public var index: Int
    public var entry: CohortEntry
    public var kind: JobKind { .cohortRead }
    public func work(state: WorkbenchState) -> JobWork {
        let index = self.index, entry = self.entry
        return { context in
            do {
                let doc = try CohortState.load(entry, isCancelled: { context.isCancelled })
                return .finished(JobValue(CohortSubject(index: index, document: Shared(doc))))
            } catch is CancellationError {
                return .cancelled
            } catch {
                return .failed("\(error)")
            }
        }
    }
}

/// A subject's files, read (the result of a `CohortReadJob`).
public struct CohortSubject: Equatable, Sendable {
    public var index: Int
    public var document: Shared<WorkbenchDocument>
}

/// Starts reading the subject asked for (`cohort.index`), unless a read runs: then that read is
/// stopped and the subject asked for is read when it has ended, so holding Ctrl-N reads no
/// subject in between (and at most one at a time).
private func readAskedFor(_ state: inout WorkbenchState) -> [Effect] {
    guard var cohort = state.cohort else { return [] }
    if let running = state.jobs.running[.cohortRead] {
        // Already stopping: the subject asked for is read when it has ended.
        if cohort.readStopped || cohort.reading == cohort.index { return [] }
        cohort.readStopped = true
        state.cohort = cohort
        return [.cancelJob(running)]
    }
    cohort.reading = cohort.index
    cohort.readStopped = false
    state.cohort = cohort
    return [state.jobs.start(JobRequest(CohortReadJob(index: cohort.index, entry: cohort.entries[cohort.index])))]
}

/// Applies a cohort action.
func reduceCohort(_ state: inout WorkbenchState, _ action: CohortAction) -> [Effect] {
    guard var cohort = state.cohort else {
        state.message = "no cohort: open a batch folder with voxterm view --cohort DIR"
        return []
    }
    switch action {
    case .step(let delta):
        if state.editing.unsaved && !cohort.editsWarned {
            cohort.editsWarned = true
            state.cohort = cohort
            state.message = "unsaved label edits: :save labels PATH keeps them; the same key again drops them"
            return []
        }
        let n = cohort.entries.count
        let next = delta == Int.min ? 0 : min(n - 1, max(0, cohort.index + delta))
        if next == cohort.index && (cohort.shown == next || cohort.reading == next) {
            if cohort.shown == next {
                state.message = next == 0 ? "subject 1/\(n) is the first (worst)" : "subject \(n)/\(n) is the last (best)"
            }
            return []
        }
        cohort.index = next
        cohort.editsWarned = false
        state.cohort = cohort
        state.message = "reading subject \(next + 1)/\(n): \(cohort.entries[next].subject)…"
        return readAskedFor(&state)
    }
}

/// The cohort read job's events: the subject asked for is shown (or its error said); a read of a
/// subject paged past is dropped and the one asked for is read next.
func reduceCohortRead(_ state: inout WorkbenchState, _ id: JobID, _ event: JobEvent) -> [Effect] {
    guard var cohort = state.cohort, case .finished(let outcome) = event else { return [] }
    let read = cohort.reading, stopped = cohort.readStopped
    cohort.reading = nil
    cohort.readStopped = false
    state.cohort = cohort
    // A subject paged past, or the one asked for but stopped by paging away and back: read it now.
    if read != cohort.index || (stopped && outcome == .cancelled) { return readAskedFor(&state) }
    let i = cohort.index
    switch outcome {
    case .cancelled:
        state.message = "reading subject \(i + 1)/\(cohort.entries.count) stopped (Ctrl-N/Ctrl-P move on)"
    case .failed(let reason):
        state.message = "error: subject \(i + 1)/\(cohort.entries.count) \(cohort.entries[i].subject): \(reason) (Ctrl-N/Ctrl-P move on)"
    case .finished(let value):
        guard let subject = value.as(CohortSubject.self) else { return [] }
        return show(&state, subject)
    }
    return []
}

/// Shows a subject whose files were read: a new document, keeping the session's view settings.
private func show(_ state: inout WorkbenchState, _ subject: CohortSubject) -> [Effect] {
    guard var cohort = state.cohort else { return [] }
    let i = subject.index, doc = subject.document
    cohort.shown = i
    let old = state
    let replaced = old.replacingDocument(doc.value)
    var next = replaced.0
    let effects = replaced.1
    next.zoom = old.zoom
    next.overlay = old.overlay
    next.overlay.hidden = []
    if next.hasCompare { next.compareMode = old.hasCompare ? old.compareMode : .sideBySide }
    // Subjects of a registration batch share the fixed grid: the crosshair stays where it was.
    if old.document.image.geometry.size == doc.value.image.geometry.size { next.cursor = old.cursor }
    next.cohort = cohort
    let e = cohort.entries[i]
    next.message = "subject \(i + 1)/\(cohort.entries.count): \(e.caption)" + (e.labels == nil && e.state != "failed" ? " (no outputs)" : "") + " · Ctrl-N next, Ctrl-P previous"
    state = next
    return effects
}

extension KeyTable {
    /// Cohort keys (normal mode; they act when a batch folder is open with `--cohort`).
    public static let cohort: [KeyBinding] = [
        KeyBinding([.control("n")], .cohort(.step(1)), "Cohort (--cohort DIR)", "next subject (worst first order)"),
        KeyBinding([.control("p")], .cohort(.step(-1)), "Cohort (--cohort DIR)", "previous subject"),
        KeyBinding([.home], .cohort(.step(Int.min)), "Cohort (--cohort DIR)", "first (worst) subject"),
    ]
}
