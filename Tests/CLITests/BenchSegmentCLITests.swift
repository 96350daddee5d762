import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `voxterm bench segment`'s simulated annotator (issue 16) on a one-query protocol over the bundled
/// Colin27 sample: three labelled axial slices, nine targets, so a run takes a few seconds.
@Suite(.serialized) struct BenchSegmentCLITests {
    let samples = TestPaths.samples

    /// A protocol file (bench/fewshot format) in a new folder, with absolute paths.
    func protocolFile(_ body: [String: Any]) throws -> (dir: URL, file: String) {
        let dir = TestPaths.temporaryDirectory("bench-segment")
        let file = dir.appendingPathComponent("protocol.json").path
        try JSONSerialization.data(withJSONObject: body).write(to: URL(fileURLWithPath: file))
        return (dir, file)
    }

    var settingB: [String: Any] {
        ["B": ["queries": [[
            "id": "B/colin/N5", "file": "B__colin__N5.nii.gz", "N": 5, "axis": 2,
            "image": samples.appendingPathComponent("colin27_2mm.nii.gz").path,
            "truth_labels": samples.appendingPathComponent("colin27_2mm_aal.nii.gz").path,
            "labelled_slices": [40, 45, 50],
        ]]]]
    }

    /// The numbers after "Dice" on the line that starts with `prefix`.
    func diceValues(_ stdout: String, _ prefix: String) -> [Double]? {
        guard let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }),
              let r = line.range(of: "Dice ") else { return nil }
        return line[r.upperBound...].split(separator: " ").prefix { Double($0.trimmingCharacters(in: .punctuationCharacters)) != nil }
            .map { Double($0.trimmingCharacters(in: .punctuationCharacters))! }
    }

    /// The values of the curve table's row `| N | strategy | ... |`.
    func tableRow(_ stdout: String, _ n: Int, _ strategy: String) -> [Double]? {
        guard let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix("| \(n) | \(strategy) |") }) else { return nil }
        return line.split(separator: "|").dropFirst(2).compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// `--whole-process` with `--annotator-steps` used to time the queries and say nothing about
    /// the annotator (the option was silently ignored): now the curve follows the timed runs, and
    /// its +0 point is the Dice of the timed `voxterm segment` process (the same filler).
    @Test func annotatorStepsWorkWithWholeProcess() throws {
        let (dir, file) = try protocolFile(settingB)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        let r = try runVoxterm(["bench", "segment", file, "--out", out, "--settings", "B", "--annotator-steps", "2", "--whole-process"])
        #expect(r.status == 0, "\(r.stderr)")
        let timed = try #require(diceValues(r.stdout, "B/colin/N5: Dice"), "no timed run in:\n\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: "\(out)/voxterm_cli_slices/B__colin__N5.nii.gz"))
        let suggested = try #require(diceValues(r.stdout, "B/colin/N5 annotator suggested:"), "no annotator run in:\n\(r.stdout)")
        let midGap = try #require(diceValues(r.stdout, "B/colin/N5 annotator mid-gap:"), "no annotator run in:\n\(r.stdout)")
        #expect(suggested.count == 3 && midGap.count == 3, "\(suggested) \(midGap)")
        #expect(abs(suggested[0] - timed[0]) <= 0.001 && abs(midGap[0] - timed[0]) <= 0.001,
                "+0 must be the timed process's Dice \(timed[0]): \(suggested[0]), \(midGap[0])")
        // Mid-gap picks the middle of the largest gap: 42 in 40..45 (ties: the lower gap), then 47 in 45..50.
        #expect(r.stdout.contains("B/colin/N5 annotator mid-gap: Dice") && r.stdout.contains("(added slices 42, 47)"), "\(r.stdout)")
        // Two of the nine target slices become exact: the curve rises.
        #expect(midGap[2] > midGap[0] && suggested[2] > suggested[0], "\(suggested) \(midGap)")
        let rowS = try #require(tableRow(r.stdout, 5, "suggested"), "no curve table in:\n\(r.stdout)")
        let rowM = try #require(tableRow(r.stdout, 5, "mid-gap"), "no curve table in:\n\(r.stdout)")
        #expect(rowS.count == 3 && rowM.count == 3)
        for (a, b) in zip(rowS + rowM, suggested + midGap) { #expect(abs(a - b) <= 0.0005, "\(rowS) \(rowM)") }
    }

    /// Combinations where the annotator cannot run are refused with one line, not ignored.
    @Test func annotatorStepsWithoutSettingBAreRefused() throws {
        let (dir, file) = try protocolFile(settingB)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        for (extra, status, words) in [(["--settings", "A", "--annotator-steps", "2"], Int32(64), "--annotator-steps"),
                                       (["--annotator-steps=-1"], 64, "--annotator-steps"),
                                       // --whole-process runs voxterm segment with its defaults: the in-process knobs would be ignored.
                                       (["--whole-process", "--slice-method", "shape"], 64, "--slice-method")] {
            let r = try runVoxterm(["bench", "segment", file, "--out", out] + extra)
            #expect(r.status == status, "\(extra): \(r.status) \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(words), "\(extra): \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(extra): \(r.stdout)")
        }
        // A protocol without setting B queries: a bad input (2), named.
        let (dirA, fileA) = try protocolFile(["A": ["queries": [[String: Any]]()]])
        defer { try? FileManager.default.removeItem(at: dirA) }
        let r = try runVoxterm(["bench", "segment", fileA, "--out", out, "--settings", "B", "--annotator-steps", "1"])
        #expect(r.status == 2, "\(r.status) \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(fileA) && r.stderr.contains("setting B"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out), "nothing written for a refused run")
    }

    /// A protocol whose `file` names a folder (`../../data/truth.nii.gz`, the query's own truth)
    /// is refused before anything is written: predictions go into --out under plain names. It used
    /// to write the prediction over that file.
    @Test func aProtocolFileWithAFolderIsRefused() throws {
        let dir = TestPaths.temporaryDirectory("bench-segment-file")
        defer { try? FileManager.default.removeItem(at: dir) }
        let truth = dir.appendingPathComponent("truth.nii.gz").path
        try FileManager.default.copyItem(atPath: samples.appendingPathComponent("colin27_2mm_aal.nii.gz").path, toPath: truth)
        let before = try Data(contentsOf: URL(fileURLWithPath: truth))
        var body = settingB
        var queries = (body["B"] as! [String: Any])["queries"] as! [[String: Any]]
        queries[0]["truth_labels"] = truth
        queries[0]["file"] = "../../truth.nii.gz"
        body["B"] = ["queries": queries]
        let file = dir.appendingPathComponent("protocol.json").path
        try JSONSerialization.data(withJSONObject: body).write(to: URL(fileURLWithPath: file))
        let out = dir.appendingPathComponent("out").path
        let r = try runVoxterm(["bench", "segment", file, "--out", out, "--settings", "B", "--slice-method", "shape"])
        #expect(r.status == 2 && r.stderr.contains("plain names"), "\(r.status) \(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: truth)) == before)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// SIGTERM to `bench segment --whole-process` while a `voxterm segment` child runs: the bench
    /// exits 130 within a second and the child is stopped too (it used to run on).
    @Test func aTerminatedWholeProcessBenchStopsItsChild() throws {
        let (dir, file) = try protocolFile(settingB)
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("log").path
        let p = try StartedProcess.start(TestPaths.voxtermBinary.path, ["bench", "segment", file, "--out", dir.appendingPathComponent("out").path,
                                                                       "--settings", "B", "--whole-process"], log: log)
        func children() -> [Int32] {
            let text = (try? String(contentsOfFile: "/proc/\(p.pid)/task/\(p.pid)/children", encoding: .utf8)) ?? ""
            return text.split(separator: " ").compactMap { Int32($0) }
        }
        let deadline = Date().addingTimeInterval(60)
        while children().isEmpty && !p.hasExited && Date() < deadline { usleep(10_000) }
        let kids = children()
        try #require(!kids.isEmpty, "no voxterm segment child seen: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        let t0 = Date()
        p.signal(SIGTERM)
        let status = p.wait(timeout: 10) ?? -1
        #expect(status == 130, "\(status): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        #expect(Date().timeIntervalSince(t0) < 1.5)
        usleep(200_000)
        for k in kids { #expect(kill(k, 0) != 0 || (try? String(contentsOfFile: "/proc/\(k)/stat", encoding: .utf8))?.contains(") Z") == true,
                                "child \(k) still runs") }
    }

    /// A query whose `voxterm segment` child fails on a bad file exits 2 (an input's problem, README's
    /// table) with one line naming the query and the file, not 64 (a usage error) as it did.
    @Test func failingChildIsABadInputNamingTheFile() throws {
        let (dir, _) = try protocolFile([:])
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = dir.appendingPathComponent("broken_image.nii.gz").path
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: broken))
        var body = settingB
        var b = body["B"] as! [String: Any]
        var q = (b["queries"] as! [[String: Any]])[0]
        q["image"] = broken
        b["queries"] = [q]; body["B"] = b
        let (dir2, file) = try protocolFile(body)
        defer { try? FileManager.default.removeItem(at: dir2) }
        let out = dir2.appendingPathComponent("out").path
        let r = try runVoxterm(["bench", "segment", file, "--out", out, "--settings", "B", "--whole-process"])
        #expect(r.status == 2, "\(r.status) \(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(r.stderr)")
        #expect(r.stderr.contains("B/colin/N5") && r.stderr.contains("broken_image.nii.gz"), "\(r.stderr)")
        #expect(!r.stderr.contains("status 64"), "\(r.stderr)")
    }
}
