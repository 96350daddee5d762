import Foundation
import Testing
import TestSupport
import VoxtermModel
#if canImport(Glibc)
import Glibc
#endif

/// `voxterm batch --slurm` against a real one-node SLURM cluster with job accounting (Debian's
/// slurm-wlm + munge + slurmdbd + MariaDB, started by Scripts/slurm-test-cluster.sh --accounting
/// in a temporary folder and always shut down): a 6-subject array job runs every subject, one
/// array index cancelled on purpose (`scancel JOB_5`) leaves exactly that subject unfinished,
/// `batch status` shows the tasks' states from squeue and sacct, and re-submitting runs only
/// that one. Fails (never skips) when a package is missing: Scripts/install-deps.sh --test installs them.
@Suite(.serialized) struct BatchSlurmTests {
    static let script = TestPaths.packageRoot.appendingPathComponent("Scripts/slurm-test-cluster.sh").path

    static func waitUntilIdle(_ job: String, env: [String: String], timeout: Double = 120) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let q = try runProcess("/usr/bin/squeue", ["-h", "-j", job, "-o", "%i %T"], environment: env)
            if q.status == 0 && q.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return }
            usleep(250_000)
        }
        throw ProcessRunError("SLURM job \(job) still queued after \(timeout) s")
    }

    @Test func arrayJobRunsTheCohortAndResubmissionResumesOnlyTheCancelledTask() throws {
        let dir = TestPaths.temporaryDirectory("batchslurm")
        let cluster = dir.appendingPathComponent("cluster").path
        let started = try runProcess("/bin/bash", [Self.script, "start", cluster, "--accounting"])
        defer { _ = try? runProcess("/bin/bash", [Self.script, "stop", cluster]) }
        try #require(started.status == 0, "cluster did not start: \(started.stderr)")
        let env = ["SLURM_CONF": cluster + "/slurm/slurm.conf"]

        let fx = try CohortFixture.make(in: dir.appendingPathComponent("data"), count: 6)
        let cohort = try fx.writeCSV()
        let out = dir.appendingPathComponent("out")
        let args = ["batch", "register", cohort, "--out", out.path, "--fixed", fx.fixed, "--fixed-labels", fx.fixedLabels,
                    "--preset", "fast", "--slurm", "--slurm-args", "--time=00:10:00 --job-name=voxterm-test"]

        // --dry-run writes the script only.
        let dry = try runVoxterm(args + ["--dry-run"], environment: env)
        #expect(dry.status == 0, "\(dry.stderr)")
        let scriptText = try String(contentsOfFile: dry.stdout.trimmingCharacters(in: .whitespacesAndNewlines), encoding: .utf8)
        #expect(scriptText.contains("#SBATCH --array=0-5"))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("status/s01.json").path))

        // Submitted held, so task 5 is certainly pending when it is cancelled whatever the machine's
        // speed; then the rest is released.
        let submit = try runVoxterm(Array(args.dropLast(2)) + ["--slurm-args", "--time=00:10:00 --job-name=voxterm-test --hold"], environment: env)
        #expect(submit.status == 0, "\(submit.stderr)")
        let job = submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(!job.isEmpty && job.allSatisfy(\.isNumber), "no job id: \(submit.stdout) \(submit.stderr)")
        #expect(submit.stderr.contains("6 tasks for 6 subjects"), "\(submit.stderr)")
        let held = try runProcess("/usr/bin/squeue", ["-h", "-r", "-j", job, "-o", "%i %T %r"], environment: env)
        #expect(held.stdout.split(separator: "\n").count == 6 && !held.stdout.contains("RUNNING"), "\(held.stdout)")
        // While held, batch status reports the six tasks from squeue.
        let queued = try runVoxterm(["batch", "status", out.path], environment: env)
        #expect(queued.stdout.contains("squeue: \(job)_5 PENDING"), "\(queued.stdout)")
        let cancel = try runProcess("/usr/bin/scancel", ["\(job)_5"], environment: env)
        #expect(cancel.status == 0, "\(cancel.stderr)")
        let release = try runProcess("/usr/bin/scontrol", ["release", job], environment: env)
        #expect(release.status == 0, "\(release.stderr)")
        try Self.waitUntilIdle(job, env: env)

        // sacct (slurmdbd stores records a moment after the job ends): the five tasks that ran are
        // COMPLETED. (SLURM 22.05 keeps no accounting record of an array task cancelled while held:
        // task 5 never became eligible, so sacct has nothing to say about it; squeue and the status
        // records do.)
        var st = try runVoxterm(["batch", "status", out.path], environment: env)
        let deadline = Date().addingTimeInterval(20)
        while st.stdout.components(separatedBy: "|COMPLETED|").count - 1 < 5 && Date() < deadline {
            usleep(500_000)
            st = try runVoxterm(["batch", "status", out.path], environment: env)
        }
        #expect(st.status == 0)
        #expect(st.stdout.contains("5 done"), "\(st.stdout)")
        for i in 0..<5 { #expect(st.stdout.contains("sacct: \(job)_\(i)|COMPLETED|0:0"), "\(st.stdout)") }
        #expect(st.stdout.contains("s06: pending") || st.stdout.contains("s06: interrupted"), "\(st.stdout)")
        #expect(st.stdout.contains("squeue: none queued or running"), "\(st.stdout)")
        let rows = try BatchCLITests.csv(out)
        #expect(rows.count == 6)
        for s in fx.subjects.prefix(5) {
            let row = try #require(rows[s.name])
            #expect(row["status"] == "done", "\(s.name): \(row)")
            #expect(Double(row["mean_dice"] ?? "")! > Double(row["mean_dice_before"] ?? "")!)
            for f in BatchCLITests.registerFiles {
                #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(s.name)/\(f)").path), "\(s.name)/\(f)")
            }
            let record = try BatchCLITests.status(out, s.name)
            #expect((record["slurm"] as? String)?.hasPrefix(job + "_") == true, "\(record)")
            #expect(record["peak_memory_shared"] as? Bool == false)
        }
        #expect(rows["s06"]?["status"] != "done")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("s06").path))
        // Every task's output file exists (the cancelled one never ran).
        let logs = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("slurm").path).filter { $0.hasSuffix(".log") }
        #expect(logs.count == 5, "\(logs)")

        // Re-submit: one task for the one unfinished subject.
        let again = try runVoxterm(args, environment: env)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("1 tasks for 1 subjects"), "\(again.stderr)")
        let job2 = again.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.waitUntilIdle(job2, env: env)
        let final = try BatchCLITests.csv(out)
        #expect(final.values.allSatisfy { $0["status"] == "done" }, "\(final)")
        for s in fx.subjects.prefix(5) { #expect(try BatchCLITests.status(out, s.name)["attempts"] as? Int == 1) }
        #expect((try BatchCLITests.status(out, "s06")["slurm"] as? String)?.hasPrefix(job2 + "_") == true)
        // A third submission has nothing to do.
        let none = try runVoxterm(args, environment: env)
        #expect(none.status == 0 && none.stdout.isEmpty && none.stderr.contains("nothing to submit"), "\(none.stderr)")
        let manifest = try BatchCLITests.json(out.appendingPathComponent("batch.json").path)
        #expect(manifest["slurm_jobs"] as? [String] == [job, job2])
    }
}
