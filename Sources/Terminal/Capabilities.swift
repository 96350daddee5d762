/// How many colours the terminal can show.
public enum ColorDepth: String, Hashable, Sendable, CaseIterable {
    /// 24-bit direct colour (SGR 38;2;r;g;b).
    case trueColor = "truecolor"
    /// The xterm 256-colour palette (SGR 38;5;n).
    case palette256 = "256"
    /// The 16 ANSI colours.
    case palette16 = "16"
    /// No colour at all: shading characters only.
    case monochrome = "mono"
}

/// What the terminal can display, decided once at start-up.
public struct TerminalCapabilities: Hashable, Sendable, CustomStringConvertible {
    public var colorDepth: ColorDepth
    /// True when the locale is UTF-8, so block elements (▀) and box drawing can be used.
    public var unicode: Bool
    /// Kitty or sixel images and the cell size in pixels, when the session draws pictures as images.
    public var graphics: GraphicsSupport?
    /// Why images were wanted but are not used (e.g. inside tmux), to be shown once.
    public var graphicsNote: String?
    /// Cells drawn with libchafa's symbol mode (finer block symbols) instead of half blocks.
    public var chafaSymbols = false

    public init(colorDepth: ColorDepth, unicode: Bool, graphics: GraphicsSupport? = nil, graphicsNote: String? = nil) {
        self.colorDepth = colorDepth
        self.unicode = unicode
        self.graphics = graphics
        self.graphicsNote = graphicsNote
    }

    /// Decides the capabilities from the environment and terminfo facts.
    ///
    /// Order: an explicit `VOXTERM_COLOR` (truecolor, 256, 16, mono) wins; then `COLORTERM`
    /// truecolor/24bit or the terminfo `RGB` flag give direct colour; otherwise the terminfo
    /// colour count decides. `VOXTERM_ASCII=1` forces the non-Unicode fallback.
    public static func detect(environment: [String: String], terminfoColors: Int, terminfoRGB: Bool,
                              codesetIsUTF8: Bool) -> TerminalCapabilities {
        var depth: ColorDepth
        let colorterm = (environment["COLORTERM"] ?? "").lowercased()
        if terminfoRGB || colorterm == "truecolor" || colorterm == "24bit" {
            depth = .trueColor
        } else if terminfoColors >= 256 {
            depth = .palette256
        } else if terminfoColors >= 8 {
            depth = .palette16
        } else {
            depth = .monochrome
        }
        if let forced = environment["VOXTERM_COLOR"].flatMap({ ColorDepth(rawValue: $0.lowercased()) }) {
            depth = forced
        }
        let ascii = ["1", "yes", "true"].contains((environment["VOXTERM_ASCII"] ?? "").lowercased())
        return TerminalCapabilities(colorDepth: depth, unicode: codesetIsUTF8 && !ascii)
    }

    public var description: String {
        "\(colorDepth.rawValue) colour, \(unicode ? "UTF-8" : "ASCII")" + (graphics.map { ", \($0)" } ?? "")
    }
}
