import Foundation
import VoxtermModel
import Terminal

/// The two live-registration rows above the status bar: progress bar, stage/level/iteration and
/// elapsed time; the curve of the objective value; the summary when finished.
enum RegistrationBar {
    static func draw(_ state: WorkbenchState, rows: (Int, Int), into grid: inout CellGrid) {
        guard let r = state.registration else { return }
        let width = grid.width
        let bg = CellColor.rgb(RGB(20, 30, 48))
        for y in [rows.0, rows.1] { grid.fill(CellRect(x: 0, y: y, width: width, height: 1), with: Cell(" ", background: bg)) }
        let unicode = state.capabilities.unicode
        let doc = state.document
        let moving = ((doc.movingPath ?? "moving") as NSString).lastPathComponent
        var x = 0
        func put(_ text: String, row: Int, _ color: CellColor = Theme.barText, bold: Bool = false) {
            guard x < width else { return }
            grid.put(text, x: x, y: row, foreground: color, background: bg, attributes: bold ? [.bold] : [], maxWidth: width - x)
            x += text.count
        }
        put(" Register ", row: rows.0, Theme.accent, bold: true)

        // Row 1: state, bar, where.
        switch r.phase {
        case .ready:
            put("G registers \(moving) to \(doc.imageName) (\(r.preset.rawValue) preset; P changes) · shown in world space, no transform",
                row: rows.0)
        case .running, .cancelling, .cancelled, .failed, .finished:
            let barWidth = max(10, min(30, width / 6))
            let filled = Int((r.fractionDone * Double(barWidth)).rounded(.down))
            let bar = String(repeating: unicode ? "█" : "#", count: filled)
                + String(repeating: unicode ? "░" : "-", count: barWidth - filled)
            let colour: CellColor = switch r.phase {
            case .finished: .rgb(RGB(90, 210, 120))
            case .cancelled, .cancelling, .failed: .rgb(RGB(230, 120, 90))
            default: Theme.accent
            }
            put(bar, row: rows.0, colour)
            put(String(format: " %3d%% ", Int((r.fractionDone * 100).rounded(.down))), row: rows.0, bold: true)
            if let p = r.progress {
                let budget = p.stage < r.budget.count && p.level < r.budget[p.stage].count ? "/\(r.budget[p.stage][p.level])" : ""
                put("\(p.stageName) (stage \(p.stage + 1)/\(max(r.budget.count, p.stage + 1))) level \(p.level + 1)/\(p.levelCount) "
                    + "(shrink \(p.shrink)) iteration \(p.iteration)\(budget) · " + String(format: "%.1f s", p.elapsed), row: rows.0)
            } else {
                put("starting…", row: rows.0)
            }
            switch r.phase {
            case .running: put(" · " + (r.activity ?? "Esc cancels"), row: rows.0, Theme.dimText)
            case .cancelling: put(" · cancelling…", row: rows.0, colour, bold: true)
            case .cancelled: put(" · cancelled (G starts again)", row: rows.0, colour, bold: true)
            case .failed(let why): put(" · failed: \(why)", row: rows.0, colour, bold: true)
            default: break
            }
        }

        // Row 2: summary or curve.
        x = 0
        if r.phase == .finished, let s = r.summary {
            put(" done ", row: rows.1, .rgb(RGB(90, 210, 120)), bold: true)
            put(s.text, row: rows.1, bold: true)
            if r.saving { put(" · saving…", row: rows.1, Theme.accent) }
            else if let d = r.savedTo { put(" · saved to \(d)/", row: rows.1, Theme.accent) }
            else { put(" · S saves to \(r.outputDirectory)/", row: rows.1, Theme.accent) }
            put(" · F next folding", row: rows.1, Theme.dimText)
            return
        }
        guard !r.values.isEmpty else {
            put(" objective curve appears here · b compare mode · f field display · e export", row: rows.1, Theme.dimText)
            return
        }
        let last = r.values.last!
        put(String(format: " value %.5f ", last), row: rows.1, bold: true)
        let level = Array(r.values[min(r.levelStart, r.values.count - 1)...])
        let curveWidth = max(8, min(60, width - x - 48))
        put(sparkline(level, width: curveWidth, unicode: unicode), row: rows.1, Theme.accent)
        if let lo = level.min(), let hi = level.max() {
            put(String(format: " %.4f…%.4f this level", hi, lo), row: rows.1, Theme.dimText)
        }
        put(" · lower is better · \(r.preset.rawValue) preset · previews \(r.previews)", row: rows.1, Theme.dimText)
    }

    /// The last values as a one-row curve: `width` buckets (the mean of each), scaled to their range.
    static func sparkline(_ values: [Double], width: Int, unicode: Bool) -> String {
        let glyphs: [Character] = unicode ? Array("▁▂▃▄▅▆▇█") : Array("_.-:=+*#")
        guard !values.isEmpty, width > 0 else { return "" }
        // Up to 4 iterations per cell, so the shape stays readable when a run is long.
        let shown = Array(values.suffix(width * 4))
        let buckets = min(width, shown.count)
        var means: [Double] = []
        for b in 0..<buckets {
            let lo = shown.count * b / buckets, hi = max(lo + 1, shown.count * (b + 1) / buckets)
            means.append(shown[lo..<hi].reduce(0, +) / Double(hi - lo))
        }
        let mn = means.min()!, mx = means.max()!
        return String(means.map { v in
            let t = mx > mn ? (v - mn) / (mx - mn) : 0.5
            return glyphs[min(glyphs.count - 1, Int(t * Double(glyphs.count - 1) + 0.5))]
        })
    }
}
