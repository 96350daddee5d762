import Foundation
import Testing
import VoxtermModel
import SliceRendering
import Terminal
@testable import Workbench

/// The phantom as fixed image, and the phantom shifted 2 voxels along x (with its labels) as moving.
func movingPhantomDocument(fixedLabels: Bool = true) -> WorkbenchDocument {
    var doc = phantomDocument()
    let g = doc.image.geometry
    var m = Volume(geometry: g), ml = LabelVolume(geometry: g)
    for k in 0..<g.size.z { for j in 0..<g.size.y { for i in 0..<g.size.x {
        let src = min(max(i - 2, 0), g.size.x - 1)
        m[i, j, k] = doc.image[src, j, k]
        ml[i, j, k] = doc.labels![src, j, k]
    } } }
    if !fixedLabels { doc.labels = nil; doc.labelsPath = nil; doc.presentLabels = [] }
    doc.setMoving(m, path: "/data/moving.nii.gz", labels: ml, labelsPath: "/data/moving_labels.nii.gz")
    return doc
}

/// Two smooth blobs 2 voxels apart along x (fixed and moving, 1 mm), with ring labels 1 (core) and 2 (shell).
func blobDocument() -> WorkbenchDocument {
    let g = VolumeGeometry(size: [24, 24, 16], spacing: [1, 1, 1], origin: [-12, -12, -8])
    func blob(_ cx: Double) -> (Volume, LabelVolume) {
        var v = Volume(geometry: g), l = LabelVolume(geometry: g)
        for k in 0..<16 { for j in 0..<24 { for i in 0..<24 {
            let d = SIMD3<Double>(Double(i) - cx, Double(j) - 12, (Double(k) - 8) * 1.3)
            let r = (d * d).sum().squareRoot()
            v[i, j, k] = Float(1000 * exp(-r * r / 32))
            l[i, j, k] = r < 3.5 ? 1 : r < 6 ? 2 : 0
        } } }
        return (v, l)
    }
    let (f, fl) = blob(11), (m, ml) = blob(13)
    var doc = WorkbenchDocument(imagePath: "/data/blob.nii.gz", image: f, labels: fl, labelsPath: "/data/blob_labels.nii.gz")
    doc.setMoving(m, path: "/data/blob_moved.nii.gz", labels: ml, labelsPath: "/data/blob_moved_labels.nii.gz")
    return doc
}

private func progress(stage: Int, name: String, level: Int, levels: Int, iteration: Int, value: Double) -> RegistrationProgress {
    RegistrationProgress(stage: stage, stageName: name, level: level, levelCount: levels, shrink: 4 >> level,
                         iteration: iteration, value: value, elapsed: Double(iteration) * 0.1)
}

/// A finished registration of the moving phantom: the true shift as affine, zero field.
private func finishedResult(_ doc: WorkbenchDocument) -> LiveRegistrationResult {
    let g = doc.image.geometry
    let zero = VectorField(zeroOn: g)
    // Fixed x maps to moving x + 2 voxels (2 mm along +x, RAS): the moving content sits 2 voxels right.
    var a = VolumeCore.AffineTransform.identity
    a[0, 3] = 2
    let result = RegistrationResult(affine: a, field: zero, inverseField: zero, velocity: zero,
                                    stages: [StageReport(name: "affine", seconds: 1.5, iterations: [10], finalValues: [-0.9])])
    let outputs = RegistrationOutputs(result: result, fixed: doc.image, moving: doc.moving!, movingLabels: doc.movingLabels,
                                      fixedLabels: doc.fixedLabels, metric: .lncc)
    let preview = RegistrationPreview(warped: outputs.warped, displacement: result.totalDisplacement,
                                      warpedLabels: outputs.warpedLabels)
    return LiveRegistrationResult(outputs: outputs, preview: preview)
}

@Suite("Live registration in the workbench")
struct LiveRegistrationTests {
    let size = TerminalSize(columns: 120, rows: 40)

    @Test func movingImageIsShownInWorldSpaceAndGStartsAJob() {
        var state = WorkbenchState(document: movingPhantomDocument(), size: size)
        #expect(state.hasCompare)
        #expect(state.compareMode == .checkerboard)
        #expect(state.registration?.phase == .ready)
        #expect(state.registration?.outputDirectory == "voxterm-registration-phantom")
        let screen = WorkbenchView.render(state, cache: SliceCache())
        let layout = ScreenLayout(state)
        #expect(screen.text(row: layout.registrationRows!.0).contains("G registers moving.nii.gz to phantom.nii.gz"))

        let effects = reduce(&state, .startRegistration)
        #expect(effects == [.startJob(JobID(1), .registration(preset: .default))])
        #expect(state.registration?.phase == .running)
        #expect(state.jobs.running == [.registration: JobID(1)])
        #expect(state.fieldMode == .arrows)
        // A second G while running starts nothing.
        #expect(reduce(&state, .startRegistration).isEmpty)
        #expect(state.message?.contains("already running") == true)
    }

    @Test func aMovingImageOnAnotherGridIsShownOnTheImageGridInWorldSpace() {
        var doc = phantomDocument()
        let g = doc.image.geometry
        // Half the resolution, same world extent: voxel (i, j, k) covers image voxels (2i..2i+1, 2j..2j+1, k).
        let coarse = VolumeGeometry(size: [10, 15, 10], spacing: [2, 2, 2], origin: [-9.5, -14.5, -10])
        var m = Volume(geometry: coarse)
        for k in 0..<10 { for j in 0..<15 { for i in 0..<10 { m[i, j, k] = Float(100 * i) } } }
        doc.setMoving(m, path: "/data/coarse.nii.gz")
        #expect(doc.moving?.geometry == coarse)
        #expect(doc.compare?.geometry == g)
        #expect(doc.notes.contains { $0.contains("resampled") })
        // World x of image voxel 4 is -6 mm = coarse voxel 1.75: linear between 100 and 200.
        #expect(abs(doc.compare![4, 10, 5] - 175) < 1e-3)
        let state = WorkbenchState(document: doc, size: size)
        #expect(state.registration != nil && state.hasCompare)
    }

    @Test func progressActionsMoveTheBarAndDrawTheCurve() {
        var state = WorkbenchState(document: movingPhantomDocument(), size: size)
        _ = reduce(&state, .cycleRegistrationPreset)   // default -> accurate
        _ = reduce(&state, .cycleRegistrationPreset)   // accurate -> fast
        #expect(state.registration?.preset == .fast)
        guard case .startJob(let id, let request)? = reduce(&state, .startRegistration).first, request == .registration(preset: .fast) else {
            Issue.record("no registration job started"); return
        }
        let row = ScreenLayout(state).registrationRows!
        let cache = SliceCache()
        _ = reduce(&state, .jobProgress(id, .registration(LiveRegistrationUpdate(
            progress: progress(stage: 0, name: "affine", level: 0, levels: 2, iteration: 12, value: -0.40),
            values: (1...12).map { -0.3 - 0.01 * Double($0) }))))
        let first = state.registration!.fractionDone
        var screen = WorkbenchView.render(state, cache: cache)
        #expect(screen.text(row: row.0).contains("affine (stage 1/2) level 1/2 (shrink 4) iteration 12/60"), "\(screen.text(row: row.0))")
        #expect(screen.text(row: row.1).contains("value -0.42"))
        #expect(screen.text(row: row.1).contains("█"))          // the curve's first (highest) values
        #expect(screen.text(row: row.1).contains("▁"))          // and its lowest
        #expect(state.registration!.values.count == 12)

        // A preview replaces the second image and the field, and the cache follows.
        let moved = RegistrationPreview.make(fixed: state.document.image.geometry, moving: state.document.moving!,
                                             movingLabels: state.document.movingLabels,
                                             affine: { var a = VolumeCore.AffineTransform.identity; a[0, 3] = 2; return a }(), field: nil)
        let before = cache.raster(state, plane: .axial, slice: 4, variant: .compare).image
        _ = reduce(&state, .jobProgress(id, .registration(LiveRegistrationUpdate(
            progress: progress(stage: 1, name: "deformable", level: 1, levels: 2, iteration: 3, value: -0.8),
            values: [-0.7, -0.75, -0.8], preview: Shared(moved)))))
        #expect(state.registration!.fractionDone > first)
        #expect(state.registration!.levelStart == 12)      // the curve restarts with the new level
        #expect(state.registration!.previews == 1)
        #expect(state.document.compare == moved.warped)
        #expect(state.document.field == moved.displacement)
        let after = cache.raster(state, plane: .axial, slice: 4, variant: .compare).image
        #expect(after != before)
        screen = WorkbenchView.render(state, cache: cache)
        #expect(screen.text(row: row.0).contains("deformable (stage 2/2) level 2/2 (shrink 2) iteration 3/20"))

        // Progress of another (stale) job changes nothing.
        let values = state.registration!.values
        _ = reduce(&state, .jobProgress(JobID(99), .registration(LiveRegistrationUpdate(progress: nil, values: [1, 2, 3]))))
        #expect(state.registration!.values == values)
    }

    @Test func escCancelsAndGStartsAgain() {
        var state = WorkbenchState(document: movingPhantomDocument(), size: size)
        _ = reduce(&state, .startRegistration)
        let t = runRecorded(&state, [.key(.escape)])
        #expect(state.registration?.phase == .cancelling)
        #expect(t.screen!.text(row: ScreenLayout(state).registrationRows!.0).contains("cancelling"))
        #expect(reduce(&state, .cancelJobs) == [.cancelJob(JobID(1))])
        _ = reduce(&state, .jobFinished(JobID(1), .cancelled))
        #expect(state.registration?.phase == .cancelled)
        #expect(state.jobs.running.isEmpty)
        let screen = WorkbenchView.render(state, cache: SliceCache())
        #expect(screen.text(row: ScreenLayout(state).registrationRows!.0).contains("cancelled (G starts again)"))
        #expect(reduce(&state, .cancelJobs).isEmpty)
        #expect(state.message == "nothing to cancel")
        // Again: a new job id; the old job's late actions are ignored.
        #expect(reduce(&state, .startRegistration) == [.startJob(JobID(2), .registration(preset: .default))])
        _ = reduce(&state, .jobFinished(JobID(1), .cancelled))
        #expect(state.registration?.phase == .running)
    }

    @Test func finishShowsTheSummaryAndSEmitsTheSaveJob() throws {
        var state = WorkbenchState(document: movingPhantomDocument(), size: size)
        #expect(reduce(&state, .saveRegistration).isEmpty)
        #expect(state.message?.contains("nothing to save") == true)
        _ = reduce(&state, .startRegistration)
        let done = finishedResult(state.document)
        _ = reduce(&state, .jobFinished(JobID(1), .registration(Shared(done))))
        let r = try #require(state.registration)
        #expect(r.phase == .finished)
        let s = try #require(r.summary)
        #expect(s.meanDice! > 0.9)              // the true shift carries the labels (but 2 columns leave the grid)
        #expect(s.meanDiceBefore! < s.meanDice!)
        #expect(s.foldingPercent == 0)
        #expect(s.seconds == 1.5)
        let screen = WorkbenchView.render(state, cache: SliceCache())
        let row = screen.text(row: ScreenLayout(state).registrationRows!.1)
        #expect(row.contains("done"))
        #expect(row.contains("Dice"))
        #expect(row.contains("folding 0.000 %"))
        #expect(row.contains("S saves to voxterm-registration-phantom/"))

        state.registration?.outputDirectory = "/tmp/out"
        let effects = reduce(&state, .saveRegistration)
        guard case .startJob(let id, let request)? = effects.first, let save = request.as(SaveRegistrationJob.self) else {
            Issue.record("no save job: \(effects)"); return
        }
        #expect(save.outputs == r.outputs)
        #expect(save.directory == "/tmp/out")
        #expect(!save.overwrite, "an earlier run's files are replaced only with voxterm view --force or :save!")
        #expect(save.sources == RegistrationSources(fixed: "/data/phantom.nii.gz", moving: "/data/moving.nii.gz",
                                               movingLabels: "/data/moving_labels.nii.gz", fixedLabels: "/data/phantom_labels.nii.gz"))
        #expect(save.protecting.contains("/data/phantom.txt"))
        #expect(state.registration?.saving == true)
        _ = reduce(&state, .jobFinished(id, .saved(directory: "/tmp/out", files: ["a", "b"])))
        #expect(state.registration?.savedTo == "/tmp/out")
        #expect(state.message == "saved 2 files to /tmp/out/")
    }

    @Test func saveJobWritesTheRegisterFilesAndNeverAnInput() throws {
        let dir = NSTemporaryDirectory() + "voxterm-live-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var state = WorkbenchState(document: movingPhantomDocument(), size: size)
        _ = reduce(&state, .startRegistration)
        _ = reduce(&state, .jobFinished(JobID(1), .registration(Shared(finishedResult(state.document)))))
        state.registration?.outputDirectory = dir
        guard case .startJob(let id, let request)? = reduce(&state, .saveRegistration).first else { Issue.record("no job"); return }
        let outcome = request.work(state: state)(JobContext(id: id, token: CancellationToken(), inbox: JobInbox()))
        guard let files = outcome.result(SavedRegistration.self)?.files else { Issue.record("\(outcome)"); return }
        #expect(Set(files.map { ($0 as NSString).lastPathComponent }) == Set(RegistrationOutputs.fileNames))
        let warped = try NIfTIReader.read(dir + "/warped.nii.gz").volume()
        #expect(warped.geometry == state.document.image.geometry)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json"))) as! [String: Any]
        #expect((json["mean_dice"] as! Double) > (json["mean_dice_before"] as! Double))
        // An output folder that is an input's folder, with an input named like an output, is refused.
        let clash = RegistrationSources(fixed: dir + "/warped.nii.gz", moving: "/data/moving.nii.gz")
        let bad = JobRequest.saveRegistration(outputs: state.registration!.outputs!, sources: clash, directory: dir,
                                              protecting: [], overwrite: true).work(state: state)
        guard case .failed = bad(JobContext(id: JobID(9), token: CancellationToken(), inbox: JobInbox())) else {
            Issue.record("wrote over an input"); return
        }
    }

    /// S into the folder of an earlier run: refused (the files stay), unless `voxterm view --force`
    /// (`replacesOutputs`) or `:save! registration`, which swap the new set in whole.
    @Test func savingOverAnEarlierRunNeedsForce() throws {
        let dir = NSTemporaryDirectory() + "voxterm-live-force-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var state = WorkbenchState(document: movingPhantomDocument(), size: size)
        _ = reduce(&state, .startRegistration)
        _ = reduce(&state, .jobFinished(JobID(1), .registration(Shared(finishedResult(state.document)))))
        state.registration?.outputDirectory = dir
        func save(_ action: Action) -> JobOutcome? {
            guard case .startJob(let id, let request)? = reduce(&state, action).first else { return nil }
            let outcome = request.work(state: state)(JobContext(id: id, token: CancellationToken(), inbox: JobInbox()))
            _ = reduce(&state, .jobFinished(id, outcome))
            return outcome
        }
        #expect(save(.saveRegistration)?.result(SavedRegistration.self) != nil)
        let firstSummary = try Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json"))
        // Again without --force: refused, nothing changes, and the message says how to replace.
        guard case .failed(let why)? = save(.saveRegistration) else { Issue.record("replaced without --force"); return }
        #expect(why.contains("is not empty"), "\(why)")
        #expect(state.message?.contains(":save! registration") == true, "\(state.message ?? "")")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json")) == firstSummary)
        // `:save! registration` replaces this once; the flag is not kept.
        #expect(save(.command(.run(.save(.registration, nil, force: true))))?.result(SavedRegistration.self) != nil, "\(state.message ?? "")")
        #expect(state.registration?.replacesOutputs == false)
        // `voxterm view --force`: every S may replace.
        state.registration?.replacesOutputs = true
        #expect(save(.saveRegistration)?.result(SavedRegistration.self) != nil, "\(state.message ?? "")")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir)) == Set(RegistrationOutputs.fileNames))
    }

    @Test func overlayShowsTheImageInGreenAndTheSecondInMagenta() {
        var state = WorkbenchState(document: movingPhantomDocument(), size: size)
        while state.compareMode != .overlay { _ = reduce(&state, .cycleCompareMode) }
        let cache = SliceCache()
        let o = cache.raster(state, plane: .axial, slice: 4, variant: .overlay, scale: 1).image
        var plain = state
        plain.overlay.visible = false; plain.fieldMode = nil
        let a = cache.raster(plain, plane: .axial, slice: 4, variant: .main, scale: 1).image
        let b = cache.raster(plain, plane: .axial, slice: 4, variant: .compare, scale: 1).image
        #expect(o.width == a.width && o.height == a.height)
        var differing = 0
        for y in 0..<o.height { for x in 0..<o.width {
            #expect(o[x, y].g == a[x, y].g && o[x, y].r == b[x, y].r && o[x, y].b == b[x, y].b)
            if a[x, y].g != b[x, y].r { differing += 1 }
        } }
        #expect(differing > 10)   // the shift shows as colour fringes
        let screen = WorkbenchView.render(state, cache: cache)
        #expect(screen.text(row: 1).contains("overlay: image green, second image magenta"))
    }

    @Test func nextFoldingSliceJumpsToFoldedSlicesOnly() {
        var state = WorkbenchState(document: movingPhantomDocument(), size: size)
        _ = reduce(&state, .nextFoldingSlice)
        #expect(state.message?.contains("no registration field yet") == true)
        state.registration?.foldingPerSlice = [Array(repeating: 0, count: 20), Array(repeating: 0, count: 30),
                                               [0, 3, 0, 0, 0, 0, 0, 5, 0, 0]]
        #expect(state.cursor.z == 4)
        _ = reduce(&state, .nextFoldingSlice)
        #expect(state.cursor.z == 7)
        #expect(state.message?.contains("5 folded voxels") == true)
        _ = reduce(&state, .nextFoldingSlice)
        #expect(state.cursor.z == 1)      // wraps around
        _ = reduce(&state, .selectPlane(.coronal))
        _ = reduce(&state, .nextFoldingSlice)
        #expect(state.message?.contains("no folding") == true)
    }

    @Test func movingLabelsStandInForMissingFixedLabelsAndFollowPreviews() {
        var state = WorkbenchState(document: movingPhantomDocument(fixedLabels: false), size: size)
        #expect(state.document.labelsFollowMoving)
        #expect(state.document.fixedLabels == nil)
        #expect(state.document.labels![11, 10, 4] == 1 && state.document.labels![12, 10, 4] == 2)  // shifted by 2
        var a = VolumeCore.AffineTransform.identity
        a[0, 3] = 2
        let p = RegistrationPreview.make(fixed: state.document.image.geometry, moving: state.document.moving!,
                                         movingLabels: state.document.movingLabels, affine: a, field: nil)
        state.show(p)
        #expect(state.document.labels![9, 10, 4] == 1 && state.document.labels![10, 10, 4] == 2)
    }

    @Test func exportWritesWhatIsOnScreenWithProvenance() throws {
        var state = WorkbenchState(document: movingPhantomDocument(), size: size)
        let dir = NSTemporaryDirectory() + "voxterm-live-export-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = SliceCache()
        let path = try WorkbenchExport.write(state, cache: cache, directory: dir)
        #expect(path.hasSuffix("phantom_axial4_checkerboard.png"))
        let png = try PNGCodec.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(png == cache.raster(state, plane: .axial, slice: 4, variant: .checkerboard, scale: 1, orientationLetters: true).image)
        let keys = WorkbenchExport.provenance(state).map(\.key)
        for k in ["Software", "Source", "Plane", "Slice", "Window", "Colormap", "Convention", "Orientation", "Labels",
                  "Compare", "CompareMode", "Moving", "Registration", "Command"] {
            #expect(keys.contains(k), "\(k)")
        }
        // The overlay has neither labels nor field on it, and its chunks say so.
        while state.compareMode != .overlay { _ = reduce(&state, .cycleCompareMode) }
        let overlayKeys = WorkbenchExport.provenance(state).map(\.key)
        #expect(!overlayKeys.contains("Labels") && !overlayKeys.contains("Field") && overlayKeys.contains("CompareMode"))
        // Side by side: both panes in one picture.
        while state.compareMode != .sideBySide { _ = reduce(&state, .cycleCompareMode) }
        #expect(state.compareMode == .sideBySide)
        let both = WorkbenchExport.picture(state, cache: cache)
        let one = cache.raster(state, plane: .axial, slice: 4, variant: .main, scale: 1, orientationLetters: true).image
        #expect(both.width == 2 * one.width + 4 && both.height == one.height)
    }
}

@Suite("Background jobs")
struct JobRunnerTests {
    @Test func workPostsProgressAndTheRunnerPostsTheOutcome() {
        let runner = JobRunner()
        runner.start(JobID(1)) { ctx in
            ctx.post(LiveRegistrationUpdate(progress: nil, values: [1]))
            return .failed("x")
        }
        #expect(runner.waitUntilIdle(timeout: 10))
        let actions = runner.drain()
        #expect(actions == [.jobProgress(JobID(1), .registration(LiveRegistrationUpdate(progress: nil, values: [1]))),
                            .jobFinished(JobID(1), .failed("x"))])
        #expect(!runner.isBusy)
    }

    @Test func cancelStopsALongJobPromptly() {
        let runner = JobRunner()
        runner.start(JobID(3)) { ctx in
            while !ctx.isCancelled { Thread.sleep(forTimeInterval: 0.001) }
            return .cancelled
        }
        #expect(runner.isBusy)
        let t0 = Date()
        runner.cancel(JobID(3))
        #expect(runner.waitUntilIdle(timeout: 10))
        #expect(Date().timeIntervalSince(t0) < 1)
        #expect(runner.drain() == [.jobFinished(JobID(3), .cancelled)])
    }

    @Test func jobTableIgnoresStaleIDs() {
        var table = JobTable()
        #expect(table.start(.registration(preset: .fast)) == .startJob(JobID(1), .registration(preset: .fast)))
        #expect(table.start(.registration(preset: .fast)) == .startJob(JobID(2), .registration(preset: .fast)))
        #expect(table.finish(JobID(1)) == nil)
        #expect(table.kind(of: JobID(2)) == .registration)
        #expect(table.finish(JobID(2)) == .registration)
        #expect(!table.isRunning(.registration))
    }

    /// A new kind of job needs nothing in App/: this one is declared here, outside the module,
    /// with only the public `JobKind`/`JobSpec`, and goes through the table, the runner and `reduce`.
    @Test func aNewJobKindIsDeclaredEntirelyOutsideApp() {
        struct Echo: JobSpec, Equatable {
            var text: String
            var kind: JobKind { echoKind }
            func work(state: WorkbenchState) -> JobWork {
                let text = self.text, name = state.document.imageName
                return { ctx in
                    ctx.post(text.count)                       // progress: any Sendable & Equatable value
                    return .finished(JobValue("\(text) \(name)"))  // the result, of the feature's own type
                }
            }
        }
        var state = WorkbenchState(document: phantomDocument(), size: TerminalSize(columns: 120, rows: 40))
        let effect = state.jobs.start(JobRequest(Echo(text: "hello")))
        guard case .startJob(let id, let request) = effect else { Issue.record("\(effect)"); return }
        #expect(request == JobRequest(Echo(text: "hello")) && request != JobRequest(Echo(text: "other")))
        #expect(request != JobRequest.registration(preset: .fast), "requests of different kinds are never equal")
        #expect(state.jobs.isRunning(echoKind))
        let runner = JobRunner()
        runner.start(id, work: request.work(state: state))
        #expect(runner.waitUntilIdle(timeout: 10))
        for action in runner.drain() { _ = reduce(&state, action) }
        #expect(state.message == "echo progress 5; echo finished: hello \(state.document.imageName)")
        #expect(!state.jobs.isRunning(echoKind))
        // A late action of the finished job is dropped before it reaches the kind's entry point.
        _ = reduce(&state, .jobProgress(id, JobValue(99)))
        #expect(state.message == "echo progress 5; echo finished: hello \(state.document.imageName)")
    }

    @Test func theRunLoopRunsARealRegistrationToTheEnd() {
        // G on the phantom pair (fast preset); the loop polls the job, then input ends.
        var state = WorkbenchState(document: blobDocument(), size: TerminalSize(columns: 120, rows: 40))
        state.registration?.preset = .fast
        let runner = JobRunner()
        let t = RecordingTerminal(size: state.size, capabilities: trueColour, events: keys("G"))
        WorkbenchApp.run(&state, terminal: t, cache: SliceCache(), jobs: runner) { _, _ in "" }
        let r = state.registration!
        #expect(r.phase == .finished, "\(r.phase) \(state.message ?? "")")
        #expect(!r.values.isEmpty)
        #expect(r.summary!.meanDice! > r.summary!.meanDiceBefore!)
        #expect(runner.jobsStarted == 1)
        #expect(t.presented.count >= 3)
        #expect(t.screen!.text(row: ScreenLayout(state).registrationRows!.1).contains("done"))
    }
}

extension LiveRegistrationTests {
    @Test func cancellingASecondRegistrationKeepsTheLastFinishedOne() throws {
        var state = WorkbenchState(document: movingPhantomDocument(), size: size)
        _ = reduce(&state, .startRegistration)
        _ = reduce(&state, .jobFinished(JobID(1), .registration(Shared(finishedResult(state.document)))))
        let first = try #require(state.registration?.outputs)
        let shown = state.document.compare
        // A second run: the first one's outputs stay (S would save them), then Esc.
        #expect(reduce(&state, .startRegistration) == [.startJob(JobID(2), .registration(preset: .default))])
        #expect(state.registration?.outputs == first)
        _ = reduce(&state, .cancelJobs)
        _ = reduce(&state, .jobFinished(JobID(2), .cancelled))
        #expect(state.registration?.phase == .finished)
        #expect(state.registration?.outputs == first)
        #expect(state.document.compare == shown, "the finished registration's warped image is shown again")
        #expect(state.message?.contains("the last finished one is kept (S saves it)") == true)
        let effects = reduce(&state, .saveRegistration)
        guard case .startJob(_, let request)? = effects.first, let save = request.as(SaveRegistrationJob.self) else {
            Issue.record("no save: \(effects)"); return
        }
        #expect(save.outputs == first)
    }
}

/// The test's job kind: its entry point writes what it was told into the status message.
let echoKind = JobKind("echo") { state, _, event in
    switch event {
    case .cancelling: state.message = "echo cancelling"
    case .progress(let p): state.message = "echo progress \(p.as(Int.self) ?? -1)"
    case .finished(let outcome): state.message = (state.message ?? "") + "; echo finished: " + (outcome.result(String.self) ?? "\(outcome)")
    }
    return []
}


/// The progress bar's iteration budget is the levels the engine really runs: on a 2-D image the
/// default preset drops levels under 32 pixels across and runs more full-resolution iterations
/// (review finding: the budget showed the 3-D plan, e.g. "iteration 12/5").
@Suite("Live registration budget on 2-D images")
struct LiveRegistrationBudget2DTests {
    @Test func budgetCountsTheLevelsAsRun() {
        let g = VolumeGeometry(size: [60, 70, 1], spacing: [2, 2, 2], origin: [-60, -70, 0])
        var v = Volume(geometry: g), m = Volume(geometry: g)
        for j in 0..<70 { for i in 0..<60 {
            v[i, j, 0] = Float((i - 30) * (i - 30) + (j - 35) * (j - 35) < 300 ? 1000 : 100)
            m[i, j, 0] = Float((i - 32) * (i - 32) + (j - 35) * (j - 35) < 300 ? 1000 : 100)
        } }
        var doc = WorkbenchDocument(imagePath: "/data/slice.nii.gz", image: v)
        doc.setMoving(m, path: "/data/moving_slice.nii.gz", labels: nil, labelsPath: nil)
        var state = WorkbenchState(document: doc, size: TerminalSize(columns: 100, rows: 30))
        _ = reduce(&state, .startRegistration)
        let plan = LiveRegistration.plan(.default)
        let deformable = plan.stages.firstIndex { $0.kind == .deformable }!
        let planned = plan.stages[deformable].levels
        let budget = state.registration!.budget
        // The 3-D plan's shrink-4 level (15 × 18 pixels here) is not run, so the budget is shorter,
        // and its full-resolution level has the 2-D minimum.
        #expect(budget[deformable].count < planned.count)
        #expect(budget[deformable].last == SingleSliceSettings.defaultPreset.minimumFullResolutionIterations)
        #expect(budget == plan.stages.map { $0.levelsAsRun(on: g).map(\.iterations) })
    }
}
