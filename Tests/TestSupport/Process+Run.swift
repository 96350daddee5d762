import Foundation
import VolumeCore
#if canImport(Glibc)
import Glibc
#endif

/// The result of running a program to completion.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// A program that could not be started or waited for.
public struct ProcessRunError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// Runs `executable` with `arguments` (standard input from /dev/null), waits, and returns its exit
/// status (128 + n when killed by signal n) and output; `environment` is added to this process's.
/// Through `Subprocess` (posix_spawn with a clean signal mask: see there why not Foundation's `Process`).
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                       currentDirectory: URL? = nil) throws -> ProcessResult {
    var path = executable, args = arguments
    if let currentDirectory {
        // posix_spawn_file_actions_addchdir_np does not import into Swift: let sh change folder.
        path = "/bin/sh"
        args = ["-c", "cd \"$0\" && exec \"$@\"", currentDirectory.path, executable] + arguments
    }
    let env = ProcessInfo.processInfo.environment.merging(environment ?? [:]) { $1 }.map { "\($0.key)=\($0.value)" }
    do {
        let r = try Subprocess.run(path, args, environment: env)
        return ProcessResult(status: r.status, stdout: r.standardOutput, stderr: r.standardError)
    } catch let e as Subprocess.LaunchError {
        throw ProcessRunError(e.description)
    }
}

/// Runs the built `voxterm` binary.
public func runVoxterm(_ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
    try runProcess(TestPaths.voxtermBinary.path, arguments, environment: environment)
}

/// Path of python3 with nibabel importable, or nil when it is missing.
public let pythonWithNibabel: String? = {
    for py in ["/usr/bin/python3", "/usr/local/bin/python3"] + (ProcessInfo.processInfo.environment["PATH"] ?? "")
        .split(separator: ":").map({ "\($0)/python3" }) {
        guard FileManager.default.isExecutableFile(atPath: py) else { continue }
        if let r = try? runProcess(py, ["-c", "import nibabel"]), r.status == 0 { return py }
    }
    return nil
}()

/// Runs voxterm with file modes in force: as root, without root's overrides (CAP_DAC_OVERRIDE,
/// CAP_DAC_READ_SEARCH, dropped with util-linux's setpriv), so an unreadable file or a read-only
/// folder is one for voxterm too. Nil when running as root and setpriv is missing.
public func runVoxtermHonouringFileModes(_ arguments: [String]) throws -> ProcessResult? {
    guard geteuid() == 0 else { return try runVoxterm(arguments) }
    guard let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        return nil
    }
    return try runProcess(setpriv, ["--bounding-set=-dac_override,-dac_read_search", "--", TestPaths.voxtermBinary.path] + arguments)
}
