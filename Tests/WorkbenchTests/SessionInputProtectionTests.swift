import Foundation
import Testing
import TestSupport
import VoxtermModel
import SliceRendering
import Terminal
@testable import Workbench

/// The workbench's saves never write over a file the session read, and replace other existing
/// files only when asked (an audit of every write path, 2026-12-07, found `:save! labels` over
/// `--truth` or an overlay, `:save support` over the label-names table or the compare image, and
/// labels written although their names file then failed).
@Suite("Workbench saves protect every file the session read")
struct SessionInputProtectionTests {
    let size = TerminalSize(columns: 120, rows: 40)

    /// Runs `effects` as the run loop would (file work synchronously here), and the effects
    /// their results start.
    func run(_ effects: [Effect], _ state: inout WorkbenchState) {
        for e in effects {
            var actions: [Action] = []
            switch e {
            case .command(let c): actions = CommandIO.perform(c)
            case .curation(let c): actions = CurationIO.perform(c, state: state)
            default: break
            }
            for a in actions { run(reduce(&state, a), &state) }
        }
    }

    func type(_ state: inout WorkbenchState, _ command: String) {
        run(ReviewRound3Tests.type(&state, command), &state)
    }

    /// The phantom on disk: image, labels, a truth, an overlay image and a label-names table.
    func files(_ dir: URL) throws -> (image: String, labels: String, truth: String, overlay: String, names: String) {
        let doc = phantomDocument()
        let p = { (n: String) in dir.appendingPathComponent(n).path }
        try NIfTIWriter.write(doc.image, to: p("img.nii.gz"))
        try NIfTIWriter.write(doc.labels!, to: p("lab.nii.gz"))
        try NIfTIWriter.write(doc.labels!, to: p("truth.nii.gz"))
        try NIfTIWriter.write(doc.image, to: p("ov.nii.gz"))
        try "1 Left_blob\n2 Right_blob\n".write(toFile: p("names.txt"), atomically: true, encoding: .utf8)
        return (p("img.nii.gz"), p("lab.nii.gz"), p("truth.nii.gz"), p("ov.nii.gz"), p("names.txt"))
    }

    @Test func savesNeverWriteOverTheTruthTheLayersOrTheTable() throws {
        let dir = TestPaths.temporaryDirectory("session-inputs")
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = try files(dir)
        var state = WorkbenchState(document: try WorkbenchDocument.load(image: f.image, labels: f.labels, labelNames: f.names, truth: f.truth), size: size)
        type(&state, "open overlay \(f.overlay)")
        #expect(state.document.layers.count == 1, "\(state.message ?? "")")
        #expect(Set([f.truth, f.overlay, f.names]).isSubset(of: Set(state.document.inputPaths)))
        let before = try [f.truth, f.overlay, f.names].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        for target in [f.truth, f.overlay] {
            type(&state, "save! labels \(target)")
            #expect(state.message?.contains("input") == true, "\(target): \(state.message ?? "")")
        }
        _ = reduce(&state, .curation(.addSlice))
        for target in [f.truth, f.overlay, f.names] {
            type(&state, "save! support \(target)")
            #expect(state.message?.contains("not overwritten") == true || state.message?.contains("over an image") == true,
                    "\(target): \(state.message ?? "")")
        }
        #expect(try [f.truth, f.overlay, f.names].map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == before)
    }

    /// `:save support PATH` over a file that is not the session's manifest needs `!`; the
    /// session's own manifest (saved or loaded here) is rewritten by `M` without asking.
    @Test func aManifestReplacesOnlyItsOwnFileWithoutBang() throws {
        let dir = TestPaths.temporaryDirectory("session-manifest")
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = try files(dir)
        var state = WorkbenchState(document: try WorkbenchDocument.load(image: f.image, labels: f.labels), size: size)
        _ = reduce(&state, .curation(.addSlice))
        let mine = dir.appendingPathComponent("notes.json").path
        try "my notes".write(toFile: mine, atomically: true, encoding: .utf8)
        type(&state, "save support \(mine)")
        #expect(state.message?.contains(":save! support") == true, "\(state.message ?? "")")
        #expect(try String(contentsOfFile: mine, encoding: .utf8) == "my notes")
        type(&state, "save! support \(mine)")
        #expect(state.message?.hasPrefix("saved 1 support example") == true, "\(state.message ?? "")")
        // Now the session's own: M rewrites it.
        state.cursor.z += 2
        _ = reduce(&state, .curation(.addSlice))
        run(reduce(&state, .curation(.saveManifest)), &state)
        #expect(state.message == "saved 2 support examples to \(mine)", "\(state.message ?? "")")
        #expect(try SupportSet.load(mine).examples.count == 2)
        // A new path is created; another session's manifest at the default path is not replaced by M.
        let fresh = dir.appendingPathComponent("fresh.json").path
        type(&state, "save support \(fresh)")
        #expect(FileManager.default.fileExists(atPath: fresh), "\(state.message ?? "")")
        var other = WorkbenchState(document: try WorkbenchDocument.load(image: f.image, labels: f.labels), size: size)
        other.curation.manifestPath = fresh
        _ = reduce(&other, .curation(.addSlice))
        run(reduce(&other, .curation(.saveManifest)), &other)
        #expect(other.message?.contains("already exists") == true, "\(other.message ?? "")")
        #expect(try SupportSet.load(fresh).examples.count == 2, "M replaced a manifest this session never loaded or saved")
    }

    /// `:save! labels` writes the labels and their names file as one set: when the names file
    /// cannot be written (its path is a folder), the labels do not appear either.
    @Test func labelsAndTheirNamesAppearTogether() throws {
        let dir = TestPaths.temporaryDirectory("session-names")
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = try files(dir)
        var state = WorkbenchState(document: try WorkbenchDocument.load(image: f.image, labels: f.labels, labelNames: f.names), size: size)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("new.txt"), withIntermediateDirectories: false)
        let out = dir.appendingPathComponent("new.nii.gz").path
        type(&state, "save! labels \(out)")
        #expect(state.message?.contains("error: save labels") == true, "\(state.message ?? "")")
        #expect(!FileManager.default.fileExists(atPath: out), "the labels were written without their names")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }.isEmpty, "a temporary file was left")
        // With the folder gone, both appear.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("new.txt"))
        type(&state, "save! labels \(out)")
        #expect(FileManager.default.fileExists(atPath: out) && FileManager.default.fileExists(atPath: dir.appendingPathComponent("new.txt").path),
                "\(state.message ?? "")")
    }
}
