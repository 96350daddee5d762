import Terminal

extension KeyTable {
    /// Command line, counts, search, crosshair, distance and statistics keys (normal mode).
    public static let commandLine: [KeyBinding] = [
        KeyBinding([.character(":")], .command(.begin(":", prefill: "")), "Command line", "command line (Tab completes, ↑↓ history, Esc cancels)"),
        KeyBinding([.character("/")], .command(.begin("/", prefill: "")), "Command line", "find a label by name; then n / N next / previous"),
        KeyBinding((1...9).map { Key.character(Character(String($0))) }, .command(.digit(1)), "Command line",
                   "count before a key: 10] ten slices, 5l five voxels, 37g label 37"),
        KeyBinding([.character("z")], .command(.labelSlice(forward: true)), "Navigate", "next slice holding the selected label"),
        KeyBinding([.character("Z")], .command(.labelSlice(forward: false)), "Navigate", "previous slice holding the selected label"),
        KeyBinding([.character("X")], .command(.toggleCrosshair), "Navigate", "crosshair show / hide"),
        KeyBinding([.character("@")], .command(.measurePoint), "Measure", "distance: mark a point, then a second (mm); third clears"),
        KeyBinding([.character("T")], .command(.toggleStatistics), "Measure", "statistics panel: selected label in slice and volume"),
    ]

    /// Label editing keys (normal mode).
    public static let editing: [KeyBinding] = [
        KeyBinding([.character("B")], .editing(.togglePaint), "Edit labels", "paint mode: the crosshair / left drag paints the selected label"),
        KeyBinding([.character("Y")], .editing(.toggleErase), "Edit labels", "erase mode: the crosshair / drag erases (right drag erases too)"),
        KeyBinding([.character("y")], .editing(.fill), "Edit labels", "fill the region under the crosshair (2-D, this slice)"),
        KeyBinding([.character("|")], .editing(.changeRadius(1)), "Edit labels", "bigger brush"),
        KeyBinding([.character("\\")], .editing(.changeRadius(-1)), "Edit labels", "smaller brush"),
        KeyBinding([.character("U"), .control("z")], .editing(.undo), "Edit labels", "undo the last edit"),
        KeyBinding([.control("r"), .control("y")], .editing(.redo), "Edit labels", "redo"),
    ]

    /// The action of `key` among the command-line and editing keys; digits carry their value.
    static func commandLineAction(for key: Key) -> Action? {
        if case .character(let c) = key, let d = c.wholeNumberValue, (1...9).contains(d) { return .command(.digit(d)) }
        return (commandLine + editing).first { $0.keys.contains(key) }?.action
    }
}
