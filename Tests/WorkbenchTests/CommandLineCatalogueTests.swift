import Foundation
import Testing
import TestSupport
import VoxtermModel
import Terminal
@testable import Workbench

/// The rows of docs/bad-inputs.md's "The workbench command line" table, typed one by one at the
/// `:` prompt of a session on the 2 mm sample with its AAL labels: each must show exactly the
/// message the table gives (the table is read from the file, so it cannot drift from the program).
@Suite("Command-line errors of docs/bad-inputs.md")
struct CommandLineCatalogueTests {
    /// (typed command without `:`, message) of every row of the section.
    static func rows() throws -> [(String, String)] {
        let text = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("docs/bad-inputs.md"), encoding: .utf8)
        guard let start = text.range(of: "## The workbench command line") else { return [] }
        var rows: [(String, String)] = []
        for line in text[start.upperBound...].split(separator: "\n") {
            if line.hasPrefix("## ") { break }
            guard line.hasPrefix("| `:") else { continue }
            // | `:typed` | `message` | test |
            let cells = line.components(separatedBy: "` | `")
            guard cells.count >= 2, let end = cells[1].range(of: "` |") else { continue }
            rows.append((String(cells[0].dropFirst(4)), String(cells[1][..<end.lowerBound])))
        }
        return rows
    }

    @Test func everyRowShowsItsMessage() throws {
        let rows = try Self.rows()
        #expect(rows.count >= 30, "the table has \(rows.count) rows")
        let dir = TestPaths.temporaryDirectory("command-catalogue")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = TestPaths.samples.path
        for (from, to) in [("colin27_2mm.nii.gz", "scan.nii.gz"), ("colin27_2mm_aal.nii.gz", "scan_aal.nii.gz")] {
            try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent(to).path, withDestinationPath: "\(s)/\(from)")
        }
        try "hello\n".write(toFile: dir.appendingPathComponent("notes.txt").path, atomically: true, encoding: .utf8)
        let d = dir.path
        let doc = try WorkbenchDocument.load(image: "\(d)/scan.nii.gz", labels: "\(d)/scan_aal.nii.gz", labelNames: "\(s)/aal.txt")
        for (typed, message) in rows {
            var state = WorkbenchState(document: doc, size: TerminalSize(columns: 160, rows: 50))
            let command = typed.replacingOccurrences(of: "DIR", with: d)
            var effects = reduce(&state, .command(.begin(":", prefill: command)))
            effects += reduce(&state, .command(.key(.enter)))
            for case .command(let c) in effects { for a in CommandIO.perform(c) { _ = reduce(&state, a) } }
            var shown = state.commandLine.error ?? state.message ?? ""
            if shown.hasPrefix("error: ") { shown.removeFirst(7) }
            #expect(shown == message.replacingOccurrences(of: "DIR", with: d), ":\(typed)")
        }
    }
}
