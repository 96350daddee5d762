import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A program running in a real terminal: a detached tmux session on its own server socket.
///
/// The command runs under `sh -c` followed by `echo VOXTERM-EXIT=$?; stty -a; sleep`, so after the
/// program ends the pane shows its exit status and the terminal modes it left behind
/// (`terminalModesProblems`). The same lines also go to a file, so they can be read whatever the
/// pane size or what the program left on screen. Each session has its own socket (`tmux -L`),
/// so parallel tests never see each other's panes; `close()` kills the server.
public final class TmuxSession: @unchecked Sendable {
    /// tmux's path, or nil when tmux is not installed.
    public static let executable: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    public let socket: String
    /// The size the terminal was opened with (see `resize` for changes).
    public let width: Int, height: Int
    /// Where the wrapper shell writes the exit status and `stty -a` after the program ends.
    private let statusFile: String
    /// Where the program's raw output is recorded (`recordOutput`), or nil.
    private let recordFile: String?

    /// Starts `command` (a shell command line) in a `width`×`height` terminal with `environment`
    /// added (TERM defaults to tmux-256color, COLORTERM unset unless given), in `directory`
    /// (default: the current folder). With `recordOutput`, every byte the program writes to the
    /// terminal is kept (tmux `pipe-pane`, attached before the program starts): see `recordedOutput`.
    public init(_ command: String, width: Int = 120, height: Int = 40, environment: [String: String] = [:],
                directory: String? = nil, recordOutput: Bool = false) throws {
        guard let tmux = Self.executable else { throw TmuxError("tmux is not installed") }
        let id = UUID().uuidString.prefix(8)
        socket = "voxterm-test-\(id)"
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("voxterm-tmux-\(id)").path
        statusFile = base + ".status"
        recordFile = recordOutput ? base + ".out" : nil
        self.width = width; self.height = height
        var env = ""
        for (k, v) in environment.sorted(by: { $0.key < $1.key }) { env += "\(k)=\(Self.quote(v)) " }
        let f = Self.quote(statusFile), go = Self.quote(base + ".go")
        // When recording, the program waits until the pipe is attached, so no byte is missed.
        let gate = recordOutput ? "while [ ! -e \(go) ]; do sleep 0.02; done; " : ""
        let wrapped = "\(gate)\(env)\(command); s=$?; echo VOXTERM-EXIT=$s; stty -a; "
            + "{ echo VOXTERM-EXIT=$s; stty -a; } > \(f).tmp 2>&1; mv \(f).tmp \(f); sleep 600"
        let r = try runProcess(tmux, ["-L", socket, "-f", "/dev/null", "new-session", "-d", "-x", "\(width)", "-y", "\(height)"]
                                      + (directory.map { ["-c", $0] } ?? []) + ["sh", "-c", wrapped])
        guard r.status == 0 else { throw TmuxError("tmux new-session failed: \(r.stderr)") }
        if let recordFile {
            let p = try runProcess(tmux, ["-L", socket, "pipe-pane", "-t", "0", "-O", "cat > \(Self.quote(recordFile))"])
            guard p.status == 0 else { throw TmuxError("tmux pipe-pane failed: \(p.stderr)") }
            _ = FileManager.default.createFile(atPath: base + ".go", contents: nil)
        }
    }

    deinit {
        close()
        for f in [statusFile, recordFile, recordFile.map { ($0 as NSString).deletingPathExtension + ".go" }] {
            if let f { try? FileManager.default.removeItem(atPath: f) }
        }
    }

    /// The raw bytes the program wrote to the terminal (escape sequences included), for a session
    /// opened with `recordOutput`. Once the program has ended, waits until everything has arrived.
    public func recordedOutput(timeout: Double = 10) -> [UInt8] {
        guard let recordFile else { return [] }
        let ended = !isRunning
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let bytes = FileManager.default.contents(atPath: recordFile).map { [UInt8]($0) } ?? []
            // The wrapper prints VOXTERM-EXIT= after the program: then the program's output is complete.
            if !ended || Date() > deadline || String(decoding: bytes, as: UTF8.self).contains("VOXTERM-EXIT=") {
                return bytes
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Runs a tmux subcommand on this session's server.
    @discardableResult
    public func tmux(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(Self.executable!, ["-L", socket] + arguments)
    }

    /// Sends keys as tmux names them (`"q"`, `"C-c"`, `"PageUp"`, `"Escape"`); `literal` sends text as typed.
    /// A `;` at the end of an argument is escaped, since tmux would take it for a command separator.
    public func send(_ keys: String..., literal: Bool = false) throws {
        let escaped = keys.map { $0.hasSuffix(";") ? String($0.dropLast()) + "\\;" : $0 }
        let r = try tmux(["send-keys", "-t", "0"] + (literal ? ["-l"] : []) + escaped)
        guard r.status == 0 else { throw TmuxError("tmux send-keys \(keys) failed: \(r.stderr)") }
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

    /// The exit status line and `stty -a` written by the wrapper shell once the program ended, or
    /// nil while it still runs.
    public func afterExitReport() -> String? {
        guard let d = FileManager.default.contents(atPath: statusFile) else { return nil }
        return String(decoding: d, as: UTF8.self)
    }

    /// True while the program has not ended.
    public var isRunning: Bool { afterExitReport() == nil }

    /// Waits for the program to end and returns its exit status.
    public func exitStatus(timeout: Double = 20) throws -> Int32 {
        let s = try waitForExitReport(timeout: timeout)
        guard let r = s.range(of: "VOXTERM-EXIT=") else { throw TmuxError("no exit status in: \(s)") }
        let digits = s[r.upperBound...].prefix { $0.isNumber }
        return Int32(digits) ?? -1
    }

    private func waitForExitReport(timeout: Double) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let s = afterExitReport() { return s }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TmuxError("the program did not end within \(timeout) s; screen was:\n\((try? screen()) ?? "")")
    }

    /// After the program ended: echo and canonical input on (from `stty -a`), cursor visible and
    /// the alternate screen left (tmux's pane flags). Returns the problems found, empty when restored.
    public func terminalModesProblems() throws -> [String] {
        let s = try waitForExitReport(timeout: 20)
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
        kill(try programPID(named: name), signal)
    }

    /// The process id of the program running in the pane (the child of the wrapper shell).
    public func programPID(named name: String = "voxterm") throws -> pid_t {
        let shell = try format("#{pane_pid}")
        let r = try runProcess("/usr/bin/pgrep", ["-P", shell, name])
        guard let pid = Int32(r.stdout.split(separator: "\n").first ?? "") else {
            throw TmuxError("no \(name) process under pane shell \(shell)")
        }
        return pid
    }

    /// Resizes the terminal (the tmux window), as a user dragging the window edge; the program gets SIGWINCH.
    public func resize(columns: Int, rows: Int) throws {
        let r = try tmux(["resize-window", "-t", "0", "-x", "\(columns)", "-y", "\(rows)"])
        guard r.status == 0 else { throw TmuxError("tmux resize-window failed: \(r.stderr)") }
    }

    /// A mouse event a terminal reports to a program that asked for mouse reporting.
    public enum MouseReport: Sendable {
        case press(button: Int), release, wheelUp, wheelDown
    }

    /// Sends a mouse report at cell (`column`, `row`) (0-based) as the terminal would: in SGR form
    /// (`ESC [ < b ; x ; y M`) when the program enabled mode 1006, else in the X10 form (`ESC [ M b x y`).
    /// tmux has no client attached to click with, so the bytes are written into the pane's input.
    public func mouse(_ report: MouseReport, column: Int, row: Int) throws {
        let code: Int
        switch report {
        case .press(let b): code = max(0, min(2, b - 1))
        case .release: code = 3
        case .wheelUp: code = 64
        case .wheelDown: code = 65
        }
        var bytes: [UInt8]
        if try format("#{mouse_sgr_flag}") == "1" {
            let b = report.isRelease ? 0 : code
            bytes = Array("\u{1B}[<\(b);\(column + 1);\(row + 1)\(report.isRelease ? "m" : "M")".utf8)
        } else {
            guard column < 223, row < 223 else { throw TmuxError("X10 mouse reports cannot reach cell \(column),\(row)") }
            bytes = [0x1B, UInt8(ascii: "["), UInt8(ascii: "M"), UInt8(32 + code), UInt8(33 + column), UInt8(33 + row)]
        }
        let r = try tmux(["send-keys", "-t", "0", "-H"] + bytes.map { String($0, radix: 16) })
        guard r.status == 0 else { throw TmuxError("tmux send-keys -H failed: \(r.stderr)") }
    }

    /// A left click (press and release) at cell (`column`, `row`), 0-based.
    public func click(column: Int, row: Int) throws {
        try mouse(.press(button: 1), column: column, row: row)
        try mouse(.release, column: column, row: row)
    }

    /// Kills the tmux server of this session.
    public func close() {
        _ = try? tmux(["kill-server"])
    }

    /// `s` quoted for `sh`.
    public static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

extension TmuxSession.MouseReport {
    var isRelease: Bool { if case .release = self { return true } else { return false } }
}

/// A tmux session that could not be driven as expected.
public struct TmuxError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
