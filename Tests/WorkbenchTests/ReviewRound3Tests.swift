import Foundation
import Testing
import VoxtermModel
import SliceRendering
import Terminal
import TestSupport
@testable import NIfTI
@testable import Workbench

/// Findings of the session-4 review, mended: files are prepared where they are read (the reducer
/// makes no pass over a volume), cohort reads are a cancellable job, `:save labels` clears
/// "unsaved" only for the map it wrote, and the statistics panel's sums are the session's.
@Suite("Review round 3: reducers stay light, cohort reads cancel, save race, statistics memo")
struct ReviewRound3Tests {
    let size = TerminalSize(columns: 120, rows: 40)

    static func temporaryDirectory() throws -> URL { try OneSittingTests.temporaryDirectory() }

    /// Runs `command` as typed, returning the effects (file work not performed).
    static func type(_ state: inout WorkbenchState, _ command: String) -> [Effect] {
        var effects = reduce(&state, .command(.begin(":", prefill: command)))
        effects += reduce(&state, .command(.key(.enter)))
        return effects
    }

    // MARK: Item 2: what is read is prepared where it is read

    @Test("the document read for :open image carries its automatic window, and the state takes it as it is")
    func openImageTakesTheWindowComputedAtLoad() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let doc = phantomDocument()
        let path = dir.appendingPathComponent("b.nii.gz").path
        try NIfTIWriter.write(doc.image, to: path)
        let loaded = try WorkbenchDocument.load(image: path)
        #expect(loaded.automaticWindow == IntensityWindow.automatic(loaded.image))
        // A window carried by the document is used as it is (the reducer computes nothing).
        var marked = loaded
        marked.automaticWindow = IntensityWindow(low: 1, high: 2)
        var state = WorkbenchState(document: doc, size: size)
        _ = reduce(&state, .command(.loaded(.image(Shared(marked)))))
        #expect(state.document.imagePath == path)
        #expect(state.automaticWindow == IntensityWindow(low: 1, high: 2) && state.window == state.automaticWindow)
    }

    @Test("4-D: every volume's automatic window is computed at load; stepping takes it from the series")
    func fourDWindowsComeFromTheSeries() throws {
        var doc = phantomDocument()
        var frames: [Volume] = []
        for t in 0..<3 { var v = doc.image; for i in v.voxels.indices { v.voxels[i] *= Float(t + 1) }; frames.append(v) }
        let marks = (0..<3).map { IntensityWindow(low: Double($0), high: Double($0) + 10)! }
        doc.series = VolumeSeries(frames: frames, windows: marks)
        doc.automaticWindow = marks[0]
        var state = WorkbenchState(document: doc, size: size)
        _ = reduce(&state, .stepVolume(2))
        #expect(state.document.series?.index == 2)
        #expect(state.automaticWindow == marks[2] && state.window == marks[2])
        // The file path: WorkbenchDocument.load fills the windows with IntensityWindow.automatic.
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("fourd.nii").path
        let g = frames[0].geometry
        var data: [Float] = []
        for f in frames { data += f.voxels }
        try data.withUnsafeBytes {
            try NIfTIWriter.write(data: $0, datatype: .float32, shape: [g.size.x, g.size.y, g.size.z, 3], geometry: g, intent: 0,
                                  to: path, options: NIfTIWriter.Options())
        }
        let loaded = try WorkbenchDocument.load(image: path)
        #expect(loaded.series?.windows == frames.map { IntensityWindow.automatic($0) })
    }

    @Test(":open labels and :open moving arrive prepared: labels present, moving image and labels on the image grid")
    func labelsAndMovingArrivePrepared() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let doc = phantomDocument()
        // A moving image on a coarser grid, with its labels.
        let coarse = VolumeGeometry(size: [10, 15, 5], spacing: [2, 2, 4], origin: [-10, -15, -10])
        let moving = doc.image.resampled(to: coarse), movingLabels = doc.labels!.resampled(to: coarse)
        let mPath = dir.appendingPathComponent("m.nii.gz").path, mlPath = dir.appendingPathComponent("m_labels.nii.gz").path
        let lPath = dir.appendingPathComponent("l.nii.gz").path
        try NIfTIWriter.write(moving, to: mPath)
        try NIfTIWriter.write(movingLabels, to: mlPath)
        try NIfTIWriter.write(doc.labels!, to: lPath)
        var state = WorkbenchState(document: WorkbenchDocument(imagePath: "/data/phantom.nii.gz", image: doc.image), size: size)
        let grid = doc.image.geometry
        // :open labels: the labels present come with the map.
        let effects = Self.type(&state, "open labels \(lPath)")
        guard case .command(let load)? = effects.first else { Issue.record("no file work: \(effects)"); return }
        let actions = CommandIO.perform(load)
        guard case .command(.loaded(.labels(_, let l, let present, _, _, _)))? = actions.first else { Issue.record("\(actions)"); return }
        #expect(present == l.value.presentLabels && present == [1, 2])
        // The reducer takes the list it is given.
        _ = reduce(&state, .command(.loaded(.labels(path: lPath, l, present: [2], table: nil, tablePath: nil, document: state.documentID))))
        #expect(state.document.presentLabels == [2])
        // :open moving: resampled onto the image grid where it is read.
        var fresh = WorkbenchState(document: WorkbenchDocument(imagePath: "/data/phantom.nii.gz", image: doc.image), size: size)
        let moved = Self.type(&fresh, "open moving \(mPath) \(mlPath)")
        #expect(moved == [.command(.loadMoving(path: mPath, labels: mlPath, grid: grid, document: fresh.documentID))])
        let read = CommandIO.perform(.loadMoving(path: mPath, labels: mlPath, grid: grid, document: fresh.documentID))
        guard case .command(.loaded(.moving(_, let m, _, _, _, _)))? = read.first else { Issue.record("\(read)"); return }
        #expect(m.value.compare.geometry == grid && m.value.labelsOnGrid?.geometry == grid)
        #expect(m.value.moving.geometry == coarse && m.value.labels?.geometry == coarse)
        #expect(m.value.presentLabels == m.value.labelsOnGrid!.presentLabels)
        for a in read { _ = reduce(&fresh, a) }
        #expect(fresh.document.compare.map { $0.voxels == m.value.compare.voxels } == true)
        #expect(fresh.document.labels?.labels == m.value.labelsOnGrid?.labels && fresh.document.labelsFollowMoving)
        #expect(fresh.document.moving?.geometry == coarse)
        // Read for another image (the grid changed meanwhile): dropped, as labels are.
        var other = WorkbenchState(document: WorkbenchDocument(imagePath: "/data/o.nii.gz", image: moving), size: size)
        for a in read { _ = reduce(&other, a) }
        #expect(other.document.moving == nil && other.message == "a file read for the previous image was dropped: open it again")
    }

    // MARK: Item 3: cohort reads are a job; paging on stops the read in flight

    @Test("paging while a subject is read stops that read and reads only the subject asked for")
    func cohortPagingCancelsTheReadInFlight() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let doc = phantomDocument()
        var entries: [CohortEntry] = []
        for n in 0..<4 {
            var v = doc.image
            for i in v.voxels.indices { v.voxels[i] += Float(n) }
            let p = dir.appendingPathComponent("s\(n).nii.gz").path
            try NIfTIWriter.write(v, to: p)
            entries.append(CohortEntry(subject: "s\(n)", state: "done", score: "", image: p))
        }
        var state = WorkbenchState(document: try CohortState.load(entries[0]), size: size)
        state.cohort = CohortState(folder: dir.path, entries: entries, index: 0, shown: 0)
        // Ctrl-N: a read job for subject 2 (index 1).
        var effects = reduce(&state, .cohort(.step(1)))
        guard case .startJob(let first, let request)? = effects.first, let job = request.as(CohortReadJob.self) else {
            Issue.record("no read job: \(effects)"); return
        }
        #expect(job.index == 1 && request.kind == .cohortRead)
        // Ctrl-N twice more while it reads: it is asked to stop; nothing else starts.
        effects = reduce(&state, .cohort(.step(1)))
        #expect(effects == [.cancelJob(first)])
        effects = reduce(&state, .cohort(.step(1)))
        #expect(effects.isEmpty)
        #expect(state.cohort?.index == 3 && state.cohort?.shown == 0 && state.cohort?.reading == 1 && state.cohort?.readStopped == true)
        // The stopped read ends: the subject asked for (index 3) is read next, and only it.
        effects = reduce(&state, .jobFinished(first, .cancelled))
        guard case .startJob(let second, let next)? = effects.first, let nextJob = next.as(CohortReadJob.self) else {
            Issue.record("no second read: \(effects)"); return
        }
        #expect(nextJob.index == 3 && second > first)
        // A cancelled read stops before its files.
        let token = CancellationToken()
        token.cancel()
        #expect(next.work(state: state)(JobContext(id: second, token: token, inbox: JobInbox())) == .cancelled)
        // Run it: subject 4 is shown.
        let outcome = next.work(state: state)(JobContext(id: second, token: CancellationToken(), inbox: JobInbox()))
        _ = reduce(&state, .jobFinished(second, outcome))
        #expect(state.cohort?.shown == 3 && state.cohort?.reading == nil, "\(state.message ?? "")")
        #expect(state.document.imagePath == entries[3].image)
        #expect(!state.jobs.isRunning(.cohortRead))
        // Paging away and back to the subject being read: it is read again, not left stopped.
        effects = reduce(&state, .cohort(.step(-1)))
        guard case .startJob(let third, _)? = effects.first else { Issue.record("no read: \(effects)"); return }
        #expect(reduce(&state, .cohort(.step(-1))) == [.cancelJob(third)])
        _ = reduce(&state, .cohort(.step(1)))   // back to index 2, the one being read
        effects = reduce(&state, .jobFinished(third, .cancelled))
        guard case .startJob(_, let again)? = effects.first else { Issue.record("not read again: \(effects)"); return }
        #expect(again.as(CohortReadJob.self)?.index == 2)
    }

    // MARK: Item 4: :save labels and edits during the write

    @Test(":save labels clears 'unsaved' only when nothing was painted while it wrote")
    func saveLabelsDuringAnEditKeepsUnsaved() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var state = WorkbenchState(document: phantomDocument(), size: size)
        state.cursor = [3, 8, 4]
        _ = reduce(&state, .editing(.stampAtCursor))
        #expect(state.editing.unsaved)
        let path = dir.appendingPathComponent("a_labels.nii.gz").path
        let effects = Self.type(&state, "save labels \(path)")
        guard case .command(let save)? = effects.first else { Issue.record("no save: \(effects)"); return }
        // The user paints while the file is written.
        state.cursor = [12, 20, 6]
        _ = reduce(&state, .editing(.stampAtCursor))
        let painted = state.document.labels!
        for a in CommandIO.perform(save) { _ = reduce(&state, a) }
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(state.editing.unsaved, "the stroke made during the write is not in the file")
        #expect(state.document.labelsPath == "/data/phantom_labels.nii.gz")
        #expect(state.message?.contains("later edits are not saved") == true, "\(state.message ?? "")")
        #expect(try NIfTIReader.read(path).labelVolume().labels != painted.labels)
        // Saved again with nothing in between: saved.
        let again = Self.type(&state, "save! labels \(path)")
        guard case .command(let save2)? = again.first else { Issue.record("no save: \(again)"); return }
        for a in CommandIO.perform(save2) { _ = reduce(&state, a) }
        #expect(!state.editing.unsaved && state.document.labelsPath == path, "\(state.message ?? "")")
        #expect(try NIfTIReader.read(path).labelVolume().labels == painted.labels)
    }

    // MARK: Item 5: the statistics panel's sums belong to the session

    @Test("C between labels and prediction builds no sums again; :open image drops the old ones")
    func statisticsSumsFollowTheSession() throws {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        let cache = SliceCache()
        state.cursor = [3, 8, 4]
        _ = reduce(&state, .command(.run(.selectLabel("1"))))
        _ = reduce(&state, .command(.toggleStatistics))
        var predicted = state.document.labels!
        for i in predicted.labels.indices where predicted.labels[i] == 2 { predicted.labels[i] = 1 }
        let o = PredictionOutcome(id: 7, scope: .volume, prediction: Prediction(labels: predicted, confidence: Volume(geometry: predicted.geometry)),
                                  method: "test")
        #expect(o.presentLabels == [1], "the labels present come with the outcome, found where it is made")
        state.curation.outcome = o
        state.curation.display = .labels
        let onPrediction = StatisticsPanel.statistics(state, cache: cache, label: 1).volume?.voxelCount
        state.curation.display = .off
        let onLabels = StatisticsPanel.statistics(state, cache: cache, label: 1).volume?.voxelCount
        #expect(onPrediction == predicted.labels.filter { $0 == 1 }.count)
        #expect(onLabels == state.document.labels!.labels.filter { $0 == 1 }.count)
        #expect(cache.statistics.builds == 2)
        // Flipping back and forth (C) builds nothing again.
        for display in [PredictionDisplay.labels, .off, .confidence, .off, .labels] {
            state.curation.display = display
            _ = WorkbenchView.render(state, cache: cache)
        }
        #expect(cache.statistics.builds == 2)
        #expect(cache.statistics.entries.count == 2)
        // Another document: the old sums (and the image values they hold) are dropped.
        let replaced = state.replacingDocument(phantomDocument()).0
        _ = StatisticsPanel.statistics(replaced, cache: cache, label: 1)
        #expect(cache.statistics.entries.count == 1 && cache.statistics.builds == 3)
        // A second session's cache is its own: nothing shared between them.
        let other = SliceCache()
        _ = StatisticsPanel.statistics(state, cache: other, label: 1)
        #expect(other.statistics.builds == 1 && cache.statistics.builds == 3)
    }
}
