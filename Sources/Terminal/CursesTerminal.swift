internal import CNcursesw
#if canImport(Glibc)
import Glibc
#endif

/// Why the terminal could not be opened.
public enum TerminalError: Error, CustomStringConvertible, Equatable {
    /// Standard input or output is not a terminal.
    case notATerminal
    /// terminfo has no entry for `$TERM`.
    case unknownTerminalType(String)
    /// A curses terminal is already open in this process.
    case alreadyOpen

    public var description: String {
        switch self {
        case .notATerminal: "standard input and output must be a terminal (run it in a terminal, or in tmux)"
        case .unknownTerminalType(let t): "unknown terminal type TERM=\(t) (no terminfo entry)"
        case .alreadyOpen: "a terminal session is already open"
        }
    }
}

/// Opens the real terminal, runs `body`, and always restores the terminal afterwards: on
/// return, on a thrown error, and on SIGINT, SIGTERM, SIGHUP, SIGQUIT or a crash signal
/// (the handler writes the saved reset sequence, restores the saved termios and re-raises).
/// `colorDepth` and `ascii` override what is detected (a command's `--color` and `--ascii`);
/// `graphics` decides whether pictures go out as kitty or sixel images (`.auto` asks the
/// terminal, before curses starts, and never uses images inside tmux) or in cells.
public func withCursesTerminal<R>(colorDepth: ColorDepth? = nil, ascii: Bool = false, graphics: GraphicsRequest = .blocks,
                                  _ body: (CursesTerminal) throws -> R) throws -> R {
    let terminal = try CursesTerminal(colorDepth: colorDepth, ascii: ascii, graphics: graphics)
    defer { terminal.close() }
    return try body(terminal)
}

// State the signal handler needs, prepared before any signal can arrive.
nonisolated(unsafe) private var savedTermios = termios()
nonisolated(unsafe) private var restoreSequence: UnsafeMutableBufferPointer<UInt8>? = nil
nonisolated(unsafe) private var terminalOpen = false
private let handledSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE]

nonisolated(unsafe) private var previousActions: [Int32: sigaction] = [:]
/// Stack for the handler, so it also runs when the crash was a stack overflow.
nonisolated(unsafe) private var alternateStack: UnsafeMutableRawPointer? = nil
private let alternateStackSize = 256 * 1024

private func restoreTerminalFromSignal(_ sig: Int32) {
    // Only async-signal-safe calls here: write, tcsetattr, signal, raise.
    if let seq = restoreSequence, let base = seq.baseAddress { _ = write(STDOUT_FILENO, base, seq.count) }
    _ = tcsetattr(STDIN_FILENO, TCSANOW, &savedTermios)
    signal(sig, SIG_DFL)
    // Pending until the handler returns; a fault re-executes the faulting instruction instead.
    raise(sig)
}

/// Installs the restoring handler for `handledSignals` on an alternate stack, keeping the
/// previous actions (e.g. the Swift runtime's backtracer) for `uninstallSignalHandlers`.
private func installSignalHandlers() {
    if alternateStack == nil, let mem = malloc(alternateStackSize) {
        var ss = stack_t(ss_sp: mem, ss_flags: 0, ss_size: alternateStackSize)
        if sigaltstack(&ss, nil) == 0 { alternateStack = mem } else { free(mem) }
    }
    for s in handledSignals {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { restoreTerminalFromSignal($0) }
        action.sa_flags = SA_ONSTACK
        sigemptyset(&action.sa_mask)
        var old = sigaction()
        if sigaction(s, &action, &old) == 0 { previousActions[s] = old }
    }
}

/// Puts back the signal actions that were in place before `installSignalHandlers`.
private func uninstallSignalHandlers() {
    for (s, old) in previousActions {
        var old = old
        sigaction(s, &old, nil)
    }
    previousActions = [:]
}

/// The real terminal, through ncursesw: the only type in voxterm that calls curses.
///
/// curses sets the terminal modes (raw, no echo, keypad, alternate screen), decodes keys, mouse
/// reports and resizes. Cells are written by `ScreenEncoder` straight to the terminal with SGR
/// colour sequences, so direct colour works regardless of terminfo and only changed cells are sent.
public final class CursesTerminal: TerminalDevice {
    public private(set) var size: TerminalSize
    public let capabilities: TerminalCapabilities
    private var encoder: ScreenEncoder
    private var screen: OpaquePointer?
    private var closed = false
    /// Total bytes written by `present` since opening.
    public private(set) var bytesWritten = 0

    /// Opens the terminal; a non-nil `colorDepth` or `ascii` overrides the detected capabilities;
    /// `graphics` as in `withCursesTerminal`.
    init(colorDepth: ColorDepth? = nil, ascii: Bool = false, graphics: GraphicsRequest = .blocks) throws {
        guard !terminalOpen else { throw TerminalError.alreadyOpen }
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { throw TerminalError.notATerminal }
        setlocale(LC_ALL, "")
        tcgetattr(STDIN_FILENO, &savedTermios)
        // Before newterm: the actions saved for close() are the program's own, not ncurses' (which
        // installs its SIGINT/SIGTERM handlers only where it finds the default action).
        installSignalHandlers()
        var environment: [String: String] = [:]
        for k in ["TMUX", "TERM"] { if let v = ProcessInfo_env(k) { environment[k] = v } }
        let inTmux = environment["TMUX"] != nil
        let reply = graphics == .blocks || graphics == .symbols || (graphics == .auto && inTmux) ? nil : GraphicsQuery.ask()
        var ws = winsize()
        _ = ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws)
        let decided = GraphicsQuery.decide(request: graphics, reply: reply, environment: environment,
                                           windowPixels: GraphicsQuery.windowPixels(),
                                           size: TerminalSize(columns: Int(ws.ws_col), rows: Int(ws.ws_row)))
        let termName = ProcessInfo_env("TERM") ?? ""
        guard let scr = newterm(nil, voxterm_stdout(), voxterm_stdin()) else {
            uninstallSignalHandlers()
            throw TerminalError.unknownTerminalType(termName)
        }
        screen = scr
        set_term(scr)
        terminalOpen = true
        raw()
        noecho()
        nonl()
        keypad(voxterm_stdscr(), true)
        curs_set(0)
        set_escdelay(25)
        mouseinterval(0)
        mousemask(voxterm_all_mouse_events(), nil)

        let rgbFlag = tigetflag("RGB") > 0
        let colors = Int(tigetnum("colors"))
        let codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        var env: [String: String] = [:]
        for k in ["COLORTERM", "VOXTERM_COLOR", "VOXTERM_ASCII"] { if let v = ProcessInfo_env(k) { env[k] = v } }
        var detected = TerminalCapabilities.detect(environment: env, terminfoColors: colors, terminfoRGB: rgbFlag,
                                                   codesetIsUTF8: codeset.uppercased().replacingDash() == "UTF8")
        if let colorDepth { detected.colorDepth = colorDepth }
        if ascii { detected.unicode = false }
        detected.graphics = decided.0
        detected.graphicsNote = decided.1
        detected.chafaSymbols = graphics == .symbols
        capabilities = detected
        encoder = ScreenEncoder(capabilities: capabilities)
        size = TerminalSize(columns: Int(voxterm_cols()), rows: Int(voxterm_lines()))

        // What a signal handler writes to put the terminal back: attributes, mouse, cursor, screen.
        var seq = Array("\u{1B}[0m\u{1B}[?1002l\u{1B}[?1000l\u{1B}[?1006l\u{1B}[?25h".utf8)
        for cap in ["rmkx", "rmcup"] {
            if let s = tigetstr(cap), Int(bitPattern: s) != -1 { seq += Array(String(cString: s).utf8) }
        }
        let buf = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: seq.count)
        _ = buf.initialize(from: seq)
        restoreSequence = buf
        clear()
        refresh()
        // Button-event tracking, so a drag with the button held is reported too.
        writeAll(Array("\u{1B}[?1002h".utf8))
    }

    /// Restores the terminal (idempotent). Called by `withCursesTerminal`.
    public func close() {
        guard !closed else { return }
        closed = true
        if capabilities.graphics?.protocol == .kitty { writeAll(Array("\u{1B}_Ga=d,q=2\u{1B}\\".utf8)) }
        writeAll(Array("\u{1B}[0m\u{1B}[?1002l".utf8))
        mousemask(0, nil)
        endwin()
        if let scr = screen { delscreen(scr) }
        screen = nil
        tcsetattr(STDIN_FILENO, TCSANOW, &savedTermios)
        uninstallSignalHandlers()
        restoreSequence?.deallocate()
        restoreSequence = nil
        terminalOpen = false
    }

    @discardableResult public func present(_ grid: CellGrid) -> Int {
        let bytes = encoder.encode(grid)
        writeAll(bytes)
        bytesWritten += bytes.count
        return bytes.count
    }

    public func nextEvent(timeoutMilliseconds: Int?) -> InputEvent? {
        wtimeout(voxterm_stdscr(), Int32(timeoutMilliseconds ?? -1))
        var ch: wint_t = 0
        let r = wget_wch(voxterm_stdscr(), &ch)
        if r == ERR {
            // A timeout, or input gone (hang-up): poll stdin to tell them apart.
            if timeoutMilliseconds == nil || inputClosed() { return .closed }
            return nil
        }
        if r == voxterm_key_code_yes() { return decodeKeyCode(Int32(ch)) }
        return decodeCharacter(UInt32(ch))
    }

    private func inputClosed() -> Bool {
        var fds = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        return poll(&fds, 1, 0) > 0 && (fds.revents & Int16(POLLHUP | POLLERR | POLLNVAL)) != 0
    }

    private func decodeCharacter(_ c: UInt32) -> InputEvent? {
        switch c {
        case 27: return .key(.escape)
        case 10, 13: return .key(.enter)
        case 9: return .key(.tab)
        case 8, 127: return .key(.backspace)
        case 1...26: return .key(.control(Character(Unicode.Scalar(c + 96)!)))
        case 0, 28...31: return nil
        default:
            guard let s = Unicode.Scalar(c) else { return nil }
            return .key(.character(Character(s)))
        }
    }

    private func decodeKeyCode(_ k: Int32) -> InputEvent? {
        switch k {
        case KEY_UP: return .key(.up)
        case KEY_DOWN: return .key(.down)
        case KEY_LEFT: return .key(.left)
        case KEY_RIGHT: return .key(.right)
        case KEY_PPAGE: return .key(.pageUp)
        case KEY_NPAGE: return .key(.pageDown)
        case KEY_HOME: return .key(.home)
        case KEY_END: return .key(.end)
        case KEY_ENTER: return .key(.enter)
        case KEY_BACKSPACE: return .key(.backspace)
        case KEY_DC: return .key(.delete)
        case KEY_IC: return .key(.insert)
        case KEY_BTAB: return .key(.backTab)
        case KEY_SLEFT: return .key(.shiftLeft)
        case KEY_SRIGHT: return .key(.shiftRight)
        case KEY_SR: return .key(.shiftUp)
        case KEY_SF: return .key(.shiftDown)
        case voxterm_key_resize():
            // curses has already resized its windows; repaint from scratch at the new size.
            clearok(voxterm_curscr(), true)
            refresh()
            encoder.invalidate()
            size = TerminalSize(columns: Int(voxterm_cols()), rows: Int(voxterm_lines()))
            return .resize(size)
        case voxterm_key_mouse():
            var ev = MEVENT()
            guard getmouse(&ev) == OK else { return nil }
            let s = ev.bstate, col = Int(ev.x), row = Int(ev.y)
            if s & voxterm_button4_pressed() != 0 { return .mouse(MouseEvent(.wheelUp, button: 0, column: col, row: row)) }
            if s & voxterm_button5_pressed() != 0 { return .mouse(MouseEvent(.wheelDown, button: 0, column: col, row: row)) }
            if s & (voxterm_button1_pressed() | voxterm_button1_clicked()) != 0 { return .mouse(MouseEvent(.press, button: 1, column: col, row: row)) }
            if s & voxterm_button2_pressed() != 0 { return .mouse(MouseEvent(.press, button: 2, column: col, row: row)) }
            if s & voxterm_button3_pressed() != 0 { return .mouse(MouseEvent(.press, button: 3, column: col, row: row)) }
            if s & voxterm_button_released_any() != 0 { return .mouse(MouseEvent(.release, button: 1, column: col, row: row)) }
            if s & voxterm_report_mouse_position() != 0 { return .mouse(MouseEvent(.drag, button: 1, column: col, row: row)) }
            return nil
        default:
            let f0 = voxterm_key_f0()
            if k > f0 && k <= f0 + 12 { return .key(.function(Int(k - f0))) }
            return nil
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(STDOUT_FILENO, raw.baseAddress! + off, raw.count - off)
                if n > 0 { off += n; continue }
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                return
            }
        }
    }
}

private func ProcessInfo_env(_ name: String) -> String? {
    guard let v = getenv(name) else { return nil }
    return String(cString: v)
}

private extension String {
    func replacingDash() -> String { String(self.filter { $0 != "-" }) }
}
