import VoxtermModel
import SliceRendering
import Terminal

/// What a pane shows.
public enum PaneContent: Equatable, Sendable {
    /// The image (with labels and field), or the combined compare raster in checkerboard,
    /// difference and flicker modes.
    case main
    /// The second image, beside the first (side-by-side compare).
    case compare
}

/// One image pane: a caption row and an image area.
public struct Pane: Equatable, Sendable {
    public var plane: SlicePlane
    public var content: PaneContent
    /// The whole pane, caption included.
    public var rect: CellRect
    /// The cells the image is drawn in.
    public var imageRect: CellRect
}

/// Where everything goes on the screen, computed from the state.
public struct ScreenLayout: Equatable, Sendable {
    /// Smallest usable terminal.
    public static let minimumSize = TerminalSize(columns: 40, rows: 12)
    /// Width of the label panel.
    public static let labelPanelWidth = 30

    public var panes: [Pane] = []
    public var titleRow = 0
    /// Two status rows at the bottom.
    public var statusRows: (Int, Int) = (0, 0)
    public var labelPanel: CellRect?
    /// The support-set panel (shown instead of the label panel).
    public var supportPanel: CellRect?
    /// Two rows above the status bar for the live registration (progress bar and curve, or summary).
    public var registrationRows: (Int, Int)?
    /// True when the terminal is below `minimumSize`.
    public var tooSmall = false

    public static func == (a: ScreenLayout, b: ScreenLayout) -> Bool {
        a.panes == b.panes && a.labelPanel == b.labelPanel && a.supportPanel == b.supportPanel && a.tooSmall == b.tooSmall && a.statusRows == b.statusRows
            && a.registrationRows?.0 == b.registrationRows?.0 && a.registrationRows?.1 == b.registrationRows?.1
    }

    /// Lays out `state` on its terminal size.
    public init(_ state: WorkbenchState) {
        let size = state.size
        guard size.columns >= ScreenLayout.minimumSize.columns, size.rows >= ScreenLayout.minimumSize.rows else {
            tooSmall = true
            return
        }
        statusRows = (size.rows - 2, size.rows - 1)
        var area = CellRect(x: 0, y: 1, width: size.columns, height: size.rows - 3)
        if state.registration != nil {
            registrationRows = (size.rows - 4, size.rows - 3)
            area.height -= 2
        }
        if state.curation.showPanel && size.columns >= 80 {
            let w = ScreenLayout.labelPanelWidth
            supportPanel = CellRect(x: size.columns - w, y: area.y, width: w, height: area.height)
            area.width -= w + 1
        } else if state.showLabelPanel && (state.document.labels != nil || state.curation.outcome != nil) && size.columns >= 80 {
            let w = ScreenLayout.labelPanelWidth
            labelPanel = CellRect(x: size.columns - w, y: area.y, width: w, height: area.height)
            area.width -= w + 1
        }
        var slots: [(SlicePlane, PaneContent)] = []
        for p in state.visiblePlanes {
            slots.append((p, .main))
            if state.hasCompare && state.compareMode == .sideBySide { slots.append((p, .compare)) }
        }
        let rects = ScreenLayout.arrange(slots.map { state.mapping($0.0) }, in: area)
        panes = zip(slots, rects).map { slot, r in
            Pane(plane: slot.0, content: slot.1, rect: r,
                 imageRect: CellRect(x: r.x, y: r.y + 1, width: r.width, height: r.height - 1))
        }
    }

    /// Splits `area` into one rectangle per mapping, choosing the grid (1xN, Nx1, 2x2, ...) that
    /// shows the images largest.
    static func arrange(_ mappings: [SliceMapping], in area: CellRect) -> [CellRect] {
        let n = mappings.count
        guard n > 0 else { return [] }
        var best: (score: Double, cols: Int, rows: Int) = (-1, n, 1)
        for cols in 1...n {
            let rows = (n + cols - 1) / cols
            let w = (area.width - (cols - 1)) / cols, h = area.height / rows
            guard w > 2, h > 2 else { continue }
            // The smallest fitted scale (terminal pixels per mm) over the panes decides.
            let score = mappings.map { m -> Double in
                let wmm = Double(m.width) * m.pixelSpacing.column, hmm = Double(m.height) * m.pixelSpacing.row
                return min(Double(w) / wmm, Double(2 * (h - 1)) / hmm)
            }.min()!
            if score > best.score { best = (score, cols, rows) }
        }
        let cols = best.cols, rows = best.rows
        let w = (area.width - (cols - 1)) / cols, h = area.height / rows
        return (0..<n).map { i in
            CellRect(x: area.x + (i % cols) * (w + 1), y: area.y + (i / cols) * h, width: w, height: h)
        }
    }

    /// The pane holding terminal cell (column, row).
    public func pane(atColumn column: Int, row: Int) -> Pane? {
        panes.first { $0.rect.contains(column, row) }
    }
}

/// Maps between terminal pixels of a pane (two per cell vertically) and display coordinates of
/// a slice (`SliceMapping` columns and rows, pixel centres at integers).
public struct ViewTransform: Equatable, Sendable {
    /// Pane image size in terminal pixels.
    public var pixelWidth: Int
    public var pixelHeight: Int
    /// Millimetres per terminal pixel (the same along both axes: terminal pixels are square).
    public var mmPerPixel: Double
    /// Display coordinate (column, row) at the pane centre.
    public var centre: SIMD2<Double>
    /// Millimetres per display column and row.
    public var spacing: SIMD2<Double>

    /// The transform of a pane of `rect` cells showing `mapping` at `zoom` (1 = fit) with `pan`
    /// (display pixels from the image centre).
    public init(mapping m: SliceMapping, rect: CellRect, zoom: Double, pan: SIMD2<Double>) {
        pixelWidth = max(1, rect.width)
        pixelHeight = max(1, 2 * rect.height)
        spacing = SIMD2(m.pixelSpacing.column, m.pixelSpacing.row)
        let wmm = Double(m.width) * spacing.x, hmm = Double(m.height) * spacing.y
        mmPerPixel = max(wmm / Double(pixelWidth), hmm / Double(pixelHeight)) / max(zoom, 1e-6)
        centre = SIMD2(Double(m.width - 1) / 2, Double(m.height - 1) / 2) + pan
    }

    /// Display coordinate of the centre of terminal pixel (x, y).
    public func display(ofPixelX x: Double, y: Double) -> SIMD2<Double> {
        SIMD2(centre.x + (x + 0.5 - Double(pixelWidth) / 2) * mmPerPixel / spacing.x,
              centre.y + (y + 0.5 - Double(pixelHeight) / 2) * mmPerPixel / spacing.y)
    }

    /// Terminal pixel (continuous, centres at integers) of a display coordinate.
    public func pixel(ofDisplay d: SIMD2<Double>) -> SIMD2<Double> {
        SIMD2((d.x - centre.x) * spacing.x / mmPerPixel + Double(pixelWidth) / 2 - 0.5,
              (d.y - centre.y) * spacing.y / mmPerPixel + Double(pixelHeight) / 2 - 0.5)
    }

    /// Terminal pixels per display pixel along columns and rows.
    public var magnification: SIMD2<Double> { spacing / mmPerPixel }
}

extension WorkbenchState {
    /// The view transform of a pane.
    public func viewTransform(for pane: Pane) -> ViewTransform {
        ViewTransform(mapping: mapping(pane.plane), rect: pane.imageRect, zoom: zoom, pan: pan[pane.plane] ?? .zero)
    }
}
