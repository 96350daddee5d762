import Foundation
import Testing
import TestSupport
import VoxtermModel
import Workbench

/// The workbench (issue 3) in a real terminal: the built `voxterm` in a detached tmux session on
/// the bundled sample, driven with keys, mouse reports and resizes, read back with `capture-pane`.
/// Expected values come from the files (label map, label table, affine), never from a saved screen.
@Suite(.serialized, .enabled(if: TmuxSession.executable != nil, "tmux is not installed"))
struct WorkbenchTmuxTests {
    @Test func opensTheBundledSampleWithNoArgumentsAndQuitsCleanly() throws {
        // From an empty folder: the sample is found beside the executable.
        let dir = TestPaths.temporaryDirectory("tmux-noargs")
        let t = try TmuxSession(TmuxSession.quote(Workbench.binary), width: 120, height: 40,
                                environment: Workbench.utf8, directory: dir.path)
        let status = try t.waitForStatus()
        let screen = try t.screen()
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first?.contains("colin27_2mm.nii.gz") == true, "title: \(lines.first ?? "")")
        #expect(lines.first?.contains("labels colin27_2mm_aal.nii.gz") == true)
        // The image is drawn with upper half blocks, two pixels per cell.
        let halfBlocks = screen.filter { $0 == "▀" }.count
        #expect(halfBlocks > 500, "only \(halfBlocks) half-block cells:\n\(screen)")
        // The crosshair starts at the centre voxel; the status bar says where that is.
        let image = try NIfTIReader.read(Workbench.image).volume()
        let size = image.geometry.size
        #expect(status.plane == "axial")
        #expect(status.sliceCount == size.z - 1)   // the last index: slices are numbered from 0
        #expect(status.voxel == (size &- 1) / 2)
        #expect(status.slice == status.voxel.z)
        let world = image.geometry.world(ofVoxel: SIMD3<Double>(status.voxel))
        #expect(abs(status.world.x - world.x) < 0.051 && abs(status.world.y - world.y) < 0.051
                && abs(status.world.z - world.z) < 0.051, "status \(status.world), affine \(world)")
        let v = Double(image[status.voxel.x, status.voxel.y, status.voxel.z])
        #expect(abs((status.value ?? .nan) - v) <= 1e-3 * max(1, abs(v)), "status value \(String(describing: status.value)), voxel \(v)")
        // The label panel lists the atlas labels.
        #expect(screen.contains("Labels (116)"))
        #expect(screen.contains("Precentral_L"))

        try t.send("q")
        #expect(try t.exitStatus() == 0)
        #expect(try t.terminalModesProblems() == [])
        // The shell's screen is back, without the workbench's drawing.
        let after = try t.screen()
        #expect(after.contains("VOXTERM-EXIT=0"))
        #expect(!after.contains("▀"), "workbench drawing left on the normal screen:\n\(after)")
    }

    @Test func statusBarNamesTheLabelUnderTheCrosshair() throws {
        let names = try Workbench.readLabelNames(Workbench.labelNames)
        let thalamus = try #require(names.first { $0.value == "Thalamus_L" }?.key)
        let labels = try NIfTIReader.read(Workbench.labels).labelVolume()
        let image = try NIfTIReader.read(Workbench.image).volume()

        let t = try TmuxSession(Workbench.viewCommand(), width: 120, height: 40, environment: Workbench.utf8)
        let start = try t.waitForStatus()
        let atStart = labels[start.voxel.x, start.voxel.y, start.voxel.z]
        #expect(start.labelName == (atStart == 0 ? "background" : names[Int(atStart)]), "\(start)")

        // The left-thalamus voxel nearest to the crosshair, reached with slice and arrow keys.
        var target = start.voxel, best = Int.max
        let g = labels.geometry
        for i in 0..<labels.labels.count where labels.labels[i] == Int32(thalamus) {
            let v = g.voxel(ofIndex: i)
            let d = abs(v.x - start.voxel.x) + abs(v.y - start.voxel.y) + abs(v.z - start.voxel.z)
            if d < best { best = d; target = v }
        }
        try #require(best < 40, "no Thalamus_L voxel near the centre")
        let dz = target.z - start.voxel.z, dx = target.x - start.voxel.x, dy = target.y - start.voxel.y
        // Axial, neurological: screen right is the subject's right (+x), up is anterior (+y).
        var keys: [String] = []
        keys += Array(repeating: dz > 0 ? "]" : "[", count: abs(dz))
        keys += Array(repeating: dx > 0 ? "l" : "h", count: abs(dx))
        keys += Array(repeating: dy > 0 ? "k" : "j", count: abs(dy))
        for k in keys { try t.send(k) }
        let there = try t.waitForStatus { $0.voxel == target }
        #expect(there.labelName == "Thalamus_L", "\(there)")
        #expect(there.labelValue == thalamus)
        #expect(there.slice == target.z)
        let world = image.geometry.world(ofVoxel: SIMD3<Double>(target))
        #expect(abs(there.world.x - world.x) < 0.051 && abs(there.world.y - world.y) < 0.051
                && abs(there.world.z - world.z) < 0.051, "status \(there.world), affine \(world)")
        let v = Double(image[target.x, target.y, target.z])
        #expect(abs((there.value ?? .nan) - v) <= 1e-3 * max(1, abs(v)))
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }

    @Test func sliceKeysChangeTheSliceAndTheImage() throws {
        let t = try TmuxSession(Workbench.viewCommand(), width: 120, height: 40, environment: Workbench.utf8)
        let start = try t.waitForStatus()
        let before = try t.screen(escapes: true)
        try t.send("PageUp")
        try t.waitForStatus { $0.slice == start.slice + 1 && $0.voxel.z == start.voxel.z + 1 }
        #expect(try t.screen().contains("axial \(start.slice + 1)/\(start.sliceCount)"), "pane caption")
        try t.send("PageDown"); try t.send("PageDown")
        try t.waitForStatus { $0.slice == start.slice - 1 }
        try t.send("]")
        try t.waitForStatus { $0.slice == start.slice }
        #expect(try t.screen(escapes: true) == before, "back on the first slice, the screen differs")
        try t.send("}")
        try t.waitForStatus { $0.slice == start.slice + 10 }
        #expect(try t.screen(escapes: true) != before, "ten slices up, the image did not change")
        try t.send("{"); try t.send("{")
        try t.waitForStatus { $0.slice == start.slice - 10 }
        // Clamped at the last slice.
        for _ in 0..<7 { try t.send("}") }
        try t.waitForStatus { $0.slice == start.sliceCount }
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }

    @Test func planeKeysAndThreeViews() throws {
        let t = try TmuxSession(Workbench.viewCommand(), width: 150, height: 45, environment: Workbench.utf8)
        let start = try t.waitForStatus()
        let size = try NIfTIReader.readHeader(Workbench.image).shape
        try t.send("c")
        let coronal = try t.waitForStatus { $0.plane == "coronal" }
        #expect(coronal.sliceCount == size[1] - 1 && coronal.slice == start.voxel.y && coronal.voxel == start.voxel)
        try t.send("s")
        let sagittal = try t.waitForStatus { $0.plane == "sagittal" }
        #expect(sagittal.sliceCount == size[0] - 1 && sagittal.slice == start.voxel.x)
        // Sagittal: anterior/posterior and superior/inferior letters on the edges, no L/R.
        try t.send("v")
        let ortho = try t.waitForSettled { $0.contains("3 views") }
        for caption in ["axial \(start.voxel.z)/\(size[2] - 1)", "coronal \(start.voxel.y)/\(size[1] - 1)",
                        "sagittal \(start.voxel.x)/\(size[0] - 1)"] {
            #expect(ortho.contains(caption), "three views lack '\(caption)':\n\(ortho)")
        }
        // The crosshair is linked: a slice change in the active (sagittal) view moves x in the other captions.
        try t.send("]")
        try t.waitForStatus { $0.plane == "sagittal" && $0.voxel.x == start.voxel.x + 1 }
        #expect(try t.screen().contains("sagittal \(start.voxel.x + 1)/\(size[0] - 1)"))
        try t.send("a")
        try t.waitForStatus { $0.plane == "axial" }
        try t.send("v")
        let single = try t.waitForSettled { $0.contains("1 view") }
        #expect(!single.contains("coronal \(start.voxel.y + 1)/"), "one view still shows the coronal pane")
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }

    @Test func onlyChangedCellsAreSent() throws {
        let t = try TmuxSession(Workbench.viewCommand(), width: 120, height: 40, environment: Workbench.utf8,
                                recordOutput: true)
        let start = try t.waitForStatus()
        /// The recorded byte count once output has stopped growing for a moment.
        func settledCount() -> Int {
            var n = t.recordedOutput().count
            var stableSince = Date()
            while Date().timeIntervalSince(stableSince) < 0.4 {
                Thread.sleep(forTimeInterval: 0.05)
                let m = t.recordedOutput().count
                if m != n { n = m; stableSince = Date() }
            }
            return n
        }
        let firstFrame = settledCount()
        // One voxel of crosshair movement: only the crosshair lines and the status bar change.
        try t.send("l")
        try t.waitForStatus { $0.voxel.x == start.voxel.x + 1 }
        let move = settledCount() - firstFrame
        #expect(move > 0 && move < firstFrame / 5, "crosshair move sent \(move) bytes; the first screen took \(firstFrame)")
        // A slice change repaints the image but not the title, panel and unchanged background.
        try t.send("]")
        try t.waitForStatus { $0.slice == start.slice + 1 }
        let slice = settledCount() - firstFrame - move
        #expect(slice > move && slice < firstFrame, "slice change sent \(slice) bytes; the first screen took \(firstFrame)")
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }

    @Test func helpShowsEveryBindingOfTheKeyTable() throws {
        let t = try TmuxSession(Workbench.viewCommand(), width: 200, height: 60, environment: Workbench.utf8)
        try t.waitForStatus()
        try t.send("?")
        let help = try t.waitForSettled { $0.contains("voxterm keys") }
        for b in KeyTable.normal {
            #expect(help.contains(b.help), "help lacks '\(b.help)'")
        }
        #expect(StatusBar(screen: help) == nil, "the status bar shows under the help")
        try t.send("Escape")
        try t.waitForStatus()
        // An unbound key says so and points at the help.
        try t.send(";")
        try t.waitForSettled { $0.contains("key ; does nothing; ? shows the keys") }
        // q quits from the browsing mode (in help it only closes the help).
        try t.send("?")
        try t.waitForSettled { $0.contains("voxterm keys") }
        try t.send("q")
        try t.waitForStatus()
        #expect(t.isRunning)
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }

    @Test func directColourWhenCOLORTERMSaysTruecolor() throws {
        let t = try TmuxSession(Workbench.viewCommand(), width: 120, height: 40,
                                environment: ["LC_ALL": "C.UTF-8", "COLORTERM": "truecolor"])
        try t.waitForStatus()
        let specs = colourSpecs(sgrParameters(try t.screen(escapes: true)))
        let direct = specs.filter { $0.hasPrefix("38;2;") || $0.hasPrefix("48;2;") }
        #expect(direct.count > 500, "\(direct.count) direct-colour SGRs")
        #expect(!specs.contains { $0.hasPrefix("38;5;") || $0.hasPrefix("48;5;") })
        // More grey levels than the 256 palette has (about 30): the point of direct colour for MRI.
        let greys = Set(direct.compactMap { s -> Int? in
            let c = s.split(separator: ";").dropFirst(2).compactMap { Int($0) }
            return c.count == 3 && c[0] == c[1] && c[1] == c[2] ? c[0] : nil
        })
        #expect(greys.count > 40, "only \(greys.count) grey levels")
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }

    @Test func palette256WithoutCOLORTERM() throws {
        let t = try TmuxSession(Workbench.viewCommand(), width: 120, height: 40, environment: Workbench.utf8)
        try t.waitForStatus()
        let specs = colourSpecs(sgrParameters(try t.screen(escapes: true)))
        let indexed = specs.filter { $0.hasPrefix("38;5;") || $0.hasPrefix("48;5;") }
        #expect(indexed.count > 500, "\(indexed.count) 256-colour SGRs")
        #expect(!specs.contains { $0.hasPrefix("38;2;") || $0.hasPrefix("48;2;") })
        // Greys use the grey ramp (232-255) and the cube's greys, dithered: several levels.
        let ramp = Set(indexed.compactMap { Int($0.split(separator: ";").last!) }.filter { $0 >= 232 })
        #expect(ramp.count >= 10, "grey ramp entries used: \(ramp.sorted())")
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }

    /// xterm's and screen's terminfo entries have 8 colours: only ANSI colour codes may appear.
    @Test(arguments: ["xterm", "screen"])
    func sixteenColourTerminalStaysReadable(term: String) throws {
        let t = try TmuxSession(Workbench.viewCommand(), width: 120, height: 40,
                                environment: ["LC_ALL": "C.UTF-8", "COLORTERM": "", "TERM": term])
        let status = try t.waitForStatus()
        #expect(status.labelName != nil)
        let screen = try t.screen(escapes: true)
        let specs = colourSpecs(sgrParameters(screen))
        #expect(!specs.contains { $0.hasPrefix("38;") || $0.hasPrefix("48;") }, "non-ANSI colours: \(Set(specs.filter { $0.hasPrefix("38;") || $0.hasPrefix("48;") }).prefix(5))")
        // The image is still there: grey levels dithered over black, dark grey, grey and white.
        let ansi = Set(specs)
        #expect(ansi.contains("100") || ansi.contains("90"), "no dark grey in \(ansi.sorted())")
        #expect(ansi.contains("47") || ansi.contains("37") || ansi.contains("107") || ansi.contains("97"))
        #expect(try t.screen().filter { $0 == "▀" }.count > 100)
        try t.send("q")
        #expect(try t.exitStatus() == 0)
        #expect(try t.terminalModesProblems() == [])
    }

    @Test func nonUTF8LocaleFallsBackToASCII() throws {
        let t = try TmuxSession(Workbench.viewCommand(), width: 120, height: 40,
                                environment: ["LC_ALL": "C", "LANG": "C", "COLORTERM": ""])
        let status = try t.waitForStatus()
        #expect(status.labelName != nil)
        let screen = try t.screen()
        let nonASCII = Set(screen.unicodeScalars.filter { $0.value > 0x7E || ($0.value < 0x20 && $0 != "\n") })
        #expect(nonASCII.isEmpty, "non-ASCII on a C-locale terminal: \(nonASCII.map { String($0) })")
        // No '?' stand-ins for glyphs that have a readable ASCII form.
        let stray = screen.replacingOccurrences(of: "? help", with: "").filter { $0 == "?" }.count
        #expect(stray == 0, "\(stray) '?' stand-ins:\n\(screen)")
        #expect(screen.contains("91x109x91"), "title size\n\(screen)")
        // The image is drawn with background colours, one cell per two pixels.
        let specs = Set(colourSpecs(sgrParameters(try t.screen(escapes: true))))
        #expect(specs.filter { $0.hasPrefix("48;5;") }.count > 10, "too few background colours: \(specs.count)")
        try t.send("q")
        #expect(try t.exitStatus() == 0)
        #expect(try t.terminalModesProblems() == [])
    }

    @Test func resizeRedrawsAndTinyTerminalSaysSo() throws {
        let t = try TmuxSession(Workbench.viewCommand(), width: 100, height: 30, environment: Workbench.utf8)
        try t.waitForStatus()
        func statusRow(_ s: String) -> Int? {
            s.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(" slice ") && $0.contains("voxel") }
        }
        #expect(statusRow(try t.screen()) == 30 - 2)
        try t.resize(columns: 160, rows: 50)
        let big = try t.waitForSettled { statusRow($0) == 48 }
        let title = big.split(separator: "\n").first.map(String.init) ?? ""
        // capture-pane drops trailing blanks: the help hint ends one column before the edge.
        #expect(title.count == 159 && title.hasSuffix("? help  q quit"), "title not redrawn at 160 columns: '\(title)'")
        try t.resize(columns: 20, rows: 6)
        let tiny = try t.waitForSettled { $0.contains("too small") }
        #expect(tiny.contains("20x6"), "\(tiny)")
        #expect(!tiny.contains("▀"))
        try t.resize(columns: 90, rows: 28)
        let back = try t.waitForSettled { statusRow($0) == 26 }
        #expect(!back.contains("too small"))
        #expect(back.filter { $0 == "▀" }.count > 300)
        try t.send("q")
        #expect(try t.exitStatus() == 0)
        #expect(try t.terminalModesProblems() == [])
    }

    @Test func compareModesAndFlickerAnimateInTheTerminal() throws {
        let other = Workbench.sample("subject01_2mm.nii.gz")
        let t = try TmuxSession(Workbench.viewCommand(["--compare", other]), width: 160, height: 45,
                                environment: Workbench.utf8)
        let start = try t.waitForStatus()
        let caption = "axial \(start.slice)/\(start.sliceCount)"
        let side = try t.waitForSettled { $0.contains("side by side") }
        #expect(side.contains("\(caption)  colin27_2mm.nii.gz") && side.contains("\(caption)  subject01_2mm.nii.gz"),
                "side by side shows both images:\n\(side)")
        try t.send("b")
        try t.waitForSettled { $0.contains("\(caption)  checkerboard") }
        try t.send("b")
        try t.waitForSettled { $0.contains("\(caption)  difference") }
        try t.send("b")
        // Flicker alternates the two images on a timer, with no key pressed.
        try t.waitForSettled { $0.contains("\(caption)  subject01_2mm.nii.gz") }
        try t.waitForSettled { $0.contains("\(caption)  colin27_2mm.nii.gz") }
        try t.waitForSettled { $0.contains("\(caption)  subject01_2mm.nii.gz") }
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }

    @Test func exportWritesAPNGAndSaysWhere() throws {
        let dir = TestPaths.temporaryDirectory("tmux-export")
        let t = try TmuxSession(Workbench.viewCommand(["--export-dir", dir.path]), width: 120, height: 40,
                                environment: Workbench.utf8)
        let status = try t.waitForStatus()
        try t.send("e")
        let screen = try t.waitForSettled { $0.contains("exported ") }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        try #require(files.count == 1, "files: \(files)")
        let path = dir.appendingPathComponent(files[0]).path
        #expect(files[0].hasSuffix(".png") && files[0].contains("axial"))
        // The message names the file.
        let shown = screen.split(separator: "\n").first { $0.contains("exported ") }.map(String.init) ?? ""
        let named = shown[shown.range(of: "exported ")!.upperBound...].trimmingCharacters(in: .whitespaces)
        // A path too long for the line keeps its end, the file name, behind "…" (issue 18).
        let matches = named.hasPrefix("…") ? path.hasSuffix(String(named.dropFirst())) : path.hasPrefix(named)
        #expect(matches && named.count > 20 && named.hasSuffix(files[0]), "message '\(named)' vs file \(path)")
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        // IHDR: native resolution of the axial slice (x by y voxels) or larger, never the terminal's.
        let w = data[16..<20].reduce(0) { $0 << 8 | Int($1) }, h = data[20..<24].reduce(0) { $0 << 8 | Int($1) }
        let shape = try NIfTIReader.readHeader(Workbench.image).shape
        #expect(w >= shape[0] && h >= shape[1], "PNG \(w)x\(h)")
        #expect(try t.waitForStatus().voxel == status.voxel)
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }

    @Test func missingFileGivesOneLineErrorAndLeavesTheTerminalAlone() throws {
        let missing = "/nonexistent/brain.nii.gz"
        let t = try TmuxSession("\(TmuxSession.quote(Workbench.binary)) view \(missing)", width: 120, height: 30,
                                environment: Workbench.utf8)
        #expect(try t.exitStatus() != 0)
        #expect(try t.terminalModesProblems() == [])
        let screen = try t.screen()
        let output = screen.split(separator: "\n").prefix { !$0.hasPrefix("VOXTERM-EXIT=") }
        #expect(output.count == 1, "expected one line before the exit status:\n\(screen)")
        #expect(output.first?.contains(missing) == true && output.first?.hasPrefix("voxterm: error:") == true)
    }

    /// tmux-256color's terminfo makes ncurses ask for X10 mouse reports, xterm-256color's for SGR (1006).
    @Test(arguments: [("tmux-256color", "0"), ("xterm-256color", "1")])
    func mouseClickSetsTheCrosshairAndWheelScrollsSlices(term: String, sgr: String) throws {
        let t = try TmuxSession(Workbench.viewCommand(), width: 120, height: 40,
                                environment: Workbench.utf8.merging(["TERM": term]) { $1 })
        let start = try t.waitForStatus()
        #expect(try t.format("#{mouse_sgr_flag}") == sgr, "mouse encoding under TERM=\(term)")
        let size = try NIfTIReader.readHeader(Workbench.image).shape
        // The orientation letters sit just inside the image edges: a click on one moves the
        // crosshair to that edge of the slice.
        let lines = try t.screen().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func cell(of letter: Character) -> (Int, Int)? {
            // Image rows only (below the caption, above the status bar), left of the label panel.
            for (r, l) in lines.enumerated() where r > 1 && r < lines.count - 3 {
                let chars = Array(l.prefix { $0 != "│" })
                if let c = chars.firstIndex(of: letter) { return (c, r) }
            }
            return nil
        }
        let left = try #require(cell(of: "L")), right = try #require(cell(of: "R"))
        let top = try #require(cell(of: "A")), bottom = try #require(cell(of: "P"))
        try t.click(column: left.0, row: left.1)
        var s = try t.waitForStatus { $0.voxel.x != start.voxel.x }
        #expect(s.voxel.x <= 1 && s.voxel.z == start.voxel.z, "left edge: \(s)")
        try t.click(column: right.0, row: right.1)
        s = try t.waitForStatus { $0.voxel.x > size[0] / 2 }
        #expect(s.voxel.x >= size[0] - 2, "right edge: \(s)")
        try t.click(column: top.0, row: top.1)
        s = try t.waitForStatus { $0.voxel.y > start.voxel.y }
        #expect(s.voxel.y >= size[1] - 3, "top (anterior) edge: clicked \(top), \(s)")
        try t.click(column: bottom.0, row: bottom.1)
        s = try t.waitForStatus { $0.voxel.y < start.voxel.y }
        #expect(s.voxel.y <= 2, "bottom (posterior) edge: \(s)")
        #expect(s.slice == start.slice, "a click changed the slice")
        // The wheel scrolls slices of the pane under the pointer.
        try t.mouse(.wheelUp, column: top.0, row: top.1 + 5)
        try t.waitForStatus { $0.slice == start.slice + 1 }
        try t.mouse(.wheelDown, column: top.0, row: top.1 + 5)
        try t.mouse(.wheelDown, column: top.0, row: top.1 + 5)
        try t.waitForStatus { $0.slice == start.slice - 1 }
        try t.send("q")
        #expect(try t.exitStatus() == 0)
        #expect(try t.terminalModesProblems() == [])
    }
}
