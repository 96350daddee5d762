import Foundation

/// A program running in a real terminal: a detached tmux session on its own server socket.
///
/// The command runs under `sh -c` followed by `echo VOXTERM-EXIT=$?; stty -a; sleep`, so after the
/// program ends the pane shows its exit status and the terminal modes it left behind
/// (`terminalModesRestored`). Each session has its own socket (`tmux -L`), so parallel tests
/// never see each other's panes; `close()` kills the server.
public final class TmuxSession: @unchecked Sendable {
    /// tmux's path, or nil when tmux is not installed.
    public static let executable: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    public let socket: String
    public let width: Int, height: Int

    /// Starts `command` (a shell command line) in a `width`×`height` terminal with `environment`
    /// added (TERM defaults to tmux-256color, COLORTERM unset unless given).
    public init(_ command: String, width: Int = 120, height: Int = 40, environment: [String: String] = [:]) throws {
        guard let tmux = Self.executable else { throw TmuxError("tmux is not installed") }
        socket = "voxterm-test-\(UUID().uuidString.prefix(8))"
        self.width = width; self.height = height
        var env = ""
        for (k, v) in environment.sorted(by: { $0.key < $1.key }) { env += "\(k)=\(Self.quote(v)) " }
        let wrapped = "\(env)\(command); echo VOXTERM-EXIT=$?; stty -a; sleep 600"
        let r = try runProcess(tmux, ["-L", socket, "-f", "/dev/null", "new-session", "-d", "-x", "\(width)", "-y", "\(height)",
                                      "sh", "-c", wrapped])
        guard r.status == 0 else { throw TmuxError("tmux new-session failed: \(r.stderr)") }
    }

    deinit { close() }

    /// Runs a tmux subcommand on this session's server.
    @discardableResult
    public func tmux(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(Self.executable!, ["-L", socket] + arguments)
    }

    /// Sends keys as tmux names them (`"q"`, `"C-c"`, `"PageUp"`, `"Escape"`); `literal` sends text as typed.
    public func send(_ keys: String..., literal: Bool = false) throws {
        try tmux(["send-keys", "-t", "0"] + (literal ? ["-l"] : []) + keys)
    }

    /// The visible screen as text (`escapes`: with SGR colour sequences, as `capture-pane -e`).
    public func screen(escapes: Bool = false) throws -> String {
        try tmux(["capture-pane", "-p", "-t", "0"] + (escapes ? ["-e"] : [])).stdout
    }

    /// A tmux format value of the pane, e.g. `#{alternate_on}`, `#{cursor_flag}`, `#{pane_pid}`.
    public func format(_ f: String) throws -> String {
        try tmux(["display-message", "-p", "-t", "0", f]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Waits until the screen satisfies `predicate` (polling every 50 ms); returns the last screen.
    @discardableResult
    public func waitFor(timeout: Double = 20, escapes: Bool = false, _ predicate: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen(escapes: escapes)
            if predicate(last) { return last }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TmuxError("timed out after \(timeout) s; screen was:\n\(last)")
    }

    /// Waits until `text` is on screen.
    @discardableResult
    public func waitFor(_ text: String, timeout: Double = 20) throws -> String {
        try waitFor(timeout: timeout) { $0.contains(text) }
    }

    /// Waits for the program to end and returns its exit status.
    public func exitStatus(timeout: Double = 20) throws -> Int32 {
        let s = try waitFor(timeout: timeout) { $0.contains("VOXTERM-EXIT=") && $0.contains("speed") }
        guard let r = s.range(of: "VOXTERM-EXIT=") else { throw TmuxError("no exit status") }
        let digits = s[r.upperBound...].prefix { $0.isNumber }
        return Int32(digits) ?? -1
    }

    /// After the program ended: echo and canonical input on (from `stty -a`), cursor visible and
    /// the alternate screen left (tmux's pane flags). Returns the problems found, empty when restored.
    public func terminalModesProblems() throws -> [String] {
        _ = try exitStatus()
        let s = try screen()
        var problems: [String] = []
        let words = Set(s.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init))
        for flag in ["echo", "icanon", "icrnl", "opost"] where !words.contains(flag) {
            problems.append(words.contains("-" + flag) ? "\(flag) is off" : "\(flag) not reported")
        }
        if try format("#{alternate_on}") != "0" { problems.append("still on the alternate screen") }
        if try format("#{cursor_flag}") != "1" { problems.append("cursor hidden") }
        if try format("#{mouse_any_flag}#{mouse_button_flag}#{mouse_sgr_flag}") != "000" {
            problems.append("mouse reporting left on")
        }
        return problems
    }

    /// Sends `signal` to the program running in the pane (the child of the wrapper shell).
    public func signalProgram(_ signal: Int32, named name: String = "voxterm") throws {
        let shell = try format("#{pane_pid}")
        let r = try runProcess("/usr/bin/pgrep", ["-P", shell, name])
        guard let pid = Int32(r.stdout.split(separator: "\n").first ?? "") else {
            throw TmuxError("no \(name) process under pane shell \(shell)")
        }
        kill(pid, signal)
    }

    /// Kills the tmux server of this session.
    public func close() {
        _ = try? tmux(["kill-server"])
    }

    /// `s` quoted for `sh`.
    public static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

/// A tmux session that could not be driven as expected.
public struct TmuxError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
