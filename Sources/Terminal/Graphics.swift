#if canImport(Glibc)
import Glibc
#endif

/// What the user asked for with `--graphics`.
public enum GraphicsRequest: String, CaseIterable, Sendable {
    /// Ask the terminal; use kitty or sixel images when it answers that it has them (not in tmux).
    case auto
    /// Kitty images, whatever the terminal answers.
    case kitty
    /// Sixel images, whatever the terminal answers.
    case sixel
    /// Character cells only (half blocks).
    case blocks
    /// Character cells drawn by libchafa's symbol mode (blocks, quadrants, eighths) instead of half blocks.
    case symbols
}

/// A graphics protocol the session draws pictures with, and the size of a cell in screen pixels.
public struct GraphicsSupport: Hashable, Sendable, CustomStringConvertible {
    public var `protocol`: GraphicsProtocol
    /// Screen pixels per cell, horizontally and vertically.
    public var cellWidth: Int, cellHeight: Int

    public init(protocol p: GraphicsProtocol, cellWidth: Int, cellHeight: Int) {
        self.protocol = p; self.cellWidth = max(1, cellWidth); self.cellHeight = max(1, cellHeight)
    }

    public var description: String { "\(self.protocol.rawValue) images, \(cellWidth)x\(cellHeight) px cells" }
}

/// A picture placed over a rectangle of cells (drawn by the terminal's graphics protocol).
public struct PlacedImage: Equatable, Sendable {
    /// The cells it covers; the grid's cells there should be blank.
    public var rect: CellRect
    /// Size in pixels: `rect.width * cellWidth` by `SixelGeometry.height(rows:cellHeight:)` for one pixel per screen pixel.
    public var width: Int, height: Int
    /// RGBA bytes, row-major, top row first.
    public var rgba: [UInt8]
    /// The same picture as a PNG file, when the caller encoded one: kitty terminals are then sent
    /// the PNG (`KittyGraphics.place`) instead of libchafa's raw pixels.
    public var png: [UInt8]?

    public init(rect: CellRect, width: Int, height: Int, rgba: [UInt8], png: [UInt8]? = nil) {
        precondition(rgba.count == width * height * 4, "RGBA byte count does not match the size")
        self.rect = rect; self.width = width; self.height = height; self.rgba = rgba; self.png = png
    }

    /// Equal pictures at the same place (the PNG is derived from the pixels and not compared).
    public static func == (a: PlacedImage, b: PlacedImage) -> Bool {
        a.rect == b.rect && a.width == b.width && a.height == b.height && a.rgba == b.rgba
    }
}

/// Asking the terminal what it can draw: a kitty graphics query, the cell size report (CSI 16 t)
/// and Primary Device Attributes (DA1), which every terminal answers last.
public enum GraphicsQuery {
    /// The bytes sent: kitty query for a 1x1 image (id 31), cell size request, DA1.
    public static let request = Array("\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\\u{1B}[16t\u{1B}[c".utf8)

    /// What the replies say.
    public struct Reply: Equatable, Sendable {
        /// The kitty query was answered OK.
        public var kitty = false
        /// DA1 lists attribute 4 (sixel graphics).
        public var sixel = false
        /// Cell size from the CSI 6 ; height ; width t reply, if any.
        public var cellSize: (width: Int, height: Int)?
        /// The DA1 reply was seen (the terminal answered everything it will).
        public var complete = false

        public init() {}
        public static func == (a: Reply, b: Reply) -> Bool {
            a.kitty == b.kitty && a.sixel == b.sixel && a.complete == b.complete
                && a.cellSize?.width == b.cellSize?.width && a.cellSize?.height == b.cellSize?.height
        }
    }

    /// Parses whatever the terminal sent back so far.
    public static func parse(_ bytes: [UInt8]) -> Reply {
        var r = Reply()
        func find(_ needle: String) -> Int? {
            let n = Array(needle.utf8)
            guard bytes.count >= n.count else { return nil }
            for i in 0...(bytes.count - n.count) where bytes[i] == n[0] && Array(bytes[i..<i + n.count]) == n { return i + n.count }
            return nil
        }
        /// Digits and semicolons from `start` up to `terminator`, or nil when something else comes first.
        func params(from start: Int, until terminator: UInt8) -> [Int]? {
            var i = start, out: [Int] = [], cur = 0, any = false
            while i < bytes.count {
                let b = bytes[i]
                if b == terminator { if any { out.append(cur) }; return out }
                if b == UInt8(ascii: ";") { out.append(cur); cur = 0; any = false }
                else if b >= 48 && b <= 57 { cur = cur * 10 + Int(b - 48); any = true }
                else { return nil }
                i += 1
            }
            return nil
        }
        if find("\u{1B}_Gi=31;OK") != nil { r.kitty = true }
        // ESC [ ? Ps ; ... c
        if let s = find("\u{1B}[?"), let p = params(from: s, until: UInt8(ascii: "c")) {
            r.complete = true
            r.sixel = p.contains(4)
        }
        // ESC [ 6 ; height ; width t
        if let s = find("\u{1B}[6;"), let p = params(from: s, until: UInt8(ascii: "t")), p.count == 2, p[0] > 0, p[1] > 0 {
            r.cellSize = (p[1], p[0])
        }
        return r
    }

    /// The decision: which protocol (if any) and the cell size, plus a one-time note for the
    /// status line when images were wanted but cannot be used.
    public static func decide(request: GraphicsRequest, reply: Reply?, environment: [String: String],
                              windowPixels: (width: Int, height: Int)?, size: TerminalSize) -> (GraphicsSupport?, String?) {
        if request == .blocks || request == .symbols { return (nil, nil) }
        let inTmux = environment["TMUX"] != nil || (environment["TERM"] ?? "").hasPrefix("tmux")
            || (environment["TERM"] ?? "").hasPrefix("screen")
        if inTmux && request == .auto {
            return (nil, "tmux passes no sixel/kitty images: half blocks")
        }
        var cell = reply?.cellSize
        if cell == nil, let wp = windowPixels, wp.width > 0, wp.height > 0, size.columns > 0, size.rows > 0 {
            cell = (wp.width / size.columns, wp.height / size.rows)
        }
        let proto: GraphicsProtocol?
        switch request {
        case .kitty: proto = .kitty
        case .sixel: proto = .sixel
        case .auto: proto = reply?.kitty == true ? .kitty : (reply?.sixel == true ? .sixel : nil)
        case .blocks, .symbols: proto = nil
        }
        guard let proto else { return (nil, nil) }
        guard let c = cell ?? (request == .auto ? nil : (10, 20)), c.0 >= 2, c.1 >= 4 else {
            return (nil, "graphics: the terminal did not report its cell size in pixels; drawing with half blocks")
        }
        return (GraphicsSupport(protocol: proto, cellWidth: c.0, cellHeight: c.1), nil)
    }

    /// Sends the query on the terminal (standard input/output, in raw mode for the duration) and
    /// collects replies until DA1 arrives or `timeoutMilliseconds` pass.
    static func ask(timeoutMilliseconds: Int = 600) -> Reply {
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return Reply() }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutablePointer(to: &raw.c_cc) { p in
            p.withMemoryRebound(to: cc_t.self, capacity: Int(NCCS)) { cc in cc[Int(VMIN)] = 0; cc[Int(VTIME)] = 0 }
        }
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        defer { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        request.withUnsafeBufferPointer { _ = write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        var got: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        while true {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1_000_000
            if elapsed >= timeoutMilliseconds { break }
            var fds = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
            if poll(&fds, 1, Int32(timeoutMilliseconds - elapsed)) <= 0 { break }
            let n = read(STDIN_FILENO, &buffer, buffer.count)
            if n <= 0 { break }
            got += buffer[0..<n]
            if parse(got).complete { break }
        }
        return parse(got)
    }

    /// The window size in pixels from TIOCGWINSZ, when the terminal fills it in.
    static func windowPixels() -> (width: Int, height: Int)? {
        var ws = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_xpixel > 0, ws.ws_ypixel > 0 else { return nil }
        return (Int(ws.ws_xpixel), Int(ws.ws_ypixel))
    }
}
