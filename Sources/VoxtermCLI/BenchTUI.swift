import ArgumentParser
import Foundation
import VoxtermModel
import Terminal
import Workbench

/// `voxterm bench tui [IMAGE]`: full redraw time and bytes per slice change of the workbench.
struct BenchTUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tui",
        abstract: "Time a full workbench redraw after a slice change (in-process) and count the bytes sent.",
        discussion: """
        Opens IMAGE (default: the bundled sample with its labels) in a recorded terminal of the given \
        size, then repeatedly presses PgUp: each step renders a slice not seen before (no cache hit), \
        builds the cell grid and encodes the changed cells. Reports the median time and bytes per step.
        """)

    @Argument(help: "NIfTI image. Default: the bundled sample (with its labels).")
    var image: String?

    @Option(help: "Terminal width in cells.") var columns = 200
    @Option(help: "Terminal height in cells.") var rows = 60
    @Option(help: "Slice changes to time.") var steps = 30
    @Option(help: "Colour depth: truecolor, 256, 16 or mono.") var color: ColorDepth = .trueColor
    @Flag(help: "Time the three-view layout instead of one view.") var ortho = false
    @Flag(help: "Key-to-frame latency while a live registration runs in the background (see --moving).") var live = false
    @Option(help: "--live: moving image (default: the bundled subject01_2mm, fixed colin27_2mm).") var moving: String?
    @Option(help: "--live: labels of the moving image.") var movingLabels: String?
    @OptionGroup var presetOption: PresetOption
    @Option(help: "--live: milliseconds between simulated keys.") var keyInterval = 50
    @Option(help: "--live: nice value of the registration thread (0-19).") var nice: Int32 = 10
    @Option(help: "--live: threads of the registration's parallel loops (default: cores - 1, at least 1).") var jobThreads: Int?
    @Option(help: "Worker threads of hot loops (default: all cores).") var threads: Int?
    @Flag(help: "--live: also time the same registration alone (no UI), for comparison.") var standalone = false
    @Option(help: "Picture drawing: blocks (half blocks), symbols (libchafa), sixel, kitty (PNG), kitty-raw (libchafa's raw RGBA), or all (a table of the five).") var graphics: BenchGraphics = .blocks
    @Option(help: "Sixel/kitty: screen pixels per cell, WxH.", transform: BenchGraphics.cellPixels) var cellPixels = SIMD2(10, 20)
    @Flag(help: "Brush step to frame while painting labels (keys and mouse drags), on the 1 mm sample by default.") var paint = false
    @Option(help: "--paint: resample the image onto an N³ grid first (256 = 16.8 M voxels).") var paintSize: Int?
    @Flag(help: "--paint: with the statistics panel (T) shown, which follows every brush step.") var stats = false

    func run() throws {
        if let threads { voxtermThreadCount = max(1, threads) }
        if live { return try runLive() }
        if graphics != .blocks { return try runGraphics() }
        if paint { return try runPaint() }
        let depth = color
        let (path, doc) = try benchDocument(sampleResolution: "2mm")
        let size = TerminalSize(columns: columns, rows: rows)
        let caps = TerminalCapabilities(colorDepth: depth, unicode: true)
        let terminal = RecordingTerminal(size: size, capabilities: caps)
        var state = WorkbenchState(document: doc, size: size, capabilities: caps)
        state.layout = ortho ? .ortho : .single
        let cache = SliceCache()
        // Start low so every step goes to a new slice.
        state.cursor[state.mapping(state.plane).sliceAxis] = 0
        terminal.present(WorkbenchView.render(state, cache: cache))
        var times: [Double] = [], bytes: [Int] = [], changed: [Int] = []
        let n = min(max(1, steps), state.mapping(state.plane).sliceCount - 1)
        for _ in 0..<n {
            let before = terminal.screen!
            let t0 = monotonicSeconds()
            _ = reduce(&state, .changeSlice(1))
            let grid = WorkbenchView.render(state, cache: cache)
            let b = terminal.present(grid)
            times.append(monotonicSeconds() - t0)
            bytes.append(b)
            changed.append(grid.changedCellCount(from: before))
        }
        let mb = median(bytes.map(Double.init)), mc = median(changed.map(Double.init))
        print("voxterm bench tui \(path): \(columns)x\(rows) cells, \(depth.rawValue), \(ortho ? "3 views" : "1 view"), \(n) slice changes")
        print(String(format: "  full redraw after a slice change: median %.2f ms (min %.2f, max %.2f)",
                     median(times) * 1000, times.min()! * 1000, times.max()! * 1000))
        print(String(format: "  bytes written per slice change: median %.0f (%.0f of %d cells changed); an unchanged frame writes %d",
                     mb, mc, columns * rows, terminal.present(terminal.screen!)))
    }
}

/// A terminal that types keys at a steady pace and measures, for each key, the time from its
/// arrival to the next frame presented (key→frame latency). Waits honour the loop's timeouts
/// like curses does, so the run loop behaves as with a real terminal.
final class PacedTerminal: TerminalDevice {
    let size: TerminalSize
    let capabilities: TerminalCapabilities
    private var encoder: ScreenEncoder
    private let keys: [Key]
    private let interval: Double
    private var sent = 0
    private var nextKeyTime: Double
    private var waitingSince: Double?
    /// Seconds from each key's arrival to the frame that showed it.
    private(set) var latencies: [Double] = []
    /// The key each latency belongs to.
    private(set) var latencyKeys: [Key] = []
    private var waitingKey: Key?
    private(set) var frames = 0
    /// Checked before each key: true sends `q` instead.
    var finished: () -> Bool = { false }
    private var quitSent = false

    init(size: TerminalSize, capabilities: TerminalCapabilities, first: [Key], cycle: [Key], count: Int, interval: Double) {
        self.size = size; self.capabilities = capabilities
        encoder = ScreenEncoder(capabilities: capabilities)
        keys = first + (0..<max(0, count)).map { cycle[$0 % cycle.count] }
        self.interval = interval
        nextKeyTime = monotonicSeconds() + interval
    }

    @discardableResult func present(_ grid: CellGrid) -> Int {
        let n = encoder.encode(grid).count
        frames += 1
        if let t = waitingSince {
            latencies.append(monotonicSeconds() - t); waitingSince = nil
            latencyKeys.append(waitingKey ?? .character("?"))
        }
        return n
    }

    func nextEvent(timeoutMilliseconds: Int?) -> InputEvent? {
        if quitSent { return .closed }
        let t = monotonicSeconds()
        let deadline = timeoutMilliseconds.map { t + Double($0) / 1000 } ?? .infinity
        if nextKeyTime > deadline {
            if deadline > t { Thread.sleep(forTimeInterval: deadline - t) }
            return nil
        }
        if nextKeyTime > t { Thread.sleep(forTimeInterval: nextKeyTime - t) }
        let arrival = nextKeyTime
        nextKeyTime += interval
        // A key not yet shown (the loop was busy) is measured from the first one waiting.
        if waitingSince == nil { waitingSince = arrival }
        if sent >= keys.count || (sent > 0 && finished()) {
            quitSent = true
            return .key(.character("q"))
        }
        sent += 1
        if waitingSince == arrival { waitingKey = keys[sent - 1] }
        return .key(keys[sent - 1])
    }
}

extension BenchTUI {
    /// `--live`: G, then a key every `keyInterval` ms until the registration has finished; the
    /// same number of keys again with nothing running as the baseline.
    func runLive() throws {
        let p = presetOption.preset
        var path = image, labels: String? = nil, names: String? = nil, movingPath = moving, movingLabelsPath = movingLabels
        if path == nil || movingPath == nil {
            guard let dir = SampleLocator.find() else {
                printError(WorkbenchError(path: "Samples", reason: "bundled sample not found; pass IMAGE and --moving"))
                throw ExitCode(ExitCodes.badInput)
            }
            if path == nil { path = dir + "/colin27_2mm.nii.gz"; labels = dir + "/colin27_2mm_aal.nii.gz"; names = dir + "/aal.txt" }
            if movingPath == nil { movingPath = dir + "/subject01_2mm.nii.gz"; movingLabelsPath = dir + "/subject01_2mm_aal.nii.gz" }
        }
        let depth = color
        let doc: WorkbenchDocument
        do {
            doc = try WorkbenchDocument.load(image: path!, labels: labels, labelNames: names, moving: movingPath,
                                             movingLabels: movingLabelsPath)
        } catch {
            printError(error)
            throw ExitCode(ExitCodes.badInput)
        }
        let size = TerminalSize(columns: columns, rows: rows)
        let caps = TerminalCapabilities(colorDepth: depth, unicode: true)
        // Slice changes both ways, crosshair moves, compare and field display modes.
        let cycle: [Key] = [.pageUp, .pageUp, .character("l"), .character("f"), .pageDown, .character("k"), .character("b"),
                            .pageDown, .character("h"), .character("j")]
        func session(registering: Bool, keys: Int) -> (PacedTerminal, WorkbenchState, Double) {
            var state = WorkbenchState(document: doc, size: size, capabilities: caps)
            state.layout = ortho ? .ortho : .single
            state.registration?.preset = p
            let jobs = JobRunner(niceness: nice, jobThreads: jobThreads)
            let terminal = PacedTerminal(size: size, capabilities: caps, first: registering ? [.character("G")] : [],
                                         cycle: cycle, count: keys, interval: Double(keyInterval) / 1000)
            if registering { terminal.finished = { jobs.jobsStarted > 0 && !jobs.isBusy } }
            let t0 = monotonicSeconds()
            WorkbenchApp.run(&state, terminal: terminal, cache: SliceCache(), jobs: jobs) { _, _ in "" }
            return (terminal, state, monotonicSeconds() - t0)
        }
        func report(_ name: String, _ t: PacedTerminal) {
            let l = t.latencies.sorted()
            guard !l.isEmpty else { print("  \(name): no keys"); return }
            let p95 = l[min(l.count - 1, Int((Double(l.count) * 0.95).rounded(.up)) - 1)]
            let over = l.filter { $0 > 0.05 }.count
            print(String(format: "  %@: %d keys, key→frame median %.1f ms, p95 %.1f ms, max %.1f ms; %d over 50 ms; %d frames",
                         name, l.count, median(l) * 1000, p95 * 1000, l.last! * 1000, over, t.frames))
            let worst = zip(t.latencies, t.latencyKeys).sorted { $0.0 > $1.0 }.prefix(5)
            print("    slowest: " + worst.map { String(format: "%@ %.0f ms", $0.1.description, $0.0 * 1000) }.joined(separator: ", "))
        }
        print("voxterm bench tui --live: \(path!) ← \(movingPath!), \(p.rawValue) preset, \(columns)x\(rows) cells, "
              + "\(depth.rawValue), \(ortho ? "3 views" : "1 view"), a key every \(keyInterval) ms, \(voxtermThreadCount) threads, "
              + "registration at nice \(nice) on \(JobRunner(jobThreads: jobThreads).jobThreads) thread(s)")
        let (busy, state, wall) = session(registering: true, keys: 100_000)
        guard let r = state.registration, r.phase == .finished, let summary = r.summary else {
            print("  registration did not finish: \(state.message ?? "")")
            throw ExitCode.failure
        }
        print(String(format: "  registration in the background: %.1f s (engine), %.1f s wall until the summary; %d previews; %@",
                     summary.seconds, wall, r.previews, summary.text))
        report("while registering", busy)
        // What a preview costs the UI thread: the first redraw after the volumes change, per compare mode.
        var costs: [String] = []
        for mode in CompareMode.allCases {
            var s = state
            s.compareMode = mode
            s.flickerShowsCompare = false
            let cache = SliceCache()
            _ = WorkbenchView.render(s, cache: cache)
            var times: [Double] = []
            for _ in 0..<5 {
                s.document.revision += 1
                let t0 = monotonicSeconds()
                _ = WorkbenchView.render(s, cache: cache)
                times.append(monotonicSeconds() - t0)
            }
            costs.append(String(format: "%@ %.1f ms", mode.rawValue, median(times) * 1000))
        }
        print("  first redraw after a preview (median of 5): " + costs.joined(separator: ", "))
        let (idle, _, _) = session(registering: false, keys: busy.latencies.count)
        report("idle (same keys)", idle)
        if standalone {
            let t0 = monotonicSeconds()
            _ = try Registration.register(fixed: doc.image, moving: doc.moving!, plan: LiveRegistration.plan(p))
            print(String(format: "  the same registration alone (no UI, normal priority, %d threads): %.1f s", voxtermThreadCount, monotonicSeconds() - t0))
        }
    }
}

extension BenchTUI {
    /// IMAGE (with no labels), or the bundled Colin27 sample at `sampleResolution` ("1mm"/"2mm")
    /// with its AAL labels and names; a missing sample or an unreadable file exits 2.
    func benchDocument(sampleResolution: String) throws -> (path: String, document: WorkbenchDocument) {
        var path = image, labels: String? = nil, names: String? = nil
        if path == nil {
            guard let dir = SampleLocator.find() else {
                printError(WorkbenchError(path: "Samples", reason: "bundled sample not found; pass IMAGE"))
                throw ExitCode(ExitCodes.badInput)
            }
            path = dir + "/colin27_\(sampleResolution).nii.gz"; labels = dir + "/colin27_\(sampleResolution)_aal.nii.gz"
            names = dir + "/aal.txt"
        }
        do { return (path!, try WorkbenchDocument.load(image: path!, labels: labels, labelNames: names)) } catch {
            printError(error)
            throw ExitCode(ExitCodes.badInput)
        }
    }
}
