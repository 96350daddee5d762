import Foundation
import Terminal

/// What Tab completes from: commands, label names and the file system.
public struct CompletionSource: Sendable {
    /// Label names of the open label table / supports.
    public var labelNames: [String]
    /// Key-table command names (`zoom-in`, …).
    public var actionNames: [String]
    /// Lists a folder: entry names and whether each is a folder. Defaults to the real file system.
    public var listDirectory: @Sendable (String) -> [(name: String, isDirectory: Bool)]
    /// The home folder for `~`.
    public var home: String?

    public init(labelNames: [String] = [], actionNames: [String] = [], home: String? = ProcessInfo.processInfo.environment["HOME"],
                listDirectory: @escaping @Sendable (String) -> [(name: String, isDirectory: Bool)] = CompletionSource.fileSystem) {
        self.labelNames = labelNames; self.actionNames = actionNames; self.home = home; self.listDirectory = listDirectory
    }

    /// The entries of a folder on disk (hidden ones included; sorted by name).
    public static let fileSystem: @Sendable (String) -> [(name: String, isDirectory: Bool)] = { dir in
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir) else { return [] }
        return names.sorted().map { n in
            var isDir: ObjCBool = false
            let p = (dir.isEmpty ? "." : dir) + "/" + n
            _ = FileManager.default.fileExists(atPath: p, isDirectory: &isDir)
            return (n, isDir.boolValue)
        }
    }
}

/// What a completion offers for the word being typed.
public struct Completion: Equatable, Sendable {
    /// The text that replaces the word (the longest common prefix of the candidates, plus a space
    /// or `/` when there is exactly one).
    public var replacement: String
    /// All candidates (shown when there are several).
    public var candidates: [String]
}

/// Tab completion for the command line.
public enum CommandCompletion {
    /// Kinds of argument at a word position.
    enum Kind { case command, keyword([String]), path, label, none }

    /// What the word at position `index` (0 = the command) of `words` is.
    static func kind(of words: [String], index: Int, source: CompletionSource) -> Kind {
        if index == 0 { return .command }
        let cmd = words[0].lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "!"))
        let first = words.count > 1 ? words[1].lowercased() : ""
        switch cmd {
        case "open", "o", "e", "edit":
            return index == 1 ? .keyword(OpenTarget.allCases.map(\.rawValue)) : .path
        case "save", "w", "write":
            return index == 1 ? .keyword(SaveTarget.allCases.map(\.rawValue)) : .path
        case "support", "sup":
            if index == 1 { return .keyword(["add", "remove", "save", "load"]) }
            if first == "add" && index == 2 { return .path }  // slice|volume also accepted
            return first == "add" || first == "save" || first == "load" ? .path : .none
        case "predict", "pred": return index == 1 ? .keyword(["slice", "volume"]) : .none
        case "goto", "g", "go", "label", "l", "search", "find": return .label
        case "replace": return index <= 2 ? .label : .keyword(["slice", "volume"])
        case "set":
            if index == 1 { return .keyword(["window", "cmap", "opacity", "brush", "convention"]) }
            if first == "cmap" { return .keyword(["gray", "hot", "viridis", "jet", "bwr", "inverted"]) }
            if first == "convention" { return .keyword(["neurological", "radiological"]) }
            return .none
        default: return .none
        }
    }

    /// Completes the last word of `line` (the text before the cursor). Returns nil when there is
    /// nothing to offer.
    public static func complete(_ line: String, source: CompletionSource) -> Completion? {
        // Split keeping the last (possibly empty) word; quotes are not completed inside.
        var words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if line.isEmpty || line.hasSuffix(" ") { words.append("") }
        let index = words.count - 1
        let word = words[index]
        let candidates: [String]
        var pathMode = false
        switch kind(of: words, index: index, source: source) {
        case .command:
            let names = CommandParser.commands.map(\.name) + source.actionNames
            candidates = names.filter { $0.hasPrefix(word.lowercased()) }
        case .keyword(let options):
            candidates = options.filter { $0.hasPrefix(word.lowercased()) }
        case .label:
            // Label names contain no blanks in the tables we read; prefix first, then substring.
            let lw = word.lowercased()
            let prefix = source.labelNames.filter { $0.lowercased().hasPrefix(lw) }
            candidates = prefix.isEmpty ? source.labelNames.filter { $0.lowercased().contains(lw) } : prefix
        case .path:
            pathMode = true
            var expanded = word
            if let home = source.home, word == "~" || word.hasPrefix("~/") { expanded = home + word.dropFirst(1) }
            let slash = expanded.lastIndex(of: "/")
            let dir = slash.map { String(expanded[...$0]) } ?? ""
            let stem = slash.map { String(expanded[expanded.index(after: $0)...]) } ?? expanded
            let entries = source.listDirectory(dir.isEmpty ? "" : String(dir.dropLast(dir == "/" ? 0 : 1)))
            let shown = entries.filter { $0.name.hasPrefix(stem) && (stem.hasPrefix(".") || !$0.name.hasPrefix(".")) }
            candidates = shown.map { dir + $0.name + ($0.isDirectory ? "/" : "") }
        case .none:
            return nil
        }
        guard !candidates.isEmpty else { return nil }
        var common = candidates[0]
        for c in candidates.dropFirst() {
            common = String(zip(common, c).prefix { $0 == $1 }.map(\.0))
        }
        // Case-insensitive label matches: keep what was typed when the common part is shorter.
        if common.count < word.count && !pathMode { common = word }
        var replacement = common
        if candidates.count == 1 && !(pathMode && replacement.hasSuffix("/")) { replacement += " " }
        let shown = pathMode ? candidates.map { c -> String in
            let trimmed = c.hasSuffix("/") ? String(c.dropLast()) : c
            let name = trimmed.split(separator: "/").last.map(String.init) ?? trimmed
            return name + (c.hasSuffix("/") ? "/" : "")
        } : candidates
        return Completion(replacement: replacement, candidates: shown)
    }
}

/// What a key did at the command line.
public enum CommandLineOutcome: Equatable, Sendable {
    /// Keep editing (redraw).
    case editing
    /// The line was entered: parse and run it (the text, without `:`).
    case submit(String)
    /// Esc, or Backspace on an empty line: leave the command line.
    case cancel
}

/// The `:` command line (and the `/` label search line): text, cursor, history, completion.
public struct CommandLineState: Equatable, Sendable {
    /// The prompt character: `:` for commands, `/` for label search.
    public var prompt: Character
    /// The text typed (without the prompt).
    public var text = ""
    /// Cursor position in `text`, in characters (0...text.count).
    public var cursor = 0
    /// Candidates shown after an ambiguous Tab.
    public var candidates: [String] = []
    /// Position while browsing history with Up/Down (nil = the line being typed).
    var historyIndex: Int?
    /// The line being typed before browsing history.
    var draft = ""

    public init(prompt: Character = ":") { self.prompt = prompt }

    /// Handles one key. `history` is the list of earlier entries (oldest first).
    public mutating func handle(_ key: Key, history: [String], completion: CompletionSource) -> CommandLineOutcome {
        var chars = Array(text)
        func set(_ c: [Character], _ pos: Int) { text = String(c); cursor = max(0, min(pos, c.count)) }
        if key != .tab { candidates = [] }
        switch key {
        case .escape, .control("c"), .control("g"):
            return .cancel
        case .enter:
            return .submit(text)
        case .backspace, .control("h"):
            if chars.isEmpty { return .cancel }
            if cursor > 0 { chars.remove(at: cursor - 1); set(chars, cursor - 1) }
        case .delete, .control("d"):
            if cursor < chars.count { chars.remove(at: cursor); set(chars, cursor) }
        case .left, .control("b"): cursor = max(0, cursor - 1)
        case .right, .control("f"): cursor = min(chars.count, cursor + 1)
        case .home, .control("a"): cursor = 0
        case .end, .control("e"): cursor = chars.count
        case .control("u"): set(Array(chars[cursor...]), 0)
        case .control("k"): set(Array(chars[..<cursor]), cursor)
        case .control("w"):
            var p = cursor
            while p > 0 && chars[p - 1] == " " { p -= 1 }
            while p > 0 && chars[p - 1] != " " { p -= 1 }
            chars.removeSubrange(p..<cursor); set(chars, p)
        case .up:
            guard !history.isEmpty else { break }
            if historyIndex == nil { draft = text; historyIndex = history.count }
            historyIndex = max(0, historyIndex! - 1)
            text = history[historyIndex!]; cursor = text.count
        case .down:
            guard let h = historyIndex else { break }
            if h + 1 >= history.count { historyIndex = nil; text = draft } else { historyIndex = h + 1; text = history[h + 1] }
            cursor = text.count
        case .tab:
            guard prompt == ":" else { break }
            let before = String(chars[..<cursor])
            guard let c = CommandCompletion.complete(before, source: completion) else { candidates = []; break }
            // Replace the last word before the cursor.
            let wordStart = before.lastIndex(of: " ").map { before.distance(from: before.startIndex, to: $0) + 1 } ?? 0
            let newBefore = Array(before.prefix(wordStart)) + Array(c.replacement)
            set(newBefore + Array(chars[cursor...]), newBefore.count)
            candidates = c.candidates.count > 1 ? c.candidates : []
        case .character(let ch):
            chars.insert(ch, at: cursor); set(chars, cursor + 1)
        default:
            break
        }
        return .editing
    }
}

/// Entered command lines, oldest first, without repeats of the previous entry (as shells keep them).
public struct CommandHistory: Equatable, Sendable {
    public private(set) var entries: [String] = []
    /// At most this many entries are kept.
    public var limit = 200
    public init() {}

    public mutating func add(_ line: String) {
        let t = line.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty, entries.last != t else { return }
        entries.append(t)
        if entries.count > limit { entries.removeFirst(entries.count - limit) }
    }
}
