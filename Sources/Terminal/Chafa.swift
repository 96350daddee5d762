internal import CChafa

/// A terminal graphics protocol that shows real pixels.
public enum GraphicsProtocol: String, CaseIterable, Hashable, Sendable {
    /// The kitty graphics protocol (kitty, WezTerm, Ghostty, Konsole).
    case kitty
    /// DEC sixel graphics (xterm -ti vt340, foot, mlterm, WezTerm, Windows Terminal).
    case sixel
}

/// Which Unicode symbols the libchafa symbol renderer may use.
public enum ChafaSymbols: String, CaseIterable, Sendable {
    /// Half blocks only: what `HalfBlocks` draws, for comparison.
    case half
    /// Half blocks, quadrants and the other block elements (every monospace font has them).
    case blocks
    /// Blocks plus braille (finer lines, fonts permitting).
    case blocksBraille = "blocks+braille"

    var tags: ChafaSymbolTags {
        switch self {
        case .half: return ChafaSymbolTags(rawValue: CHAFA_SYMBOL_TAG_SPACE.rawValue | CHAFA_SYMBOL_TAG_HALF.rawValue)
        case .blocks:
            return ChafaSymbolTags(rawValue: CHAFA_SYMBOL_TAG_SPACE.rawValue | CHAFA_SYMBOL_TAG_BLOCK.rawValue
                                   | CHAFA_SYMBOL_TAG_QUAD.rawValue | CHAFA_SYMBOL_TAG_HALF.rawValue | CHAFA_SYMBOL_TAG_SOLID.rawValue)
        case .blocksBraille:
            return ChafaSymbolTags(rawValue: ChafaSymbols.blocks.tags.rawValue | CHAFA_SYMBOL_TAG_BRAILLE.rawValue)
        }
    }
}

/// libchafa, the one place voxterm calls it: encodes RGBA pictures as sixel or kitty images,
/// or as Unicode symbols with colours for plain terminals.
public enum Chafa {
    /// libchafa's version, e.g. "1.12.4".
    public static var version: String {
        "\(CHAFA_MAJOR_VERSION).\(CHAFA_MINOR_VERSION).\(CHAFA_MICRO_VERSION)"
    }

    /// The bytes that draw `rgba` (RGBA8, `width` x `height`, row-major, top row first) at the
    /// cursor, covering `columns` x `rows` cells of `cellWidth` x `cellHeight` pixels.
    ///
    /// Pass a picture of exactly `columns * cellWidth` by `SixelGeometry.height(rows:cellHeight:)`
    /// pixels for one picture pixel per screen pixel (libchafa scales anything else). Kitty
    /// images are sent quietly (`q=2`, no replies in the input stream) and leave the cursor where
    /// it was (`C=1`); sixel images use up to 256 colour registers.
    public static func encode(rgba: [UInt8], width: Int, height: Int, columns: Int, rows: Int,
                              cellWidth: Int, cellHeight: Int, protocol proto: GraphicsProtocol) -> [UInt8] {
        precondition(rgba.count == width * height * 4, "RGBA byte count does not match the size")
        guard width > 0, height > 0, columns > 0, rows > 0 else { return [] }
        let config = chafa_canvas_config_new()
        defer { chafa_canvas_config_unref(config) }
        chafa_canvas_config_set_pixel_mode(config, proto == .sixel ? CHAFA_PIXEL_MODE_SIXELS : CHAFA_PIXEL_MODE_KITTY)
        chafa_canvas_config_set_canvas_mode(config, CHAFA_CANVAS_MODE_TRUECOLOR)
        chafa_canvas_config_set_geometry(config, Int32(columns), Int32(rows))
        chafa_canvas_config_set_cell_geometry(config, Int32(cellWidth), Int32(cellHeight))
        chafa_canvas_config_set_dither_mode(config, CHAFA_DITHER_MODE_NONE)
        return draw(config: config, rgba: rgba, width: width, height: height, termInfo: termInfo(proto))
    }

    /// Symbol rendering of `rgba` into `columns` x `rows` cells: for each cell the symbol libchafa
    /// chose and its foreground and background colours (row-major).
    public static func symbolCells(rgba: [UInt8], width: Int, height: Int, columns: Int, rows: Int,
                                   symbols: ChafaSymbols = .blocks, workFactor: Double = 0.5) -> [Cell] {
        precondition(rgba.count == width * height * 4, "RGBA byte count does not match the size")
        guard width > 0, height > 0, columns > 0, rows > 0 else { return [] }
        let config = chafa_canvas_config_new()
        defer { chafa_canvas_config_unref(config) }
        chafa_canvas_config_set_pixel_mode(config, CHAFA_PIXEL_MODE_SYMBOLS)
        chafa_canvas_config_set_canvas_mode(config, CHAFA_CANVAS_MODE_TRUECOLOR)
        chafa_canvas_config_set_geometry(config, Int32(columns), Int32(rows))
        chafa_canvas_config_set_work_factor(config, Float(workFactor))
        let map = chafa_symbol_map_new()
        defer { chafa_symbol_map_unref(map) }
        chafa_symbol_map_add_by_tags(map, symbols.tags)
        chafa_canvas_config_set_symbol_map(config, map)
        let canvas = chafa_canvas_new(config)
        defer { chafa_canvas_unref(canvas) }
        rgba.withUnsafeBufferPointer { p in
            chafa_canvas_draw_all_pixels(canvas, CHAFA_PIXEL_RGBA8_UNASSOCIATED, p.baseAddress, Int32(width), Int32(height), Int32(width * 4))
        }
        var cells = [Cell](repeating: .blank, count: columns * rows)
        func rgb(_ packed: Int32) -> CellColor {
            packed < 0 ? .rgb(.black) : .rgb(RGB(UInt8((packed >> 16) & 0xFF), UInt8((packed >> 8) & 0xFF), UInt8(packed & 0xFF)))
        }
        for y in 0..<rows {
            for x in 0..<columns {
                let ch = chafa_canvas_get_char_at(canvas, Int32(x), Int32(y))
                var fg: Int32 = 0, bg: Int32 = 0
                chafa_canvas_get_colors_at(canvas, Int32(x), Int32(y), &fg, &bg)
                let scalar = Unicode.Scalar(ch) ?? " "
                cells[y * columns + x] = Cell(scalar, foreground: rgb(fg), background: rgb(bg))
            }
        }
        return cells
    }

    private static func draw(config: OpaquePointer?, rgba: [UInt8], width: Int, height: Int, termInfo: OpaquePointer?) -> [UInt8] {
        defer { chafa_term_info_unref(termInfo) }
        let canvas = chafa_canvas_new(config)
        defer { chafa_canvas_unref(canvas) }
        rgba.withUnsafeBufferPointer { p in
            chafa_canvas_draw_all_pixels(canvas, CHAFA_PIXEL_RGBA8_UNASSOCIATED, p.baseAddress, Int32(width), Int32(height), Int32(width * 4))
        }
        guard let gs = chafa_canvas_print(canvas, termInfo) else { return [] }
        defer { voxterm_gstring_free(gs) }
        let n = Int(gs.pointee.len)
        guard n > 0, let base = gs.pointee.str else { return [] }
        return base.withMemoryRebound(to: UInt8.self, capacity: n) { [UInt8](UnsafeBufferPointer(start: $0, count: n)) }
    }

    /// A term info holding only the sequences of `proto` (libchafa detects sixel support from the
    /// environment only for a few terminals; voxterm asks the terminal instead, see `GraphicsQuery`).
    private static func termInfo(_ proto: GraphicsProtocol) -> OpaquePointer? {
        let ti = chafa_term_info_new()
        func set(_ seq: ChafaTermSeq, _ s: String) { _ = chafa_term_info_set_seq(ti, seq, s, nil) }
        switch proto {
        case .sixel:
            set(CHAFA_TERM_SEQ_BEGIN_SIXELS, "\u{1B}P%1;%2;%3q")
            set(CHAFA_TERM_SEQ_END_SIXELS, "\u{1B}\\")
        case .kitty:
            set(CHAFA_TERM_SEQ_BEGIN_KITTY_IMMEDIATE_IMAGE_V1, "\u{1B}_Ga=T,q=2,C=1,f=%1,s=%2,v=%3,c=%4,r=%5,m=1\u{1B}\\")
            set(CHAFA_TERM_SEQ_BEGIN_KITTY_IMAGE_CHUNK, "\u{1B}_Gm=1;")
            set(CHAFA_TERM_SEQ_END_KITTY_IMAGE_CHUNK, "\u{1B}\\")
            set(CHAFA_TERM_SEQ_END_KITTY_IMAGE, "\u{1B}_Gm=0\u{1B}\\")
        }
        return ti
    }
}

/// Picture sizes that libchafa encodes without rescaling.
public enum SixelGeometry {
    /// Height in pixels of a picture filling `rows` cells of `cellHeight` pixels: sixel bands are
    /// 6 pixels tall, so the height is rounded down to a multiple of 6 (libchafa does the same).
    public static func height(rows: Int, cellHeight: Int) -> Int { (rows * cellHeight) / 6 * 6 }
}
