import Foundation
import Testing
import TestSupport
@testable import Pipelines
import Registration

/// Cohort files, status records, parallelism defaults and SLURM chunks (no registration).
@Suite struct CohortTests {
    static func write(_ text: String, name: String = "cohort.csv") throws -> URL {
        let dir = TestPaths.temporaryDirectory("cohort")
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test func csvRowsResolveAgainstTheCohortFolder() throws {
        let url = try Self.write("subject,image,labels,truth\n# a comment\ns01,img/s01.nii.gz,,/abs/t.nii.gz\r\n\"s,02\",\"a \"\"q\"\".nii\",l.nii,\n\n")
        let c = try Cohort.load(url.path)
        let dir = url.deletingLastPathComponent().path
        #expect(c.subjects.count == 2)
        #expect(c.subjects[0] == CohortSubject(subject: "s01", image: dir + "/img/s01.nii.gz", truth: "/abs/t.nii.gz"))
        #expect(c.subjects[1].subject == "s,02" && c.subjects[1].image == dir + "/a \"q\".nii" && c.subjects[1].labels == dir + "/l.nii")
        #expect(c.subjects[1].truth == nil)
    }

    @Test func jsonRowsAreTheSameAsCSV() throws {
        let url = try Self.write(#"[{"subject":"a","image":"a.nii","support_set":"set.json"},{"subject":"b","image":"/b.nii","fixed":"t.nii"}]"#, name: "c.json")
        let c = try Cohort.load(url.path)
        let dir = url.deletingLastPathComponent().path
        #expect(c.subjects == [CohortSubject(subject: "a", image: dir + "/a.nii", supportSet: dir + "/set.json"),
                               CohortSubject(subject: "b", image: "/b.nii", fixed: dir + "/t.nii")])
        let wrapped = try Self.write(#"{"subjects":[{"subject":"a","image":"a.nii"}]}"#, name: "w.json")
        #expect(try Cohort.load(wrapped.path).subjects.count == 1)
    }

    @Test(arguments: [
        ("subject,image\na,x.nii\na,y.nii\n", "subject a is listed twice"),
        ("subject,imag\na,x\n", "unknown column 'imag'"),
        ("subject,labels\na,x\n", "needs the columns subject and image"),
        ("subject,image\na,x,y\n", "line 2: 3 fields, the header has 2"),
        ("subject,image\n../up,x\n", "cannot be a folder name"),
        ("subject,image\nstatus,x\n", "reserved"),
        ("subject,image\nbatch.json,x\n", "reserved"),
        ("subject,image\nindex,x\n", "reserved"),
        ("subject,image\nindex-2,x\n", "reserved"),
        ("subject,image\n,x\n", "line 2: subject is empty"),
        ("subject,image\na,\"x\n", "not closed"),
        ("subject,image\n", "lists no subjects"),
        ("[{\"subject\":\"a\"}]", "row 1: missing \"image\""),
    ])
    func badCohortsSayWhatIsWrong(_ text: String, _ expected: String) throws {
        let url = try Self.write(text, name: text.hasPrefix("[") ? "c.json" : "c.csv")
        #expect(throws: CohortError.self) { try Cohort.load(url.path) }
        do { _ = try Cohort.load(url.path) } catch {
            #expect("\(error)".contains(expected), "\(error)")
            #expect("\(error)".hasPrefix(url.path))
            #expect(!"\(error)".contains("\n"))
        }
    }

    @Test func missingCohortFileNamesIt() {
        do { _ = try Cohort.load("/nonexistent/c.csv"); Issue.record("no error") } catch {
            #expect("\(error)" == "/nonexistent/c.csv: no such file or directory")
        }
    }

    @Test func parallelismFillsTheCoresWithoutOversubscribing() {
        #expect(BatchParallelism.choose(jobs: nil, threads: nil, subjects: 12, cores: 2) == BatchParallelism(jobs: 2, threads: 1))
        #expect(BatchParallelism.choose(jobs: nil, threads: nil, subjects: 1, cores: 2) == BatchParallelism(jobs: 1, threads: 2))
        #expect(BatchParallelism.choose(jobs: nil, threads: nil, subjects: 3, cores: 8) == BatchParallelism(jobs: 3, threads: 2))
        #expect(BatchParallelism.choose(jobs: 1, threads: nil, subjects: 12, cores: 2) == BatchParallelism(jobs: 1, threads: 2))
        #expect(BatchParallelism.choose(jobs: nil, threads: 2, subjects: 12, cores: 2) == BatchParallelism(jobs: 1, threads: 2))
        #expect(BatchParallelism.choose(jobs: 3, threads: 3, subjects: 12, cores: 2) == BatchParallelism(jobs: 3, threads: 3))
    }

    @Test func checksumsSeeEveryByte() throws {
        let dir = TestPaths.temporaryDirectory("checksum")
        let a = dir.appendingPathComponent("a"), b = dir.appendingPathComponent("b")
        var bytes = [UInt8](repeating: 7, count: 10_000_003)
        try Data(bytes).write(to: a)
        bytes[9_999_999] ^= 1
        try Data(bytes).write(to: b)
        #expect(try Checksum64.file(a.path) != Checksum64.file(b.path))
        #expect(try Checksum64.file(a.path) == Checksum64.file(a.path))
        #expect(try Checksum64.file(a.path).count == 16)
    }

    /// Two fingerprints that differ only in the middle strings (an FNV variant once collided here).
    @Test func checksumsOfStringSequencesDiffer() {
        func fp(_ parts: [String]) -> String {
            var c = Checksum64()
            for p in parts { c.update(p) }
            return c.hex
        }
        let d = "/tmp/batch12-1FA59351-9A54-45B5-9FE5-6C58814B2943/data/"
        #expect(fp(["task=register", d + "template.nii.gz", "f2a645eda8d412e1", d + "s02.nii.gz", "506ebe46fe0046ec"])
                != fp(["task=register", d + "template.nii.gz", "f2a645eda8d412e1", d + "s04.nii.gz", "601682809e0d5424"]))
        #expect(fp(["ab", "c"]) != fp(["a", "bc"]))
        var seen = Set<String>()
        for i in 0..<20_000 { seen.insert(fp(["subject", "s\(i)", "\(i * 7919)"])) }
        #expect(seen.count == 20_000)
    }

    @Test func locksExcludeOtherHolders() throws {
        let dir = TestPaths.temporaryDirectory("lock")
        let p = dir.appendingPathComponent("x.lock").path
        let l = try #require(try FileLock.tryLock(p))
        // flock locks belong to the open file description: a second open in this process conflicts too.
        #expect(try FileLock.tryLock(p) == nil)
        l.unlock()
        #expect(try FileLock.tryLock(p) != nil)
    }

    @Test func slurmChunksCoverEverySubjectOnce() throws {
        let url = try Self.write("a\nb\nc\nd\ne\n", name: "x.subjects")
        #expect(try SlurmArrayJob.chunk(subjectsFile: url.path, perTask: 2, index: 0) == ["a", "b"])
        #expect(try SlurmArrayJob.chunk(subjectsFile: url.path, perTask: 2, index: 2) == ["e"])
        #expect(throws: CohortError.self) { try SlurmArrayJob.chunk(subjectsFile: url.path, perTask: 2, index: 3) }
        #expect(try SlurmArrayJob.splitArguments(" --partition=short  --time='01:00:00' --comment=\"a b\"") ==
                ["--partition=short", "--time=01:00:00", "--comment=a b"])
        let job = SlurmArrayJob(subjects: ["a", "b", "c"], perTask: 2, cpusPerTask: 2, sbatchArguments: [],
                                command: ["/bin/voxterm", "batch", "register", "/c.csv"], folder: BatchFolder("/d"), name: "j")
        #expect(job.taskCount == 2)
        #expect(job.script.contains("#SBATCH --array=0-1\n#SBATCH --cpus-per-task=2\n"))
        #expect(job.script.contains("exec /bin/voxterm batch register /c.csv --subjects-file /d/slurm/j.subjects --per-task 2 --jobs 1 --threads 2 --task-index \"${SLURM_ARRAY_TASK_ID"))
    }

    @Test func summaryOrdersWorstFirstAndQuotesReasons() {
        func row(_ s: String, _ st: SubjectState, dice: Double? = nil, reason: String? = nil) -> SubjectStatus {
            var r = SubjectStatus(subject: s, state: st)
            r.meanDice = dice; r.reason = reason
            r.dice = dice.map { ["1": $0, "3": 1] }
            return r
        }
        let s = BatchSummary(task: .register, rows: [row("good", .done, dice: 0.9), row("bad", .done, dice: 0.5),
                                                      row("broken", .failed, reason: "x.nii: no such file, really"),
                                                      row("todo", .pending)])
        #expect(s.worstFirst.map(\.subject) == ["broken", "todo", "bad", "good"])
        let lines = s.csv.split(separator: "\n")
        #expect(lines[0].hasSuffix("attempts,dice_1,dice_3"))
        #expect(lines[3] == "broken,failed,\"x.nii: no such file, really\",,,,,,,,,0,,")
    }

    /// A batch subject done before 2026-12-07 with `--iterations`/`--smoothing` and no `--levels` is
    /// run again (those words now run the preset's level rules); every other fingerprint is unchanged.
    @Test func partialLevelOverridesChangeTheFingerprint() {
        func text(_ words: [String]) -> String { BatchSettings(task: .register, registrationOptions: words).fingerprintText }
        #expect(text([]) == "task=register  v1")
        #expect(text(["--preset", "fast"]) == "task=register --preset fast v1")
        #expect(text(["--levels", "4x2x1", "--iterations", "10x10x10"]) == "task=register --levels 4x2x1 --iterations 10x10x10 v1")
        #expect(text(["--iterations", "50x30x5"]).hasSuffix(" v1 rules2"))
        #expect(text(["--smoothing=2x1x0"]).hasSuffix(" v1 rules2"))
        #expect(text(["--levels=4x2x1", "--smoothing=2x1x0"]).hasSuffix(" v1"))
        // A registration with the subject's labels is marked (GenericLabel since 2026-12-07); one
        // without labels, and segmentation, are not.
        let reg = BatchSettings(task: .register, registrationOptions: [])
        #expect(reg.fingerprintText(for: CohortSubject(subject: "a", image: "a.nii", labels: "a_l.nii")) == "task=register  v1 labels=generic")
        #expect(reg.fingerprintText(for: CohortSubject(subject: "a", image: "a.nii")) == "task=register  v1")
        let seg = BatchSettings(task: .segment)
        #expect(seg.fingerprintText(for: CohortSubject(subject: "a", image: "a.nii", labels: "a_l.nii")) == seg.fingerprintText)
    }

    /// The default preset raises a 1 mm brain's full-resolution iterations (review h58): the
    /// fingerprint of a subject on a 1 mm grid is marked " floor8"; a 2 mm grid, the fast preset and
    /// `--levels` are not, so their cohorts resume as before. Register reads the fixed image's
    /// header, segment the query's.
    @Test func theOneMillimetreIterationFloorMarksOnlyOneMillimetreSubjects() {
        let s = TestPaths.samples.path
        let oneMM = "\(s)/colin27_1mm.nii.gz", twoMM = "\(s)/colin27_2mm.nii.gz"
        func mark(_ task: BatchSettings.Task, _ plan: RegistrationPlan, fixed: String, image: String) -> String {
            SubjectRunner(settings: BatchSettings(task: task, fixed: fixed), plan: plan, folder: BatchFolder("/nonexistent"))
                .coarseFieldFloorMark(CohortSubject(subject: "a", image: image))
        }
        let byDefault = RegistrationPlan.preset(.default, mode: .both)
        #expect(mark(.register, byDefault, fixed: oneMM, image: twoMM) == " floor8")
        #expect(mark(.register, byDefault, fixed: twoMM, image: oneMM) == "")
        #expect(mark(.register, .preset(.fast, mode: .both), fixed: oneMM, image: twoMM) == "")
        var exact = byDefault
        exact.stages[exact.stages.count - 1].minimumCoarseFieldIterations = nil   // what --levels does
        #expect(mark(.register, exact, fixed: oneMM, image: twoMM) == "")
        #expect(mark(.segment, byDefault, fixed: twoMM, image: oneMM) == " floor8")
        #expect(mark(.segment, byDefault, fixed: oneMM, image: twoMM) == "")
        #expect(mark(.register, byDefault, fixed: "/nonexistent.nii.gz", image: twoMM) == "")
    }
}
