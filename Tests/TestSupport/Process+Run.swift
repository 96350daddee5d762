import Foundation
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
///
/// posix_spawn and waitpid rather than Foundation's `Process`: on Linux, `Process.waitUntilExit`
/// was seen to wait forever for a child that had exited (a `tmux new-session -d` client, which
/// forks the server) under swift-testing. The child starts with no signal blocked and default
/// actions, whatever the calling thread had: dispatch worker threads block most signals, and a
/// tmux server inheriting that mask ignores SIGHUP/SIGTERM and never exits. The output pipes are
/// close-on-exec, so a daemon the child starts holds none of them.
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                       currentDirectory: URL? = nil) throws -> ProcessResult {
    var path = executable, args = arguments
    if let currentDirectory {
        // posix_spawn_file_actions_addchdir_np does not import into Swift: let sh change folder.
        path = "/bin/sh"
        args = ["-c", "cd \"$0\" && exec \"$@\"", currentDirectory.path, executable] + arguments
    }
    var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
    guard pipe(&out) == 0, pipe(&err) == 0 else { throw ProcessRunError("pipe failed: errno \(errno)") }
    // Close-on-exec: only the dup2 copies (descriptors 1 and 2) reach the child.
    for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, out[1], 1)
    posix_spawn_file_actions_adddup2(&actions, err[1], 2)
    let argv = ([path] + args).map { strdup($0) } + [nil]
    defer { for a in argv { free(a) } }
    let env = ProcessInfo.processInfo.environment.merging(environment ?? [:]) { $1 }
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for e in envp { free(e) } }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t(), all = sigset_t()
    sigemptyset(&empty)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
    close(out[1]); close(err[1])
    defer { close(out[0]); close(err[0]) }
    guard rc == 0 else { throw ProcessRunError("cannot run \(path): \(String(cString: strerror(rc)))") }
    // Drain both pipes until both are closed, so neither can fill up and block the child.
    var outData: [UInt8] = [], errData: [UInt8] = []
    var fds = [pollfd(fd: out[0], events: Int16(POLLIN), revents: 0), pollfd(fd: err[0], events: Int16(POLLIN), revents: 0)]
    var buffer = [UInt8](repeating: 0, count: 65536)
    while fds.contains(where: { $0.fd >= 0 }) {
        if poll(&fds, nfds_t(fds.count), -1) < 0 {
            if errno == EINTR { continue }
            break
        }
        for i in fds.indices where fds[i].fd >= 0 && fds[i].revents != 0 {
            let n = read(fds[i].fd, &buffer, buffer.count)
            if n > 0 {
                if i == 0 { outData += buffer[0..<n] } else { errData += buffer[0..<n] }
            } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                fds[i].fd = -1
            }
        }
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { throw ProcessRunError("waitpid failed for \(path): errno \(errno)") }
    }
    let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return ProcessResult(status: exit, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
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
