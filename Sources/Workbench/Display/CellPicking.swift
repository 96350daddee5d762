import VoxtermModel
import SliceRendering
import Terminal

extension WorkbenchState {
    /// The voxel drawn at the centre of terminal cell (`column`, `row`) of `pane`, or nil when no
    /// voxel is drawn there.
    ///
    /// The cell's centre is taken on the pane's canvas: in half blocks a cell is 1 x 2 picture
    /// pixels (the point between them), with sixel or kitty images it is the cell's size in
    /// screen pixels as the terminal reported it (CSI 16 t, or TIOCGWINSZ's pixel size divided by
    /// the cells), so a click lands on the voxel under the pointer whatever the cell's shape.
    public func voxel(underCell column: Int, row: Int, in pane: Pane) -> SIMD3<Int>? {
        guard pane.imageRect.contains(column, row) else { return nil }
        let canvas = PaneCanvas(capabilities)
        let t = canvas.transform(self, pane: pane)
        let m = mapping(pane.plane)
        let cx = Double(column - pane.imageRect.x), cy = Double(row - pane.imageRect.y)
        let p = canvas.pixelsPerCell
        let px = (cx + 0.5) * Double(p.x) - 0.5, py = (cy + 0.5) * Double(p.y) - 0.5
        // Below the last whole sixel band of the picture nothing is drawn.
        guard px < Double(t.pixelWidth), py < Double(t.pixelHeight) else { return nil }
        let d = t.display(ofPixelX: px, y: py)
        let c = Int(d.x.rounded()), r = Int(d.y.rounded())
        guard c >= 0, r >= 0, c < m.width, r < m.height else { return nil }
        return m.voxel(column: c, row: r, slice: slice(in: pane.plane))
    }
}
