import VoxtermModel
import SliceRendering

/// Finding labels by name and slices by content: the pure parts of `:goto`, `/search` and `z`/`Z`.
public enum LabelLookup {
    /// The label a user means by `text`: a value (`37`), an exact name (case-insensitive), else the
    /// one name starting with it, else the one name containing it. Among `present` labels first,
    /// then the whole table. Returns the value or a one-line reason.
    public static func resolve(_ text: String, table: LabelTable, present: [Int32]) -> Result<Int32, CommandError> {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let v = Int32(t) { return .success(v) }
        if t.lowercased() == "background" { return .success(0) }
        let lower = t.lowercased()
        for pool in [present, table.entries.keys.sorted()] {
            let named = pool.map { ($0, table.name(of: $0).lowercased()) }
            if let exact = named.first(where: { $0.1 == lower }) { return .success(exact.0) }
            for test in [{ (n: String) in n.hasPrefix(lower) }, { (n: String) in n.contains(lower) }] {
                let hits = named.filter { test($0.1) }
                if hits.count == 1 { return .success(hits[0].0) }
                if hits.count > 1 {
                    let names = hits.prefix(4).map { table.name(of: $0.0) }.joined(separator: ", ")
                    return .failure(CommandError("'\(t)' matches \(hits.count) labels (\(names)\(hits.count > 4 ? ", …" : "")); Tab completes"))
                }
            }
        }
        return .failure(CommandError("no label named '\(t)'"))
    }

    /// Indices into `present` whose names contain `text` (case-insensitive), in panel order.
    public static func matches(_ text: String, table: LabelTable, present: [Int32]) -> [Int] {
        let lower = text.lowercased()
        return present.indices.filter { table.name(of: present[$0]).lowercased().contains(lower) }
    }

    /// The nearest slice index after (`forward`) or before `from` along voxel axis `axis` that holds
    /// at least one voxel of `label`, or nil.
    public static func nextSlice(containing label: Int32, in labels: LabelVolume, axis: Int, from: Int, forward: Bool) -> Int? {
        let g = labels.geometry
        let n = g.size[axis]
        let strides = SIMD3<Int>(1, g.size.x, g.size.x * g.size.y)
        let (ua, va) = LabelEditing.inPlaneAxes(axis)
        return labels.labels.withUnsafeBufferPointer { buf -> Int? in
            var s = from + (forward ? 1 : -1)
            while s >= 0 && s < n {
                let base = s * strides[axis]
                for v in 0..<g.size[va] {
                    let row = base + v * strides[va]
                    for u in 0..<g.size[ua] where buf[row + u * strides[ua]] == label { return s }
                }
                s += forward ? 1 : -1
            }
            return nil
        }
    }
}

/// Navigation extras: counts, label search, crosshair display, two-point distance, statistics panel.
public struct NavigationState: Sendable {
    /// Digits typed before a key (`10]`), nil when none.
    public var count: Int?
    /// The last label search (`/TEXT`); `n`/`N` step through its matches while set.
    public var search: String?
    /// Whether the crosshair lines are hidden (`X`).
    public var crosshairHidden = false
    /// Points of the distance measure (`@`): none, the first, or both.
    public var measure: [SIMD3<Int>] = []
    /// Whether the statistics panel is shown (`T`).
    public var showStatistics = false
    /// Page of the help screen: 0 keys, 1 commands.
    public var helpPage = 0
    public init() {}
}

/// The command line's own state: the line being typed, and the histories.
public struct CommandLineFeature: Sendable {
    /// The line being edited, when the command line has the keyboard.
    public var line: CommandLineState?
    /// Entered commands (`:`), oldest first.
    public var history = CommandHistory()
    /// Entered label searches (`/`), oldest first.
    public var searchHistory = CommandHistory()
    /// The last error, shown in the status line until the next key.
    public var error: String?
    public init() {}
}
