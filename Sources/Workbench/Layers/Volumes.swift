import VoxtermModel
import SliceRendering
import Terminal

/// Volumes of a 4-D image (fMRI, DWI, probability stacks): every frame is kept, the document's
/// `image` is the one shown, and the keys step through them.
public struct VolumeSeries: Sendable {
    /// Every volume, in file order (the 4th dimension).
    public var frames: [Volume]
    /// The one shown (0-based).
    public var index: Int
    /// Step of the 4th dimension (`pixdim[4]`, the TR for time series) and its unit.
    public var step: Double, unit: String
    /// Each volume's automatic window, computed where the file was read (empty for series made
    /// in memory: then computed when a key steps to the volume).
    public var windows: [IntensityWindow]

    public init(frames: [Volume], index: Int = 0, step: Double = 0, unit: String = "", windows: [IntensityWindow] = []) {
        self.frames = frames; self.index = min(max(0, index), max(0, frames.count - 1)); self.step = step; self.unit = unit
        self.windows = windows.count == frames.count ? windows : []
    }

    /// `vol 4/120`, 1-based as the slice counter.
    public var label: String { "vol \(index + 1)/\(frames.count)" }

    /// The values of voxel `v` across the volumes.
    public func timeCourse(at v: SIMD3<Int>) -> [Float] {
        frames.map { $0.geometry.contains(v) ? $0[v.x, v.y, v.z] : .nan }
    }

    /// A sparkline (▁▂▃▄▅▆▇█, min to max) of `values`, at most `width` characters (bins averaged).
    public static func sparkline(_ values: [Float], width: Int) -> String {
        let finite = values.filter(\.isFinite)
        guard !finite.isEmpty, width > 0 else { return "" }
        let bars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let lo = finite.min()!, hi = finite.max()!
        let n = min(width, values.count)
        var out = ""
        for b in 0..<n {
            let a = b * values.count / n, z = max(a + 1, (b + 1) * values.count / n)
            let bin = values[a..<z].filter(\.isFinite)
            guard !bin.isEmpty else { out.append(" "); continue }
            let m = bin.reduce(0, +) / Float(bin.count)
            let t = hi > lo ? (m - lo) / (hi - lo) : 0.5
            out.append(bars[min(7, max(0, Int(t * 7 + 0.5)))])
        }
        return out
    }
}

/// Steps the shown volume by `delta` (clamped) and says where it is.
///
/// The window follows FSLeyes/MRIcroGL users' expectation: one the user set (keys w W < > or
/// `:set window`) is kept, so intensities compare across volumes; the automatic one (as opened,
/// or after `r`) is recomputed for the new volume (2–99.5 % of its foreground), so a DWI volume
/// is not shown black under its b=0 volume's window.
func stepVolume(_ state: inout WorkbenchState, by delta: Int) {
    guard var s = state.document.series, s.frames.count > 1 else {
        state.message = "\(state.document.imageName) has one volume"
        return
    }
    let i = min(max(0, s.index + delta), s.frames.count - 1)
    guard i != s.index else { return }
    s.index = i
    state.document.series = s
    state.document.image = s.frames[i]
    state.document.revision += 1
    let automatic = state.window == state.automaticWindow
    state.automaticWindow = s.windows.indices.contains(i) ? s.windows[i] : IntensityWindow.automatic(s.frames[i])
    state.document.automaticWindow = state.automaticWindow
    if automatic { state.window = state.automaticWindow }
    state.message = s.label + (s.step > 0 ? " (\(fmt(Double(i) * s.step)) \(s.unit))" : "")
        + (automatic ? " · automatic window \(state.window)" : " · window \(state.window) kept (r: automatic)")
}
