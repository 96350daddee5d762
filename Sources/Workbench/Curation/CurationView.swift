import Foundation
import VoxtermModel
import SliceRendering
import Terminal

/// What of a prediction a raster shows (part of the raster cache key).
struct PredictionRasterKey: Hashable {
    var id: Int
    /// The outcome's `scoreGeneration`: a truth loaded later redraws the comparison.
    var generation: Int
    var display: PredictionDisplay
}

/// Render inputs of curation kept by `SliceCache`: prediction overlays (built once per outcome and score)
/// and support thumbnails.
struct CurationRenderStore {
    struct ThumbnailKey: Hashable {
        var example: SupportExample
        var convention: DisplayConvention
        var width: Int, height: Int
        var windowLow: Double, windowHigh: Double
        var colorMap: ColorMap
    }
    var outcomeID = 0
    var outcomeGeneration = 0
    var labels: LabelOverlay?
    var comparison: LabelOverlay?
    var confidence: ScalarOverlay?
    var thumbnails: [ThumbnailKey: PixelImage] = [:]
    var windows: [String: IntensityWindow] = [:]
}

/// Confidence colours: clear where the supports agree (1), then red through yellow as agreement
/// falls to one half and below (two supports disagreeing give 0.5); opaque from 0.85 down.
let confidenceColors: ColorTable = ColorTable((0..<256).map { i in
    let d = min(1, 2 * (1 - Double(i) / 255))      // 0 = all agree, 1 = half or less agree
    func mix(_ a: Double, _ b: Double) -> UInt8 { UInt8((a + (b - a) * d).rounded()) }
    return RGBA8(mix(220, 255), mix(30, 235), mix(30, 40), UInt8(min(1, (1 - Double(i) / 255) / 0.15) * 255 + 0.5))
})

extension SliceCache {
    /// The prediction shown on `slice` of `plane`, or nil when the loaded labels are shown there.
    func predictionKey(_ state: WorkbenchState, plane: SlicePlane, slice: Int) -> PredictionRasterKey? {
        guard let o = state.shownPrediction, state.overlay.visible else { return nil }
        guard o.scope.covers(axis: state.mapping(plane).sliceAxis, index: slice) else { return nil }
        return PredictionRasterKey(id: o.id, generation: o.scoreGeneration, display: state.curation.display)
    }

    /// `scene` with the prediction instead of the loaded labels where `predictionKey` says so.
    func withPrediction(_ scene: SliceScene, _ state: WorkbenchState, plane: SlicePlane, slice: Int) -> SliceScene {
        guard let key = predictionKey(state, plane: plane, slice: slice), let o = state.curation.outcome else { return scene }
        let doc = state.document
        let newOutcome = curationStore.outcomeID != o.id
        if newOutcome {
            curationStore.labels = LabelOverlay(labels: o.prediction.labels, table: doc.labelTable)
            curationStore.confidence = ScalarOverlay(values: o.prediction.confidence, window: IntensityWindow(low: 0, high: 1)!,
                                                     colors: confidenceColors)
        }
        // Scored again against a truth loaded later: only the comparison changes.
        if newOutcome || curationStore.outcomeGeneration != o.scoreGeneration {
            curationStore.outcomeID = o.id
            curationStore.outcomeGeneration = o.scoreGeneration
            curationStore.comparison = state.scoringTruth.map {
                LabelOverlay(labels: o.prediction.labels, truth: $0.labels, table: doc.labelTable)
            }
        }
        var sc = scene
        let hidden = state.overlay.hidden
        let visible: Set<Int32>? = hidden.isEmpty ? nil : Set(o.presentLabels).subtracting(hidden)
        var style = LabelStyle(opacity: state.overlay.opacity, outline: state.overlay.outline, visibleLabels: visible)
        switch key.display {
        case .labels:
            sc.labels = curationStore.labels
        case .comparison:
            sc.labels = curationStore.comparison ?? curationStore.labels
        case .confidence:
            sc.scalars = curationStore.confidence
            sc.labels = curationStore.labels
            style.outline = true
        case .off:
            return scene
        }
        sc.labels?.style = style
        return sc
    }

    /// A support's thumbnail: its (first) slice with labels, rendered by `SliceScene` and box-averaged
    /// into `width` × `2 * height` terminal pixels.
    func thumbnail(_ entry: SupportEntry, state: WorkbenchState, width: Int, height: Int) -> PixelImage {
        let ownWindow = entry.isOpenImage ? state.window
            : (curationStore.windows[entry.example.image] ?? IntensityWindow.automatic(entry.image))
        if !entry.isOpenImage { curationStore.windows[entry.example.image] = ownWindow }
        let key = CurationRenderStore.ThumbnailKey(example: entry.example, convention: state.convention, width: width, height: height,
                                                   windowLow: ownWindow.low, windowHigh: ownWindow.high, colorMap: state.colorMap)
        if let hit = curationStore.thumbnails[key] { return hit }
        let g = entry.image.geometry
        var plane = SlicePlane.axial, slice: Int? = nil
        if let s = entry.example.slices {
            plane = SlicePlane.allCases.first { SliceMapping(geometry: g, plane: $0, convention: state.convention).sliceAxis == s.plane.axis } ?? .axial
            slice = s.indices.first
        }
        let m = SliceMapping(geometry: g, plane: plane, convention: state.convention)
        let index = min(max(slice ?? m.middleSlice, 0), m.sliceCount - 1)
        var overlay = LabelOverlay(labels: entry.labels, table: state.document.labelTable)
        overlay.style = LabelStyle(opacity: 0.5)
        let scene = SliceScene(image: entry.image, window: ownWindow, colorMap: state.colorMap, labels: overlay)
        let options = RenderOptions(scale: 1, squarePixels: true, orientationLetters: false)
        let raster = scene.render(m, slice: index, options: options)
        let t = ViewTransform(mapping: m, rect: CellRect(x: 0, y: 0, width: width, height: height), zoom: 1, pan: .zero)
        let img = WorkbenchView.resample(raster, scale: scene.outputScale(m, options: options).scale, mapping: m, transform: t)
        if curationStore.thumbnails.count > 64 { curationStore.thumbnails = [:] }
        curationStore.thumbnails[key] = img
        return img
    }
}

/// The support-set panel: one block per example (thumbnail, plane and slices, image, labels), the
/// running or last prediction with its Dice, and a key hint.
enum SupportPanel {
    /// Rows per example block (thumbnail rows plus a gap).
    static let blockRows = 5
    static let thumbnailSize = (width: 10, height: 4)
    /// Rows of the prediction section at the bottom (above the hint).
    static let predictionRows = 4

    static func listRows(_ rect: CellRect) -> Int { Swift.max(0, rect.height - 2 - predictionRows) }

    /// Index of the first example shown.
    static func firstVisible(_ state: WorkbenchState, rect: CellRect) -> Int {
        let n = state.curation.entries.count, fit = Swift.max(1, listRows(rect) / blockRows)
        guard n > fit else { return 0 }
        return Swift.min(Swift.max(0, state.curation.selection - fit / 2), n - fit)
    }

    /// The example whose block holds terminal row `row`.
    static func entryIndex(atRow row: Int, state: WorkbenchState, rect: CellRect) -> Int? {
        let r = row - rect.y - 1
        guard r >= 0, r < listRows(rect) else { return nil }
        let i = firstVisible(state, rect: rect) + r / blockRows
        return i < state.curation.entries.count ? i : nil
    }

    static func draw(_ state: WorkbenchState, cache: SliceCache, rect: CellRect, into grid: inout CellGrid) {
        let c = state.curation
        for y in rect.y..<(rect.y + rect.height) { grid[rect.x - 1, y] = Cell("│", foreground: Theme.dimText) }
        grid.fill(CellRect(x: rect.x, y: rect.y, width: rect.width, height: 1), with: Cell(" ", background: Theme.barBackground))
        grid.put(" Support set (\(c.entries.count))", x: rect.x, y: rect.y, foreground: Theme.barText,
                 background: Theme.barBackground, attributes: [.bold], maxWidth: rect.width)
        if c.entries.isEmpty {
            let lines = ["No examples yet.", "A  add this slice", "V  add the volume", "O  load " + (c.manifestPath as NSString).lastPathComponent]
            for (i, l) in lines.enumerated() {
                grid.put(" " + l, x: rect.x, y: rect.y + 2 + i, foreground: i == 0 ? .default : Theme.dimText, maxWidth: rect.width)
            }
        }
        let first = firstVisible(state, rect: rect)
        let fit = listRows(rect) / blockRows
        let here = state.cursor[state.activeSliceAxis]
        let hereAxis = state.activeSliceAxis
        for r in 0..<fit {
            let i = first + r
            guard i < c.entries.count else { break }
            let e = c.entries[i]
            let y = rect.y + 1 + r * blockRows
            let selected = i == c.selection
            let tw = thumbnailSize.width, th = thumbnailSize.height
            let thumbRect = CellRect(x: rect.x + 1, y: y, width: tw, height: th)
            HalfBlocks.draw(cache.thumbnail(e, state: state, width: tw, height: th), into: &grid, at: thumbRect,
                            capabilities: state.capabilities)
            let tx = rect.x + tw + 2, tWidth = rect.width - tw - 2
            let onIt = e.isOpenImage && e.example.slices.map { $0.plane.axis == hereAxis && $0.indices.contains(here) } == true
            let attrs: CellAttributes = selected ? [.reverse, .bold] : [.bold]
            grid.fill(CellRect(x: tx, y: y, width: tWidth, height: 1), with: Cell(" ", attributes: selected ? [.reverse] : []))
            grid.put("\(i + 1) \(e.what)", x: tx, y: y, foreground: onIt ? Theme.accent : .default, attributes: attrs, maxWidth: tWidth)
            grid.put(e.isOpenImage ? "this image" : e.name, x: tx, y: y + 1, foreground: Theme.dimText, maxWidth: tWidth)
            let third = e.example.slices == nil ? (e.example.labels as NSString).lastPathComponent : e.voxelIndices
            grid.put(third, x: tx, y: y + 2, foreground: Theme.dimText, maxWidth: tWidth)
            if onIt { grid.put("◀ here", x: tx, y: y + 3, foreground: Theme.accent, maxWidth: tWidth) }
        }
        // Prediction section.
        let py = rect.y + rect.height - 1 - predictionRows
        grid.fill(CellRect(x: rect.x, y: py, width: rect.width, height: 1), with: Cell(" ", background: Theme.barBackground))
        grid.put(" Prediction", x: rect.x, y: py, foreground: Theme.barText, background: Theme.barBackground,
                 attributes: [.bold], maxWidth: rect.width)
        var lines: [(String, CellColor)] = []
        if let run = c.running {
            lines.append((" " + run.title, .default))
            let p = run.progress
            let fraction = p.map { $0.total > 0 ? Double($0.step) / Double($0.total) : 0 } ?? 0
            let barWidth = Swift.max(4, rect.width - 8)
            let filled = Int((fraction * Double(barWidth)).rounded())
            lines.append((" " + String(repeating: "█", count: filled) + String(repeating: "░", count: barWidth - filled)
                          + String(format: " %3d%%", Int(fraction * 100)), Theme.accent))
            // The most specific part of the message (after the last ": ") fits the panel best.
            let detail = p.map { ($0.message.components(separatedBy: ": ").last ?? $0.message) + String(format: " · %.0f s", $0.elapsed) }
            lines.append((" " + (detail ?? "starting…"), Theme.dimText))
        } else if let o = c.outcome {
            lines.append((" " + scopeText(o.scope) + String(format: ", %.1f s", o.seconds), .default))
            if let m = o.meanDiceScore {
                lines.append((String(format: " mean Dice %.3f (%d labels)", m, o.dice.count), Theme.accent))
            } else {
                lines.append((" no truth: no Dice", Theme.dimText))
            }
            lines.append((" showing \(c.display.rawValue) · C", Theme.dimText))
        } else {
            lines.append((" P this slice · Ctrl-P volume", Theme.dimText))
        }
        for (i, l) in lines.prefix(predictionRows - 1).enumerated() {
            grid.put(l.0, x: rect.x, y: py + 1 + i, foreground: l.1, maxWidth: rect.width)
        }
        grid.put(" A add  D del  M save  O load", x: rect.x, y: rect.y + rect.height - 1, foreground: Theme.dimText,
                 maxWidth: rect.width)
    }

    /// Status-bar text while predicting or when a prediction is shown, nil otherwise.
    static func status(_ state: WorkbenchState) -> String? {
        let c = state.curation
        if let run = c.running {
            let pct = run.progress.map { $0.total > 0 ? 100 * $0.step / $0.total : 0 } ?? 0
            return "predicting \(run.title) \(pct)%"
        }
        guard let o = c.outcome else { return nil }
        var s = "pred \(c.display.rawValue)"
        if let m = o.meanDiceScore { s += String(format: " Dice %.3f", m) }
        return s
    }
}
