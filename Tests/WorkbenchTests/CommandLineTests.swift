import Terminal
import Testing
@testable import Workbench

/// The `:` command line: parsing, completion, history and line editing.
@Suite("Command line")
struct CommandLineTests {
    @Test("commands parse into values; errors are one line naming the problem")
    func parse() throws {
        #expect(try CommandParser.parse("goto 30") == .goto(.slice(30)))
        #expect(try CommandParser.parse("30") == .goto(.slice(30)))
        #expect(try CommandParser.parse("goto 10,20,30") == .goto(.voxel(SIMD3(10, 20, 30))))
        #expect(try CommandParser.parse("goto 10 20 30") == .goto(.voxel(SIMD3(10, 20, 30))))
        #expect(try CommandParser.parse("goto -10.5,20,30 mm") == .goto(.world(SIMD3(-10.5, 20, 30))))
        #expect(try CommandParser.parse("goto -10,20,30mm") == .goto(.world(SIMD3(-10, 20, 30))))
        #expect(try CommandParser.parse("goto Hippocampus_L") == .goto(.label("Hippocampus_L")))
        #expect(try CommandParser.parse("open image 'my scans/a b.nii.gz'") == .open(.image, "my scans/a b.nii.gz"))
        #expect(try CommandParser.parse("open x.nii") == .open(.image, "x.nii"))
        #expect(try CommandParser.parse("open labels ~/l.nii", home: "/home/u") == .open(.labels, "/home/u/l.nii"))
        #expect(try CommandParser.parse("save labels out/edited.nii.gz") == .save(.labels, "out/edited.nii.gz", force: false))
        #expect(try CommandParser.parse("save! labels a.nii") == .save(.labels, "a.nii", force: true))
        #expect(try CommandParser.parse("w a.nii") == .save(.labels, "a.nii", force: false))
        #expect(try CommandParser.parse("save support") == .save(.support, nil, force: false))
        #expect(try CommandParser.parse("support add a.nii.gz a_aal.nii.gz") == .supportAdd(image: "a.nii.gz", labels: "a_aal.nii.gz"))
        #expect(try CommandParser.parse("support add slice") == .supportAddCurrent(volume: false))
        #expect(try CommandParser.parse("support remove 2") == .supportRemove(2))
        #expect(try CommandParser.parse("predict") == .predict(volume: true))
        #expect(try CommandParser.parse("predict slice") == .predict(volume: false))
        #expect(try CommandParser.parse("set window 0,100") == .set(.window(low: 0, high: 100)))
        #expect(try CommandParser.parse("set cmap hot") == .set(.colorMap(.hot)))
        #expect(try CommandParser.parse("set brush 4") == .set(.brush(4)))
        #expect(try CommandParser.parse("replace 3 0 volume") == .replace(old: "3", new: "0", volume: true))
        #expect(try CommandParser.parse("q!") == .quit(force: true))
        #expect(try CommandParser.parse("zoom-in 3", actionNames: ["zoom-in"]) == .action("zoom-in", count: 3))
        for (bad, message) in [("goto 1,2", "goto: give one slice number"), ("set window 5,1", "LOW < HIGH"),
                               ("frobnicate", "unknown command 'frobnicate'"), ("open image 'x", "unclosed quote"),
                               ("support add a.nii", "missing LABELS"), ("goto 1.5,2,3", "whole numbers"),
                               ("set opacity 2", "not in 0...1"), ("predict everything", "use slice or volume")] {
            #expect(throws: CommandError.self) { try CommandParser.parse(bad) }
            do { _ = try CommandParser.parse(bad) } catch let e as CommandError {
                #expect(e.message.contains(message), "\(bad): \(e.message)")
                #expect(!e.message.contains("\n"))
            }
        }
    }

    let source = CompletionSource(labelNames: ["Hippocampus_L", "Hippocampus_R", "Precentral_L", "Amygdala_L"],
                                  actionNames: ["zoom-in", "zoom-out"], home: "/home/u",
                                  listDirectory: { dir in
        switch dir {
        case "", ".": [("Samples", true), ("README.md", false), (".git", true)]
        case "Samples": [("colin27_1mm.nii.gz", false), ("colin27_2mm.nii.gz", false), ("colin27_2mm_aal.nii.gz", false), ("aal.txt", false)]
        case "/home/u": [("scans", true)]
        default: []
        }
    })

    @Test("Tab completes commands, keywords, label names and paths to the longest common prefix")
    func completion() {
        #expect(CommandCompletion.complete("go", source: source)?.replacement == "goto ")
        #expect(CommandCompletion.complete("zoom", source: source)?.candidates == ["zoom-in", "zoom-out"])
        #expect(CommandCompletion.complete("zoom", source: source)?.replacement == "zoom-")
        #expect(CommandCompletion.complete("save la", source: source)?.replacement == "labels ")
        #expect(CommandCompletion.complete("goto hipp", source: source)?.replacement == "Hippocampus_")
        #expect(CommandCompletion.complete("goto hipp", source: source)?.candidates == ["Hippocampus_L", "Hippocampus_R"])
        #expect(CommandCompletion.complete("goto amy", source: source)?.replacement == "Amygdala_L ")
        #expect(CommandCompletion.complete("open image Sam", source: source)?.replacement == "Samples/")
        #expect(CommandCompletion.complete("open image Samples/col", source: source)?.replacement == "Samples/colin27_")
        #expect(CommandCompletion.complete("open image Samples/colin27_1", source: source)?.replacement == "Samples/colin27_1mm.nii.gz ")
        #expect(CommandCompletion.complete("support add Samples/colin27_2mm.nii.gz Samples/colin27_2mm_", source: source)?.replacement
                == "Samples/colin27_2mm_aal.nii.gz ")
        #expect(CommandCompletion.complete("open image ~/s", source: source)?.replacement == "/home/u/scans/")
        // Hidden entries only when asked for.
        #expect(CommandCompletion.complete("open image ", source: source)?.candidates == ["Samples/", "README.md"])
        #expect(CommandCompletion.complete("frob ", source: source) == nil)
    }

    @Test("line editing, Tab, history with Up/Down, Esc and Backspace on an empty line cancel")
    func lineEditing() {
        var line = CommandLineState()
        var history = CommandHistory()
        func type(_ s: String) { for c in s { _ = line.handle(.character(c), history: history.entries, completion: source) } }
        type("go")
        #expect(line.handle(.tab, history: history.entries, completion: source) == .editing)
        #expect(line.text == "goto ")
        type("hipp")
        _ = line.handle(.tab, history: history.entries, completion: source)
        #expect(line.text == "goto Hippocampus_" && line.candidates == ["Hippocampus_L", "Hippocampus_R"])
        type("R")
        #expect(line.handle(.enter, history: history.entries, completion: source) == .submit("goto Hippocampus_R"))
        history.add(line.text)
        history.add("goto Hippocampus_R")  // no repeat
        history.add("set cmap hot")
        #expect(history.entries == ["goto Hippocampus_R", "set cmap hot"])
        line = CommandLineState()
        type("draft")
        _ = line.handle(.up, history: history.entries, completion: source)
        #expect(line.text == "set cmap hot")
        _ = line.handle(.up, history: history.entries, completion: source)
        #expect(line.text == "goto Hippocampus_R")
        _ = line.handle(.up, history: history.entries, completion: source)
        #expect(line.text == "goto Hippocampus_R")
        _ = line.handle(.down, history: history.entries, completion: source)
        _ = line.handle(.down, history: history.entries, completion: source)
        #expect(line.text == "draft")
        _ = line.handle(.left, history: history.entries, completion: source)
        _ = line.handle(.backspace, history: history.entries, completion: source)
        #expect(line.text == "drat" && line.cursor == 3)
        _ = line.handle(.control("w"), history: history.entries, completion: source)
        #expect(line.text == "t" && line.cursor == 0)
        _ = line.handle(.delete, history: history.entries, completion: source)
        #expect(line.handle(.backspace, history: history.entries, completion: source) == .cancel)
        #expect(line.handle(.escape, history: history.entries, completion: source) == .cancel)
    }
}
