/// An sRGB colour, 8 bits per channel.
public struct RGB: Hashable, Sendable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    @inlinable public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }

    /// A grey of level `v` (0 black ... 255 white).
    @inlinable public init(grey v: UInt8) { self.init(v, v, v) }

    public static let black = RGB(0, 0, 0)
    public static let white = RGB(255, 255, 255)

    /// Rec. 601 luma, 0...255.
    @inlinable public var luma: Int { (299 * Int(r) + 587 * Int(g) + 114 * Int(b)) / 1000 }
}

/// The colour of a cell's glyph or background, as the terminal will be asked to show it.
public enum CellColor: Hashable, Sendable {
    /// The terminal's own default foreground or background.
    case `default`
    /// A 24-bit colour; mapped to the nearest palette entry on terminals without direct colour.
    case rgb(RGB)
    /// An entry of the xterm 256-colour palette (0...15 are the ANSI colours).
    case indexed(UInt8)
}

/// Text attributes of a cell.
public struct CellAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = CellAttributes(rawValue: 1)
    public static let underline = CellAttributes(rawValue: 2)
    public static let reverse = CellAttributes(rawValue: 4)
    public static let dim = CellAttributes(rawValue: 8)
}

/// One character cell of the screen: a single-width glyph with colours and attributes.
public struct Cell: Hashable, Sendable {
    /// The glyph; must be one column wide (ASCII, box drawing, block elements).
    public var character: Unicode.Scalar
    public var foreground: CellColor
    public var background: CellColor
    public var attributes: CellAttributes

    @inlinable
    public init(_ character: Unicode.Scalar = " ", foreground: CellColor = .default, background: CellColor = .default,
                attributes: CellAttributes = []) {
        self.character = character
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }

    /// A blank cell in the terminal's default colours.
    public static let blank = Cell()
}

/// Width and height of a terminal in character cells.
public struct TerminalSize: Hashable, Sendable, CustomStringConvertible {
    public var columns: Int
    public var rows: Int
    public init(columns: Int, rows: Int) { self.columns = columns; self.rows = rows }
    public var description: String { "\(columns)x\(rows)" }
}
