import ArgumentParser
import Foundation
import VoxtermModel

/// `voxterm bench segment PROTOCOL`: runs the few-shot protocol of `bench/fewshot` and writes
/// predictions that its `score.py` scores, with `seconds.json` per method.
struct BenchSegment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Run a few-shot protocol file (bench/fewshot format) and write predictions for score.py.")

    @Argument(help: "Protocol JSON (paths inside are relative to its folder).") var protocolFile: String
    @Option(help: "Output folder; one subfolder per method.") var out: String
    @Option(help: "Settings to run: A, B or AB.") var settings: String = "AB"
    @Option(help: "Registration preset for setting A.") var preset: String = "default"
    @Option(help: "Run at most this many queries per setting (0 = all).") var maxQueries: Int = 0
    @Option(name: .customLong("slice-path"), help: "Setting B: chained or direct.") var slicePath: String = "chained"
    @Option(name: .customLong("slice-fusion"), help: "Setting B fusion methods of --slice-method registration, comma-separated (majority, weighted).")
    var sliceFusion: String = "majority"
    @Option(name: .customLong("slice-method"), help: "Setting B methods, comma-separated: fused (image and shape evidence; the default), shape, registration.")
    var sliceMethod: String = "fused"
    @Option(name: .customLong("registration-weight"), help: "Setting B, fused: share of the registered evidence (0...1); comma-separated to compare several.")
    var registrationWeight: String = "0.6"
    @Option(name: .customLong("slice-aligner"), help: "Setting B registration between slices: demons (fast 2-D demons; the default) or engine.")
    var sliceAligner: String = "demons"
    @Flag(name: .customLong("no-image-agreement"), help: "Setting B, fused: weight the bracketing slices by distance only.")
    var noImageAgreement = false

    struct ProtocolFile: Decodable {
        struct Support: Decodable { var id: String; var image: String; var labels: String }
        struct AQuery: Decodable { var id: String; var file: String; var query: String; var k: Int; var query_image: String; var supports: [Support] }
        struct BQuery: Decodable { var id: String; var file: String; var N: Int; var axis: Int; var image: String; var truth_labels: String; var labelled_slices: [Int] }
        struct A: Decodable { var queries: [AQuery] }
        struct B: Decodable { var queries: [BQuery] }
        var A: A?
        var B: B?
    }

    func run() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: protocolFile))
        let proto = try JSONDecoder().decode(ProtocolFile.self, from: data)
        let root = FileIO.directoryName(protocolFile)
        func path(_ p: String) -> String { p.hasPrefix("/") ? p : "\(root)/\(p)" }
        guard let presetValue = RegistrationPlan.Preset(rawValue: preset) else { throw ValidationError("--preset must be fast, default or accurate") }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)

        if settings.contains("A"), let a = proto.A {
            let aligner = EngineAligner.volumes(presetValue)
            var fieldCache: [String: (VectorField, Double)] = [:]
            var seconds: [FusionMethod: [String: Double]] = [:]
            var queries = a.queries
            if maxQueries > 0 { queries = Array(queries.prefix(maxQueries * 3)) }
            for q in queries {
                let query = try NIfTIReader.read(path(q.query_image)).volume()
                var mapped: [MappedSupport] = []
                var regSeconds = 0.0
                for s in q.supports.prefix(q.k) {
                    let img = try NIfTIReader.read(path(s.image)).volume()
                    let lab = try NIfTIReader.read(path(s.labels)).labelVolume()
                    let key = "\(q.query_image)|\(s.image)"
                    if fieldCache[key] == nil {
                        let t0 = now()
                        let f = try aligner.align(fixed: query, moving: img, isCancelled: { false })
                        fieldCache[key] = (f, now() - t0)
                    }
                    regSeconds += fieldCache[key]!.1
                    mapped.append(MappedSupport(image: img, labels: lab, field: fieldCache[key]!.0))
                }
                for method in FusionMethod.allCases {
                    let t0 = now()
                    let p = fuseLabels(query: query, supports: mapped, options: FusionOptions(method: method))
                    let dir = "\(out)/voxterm_\(method.rawValue)"
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                    try NIfTIWriter.write(p.labels, to: "\(dir)/\(q.file)")
                    seconds[method, default: [:]][q.id] = regSeconds + now() - t0
                    print("\(q.id) \(method.rawValue): \(String(format: "%.1f", regSeconds + now() - t0)) s")
                }
            }
            for (m, s) in seconds { try writeSeconds(s, "\(out)/voxterm_\(m.rawValue)/seconds.json") }
        }
        if settings.contains("B"), let b = proto.B {
            var queries = b.queries
            if maxQueries > 0 { queries = Array(queries.prefix(maxQueries)) }
            print("setting B: only slices strictly between the first and the last labelled slice are filled and scored (score.py scores the protocol's target slices, which are exactly those)")
            // One run per (method, fusion) variant; fusion matters for the registration-only method.
            var variants: [(SliceFillMethod, FusionMethod, String)] = []
            for m in sliceMethod.split(separator: ",").compactMap({ SliceFillMethod(rawValue: String($0)) }) {
                if m == .registration {
                    for f in sliceFusion.split(separator: ",").compactMap({ FusionMethod(rawValue: String($0)) }) {
                        variants.append((m, f, "voxterm_slices_\(slicePath)_\(f.rawValue)"))
                    }
                } else {
                    variants.append((m, .majority, "voxterm_slices_\(m.rawValue)"))
                }
            }
            let sliceAlign: PairwiseAligner = sliceAligner == "engine" ? EngineAligner.slices() : SliceDemonsAligner()
            let weights = registrationWeight.split(separator: ",").compactMap { Float(String($0)) }
            var seconds: [String: [String: Double]] = [:]
            var chains: [String: (NeighbourChain, Double)] = [:]
            for q in queries {
                let volume = try NIfTIReader.read(path(q.image)).volume()
                let truth = try NIfTIReader.read(path(q.truth_labels)).labelVolume()
                let plane: SupportPlane = q.axis == 0 ? .sagittal : (q.axis == 1 ? .coronal : .axial)
                let selection = SliceSelection(plane: plane, indices: q.labelled_slices)
                // Neighbour registrations depend on the image only: one chain per volume, its time counted in full for every query.
                let span = queries.filter { $0.image == q.image }.flatMap { $0.labelled_slices }
                if chains[q.image] == nil, SlicePath(rawValue: slicePath) == .chained, variants.contains(where: { $0.0 != .shape }),
                   let lo = span.min(), let hi = span.max() {
                    let t0 = now()
                    let c = try NeighbourChain(volume: volume, axis: q.axis, range: lo...hi, aligner: sliceAlign)
                    chains[q.image] = (c, now() - t0)
                }
                for (method, fusion, baseName) in variants {
                    for w in (method == .fused ? weights : [0.5]) {
                        let name = method == .fused && weights.count > 1 ? "\(baseName)_w\(w)" : baseName
                        let t0 = now()
                        let chain = method == .shape ? nil : chains[q.image]
                        let p = try SlicePropagator(aligner: sliceAlign, fusion: fusion, path: SlicePath(rawValue: slicePath) ?? .chained,
                                                    method: method, registrationWeight: w, imageAgreement: !noImageAgreement)
                            .predict(volume: volume, labels: truth, selection: selection, targets: nil, chain: chain?.0,
                                     progress: { _ in }, isCancelled: { false })
                        let dt = now() - t0 + (chain?.1 ?? 0)
                        let dir = "\(out)/\(name)"
                        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                        try NIfTIWriter.write(p.labels, to: "\(dir)/\(q.file)")
                        seconds[name, default: [:]][q.id] = dt
                        let dice = meanDice(diceOnUnlabelledSlices(p.labels, truth, selection))
                        print("\(q.id) \(name): Dice \(String(format: "%.3f", dice)) in \(String(format: "%.1f", dt)) s (registrations \(String(format: "%.1f", chain?.1 ?? 0)) s)")
                        fflush(stdout)
                    }
                }
            }
            for (m, s) in seconds { try writeSeconds(s, "\(out)/\(m)/seconds.json") }
        }
    }

    func writeSeconds(_ s: [String: Double], _ file: String) throws {
        let data = try JSONSerialization.data(withJSONObject: s, options: [.prettyPrinted, .sortedKeys])
        try FileIO.writeAtomically(file, Array(data))
    }
}
