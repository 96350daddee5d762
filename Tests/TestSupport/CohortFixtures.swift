import Foundation
import VolumeCore
import VoxtermModel
#if canImport(Glibc)
import Glibc
#endif

/// Small synthetic cohorts for the batch tests, made from the bundled Colin27 + AAL at 4 mm
/// (46x55x46 voxels, so a fast-preset registration takes about a second): a template (the
/// fixed image and its labels) and subjects that are the template moved by a different affine
/// each (rotation about the grid centre, shift, scaling), labels moved with them.
public struct CohortFixture {
    public let dir: URL
    public let fixed: String
    public let fixedLabels: String
    /// Subject names, image and label paths (relative to `dir`).
    public var subjects: [(name: String, image: String, labels: String)]

    /// Makes `count` subjects in `dir` (created).
    public static func make(in dir: URL, count: Int, spacing: Double = 4) throws -> CohortFixture {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let image = try NIfTIReader.read(TestPaths.samples.appendingPathComponent("colin27_2mm.nii.gz").path).volume()
        let labels = try NIfTIReader.read(TestPaths.samples.appendingPathComponent("colin27_2mm_aal.nii.gz").path).labelVolume()
        let g = image.geometry
        let k = spacing / g.spacing.x
        let size = SIMD3<Int>(Int((Double(g.size.x) / k).rounded(.up)), Int((Double(g.size.y) / k).rounded(.up)),
                              Int((Double(g.size.z) / k).rounded(.up)))
        let grid = VolumeGeometry(size: size, affine: g.affine.composed(after: AffineTransform(linear: [[k, 0, 0], [0, k, 0], [0, 0, k]],
                                                                                            translation: [0, 0, 0])))
        let fixed = dir.appendingPathComponent("template.nii.gz").path
        let fixedLabels = dir.appendingPathComponent("template_aal.nii.gz").path
        try NIfTIWriter.write(image.resampled(to: grid), to: fixed)
        try NIfTIWriter.write(labels.resampled(to: grid), to: fixedLabels)
        let c = grid.centre
        var subjects: [(String, String, String)] = []
        for i in 0..<count {
            let a = Double(i % 5 - 2) * 3 * Double.pi / 180
            let s = 1 + Double(i % 3 - 1) * 0.03
            let shift = SIMD3<Double>(Double(i % 3 - 1) * 3, Double(i % 4) * 1.5 - 2.25, Double(i % 2) * 2 - 1)
            let lin = [[s * cos(a), -s * sin(a), 0], [s * sin(a), s * cos(a), 0], [0, 0, s]]
            // x -> L (x - c) + c + shift: the subject shows the template at that point.
            var p = AffineTransform(linear: lin, translation: [0, 0, 0])
            p = AffineTransform(linear: lin, translation: c - p.apply(c) + shift)
            let moved = VolumeGeometry(size: grid.size, affine: p.composed(after: grid.affine))
            var img = image.resampled(to: moved)
            var lab = labels.resampled(to: moved)
            img.geometry = grid
            lab.geometry = grid
            let name = String(format: "s%02d", i + 1)
            try NIfTIWriter.write(img, to: dir.appendingPathComponent("\(name).nii.gz").path)
            try NIfTIWriter.write(lab, to: dir.appendingPathComponent("\(name)_aal.nii.gz").path)
            subjects.append((name, "\(name).nii.gz", "\(name)_aal.nii.gz"))
        }
        return CohortFixture(dir: dir, fixed: fixed, fixedLabels: fixedLabels, subjects: subjects)
    }

    /// Writes `cohort.csv` (subject,image,labels) and returns its path.
    public func writeCSV(_ name: String = "cohort.csv", extraColumns: String = "", extra: (Int) -> String = { _ in "" }) throws -> String {
        var text = "subject,image,labels\(extraColumns)\n"
        for (i, s) in subjects.enumerated() { text += "\(s.name),\(s.image),\(s.labels)\(extra(i))\n" }
        let path = dir.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// A started child process (posix_spawn, clean signal mask, output to files) that the test
/// signals and waits for.
public struct StartedProcess {
    public let pid: pid_t

    /// Starts `executable` with `arguments`, stdout and stderr appended to `log`.
    public static func start(_ executable: String, _ arguments: [String], log: String,
                             environment: [String: String] = [:]) throws -> StartedProcess {
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        do {
            let pid = try Subprocess.start(executable, arguments, environment: env,
                                           standardOutput: .appendingTo(log), standardError: .sameAsStandardOutput)
            return StartedProcess(pid: pid)
        } catch let e as Subprocess.LaunchError {
            throw ProcessRunError(e.description)
        }
    }

    public func signal(_ s: Int32) { kill(pid, s) }

    /// Waits for the exit; returns the status (128 + n when killed by signal n).
    public func wait() -> Int32 { Subprocess.wait(pid) }

    /// Waits at most `timeout` seconds for the exit; returns the status, or nil when the process
    /// was still running then (it is killed with SIGKILL and reaped, so no test hangs on it or
    /// leaves it behind).
    public func wait(timeout: Double) -> Int32? {
        let deadline = monotonicSeconds() + timeout
        while !hasExited {
            if monotonicSeconds() > deadline {
                kill(pid, SIGKILL)
                _ = wait()
                return nil
            }
            usleep(1000)
        }
        return wait()
    }

    /// True once the process has ended (a zombie not yet reaped, or gone), read from
    /// /proc/PID/stat without reaping it.
    public var hasExited: Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")"), stat.distance(from: close, to: stat.endIndex) > 2 else { return true }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }
}
