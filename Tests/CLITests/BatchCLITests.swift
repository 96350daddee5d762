import Foundation
import Testing
import TestSupport
import VoxtermModel
#if canImport(Glibc)
import Glibc
#endif

/// `voxterm batch` run locally through the built binary on small synthetic cohorts (issue 17).
@Suite(.serialized) struct BatchCLITests {
    static let registerFiles = ["warped.nii.gz", "warped_labels.nii.gz", "field.nii.gz", "inverse_field.nii.gz", "jacobian.nii.gz",
                                "affine.txt", "affine_itk.tfm", "summary.json"]

    static func json(_ path: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    /// summary.csv as rows of column -> value.
    static func csv(_ dir: URL) throws -> [String: [String: String]] {
        let text = try String(contentsOf: dir.appendingPathComponent("summary.csv"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var rows: [String: [String: String]] = [:]
        for line in lines.dropFirst() {
            // Reasons are quoted when they hold commas: split on commas outside quotes.
            var fields: [String] = [], cur = "", q = false
            for c in line {
                if c == "\"" { q.toggle(); continue }
                if c == "," && !q { fields.append(cur); cur = ""; continue }
                cur.append(c)
            }
            fields.append(cur)
            rows[fields[0]] = Dictionary(uniqueKeysWithValues: zip(header, fields))
        }
        return rows
    }

    static func status(_ dir: URL, _ subject: String) throws -> [String: Any] {
        try json(dir.appendingPathComponent("status/\(subject).json").path)
    }

    /// Twelve subjects, one with a corrupt image and one with a missing image: ten done, two
    /// failed with one-line reasons naming the file, exit status 4; every done subject has the
    /// files of `voxterm register` and the Dice of a single `voxterm register` run; re-running
    /// skips the done ones and retries the failed; a repaired and a changed input are redone;
    /// `batch report` orders worst first and writes the QC pictures; `batch status` counts.
    @Test func twelveSubjectsWithACorruptAndAMissingFile() throws {
        let dir = TestPaths.temporaryDirectory("batch12")
        var fx = try CohortFixture.make(in: dir.appendingPathComponent("data"), count: 12)
        // s11: a truncated gzip; s12: a file that does not exist.
        let s11 = fx.dir.appendingPathComponent("s11.nii.gz")
        let good11 = try Data(contentsOf: s11)
        try good11.prefix(600).write(to: s11)
        fx.subjects[11].image = "missing/s12.nii.gz"
        let cohort = try fx.writeCSV()
        let out = dir.appendingPathComponent("out")
        let args = ["batch", "register", cohort, "--out", out.path, "--fixed", fx.fixed, "--fixed-labels", fx.fixedLabels,
                    "--preset", "fast"]
        let inputsBefore = try (fx.subjects.prefix(10).map { fx.dir.appendingPathComponent($0.image).path } + [fx.fixed])
            .map { try Data(contentsOf: URL(fileURLWithPath: $0)) }

        let r = try runVoxterm(args)
        #expect(r.status == 4, "\(r.stderr)")
        #expect(r.stderr.contains("voxterm batch: 12 subjects, "), "\(r.stderr)")
        #expect(r.stderr.contains("10 done now, 0 already done, 2 failed"), "\(r.stderr)")
        var rows = try Self.csv(out)
        #expect(rows.count == 12)
        #expect(rows.values.filter { $0["status"] == "done" }.count == 10)
        let r11 = try #require(rows["s11"]), r12 = try #require(rows["s12"])
        #expect(r11["status"] == "failed" && r12["status"] == "failed")
        #expect(r11["reason"]?.contains("s11.nii.gz") == true, "\(r11)")
        #expect(r12["reason"]?.contains("missing/s12.nii.gz: no such file or directory") == true, "\(r12)")
        #expect(r.stderr.contains("s12 failed: "), "\(r.stderr)")
        for s in fx.subjects.prefix(10) {
            let row = try #require(rows[s.name])
            for f in Self.registerFiles {
                #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(s.name)/\(f)").path), "\(s.name)/\(f)")
            }
            let dice = try #require(Double(row["mean_dice"] ?? ""))
            let before = try #require(Double(row["mean_dice_before"] ?? ""))
            #expect(dice > before, "\(s.name): \(before) -> \(dice)")
            #expect(Double(row["similarity_after"] ?? "")! < Double(row["similarity_before"] ?? "")!)
            #expect(Double(row["folding_percent"] ?? "") == 0)
            #expect(Double(row["peak_memory_mb"] ?? "")! > 10)
            #expect(row["dice_1"] != nil && row["dice_1"] != "")
        }
        // Inputs untouched, no partial folders left.
        #expect(try (fx.subjects.prefix(10).map { fx.dir.appendingPathComponent($0.image).path } + [fx.fixed])
            .map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == inputsBefore)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".") }.isEmpty)

        // The summary's Dice is that of the single command (same threads, same result).
        let single = dir.appendingPathComponent("single-s03")
        let one = try runVoxterm(["register", fx.fixed, fx.dir.appendingPathComponent("s03.nii.gz").path, "--out", single.path,
                                  "--moving-labels", fx.dir.appendingPathComponent("s03_aal.nii.gz").path,
                                  "--fixed-labels", fx.fixedLabels, "--preset", "fast", "--threads", "1", "--quiet"])
        #expect(one.status == 0, "\(one.stderr)")
        let singleSummary = try Self.json(single.appendingPathComponent("summary.json").path)
        let batchDice = try #require(Double(rows["s03"]?["mean_dice"] ?? ""))
        #expect(abs(try #require(singleSummary["mean_dice"] as? Double) - batchDice) < 1e-6)
        let perLabel = try #require(singleSummary["dice"] as? [String: Double])
        #expect(abs(perLabel["1"]! - Double(rows["s03"]!["dice_1"]!)!) < 1e-6)
        let batchS03 = try Self.json(out.appendingPathComponent("s03/summary.json").path)
        // (Equal up to the order of the sum over labels, which follows each process's hash seed.)
        #expect(abs(try #require(batchS03["mean_dice"] as? Double) - (singleSummary["mean_dice"] as! Double)) < 1e-12)

        // Re-run: done subjects skipped, the two failed retried (and fail again).
        let again = try runVoxterm(args)
        #expect(again.status == 4)
        #expect(again.stderr.contains("0 done now, 10 already done, 2 failed"), "\(again.stderr)")
        #expect(try Self.status(out, "s01")["attempts"] as? Int == 1)
        #expect(try Self.status(out, "s11")["attempts"] as? Int == 2)

        // Repair s11, change s02's image: exactly those two are redone; all done, exit 0 once s12 is dropped.
        try good11.write(to: s11)
        try Data(contentsOf: fx.dir.appendingPathComponent("s04.nii.gz")).write(to: fx.dir.appendingPathComponent("s02.nii.gz"))
        fx.subjects.removeLast()
        _ = try fx.writeCSV()
        let third = try runVoxterm(args)
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stderr.contains("2 done now, 9 already done, 0 failed"), "\(third.stderr)")
        #expect(try Self.status(out, "s02")["attempts"] as? Int == 2)
        #expect(try Self.status(out, "s03")["attempts"] as? Int == 1)
        rows = try Self.csv(out)
        #expect(rows.count == 11 && rows.values.allSatisfy { $0["status"] == "done" })

        // Status and report.
        let st = try runVoxterm(["batch", "status", out.path])
        #expect(st.status == 0)
        #expect(st.stdout.contains("11 done, 0 failed"), "\(st.stdout)")
        let report = try runVoxterm(["batch", "report", out.path])
        #expect(report.status == 0, "\(report.stderr)")
        let lines = report.stdout.split(separator: "\n")
        #expect(lines.count == 12 && lines[0].hasPrefix("subject"))
        let dices = lines.dropFirst().map { line in Double(line.split(separator: " ", omittingEmptySubsequences: true)[7])! }
        #expect(dices == dices.sorted(), "not worst first: \(dices)")
        for s in fx.subjects {
            let png = try Data(contentsOf: out.appendingPathComponent("qc/\(s.name).png"))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 1000)
        }
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("qc/index.png").path))
    }

    /// SIGKILL in the middle: the next run redoes only what was unfinished (the killed subject
    /// and those not started), keeps the done ones, and leaves no partial folder. Then Ctrl-C
    /// (SIGINT) stops within a second with status 130, and a third run finishes.
    @Test func killedRunResumesOnlyTheUnfinished() throws {
        let dir = TestPaths.temporaryDirectory("batchkill")
        let fx = try CohortFixture.make(in: dir.appendingPathComponent("data"), count: 6)
        let cohort = try fx.writeCSV()
        let out = dir.appendingPathComponent("out")
        let args = ["batch", "register", cohort, "--out", out.path, "--fixed", fx.fixed, "--preset", "fast", "--jobs", "1", "--threads", "1"]
        let log = dir.appendingPathComponent("log.txt").path

        func states() -> [String: String] {
            var s: [String: String] = [:]
            for sub in fx.subjects { s[sub.name] = (try? Self.status(out, sub.name))?["state"] as? String }
            return s
        }
        func waitFor(_ p: StartedProcess, _ condition: () -> Bool) throws {
            let deadline = Date().addingTimeInterval(60)
            while !condition() {
                guard Date() < deadline else { p.signal(SIGKILL); _ = p.wait(); throw ProcessRunError("timed out; log: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")") }
                usleep(20_000)
            }
        }

        let p = try StartedProcess.start(TestPaths.voxtermBinary.path, args, log: log)
        try waitFor(p) { let s = states(); return s.values.filter { $0 == "done" }.count >= 2 && s.values.contains("running") }
        p.signal(SIGKILL)
        #expect(p.wait() == 128 + SIGKILL)
        let afterKill = states()
        let done = afterKill.filter { $0.value == "done" }.keys.sorted()
        let killed = afterKill.filter { $0.value == "running" }.keys.sorted()
        #expect(killed.count == 1 && done.count >= 2 && done.count <= 4, "\(afterKill)")

        let r = try runVoxterm(args)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("\(6 - done.count) done now, \(done.count) already done, 0 failed"), "\(r.stderr)")
        for s in done { #expect(try Self.status(out, s)["attempts"] as? Int == 1, "\(s)") }
        for s in killed { #expect(try Self.status(out, s)["attempts"] as? Int == 2, "\(s)") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".") }.isEmpty)
        for s in fx.subjects {
            for f in Self.registerFiles where f != "warped_labels.nii.gz" {
                #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(s.name)/\(f)").path))
            }
        }

        // Ctrl-C in a fresh folder: stop during the first subject.
        let out2 = dir.appendingPathComponent("out2")
        let args2 = ["batch", "register", cohort, "--out", out2.path, "--fixed", fx.fixed, "--preset", "fast", "--jobs", "1"]
        let q = try StartedProcess.start(TestPaths.voxtermBinary.path, args2, log: log)
        try waitFor(q) { FileManager.default.fileExists(atPath: out2.appendingPathComponent("status/s01.json").path) }
        let t0 = Date()
        q.signal(SIGINT)
        #expect(q.wait() == 130)
        #expect(Date().timeIntervalSince(t0) < 1.5)
        let s01 = try Self.status(out2, "s01")["state"] as? String
        #expect(s01 == "interrupted" || s01 == "done")
        // The batch winds down itself (no half-second watchdog exit saying "nothing was written",
        // which left the record "running" and the summary stale).
        let said = try String(contentsOfFile: log, encoding: .utf8)
        #expect(said.contains("finished subjects are kept, run the same command again to resume"), "\(said.suffix(600))")
        #expect(!said.contains("nothing was written"), "\(said.suffix(600))")
        let third = try runVoxterm(args2)
        #expect(third.status == 0, "\(third.stderr)")
        #expect(try Self.csv(out2).values.allSatisfy { $0["status"] == "done" })
    }

    /// `batch segment` with a one-example support set: the summary's Dice equals `voxterm
    /// segment --support-set --truth` on the same subject.
    @Test func segmentCohortMatchesTheSingleCommand() throws {
        let dir = TestPaths.temporaryDirectory("batchseg")
        let fx = try CohortFixture.make(in: dir.appendingPathComponent("data"), count: 2)
        let set = fx.dir.appendingPathComponent("support.json").path
        try Data(#"{"format":"voxterm-support-set","version":1,"examples":[{"image":"template.nii.gz","labels":"template_aal.nii.gz"}]}"#.utf8)
            .write(to: URL(fileURLWithPath: set))
        // The subjects' own labels are their truth.
        let cohort = try fx.writeCSV("seg.csv", extraColumns: ",truth") { i in ",\(fx.subjects[i].labels)" }
        let out = dir.appendingPathComponent("out")
        let r = try runVoxterm(["batch", "segment", cohort, "--out", out.path, "--support-set", set, "--preset", "fast", "--threads", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        for f in ["prediction.nii.gz", "confidence.nii.gz", "summary.json"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("s02/\(f)").path), "\(f)")
        }
        let rows = try Self.csv(out)
        let batchDice = try #require(Double(rows["s02"]?["mean_dice"] ?? ""))
        let single = try runVoxterm(["segment", fx.dir.appendingPathComponent("s02.nii.gz").path, "--support-set", set,
                                     "--out", dir.appendingPathComponent("pred.nii.gz").path, "--truth",
                                     fx.dir.appendingPathComponent("s02_aal.nii.gz").path, "--preset", "fast", "--threads", "1", "--quiet"])
        #expect(single.status == 0, "\(single.stderr)")
        let line = try #require(single.stdout.split(separator: "\n").first { $0.hasPrefix("mean dice:") })
        let singleDice = try #require(Double(line.split(separator: " ")[2]))
        #expect(abs(singleDice - batchDice) < 1e-4, "\(singleDice) vs \(batchDice)")
        #expect(try NIfTIReader.read(dir.appendingPathComponent("pred.nii.gz").path).labelVolume().labels
                == NIfTIReader.read(out.appendingPathComponent("s02/prediction.nii.gz").path).labelVolume().labels)
    }

    /// Bad cohorts and options: one line naming the file, status 2, nothing run.
    @Test func badCohortIsOneLineAndStatus2() throws {
        let dir = TestPaths.temporaryDirectory("batchbad")
        let cohort = dir.appendingPathComponent("c.csv")
        try Data("subject,image\na,x.nii\na,y.nii\n".utf8).write(to: cohort)
        let r = try runVoxterm(["batch", "register", cohort.path, "--out", dir.appendingPathComponent("o").path, "--fixed", "t.nii"])
        #expect(r.status == 2)
        #expect(r.stderr == "voxterm: error: \(cohort.path): subject a is listed twice\n")
        try Data("subject,image\na,x.nii\n".utf8).write(to: cohort)
        let noFixed = try runVoxterm(["batch", "register", cohort.path, "--out", dir.appendingPathComponent("o").path])
        #expect(noFixed.status == 2)
        #expect(noFixed.stderr.contains("subject a has no fixed image: give --fixed TEMPLATE or a fixed column"), "\(noFixed.stderr)")
        let notDir = try runVoxterm(["batch", "status", dir.path])
        #expect(notDir.status == 2 && notDir.stderr.contains("not a batch folder"))
    }
}
