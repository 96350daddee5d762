import Terminal

extension KeyTable {
    /// Command line, counts, search, crosshair, distance and statistics keys (normal mode, help section "Find & measure").
    public static let commandLine: [KeyBinding] = [
        KeyBinding([.character(":")], .command(.begin(":", prefill: "")), "Find & measure", "command line: Tab completes, ↑↓ history"),
        KeyBinding([.character("/")], .command(.begin("/", prefill: "")), "Find & measure", "find a label by name, then n / N"),
        KeyBinding((1...9).map { Key.character(Character(String($0))) }, .command(.digit(1)), "Find & measure",
                   "count: 10] ten slices, 5l, 37g label 37"),
        KeyBinding([.shiftLeft, .shiftRight, .shiftUp, .shiftDown], .command(.run(.action("right", count: 10))), "Find & measure",
                   "crosshair 10 voxels that way"),
        KeyBinding([.character("z")], .command(.labelSlice(forward: true)), "Find & measure", "next slice holding the selected label"),
        KeyBinding([.character("Z")], .command(.labelSlice(forward: false)), "Find & measure", "previous slice holding the selected label"),
        KeyBinding([.character("X")], .command(.toggleCrosshair), "Find & measure", "crosshair show / hide"),
        KeyBinding([.character("@")], .command(.measurePoint), "Find & measure", "distance in mm: mark two points"),
        KeyBinding([.character("T")], .command(.toggleStatistics), "Find & measure", "statistics of the label: slice, volume"),
    ]

    /// Label editing keys (normal mode).
    public static let editing: [KeyBinding] = [
        KeyBinding([.character("B")], .editing(.togglePaint), "Edit labels", "paint mode: moves and drags paint"),
        KeyBinding([.character("Y")], .editing(.toggleErase), "Edit labels", "erase mode: moves and drags erase"),
        KeyBinding([.character("y")], .editing(.fill), "Edit labels", "fill the region here (2-D)"),
        KeyBinding([.character("|")], .editing(.changeRadius(1)), "Edit labels", "bigger brush"),
        KeyBinding([.character("\\")], .editing(.changeRadius(-1)), "Edit labels", "smaller brush"),
        KeyBinding([.character("U"), .control("z")], .editing(.undo), "Edit labels", "undo the last edit"),
        KeyBinding([.control("r"), .control("y")], .editing(.redo), "Edit labels", "redo"),
    ]

    /// The action of `key` among the command-line and editing keys; digits carry their value.
    static func commandLineAction(for key: Key) -> Action? {
        if case .character(let c) = key, let d = c.wholeNumberValue, (1...9).contains(d) { return .command(.digit(d)) }
        // Shift+arrows: ten steps of the arrow (one help row for the four).
        let shifted: [Key: String] = [.shiftLeft: "left", .shiftRight: "right", .shiftUp: "up", .shiftDown: "down"]
        if let name = shifted[key] { return .command(.run(.action(name, count: 10))) }
        return (commandLine + editing).first { $0.keys.contains(key) }?.action
    }
}
