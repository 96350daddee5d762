import ArgumentParser
import Foundation
import VoxtermModel
import Terminal
import Workbench

/// `voxterm bench tui --paint`: time of one brush step (key or mouse drag) to the next frame.
extension BenchTUI {
    /// Paints with the round brush along a path of crosshair moves (keys) and of mouse drags, and
    /// reports per step the edit alone and the whole step to a presented frame (reduce, render,
    /// encode), median and 95th percentile. `--paint-size N` first resamples the image onto an
    /// N³ grid (256 gives 16.8 M voxels) to measure a large volume.
    func runPaint() throws {
        let loaded = try benchDocument(sampleResolution: "1mm")
        let path = loaded.path
        var doc = loaded.document
        if let n = paintSize {
            guard (16...1024).contains(n) else { throw ValidationError("--paint-size must be 16...1024") }
            let g0 = doc.image.geometry
            // The same field of view on an n³ grid.
            let spacing = SIMD3<Double>(g0.size) * g0.spacing / Double(n)
            let g = VolumeGeometry(size: SIMD3(n, n, n), spacing: spacing, origin: g0.world(ofVoxel: .zero))
            let image = doc.image.resampled(to: g)
            let l = doc.labels?.resampled(to: g)
            doc = WorkbenchDocument(imagePath: doc.imagePath, image: image, labels: l, labelsPath: doc.labelsPath,
                                    labelTable: doc.labelTable, labelTablePath: doc.labelTablePath)
        }
        let size = TerminalSize(columns: columns, rows: rows)
        let caps = TerminalCapabilities(colorDepth: color, unicode: true)
        let terminal = RecordingTerminal(size: size, capabilities: caps)
        var state = WorkbenchState(document: doc, size: size, capabilities: caps)
        let cache = SliceCache()
        terminal.present(WorkbenchView.render(state, cache: cache))
        _ = reduce(&state, .command(.run(.selectLabel("1"))))
        _ = reduce(&state, .editing(.setRadius(3)))
        if stats { _ = reduce(&state, .command(.toggleStatistics)) }
        _ = reduce(&state, .editing(.togglePaint))
        terminal.present(WorkbenchView.render(state, cache: cache))
        var editTimes: [Double] = [], frameTimes: [Double] = []
        // Keys: a square spiral of crosshair moves, each one brush step.
        let moves: [Action] = [.moveCursor(.right), .moveCursor(.down), .moveCursor(.left), .moveCursor(.up)]
        var leg = 1, k = 0
        outer: while editTimes.count < steps {
            for _ in 0..<2 {
                for _ in 0..<leg {
                    let t0 = monotonicSeconds()
                    _ = reduce(&state, moves[k % 4])
                    let t1 = monotonicSeconds()
                    terminal.present(WorkbenchView.render(state, cache: cache))
                    let t2 = monotonicSeconds()
                    editTimes.append(t1 - t0); frameTimes.append(t2 - t0)
                    if editTimes.count >= steps { break outer }
                }
                k += 1
            }
            leg += 1
        }
        _ = reduce(&state, .editing(.togglePaint))
        // Mouse: press, drags across the image pane, release.
        let layout = ScreenLayout(state)
        let rect = layout.panes[0].imageRect
        var dragEdit: [Double] = [], dragFrame: [Double] = []
        let y = rect.y + rect.height / 2
        // The cells of that row that show the image (the pane has margins around it).
        let onImage = (rect.x..<(rect.x + rect.width)).filter { state.voxel(atColumn: $0, row: y) != nil }
        guard let x0 = onImage.first else { throw ValidationError("the image is not on screen at \(columns)x\(rows)") }
        let edits = state.editing.history.undoStack.count
        _ = reduce(&state, .editing(.togglePaint))
        _ = reduce(&state, .editing(.mouse(MouseEvent(.press, button: 1, column: x0, row: y))))
        for i in 0..<min(steps, onImage.count - 1) {
            let t0 = monotonicSeconds()
            _ = reduce(&state, .editing(.mouse(MouseEvent(.drag, button: 1, column: x0 + 1 + i, row: y + (i / 7) % 3))))
            let t1 = monotonicSeconds()
            terminal.present(WorkbenchView.render(state, cache: cache))
            let t2 = monotonicSeconds()
            dragEdit.append(t1 - t0); dragFrame.append(t2 - t0)
        }
        _ = reduce(&state, .editing(.mouse(MouseEvent(.release, button: 1, column: x0, row: y))))
        guard state.editing.history.undoStack.count > edits else { throw ValidationError("the mouse stroke painted nothing") }
        let g = state.document.image.geometry
        func p95(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[min(s.count - 1, Int((Double(s.count) * 0.95).rounded(.up)) - 1)] }
        func ms(_ x: Double) -> String { String(format: "%.2f", x * 1000) }
        print("voxterm bench tui --paint \(path): \(g.size.x)x\(g.size.y)x\(g.size.z) = \(g.voxelCount) voxels, \(columns)x\(rows) cells, brush radius 3"
              + (stats ? ", statistics panel shown" : ""))
        print("  key step (crosshair move paints): edit median \(ms(median(editTimes))) ms, p95 \(ms(p95(editTimes))) ms; "
              + "key to frame median \(ms(median(frameTimes))) ms, p95 \(ms(p95(frameTimes))) ms, max \(ms(frameTimes.max()!)) ms (\(frameTimes.count) steps)")
        print("  mouse drag step: edit median \(ms(median(dragEdit))) ms, p95 \(ms(p95(dragEdit))) ms; "
              + "drag to frame median \(ms(median(dragFrame))) ms, p95 \(ms(p95(dragFrame))) ms, max \(ms(dragFrame.max()!)) ms (\(dragFrame.count) steps)")
        if stats, let labels = state.document.labels {
            // What the panel cost per brush step before it followed the edits: both passes of
            // labelStatistics (the slice and the whole volume, every label).
            var full: [Double] = []
            let axis = state.mapping(state.plane).sliceAxis
            for _ in 0..<5 {
                let t0 = monotonicSeconds()
                _ = labelStatistics(labels: labels, image: state.document.image, region: .slice(axis: axis, index: state.cursor[axis]))
                _ = labelStatistics(labels: labels, image: state.document.image)
                full.append(monotonicSeconds() - t0)
            }
            print("  statistics panel: recomputing every label from the volume (as before, per step) median \(ms(median(full))) ms")
        }
        print("  undo history: \(state.editing.history.undoStack.count) edits, \(state.editing.history.undoStack.reduce(0) { $0 + $1.count }) voxels")
    }
}
