import VoxtermModel
import SliceRendering

/// Colour maps the `^` key cycles through for the second image in overlay compare mode
/// (nil = the green/magenta fusion).
let compareColorMaps: [ColorMap?] = [nil, .hot, .jet, .viridis, .gray]

/// `^`: the second image's next colour map in overlay compare mode (switches to that mode).
func cycleCompareColorMap(_ state: inout WorkbenchState) {
    guard state.hasCompare else { state.message = "no second image (--compare FILE)"; return }
    let i = compareColorMaps.firstIndex(of: state.compareColorMap) ?? -1
    setCompareColorMap(&state, compareColorMaps[(i + 1) % compareColorMaps.count])
}

/// Sets the second image's colour map (nil: green/magenta fusion) and shows the overlay compare mode.
func setCompareColorMap(_ state: inout WorkbenchState, _ map: ColorMap?) {
    guard state.hasCompare else { state.message = "no second image (--compare FILE)"; return }
    state.compareColorMap = map
    state.compareMode = .overlay
    state.flickerShowsCompare = false
    state.message = "compare: overlay, " + overlayDescription(state)
}

/// What the overlay compare mode shows, e.g. "second image hot 50 % over the image (gray)".
func overlayDescription(_ state: WorkbenchState) -> String {
    guard let m = state.compareColorMap else { return "image green, second image magenta" }
    return "second image \(m.rawValue) \(Int(CompareOverlay.defaultOpacity * 100)) % over the image (\(state.colorMap.rawValue))"
}

/// After `m` in the green/magenta overlay, where the image's colour map does not show: says how to get one.
func compareColorMapNote(_ state: WorkbenchState) -> String {
    state.hasCompare && state.compareMode == .overlay && state.compareColorMap == nil
        ? " (the green/magenta overlay ignores it: ^ gives the second image a colour map)" : ""
}
