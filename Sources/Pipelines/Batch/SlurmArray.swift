import Foundation
import VolumeCore
import NIfTI
import Registration
import Segmentation
#if canImport(Glibc)
import Glibc
#endif

/// A SLURM array job over a batch: the script `DIR/slurm/<name>.sh`, the subjects it covers
/// (`DIR/slurm/<name>.subjects`, one per line) and its submission with `sbatch`.
///
/// Every array task runs the same `voxterm batch` command as a local run, restricted to its
/// chunk of the subjects file (`--subjects-file F --per-task K --task-index $SLURM_ARRAY_TASK_ID`),
/// with one subject at a time on `--cpus-per-task` threads; status records and resume work as
/// locally, and each task refreshes the summary when it ends.
public struct SlurmArrayJob: Sendable {
    /// Subjects covered (the unfinished ones when it was written).
    public var subjects: [String]
    /// Subjects per array task.
    public var perTask: Int
    /// CPUs (threads) per task.
    public var cpusPerTask: Int
    /// Extra `sbatch` arguments (`--slurm-args`), passed on sbatch's command line.
    public var sbatchArguments: [String]
    /// The `voxterm batch` arguments every task runs (without the chunk options), program first.
    public var command: [String]
    /// The batch folder.
    public var folder: BatchFolder
    /// Base name of the script and subjects files.
    public var name: String

    public init(subjects: [String], perTask: Int, cpusPerTask: Int, sbatchArguments: [String], command: [String],
                folder: BatchFolder, name: String) {
        self.subjects = subjects; self.perTask = max(1, perTask); self.cpusPerTask = max(1, cpusPerTask)
        self.sbatchArguments = sbatchArguments; self.command = command; self.folder = folder; self.name = name
    }

    /// Array tasks: one per chunk of `perTask` subjects.
    public var taskCount: Int { (subjects.count + perTask - 1) / perTask }
    public var scriptPath: String { join(folder.slurmFolder, name + ".sh") }
    public var subjectsPath: String { join(folder.slurmFolder, name + ".subjects") }

    /// The job script.
    public var script: String {
        let task = command + ["--subjects-file", subjectsPath, "--per-task", "\(perTask)", "--jobs", "1",
                              "--threads", "\(cpusPerTask)"]
        return """
        #!/bin/bash
        # voxterm batch as a SLURM array job, written \(isoNow()).
        # Task i runs subjects i*\(perTask) ..< (i+1)*\(perTask) of \(subjectsPath) (\(subjects.count) subjects),
        # one at a time on \(cpusPerTask) thread(s); status records in \(folder.statusFolder) make a
        # re-submission (run the same voxterm command with --slurm again) redo only unfinished subjects.
        #SBATCH --job-name=voxterm-batch
        #SBATCH --array=0-\(taskCount - 1)
        #SBATCH --cpus-per-task=\(cpusPerTask)
        #SBATCH --output=\(join(folder.slurmFolder, "%A_%a.log"))
        # Submitted as: sbatch --parsable\(sbatchArguments.map { " " + shellWord($0) }.joined()) \(shellWord(scriptPath))
        set -u
        exec \(task.map(shellWord).joined(separator: " ")) --task-index "${SLURM_ARRAY_TASK_ID:?not a SLURM array task}"

        """
    }

    /// Writes the subjects file and the script (executable), atomically.
    public func write() throws {
        try FileIO.createFolders(folder.slurmFolder, for: folder.slurmFolder)
        try FileIO.writeAtomically(subjectsPath, Array((subjects.joined(separator: "\n") + "\n").utf8))
        try FileIO.writeAtomically(scriptPath, Array(script.utf8))
        chmod(scriptPath, 0o755)
    }

    /// The error when `sbatch` is not on PATH (checked before a batch writes anything).
    public static let sbatchMissing = CohortError("sbatch: not found on PATH; --slurm needs SLURM's client commands (--dry-run only writes the script)")

    /// Removes the script and the subjects file (after a failed submission).
    public func removeFiles() {
        unlink(scriptPath)
        unlink(subjectsPath)
        rmdir(folder.slurmFolder) // only when empty
    }

    /// Submits the script with `sbatch --parsable`; returns the job id.
    public func submit() throws -> String {
        guard let sbatch = findExecutable("sbatch") else { throw Self.sbatchMissing }
        let r = try runCommand(sbatch, ["--parsable"] + sbatchArguments + [scriptPath])
        guard r.status == 0 else {
            throw CohortError("sbatch failed (exit \(r.status)): \(oneLine(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)))")
        }
        let id = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
        guard !id.isEmpty, id.allSatisfy({ $0.isNumber || $0 == "_" }) else {
            throw CohortError("sbatch printed no job id: \(oneLine(r.stdout + r.stderr))")
        }
        return id
    }

    /// The subjects of array task `index` in a subjects file, for the task itself.
    public static func chunk(subjectsFile: String, perTask: Int, index: Int) throws -> [String] {
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(subjectsFile, limit: 64 << 20) } catch let e as FileError { throw CohortError("\(e)") }
        let all = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        let k = max(1, perTask)
        guard index >= 0, index * k < all.count else {
            throw CohortError("--task-index \(index): \(subjectsFile) has \(all.count) subjects, \((all.count + k - 1) / k) tasks of \(k)")
        }
        return Array(all[(index * k)..<min(all.count, (index + 1) * k)])
    }

    /// Splits `--slurm-args` text into words (whitespace-separated; single or double quotes group).
    public static func splitArguments(_ text: String) throws -> [String] {
        var words: [String] = [], cur = "", quote: Character?, inWord = false
        for c in text {
            if let q = quote {
                if c == q { quote = nil } else { cur.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c; inWord = true
            } else if c.isWhitespace {
                if inWord { words.append(cur); cur = ""; inWord = false }
            } else {
                cur.append(c); inWord = true
            }
        }
        if quote != nil { throw CohortError("--slurm-args: unclosed quote in \(text)") }
        if inWord { words.append(cur) }
        return words
    }
}

/// `squeue` lines (`JOBID STATE REASON`) of the given jobs, or nil when squeue is missing or fails.
public func squeueLines(jobs: [String]) -> [String]? {
    guard !jobs.isEmpty, let squeue = findExecutable("squeue"),
          let r = try? runCommand(squeue, ["-h", "-r", "-j", jobs.joined(separator: ","), "-o", "%i %T %R"]), r.status == 0 else { return nil }
    return r.stdout.split(separator: "\n").map(String.init)
}

/// `sacct` lines (`JOBID|STATE|EXITCODE`) of the given jobs, or nil when accounting is not available.
public func sacctLines(jobs: [String]) -> [String]? {
    guard !jobs.isEmpty, let sacct = findExecutable("sacct"),
          let r = try? runCommand(sacct, ["-n", "-P", "-X", "-j", jobs.joined(separator: ","), "-o", "JobID,State,ExitCode"]),
          r.status == 0 else { return nil }
    return r.stdout.split(separator: "\n").map(String.init)
}

/// A word the shell reads back as `s`.
public func shellWord(_ s: String) -> String {
    let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./,=:+%@")
    if !s.isEmpty && s.allSatisfy({ safe.contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// The first `name` on PATH that is executable.
public func findExecutable(_ name: String) -> String? {
    if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
        let p = "\(dir)/\(name)"
        if access(p, X_OK) == 0 { return p }
    }
    return nil
}

/// Runs a program (stdin /dev/null, a clean signal mask) and returns its status and output.
func runCommand(_ path: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    do {
        let r = try Subprocess.run(path, arguments)
        return (r.status, r.standardOutput, r.standardError)
    } catch let e as Subprocess.LaunchError {
        throw CohortError(e.description)
    }
}
