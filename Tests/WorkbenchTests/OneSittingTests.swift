import Foundation
import Testing
import VoxtermModel
import TestSupport
import SliceRendering
import Terminal
@testable import Workbench

/// Issue 14, the rest of the sitting: every key has a command (layers and 4-D volumes too),
/// `:open moving`, `:open overlay`, `:open image` keeping the supports, predicting again with the
/// user's corrected slice kept, and the statistics panel following edits without a pass over the volume.
@Suite("One sitting: commands for every key, open moving/overlay/image, predict again, statistics")
struct OneSittingTests {
    let size = TerminalSize(columns: 120, rows: 40)

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sitting-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs `command` as typed at the prompt, then the file work it asks for (as the run loop does).
    @discardableResult
    static func run(_ state: inout WorkbenchState, _ command: String) -> [Effect] {
        var effects = reduce(&state, .command(.begin(":", prefill: command)))
        effects += reduce(&state, .command(.key(.enter)))
        var rest: [Effect] = []
        for e in effects {
            guard case .command(let c) = e else { rest.append(e); continue }
            for a in CommandIO.perform(c) { rest += reduce(&state, a) }
        }
        return rest
    }

    @Test func everyKeyHasACommandThatDoesWhatTheKeyDoes() throws {
        let bindings = KeyTable.table(for: .normal) + KeyTable.supportPanel
        for b in bindings where !CommandNames.hasNoCommand(b.action) {
            let name = try #require(CommandNames.name(of: b.action), "\(b.keys) (\(b.help)) has no command")
            // The name parses back to a command that performs the key's action.
            let words = name.split(separator: " ").map(String.init)
            let first = words[0].split(separator: "|").map(String.init)[0]
            let cmd = try CommandParser.parse(([first] + words.dropFirst()).joined(separator: " "),
                                              actionNames: Set(CommandNames.actions.map(\.name)))
            switch cmd {
            case .action(let n, let count):
                let a = try #require(CommandNames.actions.first { $0.name == n }?.action)
                if count == 1 { #expect(a == b.action, "\(name): \(a) vs \(b.action)") }
                else if case .changeSlice(let d) = b.action { #expect(a == .changeSlice(d > 0 ? 1 : -1) && count == abs(d)) }
                else { #expect(b.keys.contains(.shiftRight) && a == .moveCursor(.left) && count == 10, "\(name)") }
            case .help: #expect(b.action == .showHelp)
            case .quit: #expect(b.action == .quit)
            case .undo: #expect(b.action == .editing(.undo))
            case .redo: #expect(b.action == .editing(.redo))
            case .stats: #expect(b.action == .command(.toggleStatistics))
            default: Issue.record("\(name) parses to \(cmd)")
            }
        }
        // The help's commands page lists every one of them with its keys.
        let page = HelpScreen.commandLines().map { $0.0 + " " + $0.1 }
        for b in bindings where !CommandNames.hasNoCommand(b.action) {
            let name = CommandNames.name(of: b.action)!
            #expect(page.contains { $0.hasPrefix(":" + name + " ") }, "help lacks :\(name)")
        }
        for n in ["next-layer", "layer", "layer-threshold-up", "layer-threshold-down", "layer-colormap", "layer-opacity",
                  "next-volume", "previous-volume", "next-support", "go-support"] {
            #expect(page.contains { $0.hasPrefix(":" + n + " ") }, "help lacks :\(n)")
        }
    }

    /// A phantom with two image layers and four volumes.
    func layeredSeries() -> WorkbenchState {
        var doc = phantomDocument()
        let g = doc.image.geometry
        var frames: [Volume] = []
        for t in 0..<4 { var v = doc.image; for i in v.voxels.indices { v.voxels[i] += Float(t * 100) }; frames.append(v) }
        doc.series = VolumeSeries(frames: frames, step: 2, unit: "s")
        var ramp = Volume(geometry: g)
        for n in 0..<g.voxelCount { ramp.voxels[n] = Float(n % 20) }
        doc.layers = [ImageLayer(name: "a.nii.gz", values: ramp, colorMap: .hot, window: IntensityWindow(low: 0, high: 20)),
                      ImageLayer(name: "b.nii.gz", values: ramp, colorMap: .gray, window: IntensityWindow(low: 0, high: 20))]
        return WorkbenchState(document: doc, size: size)
    }

    @Test func layerAndVolumeCommandsDoWhatTheirKeysDo() {
        var byKey = layeredSeries(), byCommand = layeredSeries()
        for (key, command) in [("#", "next-layer"), ("!", "layer"), ("%", "layer-threshold-up"), ("&", "layer-colormap"),
                               ("~", "layer-opacity"), ("$", "layer-threshold-down"), ("'", "next-volume"), ("\"", "previous-volume")] {
            _ = runRecorded(&byKey, keys(key))
            Self.run(&byCommand, command)
            #expect(byKey.selectedLayer == byCommand.selectedLayer, "\(command)")
            #expect(LayerPanel.cacheKey(byKey.document.layers) == LayerPanel.cacheKey(byCommand.document.layers), "\(command)")
            #expect(byKey.document.series?.index == byCommand.document.series?.index, "\(command)")
            #expect(byKey.message == byCommand.message, "\(command): \(byKey.message ?? "") vs \(byCommand.message ?? "")")
        }
        // Counts: :layer-threshold-up 3 is three steps, :next-volume 3 three volumes (as 3' is).
        Self.run(&byCommand, "layer-threshold-up 3")
        #expect(byCommand.document.layers[1].threshold == 3)
        Self.run(&byCommand, "next-volume 3")
        #expect(byCommand.document.series?.index == 3)
        _ = runRecorded(&byKey, keys("3'"))
        #expect(byKey.document.series?.index == 3)
    }

    @Test func openOverlayAddsALayerOnTheImageGrid() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var state = WorkbenchState(document: phantomDocument(), size: size)
        // A layer on another grid (2 mm, shifted): resampled in world space onto the image.
        let g = VolumeGeometry(size: [10, 15, 5], spacing: [2, 2, 4], origin: [-10, -15, -10])
        var stat = Volume(geometry: g)
        for n in 0..<g.voxelCount { stat.voxels[n] = 7 }
        let path = dir.appendingPathComponent("stat.nii.gz").path
        try NIfTIWriter.write(stat, to: path)
        Self.run(&state, "open overlay \(path):viridis:0,10")
        try #require(state.document.layers.count == 1, "\(state.message ?? "")")
        let layer = state.document.layers[0]
        #expect(layer.name == "stat.nii.gz" && layer.colorMap == .viridis && layer.window == IntensityWindow(low: 0, high: 10)!)
        #expect(layer.values.geometry == state.document.image.geometry)
        #expect(layer.values[5, 5, 4] == 7)
        #expect(state.message?.hasPrefix("layer 1/1 stat.nii.gz viridis") == true, "\(state.message ?? "")")
        // Default colour map hot; a second layer is selected.
        Self.run(&state, "open overlay \(path)")
        #expect(state.document.layers.count == 2 && state.selectedLayer == 1 && state.document.layers[1].colorMap == .hot)
        // Refusals, one line each.
        Self.run(&state, "open overlay \(path):nosuchmap")
        #expect(state.commandLine.error?.hasPrefix("open overlay: expected PATH[:COLORMAP[:LOW,HIGH]]") == true)
        Self.run(&state, "open overlay \(dir.path)/missing.nii.gz")
        #expect(state.commandLine.error == "open: \(dir.path)/missing.nii.gz: no such file")
    }

    @Test func openMovingMidSessionThenGStartsARegistration() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var state = WorkbenchState(document: phantomDocument(), size: size)
        #expect(state.registration == nil)
        _ = reduce(&state, .startRegistration)
        #expect(state.message?.contains(":open moving PATH") == true)
        // A moving image on another grid, with its labels.
        var moving = state.document.image
        moving.geometry.affine.translation += SIMD3(3, 0, 0)
        var movingLabels = state.document.labels!
        movingLabels.geometry = moving.geometry
        let m = dir.appendingPathComponent("m.nii.gz").path, ml = dir.appendingPathComponent("m_labels.nii.gz").path
        try NIfTIWriter.write(moving, to: m)
        try NIfTIWriter.write(movingLabels, to: ml)
        Self.run(&state, "open moving \(m) \(ml)")
        #expect(state.document.movingPath == m && state.document.movingLabelsPath == ml, "\(state.message ?? "")")
        #expect(state.document.moving != nil && state.document.compare != nil && state.registration?.phase == .ready)
        #expect(state.compareMode == .checkerboard)
        #expect(state.message?.contains("G registers it") == true, "\(state.message ?? "")")
        // G starts the registration job on it.
        let effects = reduce(&state, .startRegistration)
        guard case .startJob(_, let request)? = effects.first, request.kind == .registration else { Issue.record("G did not start: \(effects)"); return }
        #expect(state.registration?.phase == .running)
        // Not while it runs.
        Self.run(&state, "open moving \(m)")
        #expect(state.commandLine.error == "open moving: a registration is running; Esc cancels it first")
        // Labels on another grid than the moving image are refused.
        var s2 = WorkbenchState(document: phantomDocument(), size: size)
        let other = dir.appendingPathComponent("other_labels.nii.gz").path
        try NIfTIWriter.write(LabelVolume(geometry: VolumeGeometry(size: [4, 4, 4], spacing: [1, 1, 1], origin: [0, 0, 0])), to: other)
        Self.run(&s2, "open moving \(m) \(other)")
        #expect(s2.message?.hasPrefix("error: open moving: \(other): labels are on grid 4x4x4") == true, "\(s2.message ?? "")")
        #expect(s2.registration == nil)
    }

    @Test func openImageKeepsTheSupportsAsOtherImagesAndAsksBeforeDroppingEdits() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let doc = phantomDocument()
        let imagePath = dir.appendingPathComponent("a.nii.gz").path
        try NIfTIWriter.write(doc.image, to: imagePath)
        var state = WorkbenchState(document: WorkbenchDocument(imagePath: imagePath, image: doc.image, labels: doc.labels,
                                                               labelsPath: "/data/a_labels.nii.gz", labelTable: doc.labelTable,
                                                               labelTablePath: doc.labelTablePath), size: size)
        state.cursor = [5, 5, 4]
        _ = reduce(&state, .curation(.addSlice))
        #expect(state.curation.entries.count == 1 && state.curation.entries[0].isOpenImage)
        // A running prediction of the image left behind is cancelled, and ids go on.
        state.curation.entries.append(SupportEntry(example: SupportExample(image: "/data/other.nii.gz", labels: "/data/o.nii.gz"),
                                                   image: doc.image, labels: doc.labels!, isOpenImage: false))
        let started = reduce(&state, .curation(.predict(.volume)))
        guard case .startJob(let old, _)? = started.first else { Issue.record("no job: \(started)"); return }
        // Unsaved edits: the first :open asks, the second opens.
        _ = reduce(&state, .editing(.stampAtCursor))
        let second = dir.appendingPathComponent("b.nii.gz").path
        try NIfTIWriter.write(doc.image, to: second)
        Self.run(&state, "open image \(second)")
        #expect(state.document.imagePath == imagePath)
        #expect(state.commandLine.error == "open image: unsaved label edits; :save labels PATH keeps them, :open image again discards them")
        let effects = Self.run(&state, "open image \(second)")
        #expect(state.document.imagePath == second)
        #expect(effects.contains(.cancelJob(old)))
        #expect(state.curation.entries.count == 2 && state.curation.entries.allSatisfy { !$0.isOpenImage })
        #expect(state.message == "opened \(second) · 2 supports kept: :predict")
        // The label names the supports brought stay for the new image's predictions.
        #expect(state.document.labelTable.name(of: 1) == "Left half" && state.document.labelTablePath == "/data/phantom.txt")
        // The next prediction registers both to the new image, with a new job id.
        let next = reduce(&state, .curation(.predict(.volume)))
        guard case .startJob(let id, let job)? = next.first, let request = job.as(PredictionJob.self)?.request else { Issue.record("no job: \(next)"); return }
        #expect(id.raw > old.raw)
        guard case .volumes(let supports, _) = request.value.method else { Issue.record("\(request.value.method)"); return }
        #expect(supports.count == 2 && supports[0].slices?.indices == [4] && request.value.userLabels.isEmpty)
    }

    @Test func predictingAgainKeepsTheCorrectedSliceAndStillUsesTheOtherImages() throws {
        let (query, truth) = twoBlobScene(shift: 0), (other, otherLabels) = twoBlobScene(shift: 3)
        var state = WorkbenchState(document: WorkbenchDocument(imagePath: "/data/q.nii.gz", image: query, truth: truth), size: size)
        state.curation.entries = [SupportEntry(example: SupportExample(image: "/data/o.nii.gz", labels: "/data/o_l.nii.gz"),
                                               image: other, labels: otherLabels, isOpenImage: false)]
        func predict() throws -> PredictionOutcome {
            let effects = reduce(&state, .curation(.predict(.volume)))
            guard case .startJob(let id, let job)? = effects.first, let request = job.as(PredictionJob.self)?.request else { throw CommandError("no job: \(effects)") }
            let o = try request.value.run(id: id.raw)
            _ = reduce(&state, .jobFinished(id, .prediction(Shared(o))))
            return o
        }
        let first = try predict()
        // Over an unlabelled image the prediction is what :goto, z and the statistics panel look in.
        _ = reduce(&state, .command(.run(.goto(.label("2")))))
        #expect(state.cursor == referenceNearestToCentroid(2, first.prediction.labels), "\(state.message ?? "")")
        let predicted2 = first.prediction.labels.labels.filter { $0 == 2 }.count
        #expect(StatisticsPanel.statistics(state, cache: SliceCache(), label: 2).volume?.voxelCount == predicted2)
        // Correct axial slice 10: a label 3 square the supports never had, then add the slice back.
        state.cursor = [14, 14, 10]
        _ = reduce(&state, .command(.run(.set(.brush(2)))))
        _ = reduce(&state, .command(.run(.selectLabel("3"))))
        _ = reduce(&state, .editing(.stampAtCursor))
        state.document.labelsPath = "/data/q_labels.nii.gz"   // as :save labels sets it
        _ = reduce(&state, .command(.run(.supportAddCurrent(volume: false))))
        #expect(state.curation.entries.count == 2 && state.curation.entries[1].what == "axial 10", "\(state.message ?? "")")
        let corrected = state.document.labels!
        let second = try predict()
        #expect(second.method.hasPrefix("registration (fast) and weighted fusion of 1 image, your labels kept on axial 10"), "\(second.method)")
        let g = query.geometry
        var sameOff = 0, off = 0
        for n in 0..<g.voxelCount {
            let k = g.voxel(ofIndex: n).z
            if k == 10 {
                #expect(second.prediction.labels.labels[n] == corrected.labels[n])
                #expect(second.prediction.confidence.voxels[n] == 1)
            } else {
                off += 1
                if second.prediction.labels.labels[n] == first.prediction.labels.labels[n] { sameOff += 1 }
            }
        }
        #expect(second.prediction.labels[14, 14, 10] == 3)
        // Elsewhere the other image still predicts (the same registration): nearly the first prediction.
        #expect(Double(sameOff) / Double(off) > 0.98, "\(sameOff) of \(off)")
        // The kept slice is a support: left out of the Dice and of the disagreement ranking.
        #expect(!(second.disagreement[2] ?? []).contains { $0.index == 10 })
        #expect((second.meanDiceScore ?? 0) > 0.8, "\(second.meanDiceScore ?? 0)")
    }

    @Test func statisticsPanelFollowsEditsWithoutPassingOverTheVolume() {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        let cache = SliceCache()
        state.cursor = [3, 8, 4]
        _ = reduce(&state, .command(.run(.selectLabel("1"))))
        _ = reduce(&state, .command(.toggleStatistics))
        func check(_ what: String) {
            _ = WorkbenchView.render(state, cache: cache)
            let (s, v) = StatisticsPanel.statistics(state, cache: cache, label: 1)
            let axis = state.mapping(state.plane).sliceAxis
            let fullV = labelStatistics(labels: state.document.labels!, image: state.document.image).first { $0.label == 1 }
            let fullS = labelStatistics(labels: state.document.labels!, image: state.document.image,
                                        region: .slice(axis: axis, index: state.cursor[axis])).first { $0.label == 1 }
            #expect(s?.voxelCount == fullS?.voxelCount && v?.voxelCount == fullV?.voxelCount, "\(what)")
            if let v, let fullV {
                #expect(abs(v.meanIntensity - fullV.meanIntensity) <= 1e-9 * max(1, abs(fullV.meanIntensity)), "\(what)")
                #expect(abs(v.sdIntensity - fullV.sdIntensity) <= 1e-6, "\(what): \(v.sdIntensity) vs \(fullV.sdIntensity)")
                #expect(((v.centroidMM - fullV.centroidMM) * (v.centroidMM - fullV.centroidMM)).sum() < 1e-18, "\(what)")
            }
        }
        check("start")
        let start = (builds: cache.statistics.builds, updates: cache.statistics.updates)
        // Paint (keys), a mouse stroke, fill, undo and redo: each followed from the journal.
        _ = reduce(&state, .command(.run(.set(.brush(1)))))
        _ = reduce(&state, .editing(.togglePaint)); check("paint")
        for _ in 0..<6 { _ = reduce(&state, .moveCursor(.right)); check("paint step") }
        _ = reduce(&state, .editing(.togglePaint))
        _ = reduce(&state, .command(.run(.selectLabel("2"))))
        _ = reduce(&state, .editing(.toggleErase))
        for _ in 0..<3 { _ = reduce(&state, .moveCursor(.down)) }
        _ = reduce(&state, .editing(.toggleErase))
        _ = reduce(&state, .command(.run(.selectLabel("1"))))
        check("erase")
        state.cursor = [15, 10, 4]
        _ = reduce(&state, .editing(.fill)); check("fill")
        _ = reduce(&state, .editing(.undo)); check("undo")
        _ = reduce(&state, .editing(.redo)); check("redo")
        let counts = (builds: cache.statistics.builds, updates: cache.statistics.updates)
        #expect(counts.builds == start.builds, "a volume pass after an edit")
        #expect(counts.updates > start.updates)
        // Turned off, edits are not journaled; on again, one pass over the volume catches up.
        _ = reduce(&state, .command(.toggleStatistics))
        _ = reduce(&state, .command(.run(.replace(old: "1", new: "2", volume: true))))
        _ = reduce(&state, .command(.toggleStatistics))
        #expect(state.editing.journal.entries.isEmpty)
        _ = reduce(&state, .command(.run(.selectLabel("2"))))
        check("after replace with the panel off")
        #expect(cache.statistics.builds == counts.builds + 1)
    }

    @Test func labelMomentsFollowRandomEditsAsAFreshPassWould() {
        let doc = phantomDocument()
        var labels = doc.labels!
        var m = LabelMoments(labels: labels, image: doc.image)
        var rng = SplitMix64(seed: 20261207)   // reproducible: a failure can be replayed
        for _ in 0..<5000 {
            let n = Int.random(in: 0..<labels.labels.count, using: &rng)
            let new = Int32.random(in: 0...4, using: &rng)
            m.change(n, from: labels.labels[n], to: new)
            labels.labels[n] = new
        }
        let fresh = labelStatistics(labels: labels, image: doc.image)
        #expect(Set(m.sums.keys) == Set(fresh.map(\.label)))
        for f in fresh {
            let s = m.statistics(of: f.label)!
            #expect(s.voxelCount == f.voxelCount && s.intensityCount == f.intensityCount)
            #expect(abs(s.meanIntensity - f.meanIntensity) <= 1e-9 * abs(f.meanIntensity))
            #expect(abs(s.sdIntensity - f.sdIntensity) <= 1e-6 * max(1, f.sdIntensity))
            #expect(abs(s.volumeMM3 - f.volumeMM3) < 1e-9 && s.centroidVoxel == f.centroidVoxel)
        }
    }
}
