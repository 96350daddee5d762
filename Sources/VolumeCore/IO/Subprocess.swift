#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion: the one place voxterm calls `posix_spawn` (dcm2niix for DICOM,
/// `sbatch`/`squeue` for cohorts, `voxterm segment` in `bench segment`, and the test harness).
///
/// posix_spawn and waitpid rather than Foundation's `Process`: on Linux, `Process.waitUntilExit`
/// was seen to wait forever for a child that had exited (a `tmux new-session -d` client, which
/// forks the server). The child starts with no signal blocked and default actions, whatever the
/// calling thread had: dispatch worker threads block most signals, and a child inheriting that
/// mask ignores SIGINT/SIGTERM. Standard input is /dev/null; the capture pipes are close-on-exec,
/// so a daemon the child starts holds none of them.
public enum Subprocess {
    /// Where a child's standard output or error goes.
    public enum Output: Sendable, Equatable {
        /// Into a pipe, returned in `Result`.
        case capture
        /// To /dev/null.
        case discard
        /// Into this file (created or truncated, mode 0600).
        case file(String)
        /// Appended to this file (created with mode 0644 when missing).
        case appendingTo(String)
        /// Standard error only: wherever standard output goes.
        case sameAsStandardOutput
    }

    /// Exit status (128 + n when killed by signal n) and the captured output.
    public struct Result: Sendable {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
    }

    /// A program that could not be started (`code` is the errno posix_spawn returned, e.g. ENOENT).
    public struct LaunchError: Error, CustomStringConvertible, Sendable {
        public var executable: String
        public var code: Int32
        public var description: String { "cannot run \(executable): \(FileIO.errnoReason(code))" }
    }

    /// Runs `executable` with `arguments` and waits for it.
    /// - Parameters:
    ///   - searchPath: look `executable` up on `PATH` (posix_spawnp) instead of taking it as a path.
    ///   - environment: `KEY=VALUE` entries for the child; nil inherits this process's environment.
    public static func run(_ executable: String, _ arguments: [String], searchPath: Bool = false,
                           environment: [String]? = nil,
                           standardOutput: Output = .capture, standardError: Output = .capture) throws -> Result {
        var pipes: [Int32: [Int32]] = [:]  // child descriptor (1, 2) -> [read end, write end]
        defer { for p in pipes.values { close(p[0]) } }
        let pid = try spawn(executable, arguments, searchPath: searchPath, environment: environment,
                            standardOutput: standardOutput, standardError: standardError, pipes: &pipes)
        // An early exit (the CLI's signal watchdog) stops the child instead of leaving it running.
        ExitCleanup.addChild(pid)
        defer { ExitCleanup.removeChild(pid) }
        return collect(pid, pipes: pipes)
    }

    /// Starts `executable` without waiting (outputs to files or /dev/null; `.capture` is not
    /// drained) and returns its process id; the caller signals it and calls `wait(_:)`.
    public static func start(_ executable: String, _ arguments: [String], environment: [String]? = nil,
                             standardOutput: Output = .discard, standardError: Output = .discard) throws -> pid_t {
        var pipes: [Int32: [Int32]] = [:]
        defer { for p in pipes.values { close(p[0]) } }
        return try spawn(executable, arguments, searchPath: false, environment: environment,
                         standardOutput: standardOutput, standardError: standardError, pipes: &pipes)
    }

    /// Waits for `pid` and returns its exit status (128 + n when killed by signal n).
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { break }
        }
        // WIFEXITED / WEXITSTATUS are macros: decode the status word by hand.
        return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    private static func spawn(_ executable: String, _ arguments: [String], searchPath: Bool, environment: [String]?,
                              standardOutput: Output, standardError: Output,
                              pipes: inout [Int32: [Int32]]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (fd, output) in [(Int32(1), standardOutput), (Int32(2), standardError)] {
            switch output {
            case .capture:
                var p: [Int32] = [0, 0]
                guard pipe(&p) == 0 else { throw LaunchError(executable: executable, code: errno) }
                for e in p { _ = fcntl(e, F_SETFD, FD_CLOEXEC) }
                pipes[fd] = p
                posix_spawn_file_actions_adddup2(&actions, p[1], fd)
            case .discard:
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            case .appendingTo(let path):
                posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            case .sameAsStandardOutput:
                posix_spawn_file_actions_adddup2(&actions, 1, fd)
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        let envp = environment.map { $0.map { strdup($0) } + [nil] }
        defer { for e in envp ?? [] { free(e) } }
        var pid: pid_t = 0
        let rc: Int32
        if let env = envp {
            rc = searchPath ? posix_spawnp(&pid, executable, &actions, &attributes, argv, env)
                            : posix_spawn(&pid, executable, &actions, &attributes, argv, env)
        } else {
            rc = searchPath ? posix_spawnp(&pid, executable, &actions, &attributes, argv, environ)
                            : posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        }
        for p in pipes.values { close(p[1]) }
        guard rc == 0 else { throw LaunchError(executable: executable, code: rc) }
        return pid
    }

    private static func collect(_ pid: pid_t, pipes: [Int32: [Int32]]) -> Result {
        // Drain both pipes until both are closed, so neither can fill up and block the child.
        var captured: [Int32: [UInt8]] = [1: [], 2: []]
        var fds = pipes.keys.sorted().map { pollfd(fd: pipes[$0]![0], events: Int16(POLLIN), revents: 0) }
        let owners = pipes.keys.sorted()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while fds.contains(where: { $0.fd >= 0 }) {
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for i in fds.indices where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = read(fds[i].fd, &buffer, buffer.count)
                if n > 0 {
                    captured[owners[i]]! += buffer[0..<n]
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    fds[i].fd = -1
                }
            }
        }
        return Result(status: wait(pid), standardOutput: String(decoding: captured[1]!, as: UTF8.self),
                      standardError: String(decoding: captured[2]!, as: UTF8.self))
    }
}
