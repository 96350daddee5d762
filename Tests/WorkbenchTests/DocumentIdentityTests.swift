import Foundation
import Testing
import VoxtermModel
import SliceRendering
import Terminal
import TestSupport
@testable import NIfTI
@testable import Workbench

/// Work asked for one document and ending after another was opened on the same grid (the
/// subjects of a registration cohort share the fixed image's grid) is dropped by the document's
/// identity, not by its grid: labels read for subject 3 never land on subject 4.
@Suite("Document identity: late file reads and saves are dropped after a same-grid document switch")
struct DocumentIdentityTests {
    let size = TerminalSize(columns: 120, rows: 40)

    /// Subjects on one grid (the phantom's), each image shifted by its number, with a label map
    /// of its own (subject n's labels hold value n + 1 over the phantom's block).
    static func cohort(in dir: URL, count: Int) throws -> [CohortEntry] {
        let doc = phantomDocument()
        var entries: [CohortEntry] = []
        for n in 0..<count {
            var v = doc.image
            for i in v.voxels.indices { v.voxels[i] += Float(n) }
            var l = LabelVolume(geometry: v.geometry)
            for i in l.labels.indices where doc.labels!.labels[i] != 0 { l.labels[i] = Int32(n + 1) }
            let p = dir.appendingPathComponent("s\(n).nii.gz").path
            let lp = dir.appendingPathComponent("s\(n)_labels.nii.gz").path
            try NIfTIWriter.write(v, to: p)
            try NIfTIWriter.write(l, to: lp)
            var e = CohortEntry(subject: "s\(n)", state: "done", score: "", image: p)
            e.labels = lp
            entries.append(e)
        }
        return entries
    }

    /// Pages to the next subject and runs its read job to the end.
    static func pageOn(_ state: inout WorkbenchState) throws {
        let effects = reduce(&state, .cohort(.step(1)))
        guard case .startJob(let id, let request)? = effects.first else {
            Issue.record("no read job: \(effects)"); return
        }
        let outcome = request.work(state: state)(JobContext(id: id, token: CancellationToken(), inbox: JobInbox()))
        _ = reduce(&state, .jobFinished(id, outcome))
    }

    @Test(":open labels read for subject 1 and arriving after Ctrl-N showed subject 2 (same grid) is dropped")
    func lateLabelsAfterCohortPagingAreDropped() throws {
        let dir = try OneSittingTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let entries = try Self.cohort(in: dir, count: 2)
        var state = WorkbenchState(document: try CohortState.load(entries[0]), size: size)
        state.cohort = CohortState(folder: dir.path, entries: entries, index: 0, shown: 0)
        let first = state.documentID
        // A hand-edited map for subject 1 (value 7), asked for while subject 1 is shown.
        var edited = state.document.labels!
        for i in edited.labels.indices where edited.labels[i] != 0 { edited.labels[i] = 7 }
        let editedPath = dir.appendingPathComponent("s0_edited.nii.gz").path
        try NIfTIWriter.write(edited, to: editedPath)
        let effects = ReviewRound3Tests.type(&state, "open labels \(editedPath)")
        guard case .command(let load)? = effects.first else { Issue.record("no file work: \(effects)"); return }
        #expect(load == .load(.labels, path: editedPath, grid: state.document.image.geometry, document: first))
        // Ctrl-N before the read ends: subject 2 is shown, on the same grid.
        var paged = state
        try Self.pageOn(&paged)
        #expect(paged.cohort?.shown == 1 && paged.document.imagePath == entries[1].image)
        #expect(paged.document.image.geometry == state.document.image.geometry)
        #expect(paged.documentID != first)
        // The labels arrive late: subject 2 keeps its own.
        let read = CommandIO.perform(load)
        for a in read { _ = reduce(&paged, a) }
        #expect(paged.document.labelsPath == entries[1].labels)
        #expect(Set(paged.document.labels!.labels) == [0, 2], "subject 2's labels replaced by subject 1's edit")
        #expect(paged.document.presentLabels == [2])
        #expect(paged.message == "a file read for the previous image was dropped: open it again")
        // Without the switch, the same result is taken.
        for a in read { _ = reduce(&state, a) }
        #expect(state.document.labelsPath == editedPath && state.document.presentLabels == [7])
    }

    @Test("truth, overlay and moving read for an image replaced by :open image on the same grid are dropped")
    func lateTruthOverlayMovingAfterOpenImageAreDropped() throws {
        let dir = try OneSittingTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let entries = try Self.cohort(in: dir, count: 2)
        var state = WorkbenchState(document: try CohortState.load(entries[0]), size: size)
        var reads: [[Action]] = []
        for command in ["open truth \(entries[0].labels!)", "open overlay \(entries[0].image):hot",
                        "open moving \(entries[1].image)"] {
            let effects = ReviewRound3Tests.type(&state, command)
            guard case .command(let work)? = effects.first else { Issue.record("no file work for \(command): \(effects)"); return }
            reads.append(CommandIO.perform(work))
        }
        // :open image of subject 2 (same grid) lands before the three reads.
        let next = try WorkbenchDocument.load(image: entries[1].image)
        #expect(next.image.geometry == state.document.image.geometry)
        var opened = state
        _ = reduce(&opened, .command(.loaded(.image(Shared(next)))))
        #expect(opened.document.imagePath == entries[1].image && opened.documentID != state.documentID)
        // The truth alone: dropped, and the message says so (not "truth …", which a message sent
        // after the read used to overwrite it with).
        var truthOnly = opened
        for a in reads[0] { _ = reduce(&truthOnly, a) }
        #expect(truthOnly.document.truth == nil)
        #expect(truthOnly.message == "a file read for the previous image was dropped: open it again")
        for actions in reads { for a in actions { _ = reduce(&opened, a) } }
        #expect(opened.document.truth == nil)
        #expect(opened.document.layers.isEmpty)
        #expect(opened.document.moving == nil && opened.registration == nil)
        // The same reads on the image they were asked for are all taken.
        for actions in reads { for a in actions { _ = reduce(&state, a) } }
        #expect(state.document.truth != nil && state.document.layers.count == 1 && state.document.moving != nil)
        // On the image it was asked for, the truth is announced by the reducer.
        var truthTaken = state
        truthTaken.message = nil
        for a in reads[0] { _ = reduce(&truthTaken, a) }
        #expect(truthTaken.message?.hasPrefix("truth \(entries[0].labels!)") == true && truthTaken.message?.hasSuffix("predictions are scored against it") == true)
    }

    @Test(":save labels ending after a same-grid switch marks nothing of the new document saved")
    func lateSaveDoesNotMarkTheNextDocument() throws {
        let dir = try OneSittingTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let entries = try Self.cohort(in: dir, count: 2)
        var state = WorkbenchState(document: try CohortState.load(entries[0]), size: size)
        state.cohort = CohortState(folder: dir.path, entries: entries, index: 0, shown: 0)
        let path = dir.appendingPathComponent("s0_saved.nii.gz").path
        let effects = ReviewRound3Tests.type(&state, "save labels \(path)")
        guard case .command(let save)? = effects.first else { Issue.record("no save: \(effects)"); return }
        try Self.pageOn(&state)
        // Subject 2, painted once: unsaved, at the revision subject 1's labels were saved at or not.
        state.cursor = [3, 8, 4]
        _ = reduce(&state, .command(.run(.selectLabel("2"))))
        _ = reduce(&state, .editing(.stampAtCursor))
        #expect(state.editing.unsaved)
        // Whatever the revisions, the save is of the other document.
        for a in CommandIO.perform(save) {
            guard case .editing(.saved(let p, let d, _, let note)) = a else { Issue.record("\(a)"); continue }
            _ = reduce(&state, .editing(.saved(path: p, document: d, revision: state.document.revision, note: note)))
        }
        #expect(FileManager.default.fileExists(atPath: path), "the file is written all the same")
        #expect(state.editing.unsaved, "subject 2's edits are not in the file")
        #expect(state.document.labelsPath == entries[1].labels)
        #expect(state.editing.savedPath == nil, ":save labels would offer subject 1's file for subject 2")
        #expect(state.message?.contains("previous image") == true, "\(state.message ?? "")")
    }

    @Test("a support set read while another image was opened: the open image's entries are decided for the image open now")
    func lateManifestDecidesTheOpenImageAgain() throws {
        let doc = phantomDocument()
        var state = WorkbenchState(document: doc, size: size)
        let entry = { (image: String) in
            SupportEntry(example: SupportExample(image: image, labels: "/data/l.nii.gz"), image: doc.image, labels: doc.labels!,
                         isOpenImage: image == "/data/phantom.nii.gz")
        }
        // Read against /data/phantom.nii.gz; /data/other.nii.gz is open when it arrives.
        var other = doc
        other.imagePath = "/data/other.nii.gz"
        _ = reduce(&state, .command(.loaded(.image(Shared(other)))))
        _ = reduce(&state, .curation(.manifestLoaded(path: "/data/set.json", entries: [entry("/data/phantom.nii.gz"), entry("/data/other.nii.gz")])))
        #expect(state.curation.entries.map(\.isOpenImage) == [false, true])
    }

    @Test("every new state names a new document; copies and edits keep the name")
    func documentIDs() {
        var a = WorkbenchState(document: phantomDocument(), size: size)
        let id = a.documentID
        a.cursor = [3, 8, 4]
        _ = reduce(&a, .editing(.stampAtCursor))
        let copy = a
        #expect(a.documentID == id && copy.documentID == id)
        #expect(a.replacingDocument(phantomDocument()).0.documentID != id)
        #expect(WorkbenchState(document: phantomDocument(), size: size).documentID != id)
    }
}
