import Foundation
import Testing
import TestSupport

/// The terminal always comes back (issue 7): after every way the workbench can end — the quit
/// key, Ctrl-C, SIGINT, SIGTERM, SIGHUP, an error thrown after the terminal was taken over, and
/// crash signals — echo and canonical input are on, the cursor is visible, the alternate screen
/// is left and mouse reporting is off; and the exit status says how it ended (128 + n for signal n).
@Suite(.serialized, .enabled(if: TmuxSession.executable != nil, "tmux is not installed"))
struct TerminalRestoreTmuxTests {
    /// Starts the workbench on the sample and waits until it is drawn (curses is running).
    func startedWorkbench(_ extra: [String] = [], width: Int = 100) throws -> TmuxSession {
        let t = try TmuxSession(Workbench.viewCommand(extra), width: width, height: 30, environment: Workbench.utf8)
        try t.waitForStatus()
        // Running in the terminal's program modes: alternate screen, mouse reporting, no echo.
        #expect(try t.format("#{alternate_on}") == "1")
        #expect(try t.format("#{mouse_any_flag}#{mouse_button_flag}") != "00")
        return t
    }

    @Test func quitKey() throws {
        let t = try startedWorkbench()
        try t.send("q")
        #expect(try t.exitStatus() == 0)
        #expect(try t.terminalModesProblems() == [])
    }

    @Test func ctrlCKeyQuitsAsInterrupted() throws {
        // In raw mode Ctrl-C arrives as a key, not a signal; it still ends with 130 like SIGINT.
        let t = try startedWorkbench()
        try t.send("C-c")
        #expect(try t.exitStatus() == 130)
        #expect(try t.terminalModesProblems() == [])
    }

    @Test(arguments: [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP"), (SIGQUIT, "SIGQUIT")])
    func terminationSignal(_ signal: Int32, _ name: String) throws {
        let t = try startedWorkbench()
        try t.signalProgram(signal)
        #expect(try t.exitStatus() == 128 + signal, "\(name)")
        #expect(try t.terminalModesProblems() == [], "\(name)")
    }

    @Test func interruptWhileLoading() throws {
        // The 1 mm sample takes a while to read and prepare; Ctrl-C-as-a-signal on the loading
        // screen must give the terminal back too. (Should loading finish first, this still
        // interrupts a just-started workbench.)
        let cmd = [Workbench.binary, "view", Workbench.sample("colin27_1mm.nii.gz"),
                   "--labels", Workbench.sample("colin27_1mm_aal.nii.gz"), "--label-names", Workbench.labelNames]
            .map(TmuxSession.quote).joined(separator: " ")
        let t = try TmuxSession(cmd, width: 100, height: 30, environment: Workbench.utf8)
        try t.waitFor { $0.contains("Loading colin27_1mm.nii.gz") || StatusBar(screen: $0) != nil }
        try t.signalProgram(SIGINT)
        #expect(try t.exitStatus() == 130)
        #expect(try t.terminalModesProblems() == [])
    }

    @Test(arguments: [(SIGSEGV, "SIGSEGV"), (SIGABRT, "SIGABRT"), (SIGBUS, "SIGBUS"), (SIGILL, "SIGILL"), (SIGFPE, "SIGFPE")])
    func crashSignal(_ signal: Int32, _ name: String) throws {
        // The handler restores the terminal, then re-raises: the process still dies of the signal.
        let t = try startedWorkbench()
        try t.signalProgram(signal)
        #expect(try t.exitStatus() == 128 + signal, "\(name)")
        #expect(try t.terminalModesProblems() == [], "\(name)")
    }

    @Test func closingTheTerminalEndsTheProgram() throws {
        // An SSH connection dropping closes the terminal: the kernel sends SIGHUP and reads fail.
        // The workbench must end, not linger or spin.
        let t = try startedWorkbench()
        let pid = try t.programPID()
        try t.tmux(["kill-session", "-t", "0"])
        let deadline = Date().addingTimeInterval(10)
        func alive() -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
            // Field 3 is the state; a zombie has ended.
            let state = stat.split(separator: ")").last?.split(separator: " ").first
            return state != "Z"
        }
        while alive() && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!alive(), "voxterm (pid \(pid)) still runs after its terminal was closed")
        if alive() { kill(pid, SIGKILL) }
    }

    @Test func errorAfterTheTerminalWasTakenOverRestoresItAndSaysWhy() throws {
        // A half-copied scan: the header is intact, so the file passes the checks made before
        // the terminal is taken over, but the data ends early and the load fails inside curses.
        let dir = TestPaths.temporaryDirectory("tmux-truncated")
        let full = try Data(contentsOf: URL(fileURLWithPath: Workbench.image))
        let cut = dir.appendingPathComponent("half_copied.nii.gz").path
        try full.prefix(full.count * 6 / 10).write(to: URL(fileURLWithPath: cut))
        let t = try TmuxSession("\(TmuxSession.quote(Workbench.binary)) view \(TmuxSession.quote(cut))",
                                width: 100, height: 30, environment: Workbench.utf8, recordOutput: true)
        let status = try t.exitStatus()
        #expect(status == 2)
        #expect(try t.terminalModesProblems() == [])
        // The program entered the alternate screen (curses had started), left it, then reported.
        let out = String(decoding: t.recordedOutput(), as: UTF8.self)
        let enter = try #require(out.range(of: "\u{1B}[?1049h"), "never entered the alternate screen: the error came before curses")
        let leave = try #require(out.range(of: "\u{1B}[?1049l", range: enter.upperBound..<out.endIndex))
        let error = try #require(out.range(of: "voxterm: error:", range: leave.upperBound..<out.endIndex),
                                 "no error message after leaving the alternate screen")
        let line = out[error.lowerBound...].prefix { $0 != "\r" && $0 != "\n" }
        #expect(line.contains("half_copied.nii.gz"), "\(line)")
        // One line on the screen the user sees afterwards.
        let screen = try t.screen()
        #expect(screen.components(separatedBy: "voxterm: error:").count == 2, "\(screen)")
        #expect(FileManager.default.fileExists(atPath: cut), "the input was removed")
    }

    @Test func exportIntoAVanishedFolderReportsAndKeepsRunning() throws {
        // A real error inside the workbench that must not end it.
        let dir = URL(fileURLWithPath: "/tmp/vx-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false)
        let t = try startedWorkbench(["--export-dir", dir.path], width: 200)
        try FileManager.default.removeItem(at: dir)
        try t.send("e")
        let screen = try t.waitForSettled { $0.contains("export failed") }
        let message = screen.split(separator: "\n").first { $0.contains("export failed") }.map(String.init) ?? ""
        #expect(message.contains(dir.path), "the message does not name the folder: \(message)")
        #expect(t.isRunning)
        try t.send("]")
        try t.waitForStatus { $0.slice > 0 }
        try t.send("q")
        #expect(try t.exitStatus() == 0)
        #expect(try t.terminalModesProblems() == [])
        #expect(!FileManager.default.fileExists(atPath: dir.path))
    }

    @Test func unknownTerminalTypeIsReportedBeforeAnythingChanges() throws {
        let t = try TmuxSession(Workbench.viewCommand(), width: 100, height: 30,
                                environment: ["LC_ALL": "C.UTF-8", "TERM": "no-such-terminal"])
        #expect(try t.exitStatus() == 1)
        #expect(try t.terminalModesProblems() == [])
        let screen = try t.screen()
        #expect(screen.contains("voxterm: error: unknown terminal type TERM=no-such-terminal"), "\(screen)")
    }

    @Test func inputNotATerminalIsReported() throws {
        let t = try TmuxSession(Workbench.viewCommand() + " < /dev/null", width: 100, height: 30,
                                environment: Workbench.utf8)
        #expect(try t.exitStatus() == 1)
        #expect(try t.terminalModesProblems() == [])
        #expect(try t.screen().contains("must be a terminal"))
    }
}
