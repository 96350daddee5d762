/// How much of a cell a block-element glyph paints in its foreground colour, at a point of the
/// cell: what `voxterm bench tui` uses to rebuild a cell rendering as pixels and compare its
/// detail with the picture it came from (U+2580–U+259F, the block elements every monospace font has).
public enum BlockCoverage {
    /// Foreground fraction (0...1) of `glyph` at (u, v) in the cell, u to the right and v down,
    /// both in 0..<1; nil for glyphs this table does not know (treat as background).
    public static func at(_ glyph: Unicode.Scalar, u: Double, v: Double) -> Double? {
        let c = glyph.value
        let left = u < 0.5, top = v < 0.5
        switch c {
        case 0x20: return 0
        case 0x2580: return v < 0.5 ? 1 : 0                                   // ▀ upper half
        case 0x2581...0x2587: return v >= 1 - Double(c - 0x2580) / 8 ? 1 : 0  // ▁…▇ lower eighths
        case 0x2588: return 1                                                 // █
        case 0x2589...0x258F: return u < Double(0x2590 - c) / 8 ? 1 : 0       // ▉…▏ left eighths
        case 0x2590: return u >= 0.5 ? 1 : 0                                  // ▐
        case 0x2591: return 0.25                                              // ░
        case 0x2592: return 0.5                                               // ▒
        case 0x2593: return 0.75                                              // ▓
        case 0x2594: return v < 0.125 ? 1 : 0                                 // ▔
        case 0x2595: return u >= 0.875 ? 1 : 0                                // ▕
        case 0x2596: return left && !top ? 1 : 0                              // ▖
        case 0x2597: return !left && !top ? 1 : 0                             // ▗
        case 0x2598: return left && top ? 1 : 0                               // ▘
        case 0x2599: return !( !left && top) ? 1 : 0                          // ▙ all but upper right
        case 0x259A: return (left && top) || (!left && !top) ? 1 : 0          // ▚
        case 0x259B: return !( !left && !top) ? 1 : 0                         // ▛ all but lower right
        case 0x259C: return !(left && !top) ? 1 : 0                           // ▜ all but lower left
        case 0x259D: return !left && top ? 1 : 0                              // ▝
        case 0x259E: return (!left && top) || (left && !top) ? 1 : 0          // ▞
        case 0x259F: return !(left && top) ? 1 : 0                            // ▟ all but upper left
        default: return nil
        }
    }
}
