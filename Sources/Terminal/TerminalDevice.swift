/// A terminal a program can draw cell grids on and read input events from.
///
/// `CursesTerminal` is the real one (opened by `withCursesTerminal`); `RecordingTerminal`
/// replays scripted events and records what was drawn, for tests without a terminal.
public protocol TerminalDevice: AnyObject {
    /// The current size in cells.
    var size: TerminalSize { get }
    /// Colour depth and Unicode support, fixed for the session.
    var capabilities: TerminalCapabilities { get }
    /// Shows `grid` (the terminal's size), writing only the cells that changed; returns bytes written.
    @discardableResult func present(_ grid: CellGrid) -> Int
    /// Waits up to `timeoutMilliseconds` (forever when nil) for the next event; nil on timeout.
    func nextEvent(timeoutMilliseconds: Int?) -> InputEvent?
}

/// A fake terminal: replays `events`, then reports `.closed`; records every presented grid.
public final class RecordingTerminal: TerminalDevice {
    public private(set) var size: TerminalSize
    public let capabilities: TerminalCapabilities
    /// Events still to be delivered, first first.
    public var pendingEvents: [InputEvent]
    /// Every grid passed to `present`, in order.
    public private(set) var presented: [CellGrid] = []
    /// Bytes a real terminal would have been sent for each presented grid.
    public private(set) var bytesPerFrame: [Int] = []
    private var encoder: ScreenEncoder

    public init(size: TerminalSize, capabilities: TerminalCapabilities = .init(colorDepth: .trueColor, unicode: true),
                events: [InputEvent] = []) {
        self.size = size
        self.capabilities = capabilities
        pendingEvents = events
        encoder = ScreenEncoder(capabilities: capabilities)
    }

    /// The last presented grid.
    public var screen: CellGrid? { presented.last }

    @discardableResult public func present(_ grid: CellGrid) -> Int {
        presented.append(grid)
        let n = encoder.encode(grid).count
        bytesPerFrame.append(n)
        return n
    }

    public func nextEvent(timeoutMilliseconds: Int?) -> InputEvent? {
        guard !pendingEvents.isEmpty else { return timeoutMilliseconds == nil ? .closed : nil }
        let e = pendingEvents.removeFirst()
        if case .resize(let s) = e { size = s; encoder.invalidate() }
        return e
    }
}
