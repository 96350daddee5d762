/// A key press, decoded from the terminal's byte sequences.
public enum Key: Hashable, Sendable, CustomStringConvertible {
    /// A printable character, e.g. "a", "+", "?".
    case character(Character)
    /// Ctrl with a letter, e.g. `.control("c")` for Ctrl-C.
    case control(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace, delete, insert
    /// Arrow keys with Shift (curses' KEY_SLEFT, KEY_SRIGHT, KEY_SR, KEY_SF).
    case shiftLeft, shiftRight, shiftUp, shiftDown
    /// Function key F1...F12.
    case function(Int)

    /// The name shown in the help screen, e.g. "PgUp", "Ctrl-C", "k".
    public var description: String {
        switch self {
        case .character(" "): "Space"
        case .character(let c): String(c)
        case .control(let c): "Ctrl-" + String(c).uppercased()
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .enter: "Enter"
        case .escape: "Esc"
        case .tab: "Tab"
        case .backTab: "Shift-Tab"
        case .shiftLeft: "Shift-←"
        case .shiftRight: "Shift-→"
        case .shiftUp: "Shift-↑"
        case .shiftDown: "Shift-↓"
        case .backspace: "Backspace"
        case .delete: "Del"
        case .insert: "Ins"
        case .function(let n): "F\(n)"
        }
    }
}

/// A mouse report: which button did what at which cell (0-based column and row).
public struct MouseEvent: Hashable, Sendable {
    /// What happened.
    public enum Kind: Hashable, Sendable {
        case press, release, drag, wheelUp, wheelDown
    }
    public var kind: Kind
    /// 1 = left, 2 = middle, 3 = right; 0 for wheel and motion.
    public var button: Int
    public var column: Int
    public var row: Int

    public init(_ kind: Kind, button: Int = 1, column: Int, row: Int) {
        self.kind = kind; self.button = button; self.column = column; self.row = row
    }
}

/// Anything the terminal reports to the program.
public enum InputEvent: Hashable, Sendable {
    case key(Key)
    case mouse(MouseEvent)
    /// The terminal now has this size.
    case resize(TerminalSize)
    /// Input has ended (end of file, hang-up, or a recording ran out): the program should quit.
    case closed
}
