import Foundation
import Testing
import TestSupport
import VoxtermModel
#if canImport(Glibc)
import Glibc
#endif

/// `voxterm batch` never removes or replaces what it did not write (audit of 2026-12-07): a
/// subject's folder holding inputs or the user's files, a non-empty `--out` that is not a batch
/// folder, a failed `--slurm` submission's leftovers, an unwritable `--out` in words.
@Suite(.serialized) struct BatchSafetyCLITests {
    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    static func copy(_ from: String, _ to: String) throws {
        try FileManager.default.createDirectory(atPath: (to as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: from, toPath: to)
    }

    static func write(_ text: String, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// One line on stderr, `voxterm: error: PATH: ...`, containing `reason`.
    static func expectOneLine(_ r: ProcessResult, status: Int32, path: String, reason: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("voxterm: error: \(path): "), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(reason), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.filter { $0 == "\n" }.count == 1, "\(r.stderr)", sourceLocation: sourceLocation)
    }

    /// Item 1: a subject folder `DIR/<subject>` is replaced only when it is an earlier result.
    /// Inputs inside it (or being it), a folder without a status record, and a result folder the
    /// user added a file to are refused before any work (status 3, one line, every file kept);
    /// a resumed batch still skips its done subjects, and a redone subject's result is swapped in
    /// (RENAME_EXCHANGE) leaving no hidden folder behind.
    @Test func subjectFoldersHoldingInputsOrForeignFilesAreRefused() throws {
        let dir = TestPaths.temporaryDirectory("batchsafe1")
        let fx = try CohortFixture.make(in: dir.appendingPathComponent("data"), count: 2)
        let out = dir.appendingPathComponent("out").path
        func image(_ i: Int) -> String { fx.dir.appendingPathComponent(fx.subjects[i].image).path }
        func labels(_ i: Int) -> String { fx.dir.appendingPathComponent(fx.subjects[i].labels).path }
        // A batch folder with one done subject, s02.
        let first = dir.appendingPathComponent("first.csv").path
        try Self.write("subject,image,labels\ns02,\(image(1)),\(labels(1))\n", first)
        let base = ["--out", out, "--fixed", fx.fixed, "--preset", "fast", "--threads", "1", "--quiet"]
        let r0 = try runVoxterm(["batch", "register", first] + base)
        #expect(r0.status == 0, "\(r0.stderr)")

        // The audit's case: s01's image, labels and notes in DIR/s01 (run from inside DIR).
        let s01 = out + "/s01"
        try Self.copy(image(0), s01 + "/T1.nii.gz")
        try Self.copy(labels(0), s01 + "/my_notes_labels.nii.gz")
        try Self.write("my notes\n", s01 + "/notes.txt")
        let kept = try ["T1.nii.gz", "my_notes_labels.nii.gz", "notes.txt"].map { try Self.bytes(s01 + "/" + $0) }
        let inside = dir.appendingPathComponent("inside.csv").path
        try Self.write("subject,image,labels\ns01,\(s01)/T1.nii.gz,\(s01)/my_notes_labels.nii.gz\ns02,\(image(1)),\(labels(1))\n", inside)
        let r1 = try runVoxterm(["batch", "register", inside] + base)
        Self.expectOneLine(r1, status: 3, path: s01 + "/T1.nii.gz", reason: "is an input of subject s01 and lies in its output folder \(s01)")
        #expect(try ["T1.nii.gz", "my_notes_labels.nii.gz", "notes.txt"].map { try Self.bytes(s01 + "/" + $0) } == kept)
        #expect(!FileManager.default.fileExists(atPath: out + "/status/s01.json"), "work started")
        // The same, with a relative --out "." from the folder and relative rows.
        try Self.write("subject,image,labels\ns01,s01/T1.nii.gz,s01/my_notes_labels.nii.gz\n", out + "/cohort-rel.csv")
        let rel = try runProcess("/bin/sh", ["-c", "cd \"$1\" && exec \"$2\" batch register cohort-rel.csv --out . --fixed \"$3\" --preset fast --quiet",
                                             "sh", out, TestPaths.voxtermBinary.path, fx.fixed])
        #expect(rel.status == 3 && rel.stderr.contains("s01/T1.nii.gz: is an input of subject s01"), "\(rel.stderr)")
        #expect(try ["T1.nii.gz", "my_notes_labels.nii.gz", "notes.txt"].map { try Self.bytes(s01 + "/" + $0) } == kept)
        // Another subject's input inside s01's folder.
        let other = dir.appendingPathComponent("other.csv").path
        try Self.write("subject,image\ns01,\(image(0))\ns03,\(s01)/T1.nii.gz\n", other)
        let r1b = try runVoxterm(["batch", "register", other] + base)
        Self.expectOneLine(r1b, status: 3, path: s01 + "/T1.nii.gz", reason: "is an input of subject s03 and lies in subject s01's output folder")

        // The inputs elsewhere, but DIR/s01 holds the user's files and has no record: refused.
        let outside = dir.appendingPathComponent("outside.csv").path
        try Self.write("subject,image,labels\ns01,\(image(0)),\(labels(0))\ns02,\(image(1)),\(labels(1))\n", outside)
        let r2 = try runVoxterm(["batch", "register", outside] + base)
        Self.expectOneLine(r2, status: 3, path: s01, reason: "holds files (T1.nii.gz, my_notes_labels.nii.gz, notes.txt) but has no record")
        #expect(try ["T1.nii.gz", "my_notes_labels.nii.gz", "notes.txt"].map { try Self.bytes(s01 + "/" + $0) } == kept)

        // A subject named like the fixed image, which lies in DIR: the fixed image is an input.
        try Self.copy(fx.fixed, out + "/template.nii.gz")
        let fixedBefore = try Self.bytes(out + "/template.nii.gz")
        let named = dir.appendingPathComponent("named.csv").path
        try Self.write("subject,image\ntemplate.nii.gz,\(image(0))\n", named)
        let r3 = try runVoxterm(["batch", "register", named, "--out", out, "--fixed", out + "/template.nii.gz", "--preset", "fast", "--quiet"])
        Self.expectOneLine(r3, status: 3, path: out + "/template.nii.gz", reason: "is an input of subject template.nii.gz and is the path of its output folder, which voxterm batch replaces")
        // ... and with another fixed image, the file there is still not a result folder.
        let r3b = try runVoxterm(["batch", "register", named] + base)
        Self.expectOneLine(r3b, status: 3, path: out + "/template.nii.gz", reason: "exists and is not a folder voxterm batch wrote")
        #expect(try Self.bytes(out + "/template.nii.gz") == fixedBefore)

        // A done subject's folder with a file the user added: resume skips it (the folder is not
        // touched, so the note does not stop the cohort), the file kept.
        try FileManager.default.removeItem(atPath: s01)
        try FileManager.default.removeItem(atPath: out + "/template.nii.gz")
        try Self.write("mine\n", out + "/s02/mine.txt")
        let r4 = try runVoxterm(["batch", "register", first] + base.dropLast())
        #expect(r4.status == 0 && r4.stderr.contains("0 done now, 1 already done"), "\(r4.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/s02/mine.txt"))
        // ... but a changed input would replace the folder: that subject fails (status 4), the file kept.
        let warpedBefore = try Self.bytes(out + "/s02/warped.nii.gz")
        try Self.write("subject,image,labels\ns02,\(image(0)),\(labels(0))\n", first)
        let r5 = try runVoxterm(["batch", "register", first] + base.dropLast())
        #expect(r5.status == 4, "\(r5.status) \(r5.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/s02/mine.txt"))
        #expect(try Self.bytes(out + "/s02/warped.nii.gz") == warpedBefore)

        // Without it: the changed input redoes s02 through the exchange.
        try FileManager.default.removeItem(atPath: out + "/s02/mine.txt")
        let r6 = try runVoxterm(["batch", "register", first] + base.dropLast())
        #expect(r6.status == 0 && r6.stderr.contains("1 done now, 0 already done"), "\(r6.stderr)")
        #expect(try Self.bytes(out + "/s02/warped.nii.gz") != warpedBefore)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: out + "/s02")).isSubset(of: BatchCLITests.registerFiles))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix(".") }.isEmpty)
    }

    /// Item 2: a non-empty `--out` without `batch.json` is refused (status 3, one line, nothing
    /// written or replaced); a batch folder is resumed; `batch report` does not replace a
    /// picture in `DIR/qc/` that a report did not write.
    @Test func aForeignOutFolderIsRefused() throws {
        let dir = TestPaths.temporaryDirectory("batchsafe2")
        let fx = try CohortFixture.make(in: dir.appendingPathComponent("data"), count: 1)
        let cohort = try fx.writeCSV()
        let res = dir.appendingPathComponent("res").path
        try Self.write("my,own\ntable,1\n", res + "/summary.csv")
        let args = ["batch", "register", cohort, "--out", res, "--fixed", fx.fixed, "--preset", "fast", "--threads", "1", "--quiet"]
        let r = try runVoxterm(args)
        Self.expectOneLine(r, status: 3, path: res, reason: "is not empty (summary.csv) and is not a batch folder (no batch.json)")
        #expect(try String(contentsOfFile: res + "/summary.csv", encoding: .utf8) == "my,own\ntable,1\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: res) == ["summary.csv"])
        // A batch.json that is not a manifest is the user's file too.
        try Self.write("{\"mine\": true}\n", res + "/batch.json")
        let r2 = try runVoxterm(args)
        Self.expectOneLine(r2, status: 3, path: res + "/batch.json", reason: "is not a voxterm batch manifest")
        // --slurm --dry-run refuses it as well.
        let r3 = try runVoxterm(args + ["--slurm", "--dry-run"])
        #expect(r3.status == 3, "\(r3.stderr)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: res)) == ["summary.csv", "batch.json"])
        // An empty folder is used, and the batch folder it becomes is resumed.
        let empty = dir.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        var a2 = args
        a2[4] = empty
        let ok = try runVoxterm(a2)
        #expect(ok.status == 0, "\(ok.stderr)")
        let again = try runVoxterm(Array(a2.dropLast()))
        #expect(again.status == 0 && again.stderr.contains("0 done now, 1 already done"), "\(again.stderr)")

        // batch report replaces only pictures a report wrote: the user's qc/index.png is refused.
        try Self.write("my own picture\n", empty + "/qc/index.png")
        let report = try runVoxterm(["batch", "report", empty])
        #expect(report.status == 3, "\(report.stderr)")
        #expect(report.stderr.hasSuffix("voxterm: error: \(empty)/qc/index.png: exists and was not written by voxterm batch report; voxterm never replaces a file it did not write: move it away and run the report again\n"), "\(report.stderr)")
        #expect(try String(contentsOfFile: empty + "/qc/index.png", encoding: .utf8) == "my own picture\n")
        #expect(!FileManager.default.fileExists(atPath: empty + "/qc/s01.png"))
        try FileManager.default.removeItem(atPath: empty + "/qc/index.png")
        for _ in 0..<2 { // the second report replaces the first one's pictures
            let ok = try runVoxterm(["batch", "report", empty])
            #expect(ok.status == 0, "\(ok.stderr)")
        }
        #expect(try Self.bytes(empty + "/qc/index.png").starts(with: [0x89, 0x50, 0x4E, 0x47]))
    }

    /// Item 3: `--slurm` without sbatch writes nothing; a failed submission removes its job files.
    @Test func failedSlurmSubmissionLeavesNothingBehind() throws {
        let dir = TestPaths.temporaryDirectory("batchsafe3")
        let fx = try CohortFixture.make(in: dir.appendingPathComponent("data"), count: 1)
        let cohort = try fx.writeCSV()
        let out = dir.appendingPathComponent("out").path
        let args = ["batch", "register", cohort, "--out", out, "--fixed", fx.fixed, "--preset", "fast", "--slurm"]
        // No sbatch on PATH.
        let bin = dir.appendingPathComponent("bin").path
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let r = try runVoxterm(args, environment: ["PATH": bin])
        Self.expectOneLine(r, status: 2, path: "sbatch", reason: "not found on PATH")
        #expect(!FileManager.default.fileExists(atPath: out), "\((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? [])")
        // An sbatch that fails: the script and subjects file are removed again.
        try Self.write("#!/bin/sh\necho 'sbatch: error: invalid partition specified: nope' >&2\nexit 1\n", bin + "/sbatch")
        chmod(bin + "/sbatch", 0o755)
        let r2 = try runVoxterm(args, environment: ["PATH": bin + ":/usr/bin:/bin"])
        Self.expectOneLine(r2, status: 2, path: "sbatch failed (exit 1)", reason: "invalid partition specified")
        #expect(!FileManager.default.fileExists(atPath: out + "/slurm"), "\((try? FileManager.default.contentsOfDirectory(atPath: out + "/slurm")) ?? [])")
    }

    /// Item 4: an `--out` that cannot be created says why in errno's words, status 3.
    @Test func unwritableOutSaysWhyInWords() throws {
        let dir = TestPaths.temporaryDirectory("batchsafe4")
        let fx = try CohortFixture.make(in: dir.appendingPathComponent("data"), count: 1)
        let cohort = try fx.writeCSV()
        // Under a file.
        let file = dir.appendingPathComponent("file").path
        try Self.write("x\n", file)
        let r = try runVoxterm(["batch", "register", cohort, "--out", file + "/out", "--fixed", fx.fixed, "--quiet"])
        Self.expectOneLine(r, status: 3, path: file + "/out", reason: "\(file) is not a folder")
        // In a read-only folder (root drops CAP_DAC_OVERRIDE through setpriv).
        let locked = dir.appendingPathComponent("locked").path
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: true)
        chmod(locked, 0o555)
        defer { chmod(locked, 0o755) }
        let args = ["batch", "register", cohort, "--out", locked + "/out", "--fixed", fx.fixed, "--quiet"]
        guard let r2 = try runVoxtermHonouringFileModes(args) else {
            Issue.record("running as root and setpriv (util-linux) is missing: cannot make a folder unwritable")
            return
        }
        Self.expectOneLine(r2, status: 3, path: locked + "/out", reason: "cannot create the folder \(locked)/out: permission denied")
        #expect(!r2.stderr.contains("operation could not be completed"))
    }
}
