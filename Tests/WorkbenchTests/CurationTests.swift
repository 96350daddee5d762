import Testing
import Foundation
import VoxtermModel
import SliceRendering
import Terminal
import TestSupport
@testable import Workbench

/// Cells of `rect` whose half-block colours satisfy `predicate`.
private func countCells(_ g: CellGrid, _ rect: CellRect, _ predicate: (RGB) -> Bool) -> Int {
    var n = 0
    for y in rect.y..<(rect.y + rect.height) { for x in rect.x..<(rect.x + rect.width) {
        for c in [g[x, y].foreground, g[x, y].background] { if case .rgb(let rgb) = c, predicate(rgb) { n += 1 } }
    } }
    return n
}

private func reddish(_ c: RGB) -> Bool { Int(c.r) > Int(c.g) + 60 && Int(c.r) > Int(c.b) + 60 }
private func bluish(_ c: RGB) -> Bool { Int(c.b) > Int(c.r) + 60 && Int(c.b) > Int(c.g) + 60 }

/// The rendered (cached) raster colour of voxel `v` on its axial slice, crosshair-free.
private func rasterColor(_ state: WorkbenchState, _ cache: SliceCache, _ v: SIMD3<Int>) -> RGBA8 {
    let m = state.mapping(.axial)
    let r = cache.raster(state, plane: .axial, slice: v.z, variant: .main)
    let d = m.display(ofVoxel: SIMD3<Double>(v))
    return r.image[Int((d.column + 0.5) * r.scale.x), Int((d.row + 0.5) * r.scale.y)]
}
private func isRed(_ c: RGBA8) -> Bool { Int(c.r) > Int(c.g) + 60 && Int(c.r) > Int(c.b) + 60 }
private func isBlue(_ c: RGBA8) -> Bool { Int(c.b) > Int(c.r) + 60 && Int(c.b) > Int(c.g) + 60 }
private func isGreen(_ c: RGBA8) -> Bool { Int(c.g) > Int(c.r) + 60 && Int(c.g) > Int(c.b) + 60 }

/// The phantom's image and labels written to `dir`, loaded back as a document.
private func phantomOnDisk(_ dir: URL) throws -> WorkbenchDocument {
    let doc = phantomDocument()
    let image = dir.appendingPathComponent("phantom.nii.gz").path, labels = dir.appendingPathComponent("phantom_labels.nii.gz").path
    try NIfTIWriter.write(doc.image, to: image)
    try NIfTIWriter.write(doc.labels!, to: labels)
    return try WorkbenchDocument.load(image: image, labels: labels)
}

@Suite("Support-set curation and prediction")
struct CurationTests {
    let size = TerminalSize(columns: 120, rows: 40)

    @Test func addSlicesAndTheVolumeRefuseRepeatsRemoveAndJump() throws {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        #expect(state.cursor.z == 4)
        var t = runRecorded(&state, keys("A") + [.key(.pageUp), .key(.pageUp)] + keys("A"))
        #expect(state.curation.entries.map(\.example.slices) == [SliceSelection(plane: .axial, indices: [4]),
                                                                 SliceSelection(plane: .axial, indices: [6])])
        #expect(state.curation.entries.allSatisfy { $0.isOpenImage && $0.example.labels == "/data/phantom_labels.nii.gz" })
        var screen = try #require(t.screen)
        #expect(!screen.rows(containing: "Support set (2)").isEmpty)
        #expect(!screen.rows(containing: "1 axial 4").isEmpty && !screen.rows(containing: "2 axial 6").isEmpty)
        #expect(!screen.rows(containing: "k=6").isEmpty)
        #expect(screen.text(row: 39).contains("support 2: axial slice 6 with 2 labels"))
        // The thumbnail is the slice with its labels: red (label 1) and blue (label 2) half blocks.
        let panel = try #require(ScreenLayout(state).supportPanel)
        let thumb = CellRect(x: panel.x + 1, y: panel.y + 1, width: SupportPanel.thumbnailSize.width, height: SupportPanel.thumbnailSize.height)
        #expect(countCells(screen, thumb, reddish) > 0 && countCells(screen, thumb, bluish) > 0)

        // The same slice again is refused; the whole volume is added once.
        t = runRecorded(&state, keys("A") + keys("V") + keys("V"))
        #expect(state.curation.entries.count == 3)
        #expect(state.curation.entries[2].example.slices == nil)
        #expect(t.screen!.text(row: 39).contains("the whole volume is already a support"))
        _ = reduce(&state, .curation(.addSlice))
        #expect(state.message?.contains("axial slice 6 is already a support") == true)

        // With the panel shown, n/N move the support selection (not the label selection) and g jumps.
        let labelSelection = state.labelSelection
        state.plane = .coronal
        state.cursor = [3, 3, 9]
        t = runRecorded(&state, keys("n") + keys("g"))
        #expect(state.curation.selection == 0 && state.labelSelection == labelSelection)
        #expect(state.plane == .axial && state.cursor.z == 4)
        screen = t.screen!
        #expect(screen.text(row: 39).contains("support 1: axial 4"))
        #expect(!screen.rows(containing: "◀ here").isEmpty)

        // D (or Del) removes the selected example.
        t = runRecorded(&state, keys("D"))
        #expect(state.curation.entries.map(\.example.slices) == [SliceSelection(plane: .axial, indices: [6]), nil])
        _ = reduce(&state, .curation(.moveSelection(1)))
        t = runRecorded(&state, [.key(.delete)])
        #expect(state.curation.entries.count == 1 && state.curation.selection == 0)

        // A coronal slice is stored by its voxel axis (j).
        _ = reduce(&state, .selectPlane(.coronal))
        _ = reduce(&state, .curation(.addSlice))
        #expect(state.curation.entries.last?.example.slices == SliceSelection(plane: .coronal, indices: [state.cursor.y]))
        // u hides the panel and the label panel comes back.
        t = runRecorded(&state, keys("u"))
        #expect(ScreenLayout(state).supportPanel == nil && ScreenLayout(state).labelPanel != nil)
    }

    @Test func addingNeedsLabelsOnTheImageGrid() {
        var doc = phantomDocument()
        doc.labels = nil
        doc.labelsPath = nil
        var state = WorkbenchState(document: doc, size: size)
        _ = reduce(&state, .curation(.addSlice))
        #expect(state.curation.entries.isEmpty)
        #expect(state.message?.contains("no labels loaded") == true)
        _ = reduce(&state, .curation(.predict(.slice)))
        #expect(state.message?.contains("support set is empty") == true)
    }

    @Test func manifestSavesRelativePathsAndLoadsBack() throws {
        let dir = TestPaths.temporaryDirectory("curation")
        defer { try? FileManager.default.removeItem(at: dir) }
        let doc = try phantomOnDisk(dir)
        let sub = dir.appendingPathComponent("sets")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let manifest = sub.appendingPathComponent("phantom_support.json").path
        var state = WorkbenchState(document: doc, size: size)
        state.curation.manifestPath = manifest
        var t = runRecorded(&state, keys("A") + [.key(.pageUp), .key(.pageUp), .key(.pageUp)] + keys("AVM"))
        #expect(state.message == "saved 3 support examples to \(manifest)")
        #expect(t.screen!.text(row: 39).contains("saved 3 support examples to"))
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        #expect(text.contains("\"format\" : \"voxterm-support-set\""))
        #expect(text.contains("\"image\" : \"../phantom.nii.gz\"") && text.contains("\"labels\" : \"../phantom_labels.nii.gz\""))
        // The Segmentation API reads it as written.
        let set = try SupportSet.load(manifest)
        #expect(set.examples.map(\.slices) == [SliceSelection(plane: .axial, indices: [4]), SliceSelection(plane: .axial, indices: [7]), nil])

        // O loads it into a fresh session: same examples, recognised as slices of the open image.
        var fresh = WorkbenchState(document: doc, size: size)
        fresh.curation.manifestPath = manifest
        t = runRecorded(&fresh, keys("O"))
        #expect(fresh.curation.entries.map(\.example.slices) == state.curation.entries.map(\.example.slices))
        #expect(fresh.curation.entries.allSatisfy { $0.isOpenImage })
        #expect(fresh.curation.entries[0].labels.labels == doc.labels!.labels)
        #expect(fresh.message == "loaded 3 support examples from \(manifest)")
        #expect(t.screen!.text(row: 39).contains("loaded 3 support examples from"))
        #expect(!t.screen!.rows(containing: "Support set (3)").isEmpty)

        // A broken manifest: one line naming the file; the panel keeps its examples.
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: manifest))
        t = runRecorded(&fresh, keys("O"))
        #expect(fresh.curation.entries.count == 3)
        #expect(fresh.message?.hasPrefix("loading the support set failed: \(manifest): not a voxterm support-set manifest") == true,
                "\(fresh.message ?? "")")
        #expect(!(fresh.message ?? "").contains("\n"))
        // Saving refuses an image path.
        #expect(CurationIO.saveManifest(fresh.curation.supportSet, to: doc.imagePath).message.contains("must not be written over an image"))
    }

    @Test func predictingASliceRunsAsAJobAndShowsTheOverlayAndDice() throws {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        state.cursor.z = 2
        // Supports on slices 2 and 6 (0-based), predict slice 4 in the background.
        let t = runRecorded(&state, keys("A") + Array(repeating: .key(.pageUp), count: 4) + keys("A")
                            + [.key(.pageDown), .key(.pageDown)] + keys("i"))
        #expect(state.curation.running == nil && !state.jobs.isRunning(.prediction))
        let o = try #require(state.curation.outcome)
        #expect(o.scope == .slice(axis: 2, index: 4))
        #expect(o.method == "slice propagation from axial:2,6")
        // The phantom is the same on every labelled slice; the left half is flat (nothing to register),
        // so the edges may move a voxel, no more.
        #expect(Set(o.dice.keys) == [1, 2])
        #expect(o.dice.values.allSatisfy { $0 > 0.85 }, "\(o.dice)")
        let mean = try #require(o.meanDiceScore)
        // Progress was on screen while it ran, then the summary and Dice.
        #expect(t.presented.contains { !$0.rows(containing: "predicting axial slice 4").isEmpty })
        let screen = try #require(t.screen)
        #expect(screen.text(row: 39).contains("predicted axial slice 4 in"), "\(screen.text(row: 39))")
        #expect(state.message?.contains(String(format: "mean Dice %.3f over 2 labels vs phantom_labels.nii.gz", mean)) == true)
        #expect(screen.text(row: 39).contains(String(format: "pred prediction Dice %.3f", mean)))
        #expect(!screen.rows(containing: String(format: "mean Dice %.3f (2 labels)", mean)).isEmpty)
        // Inside the labelled block the prediction equals the loaded labels, with full confidence.
        let g = state.document.image.geometry
        for v in [SIMD3(5, 12, 4), SIMD3(14, 12, 4), SIMD3(5, 2, 4)] {
            #expect(o.prediction.labels[v.x, v.y, v.z] == state.document.labels![v.x, v.y, v.z])
        }
        #expect(o.prediction.confidence.voxels[g.index(5, 12, 4)] > 0.99)
        // Only the predicted slice is scored: the support slices keep the loaded labels on screen.
        #expect(o.scope.covers(axis: 2, index: 4) && !o.scope.covers(axis: 2, index: 2))
    }

    @Test func predictingFromAnotherImageRegistersItAndScoresTheWholeVolume() throws {
        // Two smooth blobs (labels 1 and 2 where each is above half its peak); the support is the
        // same scene moved 3 mm along x.
        let (queryImage, queryLabels) = twoBlobScene(shift: 0), (image, labels) = twoBlobScene(shift: 3)
        var state = WorkbenchState(document: WorkbenchDocument(imagePath: "/data/query.nii.gz", image: queryImage, labels: queryLabels,
                                                               labelsPath: "/data/query_labels.nii.gz"), size: size)
        let doc = state.document
        let before = meanDice(diceScores(prediction: labels, truth: doc.labels!))
        state.curation.entries = [SupportEntry(example: SupportExample(image: "/data/other.nii.gz", labels: "/data/other_labels.nii.gz"),
                                               image: image, labels: labels, isOpenImage: false)]
        // Esc right after I cancels: no outcome, the panel says so, and I starts again.
        runRecorded(&state, keys("I") + [.key(.escape)])
        #expect(state.curation.outcome == nil && state.curation.running == nil && !state.jobs.isRunning(.prediction))
        #expect(state.message == "prediction cancelled")
        let t = runRecorded(&state, keys("I"))
        let o = try #require(state.curation.outcome, "\(state.message ?? "")")
        #expect(o.scope == .volume)
        #expect(o.method.hasPrefix("registration (fast) and weighted fusion of 1 image"))
        let after = try #require(o.meanDiceScore)
        // 0.9 before issue 15: the lighter field smoothing that gained 0.03-0.07 Dice on real inter-subject
        // pairs (docs/registration.md) lets the deformable stage bend this pure-shift phantom (affine alone
        // 0.889, fast preset 0.858-0.866, 0.904 with update=2,field=1). A known trade-off, kept open in issue 15.
        #expect(after > before + 0.02 && after > 0.85, "Dice \(before) -> \(after)")
        // Progress went through the registration levels, with a percentage.
        #expect(t.presented.contains { g in g.rows(containing: "predicting the volume from 1 other image").contains { g.text(row: $0).contains("%") } })
        // Axial slices through the blobs are ranked by disagreement, most expected errors first.
        let ranked = try #require(o.disagreement[2])
        #expect(ranked.count >= 5 && zip(ranked, ranked.dropFirst()).allSatisfy { $0.expectedErrors >= $1.expectedErrors })
    }

    /// `:set fill-weight W` reaches the slice filler of the next prediction (as `voxterm segment
    /// --registration-weight`), the outcome says so, `auto` goes back to the automatic share, and
    /// a value outside 0...1 is refused on the command line's row.
    @Test func theFillWeightSettingReachesTheSliceFiller() throws {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        _ = runRecorded(&state, keys("A") + [.key(.pageUp), .key(.pageUp), .key(.pageUp)] + keys("A"))
        try #require(state.curation.entries.count == 2)
        var outcomes: [PredictionOutcome] = []
        for (setting, expected) in [(Setting.fillWeight(1), Float(1)), (.fillWeight(nil), nil)] as [(Setting, Float?)] {
            _ = reduce(&state, .command(.run(.set(setting))))
            #expect(state.message?.contains(expected == nil ? "automatic" : "image share 1") == true, "\(state.message ?? "")")
            let effects = reduce(&state, .curation(.predict(.volume)))
            let requests = effects.compactMap { e -> PredictionRequest? in
                if case .startJob(_, let r) = e { return r.as(PredictionJob.self)?.request.value }
                return nil
            }
            let request = try #require(requests.first, "no prediction started: \(state.message ?? "")")
            guard case .slices(_, _, let weight) = request.method else { Issue.record("not a slice fill"); continue }
            #expect(weight == expected)
            runJobs(effects, &state)
            outcomes.append(try #require(state.curation.outcome))
        }
        #expect(outcomes[0].method.contains("(image share 1)"), "\(outcomes[0].method)")
        #expect(!outcomes[1].method.contains("image share"), "\(outcomes[1].method)")
        // (On this block phantom image and shape evidence agree, so the labels are the same either way;
        // that the weight changes a prediction is SegmentCLITests.theRegistrationWeightLetsTissueMapsFollowTheImage.)
        #expect(throws: CommandError.self) { try CommandParser.parse("set fill-weight 1.5") }
        #expect(try CommandParser.parse("set fill-weight auto") == .set(.fillWeight(nil)))
        #expect(try CommandParser.parse("set registration-weight 0.25") == .set(.fillWeight(0.25)))
    }

    /// Runs the jobs `effects` start as the runner would (synchronously here) and posts their ends,
    /// then the jobs those start.
    private func runJobs(_ effects: [Effect], _ state: inout WorkbenchState) {
        for case .startJob(let id, let request) in effects {
            let outcome = request.work(state: state)(JobContext(id: id, token: CancellationToken(), inbox: JobInbox()))
            runJobs(reduce(&state, .jobFinished(id, outcome)), &state)
        }
    }

    /// `:open truth` typed just before `:predict` (the load still running when the prediction
    /// starts) or after it: the outcome is scored against that truth all the same, in a job, and
    /// the comparison overlay is redrawn against it. A fresh-clone CI run lost the Dice this way (the
    /// prediction had started without truth).
    @Test func aTruthOpenedWhileOrAfterAPredictionRunsScoresIt() throws {
        var doc = phantomDocument()
        let truth = try #require(doc.labels)
        doc.labels = nil
        var state = WorkbenchState(document: doc, size: size)
        state.overlay.visible = true
        let g = doc.image.geometry
        // The prediction: the truth without label 2.
        var p = truth
        for n in p.labels.indices where p.labels[n] == 2 { p.labels[n] = 0 }
        let outcome = PredictionOutcome(id: 7, scope: .volume, prediction: Prediction(labels: p, confidence: Volume(geometry: g)), method: "test")
        #expect(outcome.dice.isEmpty)
        state.jobs = JobTable()
        let effect = state.jobs.start(.prediction(Shared(PredictionRequest(scope: .volume, query: doc.image, method: .slices(axis: 2, supports: [])))))
        guard case .startJob(let id, _) = effect else { Issue.record("no job"); return }
        state.curation.running = RunningPrediction(id: id, title: "the volume")
        // The truth arrives while the prediction runs, then the prediction ends: a scoring job.
        runJobs(reduce(&state, .command(.loaded(.truth(path: "t.nii.gz", Shared(truth), resampled: false, document: state.documentID)))), &state)
        let ended = reduce(&state, .jobFinished(id, .prediction(Shared(outcome))))
        #expect(state.curation.outcome?.dice.isEmpty == true && state.message?.contains("scoring against truth") == true, "\(state.message ?? "")")
        runJobs(ended, &state)
        let expected = diceScores(prediction: p, truth: truth)
        #expect(expected.count >= 2 && expected[2] == 0)
        #expect(state.curation.outcome?.dice == expected && state.curation.display == .comparison)
        #expect(state.message?.contains(String(format: "mean Dice %.3f over %d labels vs truth", meanDice(expected), expected.count)) == true,
                "\(state.message ?? "")")
        // Versus truth, label 2 (not predicted) is a false negative: blue.
        let cache = SliceCache()
        let right = SIMD3(15, 12, 4)
        _ = WorkbenchView.render(state, cache: cache)
        #expect(isBlue(rasterColor(state, cache, right)))
        // A truth opened after the prediction (here without label 2): scored again, and redrawn.
        var truth2 = truth
        for n in truth2.labels.indices where truth2.labels[n] == 2 { truth2.labels[n] = 0 }
        runJobs(reduce(&state, .command(.loaded(.truth(path: "t2.nii.gz", Shared(truth2), resampled: false, document: state.documentID)))), &state)
        let expected2 = diceScores(prediction: p, truth: truth2)
        #expect(state.curation.outcome?.dice == expected2 && expected2[1] == 1 && expected2.count == 1)
        #expect(state.message?.contains("truth t2.nii.gz: predictions are scored against it · the last prediction: "
                                        + String(format: "mean Dice %.3f over %d labels", meanDice(expected2), expected2.count)) == true,
                "\(state.message ?? "")")
        _ = WorkbenchView.render(state, cache: cache)
        #expect(!isBlue(rasterColor(state, cache, right)), "the comparison is still drawn against the first truth")
    }

    /// A slice prediction scored later (a truth loaded after it) is scored over the same slice as
    /// when the job had the truth: the region travels with the outcome.
    @Test func aSlicePredictionScoredLaterIsScoredOverTheSameRegion() throws {
        let doc = phantomDocument()
        let labels = try #require(doc.labels)
        var truth = labels
        // Truth differs from the supports on slice 6 only (label 1 on the right half there).
        for n in SliceAccess.indices(labels.geometry, axis: 2, index: 6) where truth.labels[n] == 2 { truth.labels[n] = 1 }
        for scope in [PredictionScope.slice(axis: 2, index: 5), .volume] {
            let method = PredictionMethod.slices(axis: 2, supports: [(labels: labels, indices: [2, 7])])
            let scored = try PredictionRequest(scope: scope, query: doc.image, method: method, truth: truth, truthName: "truth").run(id: 1)
            var later = try PredictionRequest(scope: scope, query: doc.image, method: method).run(id: 2)
            #expect(later.dice.isEmpty && !scored.dice.isEmpty)
            later.dice = later.scoredRegion.dice(later.prediction.labels, truth: truth, scope: later.scope)
            #expect(later.dice == scored.dice, "\(scope): \(later.dice) vs \(scored.dice)")
        }
    }

    @Test func aWrongPredictionShowsFalsePositivesAndNegativesAndZeroDice() throws {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        state.showLabelPanel = true
        // Labels 1 and 2 swapped on slice 4 (the cursor's).
        let g = state.document.image.geometry
        var swapped = LabelVolume(geometry: g)
        for idx in SliceAccess.indices(g, axis: 2, index: 4) {
            let l = state.document.labels!.labels[idx]
            swapped.labels[idx] = l == 1 ? 2 : (l == 2 ? 1 : 0)
        }
        let truth = state.document.labels!
        let outcome = PredictionOutcome(id: 7, scope: .slice(axis: 2, index: 4),
                                        prediction: Prediction(labels: swapped, confidence: Volume(geometry: g)),
                                        method: "test", dice: diceOnSlice(swapped, truth, axis: 2, index: 4), truthName: "phantom_labels.nii.gz")
        #expect(outcome.dice == [1: 0, 2: 0])
        // Post it as the finished job would.
        state.curation.running = RunningPrediction(id: JobID(1), title: "axial slice 5")
        state.jobs = JobTable()
        let effect = state.jobs.start(.prediction(Shared(PredictionRequest(scope: outcome.scope, query: state.document.image,
                                                                              method: .slices(axis: 2, supports: [])))))
        guard case .startJob(let id, _) = effect else { Issue.record("no job"); return }
        state.curation.running?.id = id
        _ = reduce(&state, .jobFinished(id, .prediction(Shared(outcome))))
        #expect(state.curation.outcome?.id == 7 && state.curation.display == .labels)
        #expect(state.message?.contains("mean Dice 0.000 over 2 labels") == true)

        let cache = SliceCache()
        let left = SIMD3(3, 12, 4), right = SIMD3(15, 12, 4)
        // Prediction colours: the subject's left half (label 1, red) is drawn blue (label 2) and vice versa.
        #expect(isBlue(rasterColor(state, cache, left)) && isRed(rasterColor(state, cache, right)))
        // The label panel shows each label's Dice.
        let screen = WorkbenchView.render(state, cache: cache)
        #expect(screen.rows(containing: "Left half").contains { screen.text(row: $0).contains("0.00") })
        // C: versus truth, labelled pixels are false positives (red) or negatives (blue), none true (green).
        _ = reduce(&state, .curation(.cycleDisplay))
        #expect(state.curation.display == .comparison)
        #expect(isRed(rasterColor(state, cache, left)) && !isGreen(rasterColor(state, cache, right)))
        // C: confidence (0 everywhere here: warm colours), then the loaded labels again.
        _ = reduce(&state, .curation(.cycleDisplay))
        #expect(state.curation.display == .confidence)
        let warm = rasterColor(state, cache, SIMD3(3, 1, 4))
        #expect(warm.r > 200 && warm.b < 100, "\(warm)")
        _ = reduce(&state, .curation(.cycleDisplay))
        #expect(state.curation.display == .off)
        #expect(isRed(rasterColor(state, cache, left)) && isBlue(rasterColor(state, cache, right)))
        // Another slice is not predicted: it keeps the loaded labels whatever the display.
        _ = reduce(&state, .curation(.cycleDisplay))
        #expect(state.curation.display == .labels)
        #expect(isRed(rasterColor(state, cache, SIMD3(3, 12, 5))) && isBlue(rasterColor(state, cache, SIMD3(15, 12, 5))))
    }

    @Test func confidenceMapIsClearWhereSupportsAgree() throws {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        let g = state.document.image.geometry
        var conf = Volume(geometry: g)
        for n in 0..<g.voxelCount { conf.voxels[n] = 1 }
        // Disagreement in the subject's left half of slice 4 only.
        for j in 0..<30 { for i in 0..<10 { conf[i, j, 4] = 0.5 } }
        state.curation.outcome = PredictionOutcome(id: 3, scope: .volume,
                                                   prediction: Prediction(labels: LabelVolume(geometry: g), confidence: conf), method: "test")
        state.curation.display = .confidence
        let cache = SliceCache()
        // Left: the white image drawn yellow; right: the grey ramp untouched.
        let left = rasterColor(state, cache, SIMD3(3, 2, 4)), right = rasterColor(state, cache, SIMD3(15, 2, 4))
        #expect(left.r > 240 && left.g > 200 && left.b < 100, "\(left)")
        #expect(right.r == right.g && right.g == right.b, "\(right)")
    }

    @Test func disagreementJumpVisitsSlicesFromTheLowestConfidence() throws {
        var state = WorkbenchState(document: phantomDocument(), size: size)
        let g = state.document.image.geometry
        var conf = Volume(geometry: g)
        for n in 0..<g.voxelCount { conf.voxels[n] = 1 }
        for j in 0..<30 { for i in 0..<20 { conf[i, j, 6] = 0.5; conf[i, j, 3] = 0.8 } }
        let p = Prediction(labels: state.document.labels!, confidence: conf)
        let ranking = disagreementRanking(p, scope: .volume, supportSlices: (axis: 2, indices: [2]))
        // Labelled slices 2...7 minus the support slice 2, by expected errors removed (Segmentation's
        // rankSlicesForLabelling): 6 (its own 200), then 5 and 7 (3/4 of 6's), 3 (its 80 and 1/4 of 6's), 4.
        #expect(ranking[2]?.map(\.index) == [6, 5, 7, 3, 4])
        state.curation.outcome = PredictionOutcome(id: 1, scope: .volume, prediction: p, method: "test", disagreement: ranking)
        runRecorded(&state, keys("d"))
        #expect(state.cursor.z == 6)
        #expect(state.message?.hasPrefix("axial slice 6: mean confidence 0.50 (1st of 5 to label next)") == true, "\(state.message ?? "")")
        runRecorded(&state, keys("d"))
        #expect(state.cursor.z == 5)
        #expect(state.message?.hasPrefix("axial slice 5: mean confidence 1.00 (2nd of 5 to label next)") == true, "\(state.message ?? "")")
        // Coronal slices are ranked too (every labelled one has mean 1 - 0.1 ... here the same means).
        _ = reduce(&state, .selectPlane(.coronal))
        _ = reduce(&state, .curation(.jumpToDisagreement))
        #expect(state.plane == .coronal && (5..<25).contains(state.cursor.y))
    }

    @Test func savePredictionWritesNIfTIBesideNeverOverAFile() throws {
        let dir = TestPaths.temporaryDirectory("curation-save")
        defer { try? FileManager.default.removeItem(at: dir) }
        var state = WorkbenchState(document: try phantomOnDisk(dir), size: size)
        state.curation.outputDirectory = dir.path
        _ = reduce(&state, .curation(.savePrediction))
        #expect(state.message?.contains("no prediction to save") == true)
        let g = state.document.image.geometry
        var conf = Volume(geometry: g)
        conf.voxels[0] = 0.25
        state.curation.outcome = PredictionOutcome(id: 1, scope: .volume, prediction: Prediction(labels: state.document.labels!, confidence: conf),
                                                   method: "test")
        var t = runRecorded(&state, keys("E"))
        let labelsOut = dir.appendingPathComponent("phantom_pred.nii.gz").path
        #expect(state.message == "wrote \(labelsOut) and \(dir.appendingPathComponent("phantom_pred_confidence.nii.gz").path)")
        #expect(t.screen!.text(row: 39).contains("wrote "))
        #expect(try NIfTIReader.read(labelsOut).labelVolume().labels == state.document.labels!.labels)
        let confOut = try NIfTIReader.read(dir.appendingPathComponent("phantom_pred_confidence.nii.gz").path).volume()
        #expect(confOut.voxels[0] == 0.25 && confOut.geometry.size == g.size)
        // Again: a new name, the first file kept.
        t = runRecorded(&state, keys("E"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("phantom_pred-2.nii.gz").path))
        // Never over an input, even when its name is the default.
        let msg = CurationIO.writePrediction(state.curation.outcome!, directory: dir.path, stem: "phantom", inputs: [labelsOut])
        #expect(msg.contains("phantom_pred-3.nii.gz"))
    }

    @Test func helpListsTheCurationKeys() throws {
        let size = TerminalSize(columns: 160, rows: 50)
        var state = WorkbenchState(document: phantomDocument(), size: size)
        // The help scrolls when it does not fit (issue 18): every key of both tables is shown on a
        // 160x50 screen on the way down.
        var text = runRecorded(&state, keys("?"), size: size).screen!.text
        for _ in 0..<4 { text += "\n" + runRecorded(&state, [.key(.pageDown)], size: size).screen!.text }
        #expect(text.contains("Support set & prediction"))
        for b in KeyTable.table(for: .normal) { #expect(text.contains(b.help), "help lacks \(b.help)") }
        #expect(!text.contains("enlarge the terminal"))
        #expect(KeyTable.action(for: .character("i"), in: .normal) == .curation(.predict(.slice)))
        #expect(KeyTable.action(for: .character("I"), in: .normal) == .curation(.predict(.volume)))
        // Every key is bound once in normal mode.
        let all = KeyTable.table(for: .normal).flatMap(\.keys)
        #expect(Set(all).count == all.count)
    }
}
