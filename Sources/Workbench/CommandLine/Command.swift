import SliceRendering
import VoxtermModel

/// Where `:goto` goes.
public enum GotoTarget: Equatable, Sendable {
    /// A slice of the active plane (0-based voxel index along the plane's axis, as shown on screen).
    case slice(Int)
    /// A voxel (i, j, k), 0-based.
    case voxel(SIMD3<Int>)
    /// A world point, mm RAS+.
    case world(SIMD3<Double>)
    /// A label by name (case-insensitive; a unique prefix or substring will do) or by value.
    case label(String)
}

/// What `:save` writes.
public enum SaveTarget: String, Equatable, Sendable, CaseIterable {
    /// The label map being edited (the user's labels, or the prediction once edited).
    case labels
    /// The prediction (labels, plus `_confidence` beside it).
    case prediction
    /// The support-set manifest.
    case support
    /// The registration outputs (a folder).
    case registration
    /// The view as a PNG.
    case png
}

/// What `:open` loads.
public enum OpenTarget: String, Equatable, Sendable, CaseIterable {
    /// A new image (replaces the document).
    case image
    /// A label map on the image's grid.
    case labels
    /// A truth map for Dice / TP-FP-FN.
    case truth
    /// A support-set manifest.
    case support
    /// A moving image for live registration (`:open moving PATH [LABELS]`).
    case moving
    /// An image layer over the image: `PATH[:COLORMAP[:LOW,HIGH]]` (as `voxterm view --overlay`).
    case overlay
}

/// What `:set` changes.
public enum Setting: Equatable, Sendable {
    /// Intensity window LOW,HIGH.
    case window(low: Double, high: Double)
    case colorMap(ColorMap)
    /// Label opacity 0...1.
    case opacity(Double)
    /// Brush radius in voxels.
    case brush(Int)
    /// Neurological / radiological.
    case convention(DisplayConvention)
    /// The second image's colour map in overlay compare mode (nil: green/magenta fusion).
    case compareColorMap(ColorMap?)
    /// The slice filler's share of the image (registered) evidence, 0...1; nil = automatic by the
    /// gap between labelled slices (`SlicePropagator.automaticRegistrationWeight`), as
    /// `voxterm segment --registration-weight`.
    case fillWeight(Float?)
}

/// One command typed at the `:` prompt, parsed.
public enum Command: Equatable, Sendable {
    case open(OpenTarget, String)
    /// `:open moving PATH [LABELS]`: a moving image (and its labels, on its grid) for live registration.
    case openMoving(path: String, labels: String?)
    /// `:save WHAT [PATH]` (nil path = the default name); `force` (`:save!`) allows replacing a file.
    case save(SaveTarget, String?, force: Bool)
    case goto(GotoTarget)
    case set(Setting)
    /// `:support add IMAGE LABELS`.
    case supportAdd(image: String, labels: String)
    /// `:support add slice|volume` (the open image's current slice / whole volume with its labels).
    case supportAddCurrent(volume: Bool)
    /// `:support remove N` (1-based row of the panel), nil = the selected row.
    case supportRemove(Int?)
    /// `:predict slice|volume`.
    case predict(volume: Bool)
    /// `:label NAME|VALUE` selects the active (painting) label.
    case selectLabel(String)
    /// `:replace OLD NEW [volume]` replaces a label by another in the slice or the volume.
    case replace(old: String, new: String, volume: Bool)
    case undo, redo
    /// `:search TEXT` label search (as `/TEXT`).
    case search(String)
    /// `:measure` starts a two-point distance; `:stats` toggles the statistics panel.
    case measure, stats
    /// A key-table action by its command name (`:zoom-in`, `:next-slice 10`), with a repeat count.
    case action(String, count: Int)
    /// `:quit` (`force` = `:q!`, no question about unsaved edits).
    case quit(force: Bool)
    case help
}

/// A command the parser refused: the message shown in the error line.
public struct CommandError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Parses command lines typed at the `:` prompt.
public enum CommandParser {
    /// Command words with their argument kinds, for completion and the help screen.
    public static let commands: [(name: String, usage: String, help: String)] = [
        ("open", "open image|labels|truth|support PATH | moving PATH [LABELS] | overlay PATH[:CMAP[:LOW,HIGH]]", "load a file"),
        ("save", "save labels|prediction|support|registration|png [PATH]", "write to a typed path (save! replaces)"),
        ("goto", "goto N | i,j,k | x,y,z mm | LABEL", "slice, voxel, world point or label by name"),
        ("set", "set window LOW,HIGH | cmap NAME | opacity A | brush R | convention neuro|radio | fill-weight W|auto", "display, brush and slice-fill settings"),
        ("support", "support add IMAGE LABELS | add slice|volume | remove [N]", "edit the support set"),
        ("predict", "predict slice|volume", "predict the open image from the supports"),
        ("label", "label NAME|VALUE", "choose the label to paint with"),
        ("replace", "replace OLD NEW [volume]", "replace a label in the slice (or volume)"),
        ("undo", "undo", "undo the last edit"),
        ("redo", "redo", "redo the last undone edit"),
        ("search", "search TEXT", "find a label by name (as /TEXT)"),
        ("measure", "measure", "distance between two points in mm"),
        ("stats", "stats", "label statistics panel"),
        ("help", "help", "keys and commands"),
        ("quit", "quit | q | q!", "quit (q! without asking about unsaved edits)"),
    ]

    /// Splits a command line into words: blanks separate, `'…'` and `"…"` quote, `\` escapes one
    /// character, a leading `~/` is the home folder. An unclosed quote is an error.
    public static func words(_ line: String, home: String? = nil) throws -> [String] {
        var out: [String] = [], cur = "", inWord = false
        var quote: Character?
        var escape = false
        for ch in line {
            if escape { cur.append(ch); escape = false; inWord = true; continue }
            if let q = quote {
                if ch == q { quote = nil } else if ch == "\\" && q == "\"" { escape = true } else { cur.append(ch) }
                continue
            }
            switch ch {
            case "\\": escape = true; inWord = true
            case "'", "\"": quote = ch; inWord = true
            case " ", "\t":
                if inWord { out.append(cur); cur = ""; inWord = false }
            default: cur.append(ch); inWord = true
            }
        }
        if quote != nil { throw CommandError("unclosed quote") }
        if escape { cur.append("\\") }
        if inWord { out.append(cur) }
        if let home { out = out.map { $0 == "~" ? home : ($0.hasPrefix("~/") ? home + $0.dropFirst(1) : $0) } }
        return out
    }

    /// Parses one command line (without the leading `:`). `actionNames` are the key-table command
    /// names accepted as `:NAME [COUNT]`.
    public static func parse(_ line: String, actionNames: Set<String> = [], home: String? = nil) throws -> Command {
        var w = try words(line, home: home)
        guard !w.isEmpty else { throw CommandError("empty command") }
        var name = w.removeFirst().lowercased()
        // `:10` goes to slice 10, as in vim.
        if Int(name) != nil { return .goto(.slice(Int(name)!)) }
        var force = false
        if name.hasSuffix("!") && name.count > 1 { force = true; name.removeLast() }
        func arg(_ i: Int, _ what: String) throws -> String {
            guard i < w.count else { throw CommandError("\(name): missing \(what)") }
            return w[i]
        }
        func noMore(_ n: Int) throws {
            if w.count > n { throw CommandError("\(name): unexpected '\(w[n])'") }
        }
        switch name {
        case "o", "open", "e", "edit":
            if w.count == 1, OpenTarget(rawValue: w[0].lowercased()) == nil && w[0].lowercased() != "manifest" { return .open(.image, w[0]) }
            let kind = try arg(0, "what to open (image, labels, truth, support, moving, overlay)").lowercased()
            guard let t = OpenTarget(rawValue: kind) ?? (kind == "manifest" ? .support : kind == "layer" ? .overlay : nil) else {
                throw CommandError("open: unknown '\(kind)'; use image, labels, truth, support, moving or overlay")
            }
            let p = try arg(1, "path")
            if t == .moving {
                try noMore(3)
                return .openMoving(path: p, labels: w.count > 2 ? w[2] : nil)
            }
            try noMore(2)
            if t == .overlay, ImageLayer.parseSpec(p) == nil {
                throw CommandError("open overlay: expected PATH[:COLORMAP[:LOW,HIGH]] (colour maps: "
                                   + ColorMap.allCases.map(\.rawValue).joined(separator: ", ") + "; LOW < HIGH), got '\(p)'")
            }
            return .open(t, p)
        case "w", "write", "save":
            if name == "w" || name == "write", w.count <= 1 { return .save(.labels, w.first, force: force) }
            let kind = try arg(0, "what to save (labels, prediction, support, registration, png)").lowercased()
            guard let t = SaveTarget(rawValue: kind) ?? (kind == "manifest" ? .support : nil) else {
                throw CommandError("save: unknown '\(kind)'; use labels, prediction, support, registration or png")
            }
            try noMore(2)
            return .save(t, w.count > 1 ? w[1] : nil, force: force)
        case "g", "goto", "go":
            guard !w.isEmpty else { throw CommandError("goto: missing a slice, i,j,k, x,y,z mm or a label name") }
            return .goto(try parseGoto(w))
        case "set":
            return .set(try parseSetting(w))
        case "support", "sup":
            let sub = try arg(0, "add or remove").lowercased()
            if ["add", "remove", "rm", "delete"].contains(sub) { name = "support \(sub)" }
            switch sub {
            case "add":
                let a = try arg(1, "IMAGE LABELS, slice or volume")
                if w.count == 2, a == "slice" || a == "volume" { return .supportAddCurrent(volume: a == "volume") }
                let l = try arg(2, "LABELS (the label map of \(a))"); try noMore(3)
                return .supportAdd(image: a, labels: l)
            case "remove", "rm", "delete":
                try noMore(2)
                if w.count == 1 { return .supportRemove(nil) }
                guard let n = Int(w[1]), n >= 1 else { throw CommandError("support remove: '\(w[1])' is not a row number (1, 2, …)") }
                return .supportRemove(n)
            case "save": try noMore(2); return .save(.support, w.count > 1 ? w[1] : nil, force: force)
            case "load", "open": return .open(.support, try arg(1, "path"))
            default: throw CommandError("support: unknown '\(sub)'; use add, remove, save or load")
            }
        case "predict", "pred":
            try noMore(1)
            let what = w.first?.lowercased() ?? "volume"
            guard what == "slice" || what == "volume" else { throw CommandError("predict: use slice or volume, not '\(what)'") }
            return .predict(volume: what == "volume")
        case "label", "l":
            guard !w.isEmpty else { throw CommandError("label: missing a label name or value") }
            return .selectLabel(w.joined(separator: " "))
        case "replace":
            let a = try arg(0, "the label to replace"), b = try arg(1, "the new label")
            try noMore(3)
            if w.count == 3 && !["volume", "slice"].contains(w[2].lowercased()) {
                throw CommandError("replace: use 'slice' or 'volume' after the labels, not '\(w[2])'")
            }
            return .replace(old: a, new: b, volume: w.count == 3 && w[2].lowercased() == "volume")
        case "u", "undo": try noMore(0); return .undo
        case "redo": try noMore(0); return .redo
        case "search", "find": return .search(try arg(0, "text to find"))
        case "measure", "distance": try noMore(0); return .measure
        case "stats", "statistics": try noMore(0); return .stats
        case "help", "h": return .help
        case "q", "quit", "exit": try noMore(0); return .quit(force: force)
        default:
            if actionNames.contains(name) {
                try noMore(1)
                var count = 1
                if let c = w.first {
                    guard let n = Int(c), n >= 1 else { throw CommandError("\(name): '\(c)' is not a count") }
                    count = n
                }
                return .action(name, count: count)
            }
            throw CommandError("unknown command '\(name)' (Tab lists commands, :help the keys)")
        }
    }

    /// `:goto` arguments: `N`, `i,j,k` (or `i j k`), `x,y,z mm` (or `x,y,zmm`), or a label name.
    static func parseGoto(_ w: [String]) throws -> GotoTarget {
        var text = w.joined(separator: " ")
        var mm = false
        let lower = text.lowercased()
        if lower.hasSuffix("mm") { mm = true; text = String(text.dropLast(2)) }
        let parts = text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        let numbers = parts.map { Double($0) }
        if numbers.allSatisfy({ $0 != nil }) && !parts.isEmpty {
            let v = numbers.map { $0! }
            if mm {
                guard v.count == 3 else { throw CommandError("goto: a world point needs x,y,z mm (three numbers)") }
                guard v.allSatisfy(\.isFinite) else { throw CommandError("goto: coordinates must be finite") }
                return .world(SIMD3(v[0], v[1], v[2]))
            }
            if v.count == 1 {
                guard let n = Int(exactly: v[0]) else { throw CommandError("goto: slice '\(parts[0])' is not a whole number") }
                return .slice(n)
            }
            guard v.count == 3 else { throw CommandError("goto: give one slice number, i,j,k, or x,y,z mm") }
            guard v.allSatisfy({ Int(exactly: $0) != nil }) else {
                throw CommandError("goto: voxel indices are whole numbers (add mm for a world point)")
            }
            return .voxel(SIMD3(Int(v[0]), Int(v[1]), Int(v[2])))
        }
        if mm { throw CommandError("goto: '\(w.joined(separator: " "))' is not x,y,z mm") }
        return .label(w.joined(separator: " "))
    }

    static func parseSetting(_ w: [String]) throws -> Setting {
        guard let key = w.first?.lowercased() else { throw CommandError("set: missing a setting (window, cmap, compare-cmap, opacity, brush, convention, fill-weight)") }
        guard w.count >= 2 else { throw CommandError("set \(key): missing a value") }
        let value = w.dropFirst().joined(separator: " ")
        switch key {
        case "window", "win", "w":
            let p = value.split(whereSeparator: { $0 == "," || $0 == " " }).map { Double($0) }
            guard p.count == 2, let lo = p[0], let hi = p[1], lo.isFinite, hi.isFinite, lo < hi else {
                throw CommandError("set window: expected LOW,HIGH with LOW < HIGH, got '\(value)'")
            }
            return .window(low: lo, high: hi)
        case "cmap", "colormap", "colourmap", "map":
            guard let m = ColorMap(rawValue: value.lowercased()) else {
                throw CommandError("set cmap: unknown '\(value)'; use \(ColorMap.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return .colorMap(m)
        case "compare-cmap", "compare-colormap", "compare-colourmap", "compare-map":
            let p = CompareOverlay.parseColorMap(value)
            guard p.ok else {
                throw CommandError("set compare-cmap: unknown '\(value)'; use \(CompareOverlay.fusionName), \(ColorMap.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return .compareColorMap(p.map)
        case "opacity", "alpha":
            guard let a = Double(value), a >= 0, a <= 1 else { throw CommandError("set opacity: '\(value)' is not in 0...1") }
            return .opacity(a)
        case "brush", "radius":
            guard let r = Int(value), r >= 0, r <= 50 else { throw CommandError("set brush: '\(value)' is not a radius 0...50 (voxels)") }
            return .brush(r)
        case "convention":
            let v = value.lowercased()
            if v.hasPrefix("neuro") { return .convention(.neurological) }
            if v.hasPrefix("radio") { return .convention(.radiological) }
            throw CommandError("set convention: use neurological or radiological")
        case "fill-weight", "registration-weight":
            if value.lowercased() == "auto" { return .fillWeight(nil) }
            guard let w = Float(value), SlicePropagator.registrationWeights.contains(w) else {
                throw CommandError("set fill-weight: '\(value)' is not in 0...1 (or auto)")
            }
            return .fillWeight(w)
        default:
            throw CommandError("set: unknown setting '\(key)'; use window, cmap, compare-cmap, opacity, brush, convention or fill-weight")
        }
    }
}
