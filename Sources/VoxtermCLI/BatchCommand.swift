import ArgumentParser
import Foundation
import VoxtermModel
#if canImport(Glibc)
import Glibc
#endif

/// `voxterm batch`: register or segment a cohort, locally (a worker pool) or as a SLURM array.
struct Batch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register or segment every subject of a cohort, with resume, a summary table and QC pictures.",
        discussion: """
        COHORT is a CSV with the header subject,image (optional columns labels, truth, fixed, support_set)
        or a JSON array of the same rows; relative paths are relative to the cohort file.
        Each subject is written into DIR/<subject>/ (the files of voxterm register / segment), with a record
        in DIR/status/; re-running the same command skips done subjects, retries failed and interrupted
        ones and redoes those whose inputs or settings changed. DIR/summary.csv and summary.json list
        status, seconds, peak memory, similarity, folding and Dice per subject.
        Exit status: 0 all done, 4 some subjects failed, 2 bad cohort or options, 3 DIR not writable,
        130 interrupted (the next run resumes).
        """,
        subcommands: [BatchRegister.self, BatchSegment.self, BatchStatusCommand.self, BatchReport.self])
}

/// Options shared by `batch register` and `batch segment`.
struct BatchRunOptions: ParsableArguments {
    @Argument(help: "The cohort: CSV (subject,image[,labels,truth,fixed,support_set]) or JSON.") var cohort: String
    @Option(help: "Output folder: DIR/<subject>/, DIR/status/, DIR/summary.csv.") var out: String
    @Option(help: "Subjects at a time (default: one per core).") var jobs: Int?
    @Option(help: "Threads per subject (default: the cores left over by --jobs).") var threads: Int?
    @Flag(help: "No progress line.") var quiet = false

    @Flag(help: "Submit a SLURM array job (sbatch) instead of running here; prints the job id.") var slurm = false
    @Option(name: .customLong("slurm-args"), parsing: .unconditional, help: "Extra sbatch arguments, e.g. \"--partition=short --time=01:00:00\".")
    var slurmArgs: String?
    @Option(name: .customLong("per-task"), help: "SLURM: subjects per array task (default 1).") var perTask: Int = 1
    @Flag(name: .customLong("dry-run"), help: "SLURM: write the job script (DIR/slurm/) but do not submit it.") var dryRun = false

    // Set by the SLURM job script for each array task.
    @Option(name: .customLong("subjects-file"), help: .hidden) var subjectsFile: String?
    @Option(name: .customLong("task-index"), help: .hidden) var taskIndex: Int?

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if perTask < 1 { throw ValidationError("--per-task must be at least 1") }
        if (slurmArgs != nil || dryRun) && !slurm { throw ValidationError("--slurm-args and --dry-run go with --slurm") }
        if (subjectsFile == nil) != (taskIndex == nil) { throw ValidationError("--subjects-file and --task-index go together") }
        if slurm && subjectsFile != nil { throw ValidationError("--slurm submits; --subjects-file/--task-index run one task") }
    }

    /// The arguments that reproduce these options in a SLURM task (absolute paths, no SLURM options).
    var taskArguments: [String] {
        [absolutePath(cohort), "--out", absolutePath(out)]
    }
}

extension RegistrationOptions {
    /// The options as command-line words (preset and mode always, the overrides when given): what
    /// a SLURM task is given, and the plan's identity in a subject's fingerprint.
    var arguments: [String] {
        var w = ["--preset", preset.rawValue, "--mode", mode.rawValue]
        if let levels { w += ["--levels", levels] }
        if let iterations { w += ["--iterations", iterations] }
        if let smoothing { w += ["--smoothing", smoothing] }
        if let metric { w += ["--metric", metric.rawValue] }
        if let regularisation { w += ["--regularisation", regularisation] }
        return w
    }
}

/// An absolute `path` without "." components, empty components and a trailing "/" (`--out .`
/// names the folder `/x/b1`, not `/x/b1/.`); ".." and symbolic links are kept as written.
func cleanPath(_ path: String) -> String {
    "/" + path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
}

/// `path` made absolute against the current folder.
func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
}

struct BatchRegister: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register every subject's image (moving, with its labels) to --fixed or its row's fixed image.",
        discussion: "Per subject, DIR/<subject>/ receives the files of voxterm register. truth (or --fixed-labels) scores the warped labels.")

    @OptionGroup var options: BatchRunOptions
    @OptionGroup var registration: RegistrationOptions
    @Option(help: "The fixed image (template) for rows without a fixed column.") var fixed: String?
    @Option(name: .customLong("fixed-labels"), help: "Labels on the fixed image, for rows without truth: Dice of the warped labels.")
    var fixedLabels: String?

    func run() throws {
        let words = registration.arguments
        let settings = BatchSettings(task: .register, fixed: fixed.map(absolutePath), fixedLabels: fixedLabels.map(absolutePath),
                                     preset: registration.preset, registrationOptions: words)
        var extra = words
        if let fixed { extra += ["--fixed", absolutePath(fixed)] }
        if let fixedLabels { extra += ["--fixed-labels", absolutePath(fixedLabels)] }
        try runBatch(options, settings: settings, plan: try registration.plan,
                     taskCommand: ["batch", "register"] + options.taskArguments + extra)
    }
}

struct BatchSegment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Segment every subject's image from --support-set or its row's support_set.",
        discussion: "Per subject, DIR/<subject>/ receives prediction.nii.gz, confidence.nii.gz and summary.json; truth gives Dice.")

    @OptionGroup var options: BatchRunOptions
    @OptionGroup var presetOption: PresetOption
    @Option(name: .customLong("support-set"), help: "Support-set manifest for rows without a support_set column.") var supportSet: String?
    @Option(help: "Label fusion: majority or weighted.") var fusion: FusionMethod = .weighted

    func run() throws {
        let preset = presetOption.preset
        let settings = BatchSettings(task: .segment, supportSet: supportSet.map(absolutePath), preset: preset, fusion: fusion)
        var extra = ["--preset", preset.rawValue, "--fusion", fusion.rawValue]
        if let supportSet { extra += ["--support-set", absolutePath(supportSet)] }
        try runBatch(options, settings: settings, plan: RegistrationPlan.preset(preset),
                     taskCommand: ["batch", "segment"] + options.taskArguments + extra)
    }
}

/// The shared body of `batch register` and `batch segment`.
func runBatch(_ options: BatchRunOptions, settings: BatchSettings, plan: RegistrationPlan, taskCommand: [String]) throws {
    let cohort: Cohort
    let folder = BatchFolder(cleanPath(absolutePath(options.out)))
    do {
        cohort = try Cohort.load(options.cohort)
        try settings.validate(for: cohort)
    } catch {
        printError(error)
        throw ExitCode(ExitCodes.badInput)
    }
    // Before anything is written: --slurm needs sbatch (unless --dry-run); DIR is new, empty or
    // a batch folder; no subject's folder holds inputs or files voxterm did not write.
    if options.slurm && !options.dryRun && findExecutable("sbatch") == nil {
        printError(SlurmArrayJob.sbatchMissing)
        throw ExitCode(ExitCodes.badInput)
    }
    let runner = SubjectRunner(settings: settings, plan: plan, folder: folder)
    do {
        try folder.checkReusable()
        try runner.checkCohortOutputs(cohort.subjects)
        try folder.create()
    } catch {
        printError(error)
        throw ExitCode(ExitCodes.writeFailed)
    }
    var manifest = BatchManifest(cohort: absolutePath(cohort.path), subjects: cohort.subjects, settings: settings)
    let previous = try? BatchManifest.read(folder)
    manifest.slurmJobs = previous?.slurmJobs ?? []

    // One SLURM array task: its chunk of the subjects file, one subject at a time.
    var subjects = cohort.subjects
    var slurmTask: String?
    if let file = options.subjectsFile, let index = options.taskIndex {
        do {
            let names = Set(try SlurmArrayJob.chunk(subjectsFile: file, perTask: options.perTask, index: index))
            subjects = cohort.subjects.filter { names.contains($0.subject) }
        } catch {
            printError(error)
            throw ExitCode(ExitCodes.badInput)
        }
        let env = ProcessInfo.processInfo.environment
        slurmTask = env["SLURM_ARRAY_JOB_ID"].map { "\($0)_\(env["SLURM_ARRAY_TASK_ID"] ?? "\(index)")" }
    }
    if previous != manifest && options.subjectsFile == nil {
        do { try manifest.write(folder) } catch {
            printError(error)
            throw ExitCode(ExitCodes.writeFailed)
        }
    }

    if options.slurm {
        try submitSlurm(options, manifest: manifest, runner: runner, folder: folder, taskCommand: taskCommand)
        return
    }

    let parallelism = BatchParallelism.choose(jobs: options.jobs, threads: options.threads, subjects: subjects.count)
    // No watchdog: the pool stops within a second by itself and keeps what finished (the running
    // subject's record says "interrupted", the summary is refreshed, the resume line printed).
    let signals = SignalCancellation(grace: nil)
    defer { signals.stop() }
    let pool = BatchPool(runner: runner, subjects: subjects, parallelism: parallelism, token: signals.token)
    pool.slurmTask = slurmTask
    let progress = BatchProgressLine(enabled: !options.quiet, interactive: isatty(2) == 1)
    if !options.quiet {
        standardError.write("voxterm batch: \(subjects.count) subjects, \(parallelism.jobs) at a time on \(parallelism.threads) thread\(parallelism.threads == 1 ? "" : "s") each\(slurmTask.map { " (SLURM task \($0))" } ?? "")\n")
    }
    pool.onChange = { counts, event in progress.show(counts, event) }
    let counts = pool.run()
    progress.finish()
    let summary: BatchSummary
    do { summary = try BatchSummary.refresh(folder, manifest: manifest) } catch {
        printError(error)
        throw ExitCode(ExitCodes.writeFailed)
    }
    if !options.quiet {
        let all = summary.rows.count
        standardError.write("voxterm batch: \(counts.done) done now, \(counts.skipped) already done, \(counts.failed) failed"
              + (counts.busy > 0 ? ", \(counts.busy) running elsewhere" : "")
              + (counts.interrupted > 0 ? ", \(counts.interrupted) interrupted" : "")
              + String(format: " in %.1f s; folder: %d of %d done; summary in %@\n", counts.elapsed, summary.count(.done), all,
                       (folder.path as NSString).appendingPathComponent("summary.csv")))
    }
    if signals.isCancelled || counts.interrupted > 0 {
        standardError.write("voxterm: interrupted; finished subjects are kept, run the same command again to resume\n")
        throw ExitCode(ExitCodes.interrupted)
    }
    if counts.failed > 0 { throw ExitCode(ExitCodes.someFailed) }
}

/// Writes (and unless --dry-run submits) the SLURM array job for the unfinished subjects.
func submitSlurm(_ options: BatchRunOptions, manifest: BatchManifest, runner: SubjectRunner, folder: BatchFolder,
                 taskCommand: [String]) throws {
    // Unfinished: no record, not done, or done with other inputs or settings.
    let pending = manifest.subjects.filter { row in
        guard let s = folder.status(of: row.subject), s.state == .done, FileIO.exists(folder.subjectFolder(row.subject)) else { return true }
        return s.fingerprint != runner.fingerprint(of: row).fingerprint
    }.map(\.subject)
    guard !pending.isEmpty else {
        standardError.write("voxterm batch: all \(manifest.subjects.count) subjects are done; nothing to submit\n")
        return
    }
    let sbatchArgs: [String]
    do { sbatchArgs = try SlurmArrayJob.splitArguments(options.slurmArgs ?? "") } catch {
        printError(error)
        throw ExitCode(ExitCode.validationFailure.rawValue)
    }
    let stamp = Int(Date().timeIntervalSince1970)
    let job = SlurmArrayJob(subjects: pending, perTask: options.perTask, cpusPerTask: options.threads ?? 1,
                            sbatchArguments: sbatchArgs, command: [selfExecutable()] + taskCommand + ["--quiet"],
                            folder: folder, name: "batch-\(stamp)-\(getpid())")
    do { try job.write() } catch {
        printError(error)
        throw ExitCode(ExitCodes.writeFailed)
    }
    if options.dryRun {
        standardError.write("voxterm batch: wrote \(job.scriptPath) (\(job.taskCount) array tasks for \(pending.count) subjects); not submitted (--dry-run)\n")
        print(job.scriptPath)
        return
    }
    let id: String
    do { id = try job.submit() } catch {
        job.removeFiles()
        printError(error)
        throw ExitCode(ExitCodes.badInput)
    }
    var m = manifest
    m.slurmJobs.append(id)
    do { try m.write(folder) } catch {
        printError(error)
        throw ExitCode(ExitCodes.writeFailed)
    }
    standardError.write("voxterm batch: submitted SLURM array job \(id): \(job.taskCount) tasks for \(pending.count) subjects (\(job.scriptPath)); "
          + "follow with voxterm batch status \(folder.path)\n")
    print(id)
}

/// This program's absolute path (for the job script).
func selfExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? absolutePath(CommandLine.arguments[0])
}

/// The batch progress line on stderr: rewritten in place on a terminal (at most twice a
/// second), one line per finished subject otherwise (logs, SLURM output files); failures are
/// always printed on their own line.
final class BatchProgressLine: @unchecked Sendable {
    let enabled: Bool, interactive: Bool
    private var last = 0.0
    private var shown = false

    init(enabled: Bool, interactive: Bool) { self.enabled = enabled; self.interactive = interactive }

    func show(_ c: BatchCounts, _ event: SubjectEvent?) {
        guard enabled else { return }
        if let e = event, e.state == .failed {
            clear()
            standardError.write("voxterm batch: \(e.subject) failed: \(e.reason ?? "")\n")
        }
        let text = Self.text(c)
        if interactive {
            let t = monotonicSeconds()
            guard event != nil || t - last >= 0.5 else { return }
            last = t
            standardError.write("\r" + text + "   ")
            shown = true
        } else if let e = event, !e.skipped, e.state != .failed {
            standardError.write(text + "  (\(e.subject) \(e.state.rawValue)\(e.state == .done ? String(format: " in %.1f s", e.seconds) : ""))\n")
        }
    }

    static func text(_ c: BatchCounts) -> String {
        let finished = c.done + c.skipped
        let left = max(0, c.total - c.finished - c.running)
        let rate = c.elapsed > 0 ? Double(c.done + c.failed) / c.elapsed * 60 : 0
        var s = "batch: \(finished)/\(c.total) done, \(c.failed) failed, \(c.running) running, \(left) to go"
        if rate > 0 {
            s += String(format: " | %.1f subjects/min", rate)
            let eta = Double(left + c.running) / rate * 60
            s += " | ETA " + (eta >= 3600 ? String(format: "%dh%02dm", Int(eta) / 3600, Int(eta) % 3600 / 60)
                                : String(format: "%dm%02ds", Int(eta) / 60, Int(eta) % 60))
        }
        return s
    }

    private func clear() {
        if shown && interactive { standardError.write("\r\u{1B}[K") }
    }

    func finish() { if shown && interactive { standardError.write("\n"); shown = false } }
}

/// `voxterm batch status DIR`: counts and unfinished subjects from the status records, and the
/// SLURM jobs' states (squeue, sacct) when those commands are present.
struct BatchStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status",
                                                    abstract: "Show where a batch folder stands (status records, SLURM jobs).")
    @Argument(help: "The batch output folder.") var dir: String
    @Flag(help: "Print the summary as JSON.") var json = false

    func run() throws {
        let (folder, manifest) = try readBatchFolder(dir)
        let summary = BatchSummary(folder: folder, manifest: manifest)
        if json {
            let data = try JSONSerialization.data(withJSONObject: summary.json, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let counts = SubjectState.allCases.map { "\(summary.count($0)) \($0.rawValue)" }.joined(separator: ", ")
        print("\(folder.path): batch \(manifest.settings.task.rawValue) of \(summary.rows.count) subjects (\(manifest.cohort)): \(counts)")
        for r in summary.rows where r.state != .done {
            var line = "  \(r.subject): \(r.state.rawValue)"
            if let reason = r.reason { line += ": \(reason)" }
            if r.state == .running, let host = r.host, let pid = r.pid { line += " (\(host) pid \(pid)\(r.slurm.map { ", SLURM \($0)" } ?? ""))" }
            print(line)
        }
        if !manifest.slurmJobs.isEmpty {
            print("SLURM jobs: \(manifest.slurmJobs.joined(separator: ", "))")
            if let q = squeueLines(jobs: manifest.slurmJobs) {
                print(q.isEmpty ? "  squeue: none queued or running" : q.map { "  squeue: \($0)" }.joined(separator: "\n"))
            }
            if let a = sacctLines(jobs: manifest.slurmJobs), !a.isEmpty { print(a.map { "  sacct: \($0)" }.joined(separator: "\n")) }
        }
    }
}

/// The batch folder `dir` and its manifest (`batch status`, `batch report`); a folder that is not a
/// batch output is one line, exit 2.
func readBatchFolder(_ dir: String) throws -> (BatchFolder, BatchManifest) {
    let folder = BatchFolder(absolutePath(dir))
    do { return (folder, try BatchManifest.read(folder)) } catch {
        printError(error)
        throw ExitCode(ExitCodes.badInput)
    }
}
