import SliceRendering
import Terminal

/// One key binding: the keys, what they do, and the help text shown by `?`.
public struct KeyBinding: Sendable {
    public var keys: [Key]
    public var action: Action
    /// Help-screen group, e.g. "Navigate".
    public var section: String
    /// One-line description for the help screen.
    public var help: String

    public init(_ keys: [Key], _ action: Action, _ section: String, _ help: String) {
        self.keys = keys; self.action = action; self.section = section; self.help = help
    }
}

/// What the panel keys (n, N, g) act on: the label panel and images, or the support panel's rows
/// while it is on screen (`WorkbenchState.keyFocus`).
public enum KeyFocus: Sendable, Equatable {
    case images
    case supportPanel
}

/// The key tables, one per mode; they drive both key handling and the help screen.
public enum KeyTable {
    private static func ch(_ s: String) -> [Key] { s.map { Key.character($0) } }

    /// Keys while browsing images.
    public static let normal: [KeyBinding] = [
        KeyBinding([.character("h"), .left], .moveCursor(.left), "Navigate", "crosshair left"),
        KeyBinding([.character("l"), .right], .moveCursor(.right), "Navigate", "crosshair right"),
        KeyBinding([.character("k"), .up], .moveCursor(.up), "Navigate", "crosshair up"),
        KeyBinding([.character("j"), .down], .moveCursor(.down), "Navigate", "crosshair down"),
        KeyBinding([.pageUp, .character("]")], .changeSlice(1), "Navigate", "next slice"),
        KeyBinding([.pageDown, .character("[")], .changeSlice(-1), "Navigate", "previous slice"),
        KeyBinding([.character("}")], .changeSlice(10), "Navigate", "10 slices forward"),
        KeyBinding([.character("{")], .changeSlice(-10), "Navigate", "10 slices back"),
        KeyBinding(ch("a"), .selectPlane(.axial), "Navigate", "axial view"),
        KeyBinding(ch("c"), .selectPlane(.coronal), "Navigate", "coronal view"),
        KeyBinding(ch("s"), .selectPlane(.sagittal), "Navigate", "sagittal view"),
        KeyBinding(ch("v"), .toggleLayout, "Navigate", "one view / three views"),
        KeyBinding(ch("x"), .centreCursor, "Navigate", "crosshair to volume centre"),
        KeyBinding(ch("+="), .zoomIn, "View", "zoom in"),
        KeyBinding(ch("-_"), .zoomOut, "View", "zoom out"),
        KeyBinding(ch("0"), .resetZoom, "View", "fit to pane"),
        KeyBinding(ch("H"), .pan(.left), "View", "pan left (zoomed)"),
        KeyBinding(ch("L"), .pan(.right), "View", "pan right (zoomed)"),
        KeyBinding(ch("K"), .pan(.up), "View", "pan up (zoomed)"),
        KeyBinding(ch("J"), .pan(.down), "View", "pan down (zoomed)"),
        KeyBinding(ch("w"), .scaleWindowWidth(0.8), "View", "narrower window (more contrast)"),
        KeyBinding(ch("W"), .scaleWindowWidth(1.25), "View", "wider window (less contrast)"),
        KeyBinding(ch("<,"), .shiftWindowLevel(-0.1), "View", "lower level (brighter)"),
        KeyBinding(ch(">."), .shiftWindowLevel(0.1), "View", "higher level (darker)"),
        KeyBinding(ch("r"), .autoWindow, "View", "automatic window (foreground 2-99.5 %)"),
        KeyBinding(ch("m"), .cycleColorMap, "View", "next colour map"),
        KeyBinding(ch("R"), .toggleConvention, "View", "neurological / radiological"),
        KeyBinding(ch("t"), .toggleOverlay, "Labels", "labels on / off"),
        KeyBinding(ch("("), .changeOpacity(-0.1), "Labels", "labels more transparent"),
        KeyBinding(ch(")"), .changeOpacity(0.1), "Labels", "labels more opaque"),
        KeyBinding(ch("o"), .toggleOutline, "Labels", "outline / filled labels"),
        KeyBinding(ch("p"), .toggleLabelPanel, "Labels", "label panel show / hide"),
        KeyBinding(ch("n"), .moveLabelSelection(1), "Labels", "select next row in the panel"),
        KeyBinding(ch("N"), .moveLabelSelection(-1), "Labels", "select previous row in the panel"),
        KeyBinding([.character(" ")], .toggleSelectedLabel, "Labels", "show / hide selected label"),
        KeyBinding(ch("*"), .showAllLabels, "Labels", "show all labels"),
        KeyBinding(ch("g"), .goToSelectedLabel, "Labels", "crosshair to the selected label / support"),
        KeyBinding(ch("f"), .cycleFieldMode, "Field & compare", "field: arrows/magnitude/Jacobian/grid/off"),
        KeyBinding(ch("b"), .cycleCompareMode, "Field & compare", "compare: side/checker/diff/flicker/overlay"),
        KeyBinding(ch("^"), .cycleCompareColorMap, "Field & compare", "overlay compare: second image green/magenta, hot, …"),
        KeyBinding(ch("G"), .startRegistration, "Register (--moving)", "register moving to image in the background"),
        KeyBinding(ch("P"), .cycleRegistrationPreset, "Register (--moving)", "preset: fast/default/accurate"),
        KeyBinding([.escape], .cancelJobs, "Register (--moving)", "cancel the running registration / prediction"),
        KeyBinding(ch("S"), .saveRegistration, "Register (--moving)", "save outputs (as voxterm register)"),
        KeyBinding(ch("F"), .nextFoldingSlice, "Register (--moving)", "next slice where the field folds"),
        KeyBinding(ch("e"), .export, "Other", "export what is on screen to PNG"),
        KeyBinding(ch("'"), .stepVolume(1), "Volumes (4-D)", "next volume of a 4-D image"),
        KeyBinding(ch("\""), .stepVolume(-1), "Volumes (4-D)", "previous volume"),
        KeyBinding(ch("#"), .layers(.selectNext), "Layers", "next image layer (--overlay)"),
        KeyBinding(ch("!"), .layers(.toggleVisible), "Layers", "show/hide the layer"),
        KeyBinding(ch("$"), .layers(.threshold(-1)), "Layers", "layer threshold down (1/20 window)"),
        KeyBinding(ch("%"), .layers(.threshold(1)), "Layers", "layer threshold up"),
        KeyBinding(ch("&"), .layers(.cycleColorMap), "Layers", "layer colour map"),
        KeyBinding(ch("~"), .layers(.cycleOpacity), "Layers", "layer opacity 100/75/50/25 %"),
        KeyBinding(ch("?"), .showHelp, "Other", "this help"),
        KeyBinding([.character("q")], .quit, "Other", "quit"),
        KeyBinding([.control("c")], .interrupt, "Other", "quit (exit status 130, as interrupted)"),
    ]

    /// Keys while the help screen is shown.
    public static let help: [KeyBinding] = [
        KeyBinding([.character("?"), .escape, .character("q"), .enter], .closeHelp, "Help", "close help"),
        KeyBinding([.down, .character("j")], .scrollHelp(1), "Help", "scroll down"),
        KeyBinding([.up, .character("k")], .scrollHelp(-1), "Help", "scroll up"),
        KeyBinding([.pageDown, .character(" ")], .scrollHelp(10), "Help", "scroll a page down"),
        KeyBinding([.pageUp], .scrollHelp(-10), "Help", "scroll a page up"),
        KeyBinding([.home], .scrollHelp(-10_000), "Help", "back to the top"),
        KeyBinding([.tab, .right, .left], .command(.helpPage), "Help", "keys page / commands page"),
        KeyBinding([.control("c")], .interrupt, "Help", "quit (exit status 130)"),
    ]

    /// Keys of the support panel's focus mode (`KeyFocus.supportPanel`): while the panel is on
    /// screen these come first, so n, N and g act on its rows instead of the label panel's.
    public static let supportPanel: [KeyBinding] = [
        KeyBinding(ch("n"), .curation(.moveSelection(1)), "Support panel (while shown)", "select the next support"),
        KeyBinding(ch("N"), .curation(.moveSelection(-1)), "Support panel (while shown)", "select the previous support"),
        KeyBinding(ch("g"), .curation(.goToSelected), "Support panel (while shown)", "crosshair to the selected support"),
    ]

    /// The table of `mode` with `focus` (`supportPanel` puts its bindings before the normal ones).
    public static func table(for mode: WorkbenchMode, focus: KeyFocus = .images) -> [KeyBinding] {
        switch (mode, focus) {
        case (.normal, .images): normal + curation + commandLine + editing + cohort
        case (.normal, .supportPanel): supportPanel + normal + curation + commandLine + editing + cohort
        case (.help, _): help
        }
    }

    /// The action bound to `key` in `mode` with `focus`, if any (the first binding of the key wins).
    public static func action(for key: Key, in mode: WorkbenchMode, focus: KeyFocus = .images) -> Action? {
        if mode == .normal, let a = commandLineAction(for: key) { return a }
        return table(for: mode, focus: focus).first { $0.keys.contains(key) }?.action
    }
}

extension KeyTable {
    /// Support-set and prediction keys, active in normal mode after `normal` (listed in the help under their own section).
    public static let curation: [KeyBinding] = [
        KeyBinding([.character("u")], .curation(.togglePanel), "Support set & prediction", "support-set panel show / hide"),
        KeyBinding([.character("A")], .curation(.addSlice), "Support set & prediction", "add this slice (with its labels) as a support"),
        KeyBinding([.character("V")], .curation(.addVolume), "Support set & prediction", "add the whole volume as a support"),
        KeyBinding([.character("D"), .delete], .curation(.removeSelected), "Support set & prediction", "remove the selected support"),
        KeyBinding([.character("M")], .curation(.saveManifest), "Support set & prediction", "save the support-set manifest"),
        KeyBinding([.character("O")], .curation(.loadManifest), "Support set & prediction", "load the support-set manifest"),
        KeyBinding([.character("i")], .curation(.predict(.slice)), "Support set & prediction", "predict this slice from the supports"),
        KeyBinding([.character("I")], .curation(.predict(.volume)), "Support set & prediction", "predict the whole volume"),
        KeyBinding([.character("C")], .curation(.cycleDisplay), "Support set & prediction", "show prediction / vs truth / confidence / labels"),
        KeyBinding([.character("d")], .curation(.jumpToDisagreement), "Support set & prediction", "next slice where the supports disagree most"),
        KeyBinding([.character("E")], .curation(.savePrediction), "Support set & prediction", "save the prediction as NIfTI"),
    ]
}
