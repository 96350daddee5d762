import Foundation
import VoxtermModel
import SliceRendering
import Terminal

/// What the layer keys do (FSLeyes-style overlays over the base image).
public enum LayerAction: Equatable, Sendable {
    /// Select the next layer (the one the other keys change).
    case selectNext
    /// Show or hide the selected layer.
    case toggleVisible
    /// Move the selected layer's threshold by this many twentieths of its window (values below it are transparent).
    case threshold(Int)
    /// Next colour map for the selected layer.
    case cycleColorMap
    /// Opacity of the selected layer: 100 → 75 → 50 → 25 → 100 %.
    case cycleOpacity
}

extension WorkbenchState {
    /// Index of the layer the layer keys act on.
    var selectedLayerIndex: Int { document.layers.isEmpty ? 0 : min(max(0, selectedLayer), document.layers.count - 1) }
}

/// Applies a layer key; returns the status message.
func reduceLayers(_ state: inout WorkbenchState, _ action: LayerAction) {
    guard !state.document.layers.isEmpty else {
        state.message = "no image layers: :open overlay PATH[:COLORMAP[:LOW,HIGH]] adds one"
        return
    }
    if action == .selectNext { state.selectedLayer = (state.selectedLayerIndex + 1) % state.document.layers.count }
    let i = state.selectedLayerIndex
    var l = state.document.layers[i]
    switch action {
    case .selectNext: break
    case .toggleVisible: l.visible.toggle()
    case .threshold(let steps):
        let stepSize = (l.window.high - l.window.low) / 20
        l.threshold = (l.threshold ?? l.window.low) + Double(steps) * stepSize
    case .cycleColorMap:
        let all = ColorMap.allCases
        l.colorMap = all[((all.firstIndex(of: l.colorMap) ?? 0) + 1) % all.count]
    case .cycleOpacity:
        let levels = [1.0, 0.75, 0.5, 0.25]
        let k = levels.firstIndex { abs($0 - l.opacity) < 0.01 } ?? 0
        l.opacity = levels[(k + 1) % levels.count]
    }
    state.document.layers[i] = l
    state.message = "layer \(i + 1)/\(state.document.layers.count) " + LayerPanel.describe(l)
}

/// The layer list: one line per layer (selected marked ▶, hidden ones dimmed), on the first
/// pane's caption row, right-aligned, so it never covers the picture.
enum LayerPanel {
    static func describe(_ l: ImageLayer) -> String {
        var s = "\(l.name) \(l.colorMap.rawValue) \(l.window)"
        if let t = l.threshold { s += " ≥\(fmt(t))" }
        s += " \(Int((l.opacity * 100).rounded()))%"
        if !l.visible { s += " hidden" }
        return s
    }

    static func draw(_ state: WorkbenchState, rect: CellRect, into grid: inout CellGrid) {
        let layers = state.document.layers
        guard !layers.isEmpty else { return }
        var parts: [(String, Bool, Bool)] = []
        for (i, l) in layers.enumerated() { parts.append(((i == state.selectedLayerIndex ? "▶" : " ") + describe(l), l.visible, i == state.selectedLayerIndex)) }
        let text = parts.map(\.0).joined(separator: "  ")
        var x = max(rect.x, rect.x + rect.width - text.count - 1)
        for (i, p) in parts.enumerated() {
            if i > 0 { x += grid.put("  ", x: x, y: rect.y, maxWidth: rect.x + rect.width - x) }
            x += grid.put(p.0, x: x, y: rect.y, foreground: p.1 ? Theme.accent : Theme.dimText,
                          attributes: p.2 ? [.bold] : [], maxWidth: max(0, rect.x + rect.width - x))
        }
    }

    /// A key for the slice cache: everything that changes the layers' pixels.
    static func cacheKey(_ layers: [ImageLayer]) -> String {
        layers.map { "\($0.name)|\($0.colorMap.rawValue)|\($0.window)|\($0.threshold.map { "\($0)" } ?? "-")|\($0.opacity)|\($0.visible)" }
            .joined(separator: ";")
    }
}

extension ImageLayer {
    /// Reads an image layer from `path` (volume 0 of a 4-D file) onto `grid` (`onGrid`): the one
    /// loading of `voxterm view --overlay`, `voxterm export --overlay` and `:open overlay`.
    public static func read(_ path: String, onto grid: VolumeGeometry, colorMap: ColorMap?, window: IntensityWindow?,
                            threshold: Double? = nil, opacity: Double = 1) throws -> ImageLayer {
        let img = try ImageFile.read(path)
        if img.isVectorField { throw WorkbenchError(path: path, reason: "is a vector field, not an image (voxterm view --field shows fields)") }
        return ImageLayer(name: (path as NSString).lastPathComponent, values: onGrid(try img.volume(frame: 0), grid),
                          colorMap: colorMap ?? .hot, window: window, threshold: threshold, opacity: opacity)
    }
}
