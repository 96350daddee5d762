import ArgumentParser
import Foundation
import VoxtermModel

/// `bench segment --settings`: which of the protocol's settings run.
enum BenchSettings: String, CaseIterable, ExpressibleByArgument {
    case A, B, AB
    /// Case-insensitive (`ab` works).
    init?(argument: String) { self.init(rawValue: argument.uppercased()) }
    var runsA: Bool { self != .B }
    var runsB: Bool { self != .A }
}

/// `bench segment --slice-aligner`: the registration between neighbouring slices.
enum BenchSliceAligner: String, CaseIterable, ExpressibleByArgument {
    /// Fast 2-D demons (`SliceDemonsAligner`).
    case demons
    /// The volume engine on 2-D slices (`EngineAligner.slices`).
    case engine
}

/// `--registration-weight 0.4,0.6`: shares in 0...1.
func weightList(_ text: String) throws -> [Float] {
    let values = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ $0.map(SlicePropagator.registrationWeights.contains) ?? false }) else {
        throw ValidationError("expected numbers in 0...1, comma-separated")
    }
    return values.map { $0! }
}

/// `voxterm bench segment PROTOCOL`: runs the few-shot protocol of `bench/fewshot` and writes
/// predictions that its `score.py` scores, with `seconds.json` per method.
struct BenchSegment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Run a few-shot protocol file (bench/fewshot format) and write predictions for score.py.")

    @Argument(help: "Protocol JSON (paths inside are relative to its folder).") var protocolFile: String
    @Option(help: "Output folder; one subfolder per method.") var out: String
    @Option(help: "Settings to run: A, B or AB.") var settings: BenchSettings = .AB
    @OptionGroup var presetOption: PresetOption
    @Option(help: "Run at most this many queries per setting (0 = all).") var maxQueries: Int = 0
    @Option(name: .customLong("slice-path"), help: "Setting B: chained or direct.") var slicePath: SlicePath = SlicePropagator.standard.path
    @Option(name: .customLong("slice-fusion"), help: "Setting B fusion methods of --slice-method registration, comma-separated (majority, weighted).",
            transform: commaSeparated)
    var sliceFusion: [FusionMethod] = [SlicePropagator.standard.fusion]
    @Option(name: .customLong("slice-method"), help: "Setting B methods, comma-separated: fused (image and shape evidence; the default), shape, registration.",
            transform: commaSeparated)
    var sliceMethod: [SliceFillMethod] = [SlicePropagator.standard.method]
    @Option(name: .customLong("registration-weight"), help: "Setting B, fused: share of the registered evidence (0...1); comma-separated to compare several (default: automatic, by the gap between labelled slices).",
            transform: weightList)
    var registrationWeight: [Float] = []
    @Option(name: .customLong("slice-aligner"), help: "Setting B registration between slices: demons (fast 2-D demons; the default) or engine.")
    var sliceAligner: BenchSliceAligner = .demons
    @Flag(name: .customLong("whole-process"), help: "Run each query as its own `voxterm segment` process with its defaults and time it (loading and writing included); predictions in voxterm_cli/ and voxterm_cli_slices/.")
    var wholeProcess = false
    @Option(name: .customLong("annotator-steps"), help: "Setting B: also simulate an annotator adding this many truth slices (suggested vs middle of the largest gap), in this process (with --whole-process: after the timed runs, with voxterm segment's default filler).")
    var annotatorSteps: Int = 0
    @Flag(name: .customLong("no-image-agreement"), help: "Setting B, fused: weight the bracketing slices by distance only.")
    var noImageAgreement = false

    struct ProtocolFile: Decodable {
        struct Support: Decodable { var id: String; var image: String; var labels: String }
        struct AQuery: Decodable { var id: String; var file: String; var query: String; var k: Int; var query_image: String; var truth_labels: String?; var supports: [Support] }
        struct BQuery: Decodable { var id: String; var file: String; var N: Int; var axis: Int; var image: String; var truth_labels: String; var labelled_slices: [Int] }
        struct A: Decodable { var queries: [AQuery] }
        struct B: Decodable { var queries: [BQuery] }
        var A: A?
        var B: B?
    }

    /// Combinations that would do nothing are refused (exit 64) rather than ignored.
    func validate() throws {
        if annotatorSteps < 0 {
            throw ValidationError("--annotator-steps \(annotatorSteps): give the number of extra truth slices, 0 or more")
        }
        if annotatorSteps > 0 && !settings.runsB {
            throw ValidationError("--annotator-steps simulates an annotator on setting B, which --settings \(settings.rawValue) does not run (use --settings B or AB)")
        }
        if wholeProcess {
            // `voxterm segment` runs with its own defaults: the in-process filler's knobs would be ignored.
            var ignored: [String] = []
            if slicePath != .chained { ignored.append("--slice-path") }
            if sliceFusion != [.majority] { ignored.append("--slice-fusion") }
            if sliceMethod != [.fused] { ignored.append("--slice-method") }
            if !registrationWeight.isEmpty { ignored.append("--registration-weight") }
            if sliceAligner != .demons { ignored.append("--slice-aligner") }
            if noImageAgreement { ignored.append("--no-image-agreement") }
            if !ignored.isEmpty {
                throw ValidationError("\(ignored.joined(separator: ", ")) tune the in-process filler; --whole-process times voxterm segment with its defaults: drop one or the other")
            }
        }
    }

    func run() throws {
        do { try runProtocol() } catch { throw ExitCodes.fail(error) }
    }

    func runProtocol() throws {
        guard FileIO.exists(protocolFile) else { throw CommandFailure("\(protocolFile): no such file") }
        let proto: ProtocolFile
        do {
            proto = try JSONDecoder().decode(ProtocolFile.self, from: Data(contentsOf: URL(fileURLWithPath: protocolFile)))
        } catch {
            throw CommandFailure("\(protocolFile): not a bench/fewshot protocol (\(error))")
        }
        // Predictions are written as OUT/<method>/<file>: a `file` with a folder in it could name
        // any file (the query's own truth), so only plain names are accepted.
        for (id, file) in (proto.A?.queries.map { ($0.id, $0.file) } ?? []) + (proto.B?.queries.map { ($0.id, $0.file) } ?? [])
        where file.isEmpty || file.contains("/") || file == "." || file == ".." {
            throw CommandFailure("\(protocolFile): query \(id) has file '\(file)'; prediction files must be plain names (they go into --out)")
        }
        // A requested setting the protocol lacks would run nothing: say so before any output.
        let hasA = !(proto.A?.queries.isEmpty ?? true), hasB = !(proto.B?.queries.isEmpty ?? true)
        if annotatorSteps > 0 && !hasB {
            throw CommandFailure("\(protocolFile): has no setting B queries, which --annotator-steps needs")
        }
        if !(settings.runsA && hasA) && !(settings.runsB && hasB) {
            throw CommandFailure("\(protocolFile): has no setting \(settings == .AB ? "A or B" : settings.rawValue) queries")
        }
        print("load average at start: \(loadAverage())")
        defer { print("load average at end: \(loadAverage())") }
        let root = FileIO.directoryName(protocolFile)
        func path(_ p: String) -> String { p.hasPrefix("/") ? p : "\(root)/\(p)" }
        let presetValue = presetOption.preset
        try FileIO.createFolders(out, for: "--out")

        if wholeProcess {
            try runWholeProcess(proto, path)
            return
        }
        if settings.runsA, let a = proto.A {
            let aligner = EngineAligner.volumes(presetValue)
            var fieldCache: [String: (VectorField, Double)] = [:]
            var seconds: [FusionMethod: [String: Double]] = [:]
            var queries = a.queries
            if maxQueries > 0 { queries = Array(queries.prefix(maxQueries * 3)) }
            for q in queries {
                let query = try ImageFile.read(path(q.query_image)).volume()
                var mapped: [MappedSupport] = []
                var regSeconds = 0.0
                for s in q.supports.prefix(q.k) {
                    let img = try ImageFile.read(path(s.image)).volume()
                    let lab = try ImageFile.read(path(s.labels)).labelVolume()
                    let key = "\(q.query_image)|\(s.image)"
                    if fieldCache[key] == nil {
                        let t0 = monotonicSeconds()
                        let f = try aligner.align(fixed: query, moving: img, isCancelled: { false })
                        fieldCache[key] = (f, monotonicSeconds() - t0)
                    }
                    regSeconds += fieldCache[key]!.1
                    mapped.append(MappedSupport(image: img, labels: lab, field: fieldCache[key]!.0))
                }
                for method in FusionMethod.allCases {
                    let t0 = monotonicSeconds()
                    let p = fuseLabels(query: query, supports: mapped, options: FusionOptions(method: method))
                    let dir = "\(out)/voxterm_\(method.rawValue)"
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                    try ImageFile.write(p.labels, to: "\(dir)/\(q.file)")
                    seconds[method, default: [:]][q.id] = regSeconds + monotonicSeconds() - t0
                    print("\(q.id) \(method.rawValue): \(String(format: "%.1f", regSeconds + monotonicSeconds() - t0)) s")
                }
            }
            for (m, s) in seconds { try writeSeconds(s, "\(out)/voxterm_\(m.rawValue)/seconds.json") }
        }
        if settings.runsB, let b = proto.B {
            var queries = b.queries
            if maxQueries > 0 { queries = Array(queries.prefix(maxQueries)) }
            print("setting B: only slices strictly between the first and the last labelled slice are filled and scored (score.py scores the protocol's target slices, which are exactly those)")
            // One run per (method, fusion) variant; fusion matters for the registration-only method.
            var variants: [(SliceFillMethod, FusionMethod, String)] = []
            for m in sliceMethod {
                if m == .registration {
                    for f in sliceFusion {
                        variants.append((m, f, "voxterm_slices_\(slicePath.rawValue)_\(f.rawValue)"))
                    }
                } else {
                    variants.append((m, .majority, "voxterm_slices_\(m.rawValue)"))
                }
            }
            // Without tuning options every variant is `SlicePropagator.standard`, what `voxterm segment` and the workbench run.
            let sliceAlign: PairwiseAligner = sliceAligner == .engine ? EngineAligner.slices() : SlicePropagator.standard.aligner
            let weights: [Float?] = registrationWeight.isEmpty ? [SlicePropagator.standard.registrationWeight] : registrationWeight
            func filler(method: SliceFillMethod, fusion: FusionMethod, path: SlicePath, registrationWeight: Float?) -> SlicePropagator {
                var p = SlicePropagator.standard
                p.aligner = sliceAlign; p.method = method; p.fusion = fusion; p.path = path
                p.registrationWeight = registrationWeight
                if noImageAgreement { p.imageAgreement = false }
                return p
            }
            var seconds: [String: [String: Double]] = [:]
            var chains: [String: (NeighbourChain, Double)] = [:]
            var annotator = AnnotatorCurve()
            for q in queries {
                let volume = try ImageFile.read(path(q.image)).volume()
                let truth = try ImageFile.read(path(q.truth_labels)).labelVolume()
                let plane = VoxelAxisPlane(axis: q.axis)
                let selection = SliceSelection(plane: plane, indices: q.labelled_slices)
                // Neighbour registrations depend on the image only: one chain per volume, its time counted in full for every query.
                let span = queries.filter { $0.image == q.image }.flatMap { $0.labelled_slices }
                if chains[q.image] == nil, slicePath == .chained, variants.contains(where: { $0.0 != .shape }),
                   let lo = span.min(), let hi = span.max() {
                    let t0 = monotonicSeconds()
                    let c = try NeighbourChain(volume: volume, axis: q.axis, range: lo...hi, aligner: sliceAlign)
                    chains[q.image] = (c, monotonicSeconds() - t0)
                }
                if annotatorSteps > 0 {
                    let propagator = filler(method: .fused, fusion: SlicePropagator.standard.fusion, path: SlicePropagator.standard.path,
                                            registrationWeight: weights.first ?? nil)
                    try annotator.simulate(q, volume: volume, truth: truth, selection: selection, propagator: propagator, steps: annotatorSteps)
                }
                for (method, fusion, baseName) in variants {
                    for w in (method == .fused ? weights : [Float?(0.5)]) {
                        let name = method == .fused && weights.count > 1 ? "\(baseName)_w\(w.map { "\($0)" } ?? "auto")" : baseName
                        let t0 = monotonicSeconds()
                        let chain = method == .shape ? nil : chains[q.image]
                        let p = try filler(method: method, fusion: fusion, path: slicePath, registrationWeight: w)
                            .predict(volume: volume, labels: truth, selection: selection, targets: nil, chain: chain?.0,
                                     progress: { _ in }, isCancelled: { false })
                        let dt = monotonicSeconds() - t0 + (chain?.1 ?? 0)
                        let dir = "\(out)/\(name)"
                        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                        try ImageFile.write(p.labels, to: "\(dir)/\(q.file)")
                        seconds[name, default: [:]][q.id] = dt
                        let dice = meanDice(diceOnUnlabelledSlices(p.labels, truth, selection))
                        print("\(q.id) \(name): Dice \(String(format: "%.3f", dice)) in \(String(format: "%.1f", dt)) s (registrations \(String(format: "%.1f", chain?.1 ?? 0)) s)")
                        StandardOutput.flush()
                    }
                }
            }
            for (m, s) in seconds { try writeSeconds(s, "\(out)/\(m)/seconds.json") }
            if annotatorSteps > 0 { annotator.printTable(steps: annotatorSteps) }
        }
    }

    /// Every query as its own `voxterm segment` process, timed from spawn to exit.
    func runWholeProcess(_ proto: ProtocolFile, _ path: (String) -> String) throws {
        // Ctrl-C / SIGTERM / SIGHUP: exit within a second, and the `voxterm segment` child under way
        // stopped too (ExitCleanup; a SIGTERM to the bench alone used to leave it running).
        let signals = SignalCancellation()
        defer { signals.stop() }
        let exe = FileIO.realPath(CommandLine.arguments[0]) ?? CommandLine.arguments[0]
        if settings.runsA, let a = proto.A {
            var queries = a.queries
            if maxQueries > 0 { queries = Array(queries.prefix(maxQueries * 3)) }
            let dir = "\(out)/voxterm_cli"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var seconds: [String: Double] = [:]
            for q in queries {
                var args = ["segment", path(q.query_image), "--out", "\(dir)/\(q.file)", "--force", "--quiet", "--preset", presetOption.preset.rawValue]
                for s in q.supports.prefix(q.k) { args += ["--support", "\(path(s.image)):\(path(s.labels))"] }
                let t = try ImageFile.read(path(q.truth_labels ?? "")).labelVolume()
                seconds[q.id] = try timedSegment(exe, args, query: q.id, output: "\(dir)/\(q.file)") { diceScores(prediction: $0, truth: t) }
                if signals.isCancelled { throw SegmentationError.cancelled }
            }
            try writeSeconds(seconds, "\(dir)/seconds.json")
        }
        if settings.runsB, let b = proto.B {
            print("setting B: only slices strictly between the first and the last labelled slice are filled and scored")
            var queries = b.queries
            if maxQueries > 0 { queries = Array(queries.prefix(maxQueries)) }
            let dir = "\(out)/voxterm_cli_slices", inputs = "\(out)/inputs"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: inputs, withIntermediateDirectories: true)
            var seconds: [String: Double] = [:]
            for q in queries {
                let truth = try ImageFile.read(path(q.truth_labels)).labelVolume()
                let plane = VoxelAxisPlane(axis: q.axis)
                let selection = SliceSelection(plane: plane, indices: q.labelled_slices)
                // The sparse input (labels on the labelled slices only), written before the clock starts.
                var sparse = LabelVolume(geometry: truth.geometry)
                for s in selection.indices { for idx in SliceAccess.indices(truth.geometry, axis: q.axis, index: s) { sparse.labels[idx] = truth.labels[idx] } }
                let sparsePath = "\(inputs)/\(q.file)"
                try ImageFile.write(sparse, to: sparsePath, options: NIfTIWriter.Options(overwrite: true))
                let args = ["segment", path(q.image), "--labels", sparsePath, "--labelled-slices", selection.text,
                            "--out", "\(dir)/\(q.file)", "--force", "--quiet"]
                seconds[q.id] = try timedSegment(exe, args, query: q.id, output: "\(dir)/\(q.file)") {
                    diceOnUnlabelledSlices($0, truth, selection)
                }
                if signals.isCancelled { throw SegmentationError.cancelled }
            }
            try writeSeconds(seconds, "\(dir)/seconds.json")
            if annotatorSteps > 0 {
                // The annotator refills the volume several times: in this process, after (not inside) the timed runs,
                // with the filler `voxterm segment` runs by default (so +0 is the timed process's Dice).
                print("simulated annotator (in this process, not timed): voxterm segment's default filler, the truth slice as each new label")
                var annotator = AnnotatorCurve()
                for q in queries {
                    let volume = try ImageFile.read(path(q.image)).volume()
                    let truth = try ImageFile.read(path(q.truth_labels)).labelVolume()
                    let selection = SliceSelection(plane: VoxelAxisPlane(axis: q.axis), indices: q.labelled_slices)
                    try annotator.simulate(q, volume: volume, truth: truth, selection: selection,
                                           propagator: .standard, steps: annotatorSteps)
                }
                annotator.printTable(steps: annotatorSteps)
            }
        }
    }

    /// Setting B's simulated annotator: per query and strategy the Dice after 0...steps extra truth
    /// slices (`simulateAnnotator`), printed as it goes, then the mean per N as a table.
    struct AnnotatorCurve {
        var runs: [AnnotatorStrategy: [Int: [[Double]]]] = [:]

        mutating func simulate(_ q: ProtocolFile.BQuery, volume: Volume, truth: LabelVolume, selection: SliceSelection,
                               propagator: SlicePropagator, steps: Int) throws {
            for strategy in AnnotatorStrategy.allCases {
                let r = try simulateAnnotator(volume: volume, truth: truth, selection: selection, propagator: propagator,
                                              strategy: strategy, steps: steps)
                runs[strategy, default: [:]][q.N, default: []].append(r.dice)
                print("\(q.id) annotator \(strategy.rawValue): Dice " + r.dice.map { String(format: "%.3f", $0) }.joined(separator: " ")
                      + " (added slices " + r.added.map(String.init).joined(separator: ", ") + ")")
                StandardOutput.flush()
            }
        }

        /// Mean Dice per N and strategy; a run that stopped early (no slice left to add) counts its last value.
        func printTable(steps: Int) {
            print("\nsimulated annotator: mean Dice over the protocol's target slices after 0...\(steps) extra truth slices")
            print("| N | strategy | " + (0...steps).map { "+\($0)" }.joined(separator: " | ") + " |")
            print("|---|---|" + String(repeating: "---|", count: steps + 1))
            let ns = Set(runs.values.flatMap { $0.keys }).sorted()
            for n in ns {
                for strategy in AnnotatorStrategy.allCases {
                    guard let list = runs[strategy]?[n], !list.isEmpty else { continue }
                    let means = (0...steps).map { i in list.map { i < $0.count ? $0[i] : $0.last! }.reduce(0, +) / Double(list.count) }
                    print("| \(n) | \(strategy.rawValue) | " + means.map { String(format: "%.3f", $0) }.joined(separator: " | ") + " |")
                }
            }
            StandardOutput.flush()
        }
    }

    /// Runs `voxterm segment args` as its own process, prints the Dice of its `output` (`score`)
    /// with the wall and CPU seconds, and returns the wall seconds.
    func timedSegment(_ exe: String, _ args: [String], query: String, output: String,
                      score: (LabelVolume) -> [Int32: Double]) throws -> Double {
        let t0 = monotonicSeconds()
        let (status, message) = try spawnAndWait(exe, args)
        let dt = monotonicSeconds() - t0
        guard status == 0 else { throw childFailure(query: query, status: status, message: message) }
        let p = try ImageFile.read(output).labelVolume()
        print("\(query): Dice \(String(format: "%.3f", meanDice(score(p)))), whole process \(String(format: "%.1f", dt)) s wall, \(String(format: "%.1f", lastChildCPU)) s CPU")
        StandardOutput.flush()
        return dt
    }

    func writeSeconds(_ s: [String: Double], _ file: String) throws {
        let data = try JSONSerialization.data(withJSONObject: s, options: [.prettyPrinted, .sortedKeys])
        try FileIO.writeAtomically(file, Array(data))
    }
}

/// The 1-minute load average ("1.23"), or "?" when /proc/loadavg cannot be read.
func loadAverage() -> String {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "?" }
    return text.split(separator: " ").prefix(3).joined(separator: " ")
}

/// CPU seconds (user + system) of the last child `spawnAndWait` ran, and of all children so far.
nonisolated(unsafe) var lastChildCPU = 0.0
nonisolated(unsafe) var childCPUSoFar = 0.0

/// A failed `voxterm segment` child of `bench segment --whole-process` as this process's error:
/// one line naming the query and the child's own one-line reason (which names the file), with the
/// child's status when it is an output failure (3) or an interruption (130, or killed by SIGINT or
/// SIGTERM), and otherwise 2, an input's problem (README's table), never 64: the bench's command
/// line was fine, a protocol's file was not.
func childFailure(query: String, status: Int32, message: String) -> Error {
    let prefix = "voxterm: error: "
    var reason = message.split(separator: "\n").first.map(String.init) ?? ""
    if reason.hasPrefix(prefix) { reason.removeFirst(prefix.count) }
    if reason.isEmpty { reason = "no message" }
    let text = "\(query): voxterm segment exited with status \(status): \(reason)"
    switch status {
    case ExitCodes.interrupted, 128 + 15: return CommandFailure(text, status: ExitCodes.interrupted)
    case ExitCodes.writeFailed: return CommandFailure(text, status: ExitCodes.writeFailed)
    default: return CommandFailure(text)
    }
}

/// Runs `executable` with `arguments` (standard output discarded, standard error kept for the
/// message) and returns its exit status (128 + n when killed by signal n) and the first line of
/// its standard error. posix_spawn with a clean signal mask, as docs/decisions.md asks.
func spawnAndWait(_ executable: String, _ arguments: [String]) throws -> (status: Int32, message: String) {
    let result: Subprocess.Result
    do { result = try Subprocess.run(executable, arguments, standardOutput: .discard, standardError: .capture) }
    catch let e as Subprocess.LaunchError { throw CommandFailure(e.description) }
    let status = result.status
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
    let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    lastChildCPU = cpu - childCPUSoFar
    childCPUSoFar = cpu
    let line = result.standardError.split(separator: "\n").first { $0.contains("error") } ?? result.standardError.split(separator: "\n").first
    return (status, line.map(String.init) ?? "")
}
