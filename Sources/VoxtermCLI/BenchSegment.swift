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
    @OptionGroup var presetOption: PresetOption
    @Option(help: "Run at most this many queries per setting (0 = all).") var maxQueries: Int = 0
    @Option(name: .customLong("slice-path"), help: "Setting B: chained or direct.") var slicePath: String = "chained"
    @Option(name: .customLong("slice-fusion"), help: "Setting B fusion methods, comma-separated (majority, weighted).")
    var sliceFusion: String = "majority"

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
        let presetValue = presetOption.preset
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)

        if settings.contains("A"), let a = proto.A {
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
                    try NIfTIWriter.write(p.labels, to: "\(dir)/\(q.file)")
                    seconds[method, default: [:]][q.id] = regSeconds + monotonicSeconds() - t0
                    print("\(q.id) \(method.rawValue): \(String(format: "%.1f", regSeconds + monotonicSeconds() - t0)) s")
                }
            }
            for (m, s) in seconds { try writeSeconds(s, "\(out)/voxterm_\(m.rawValue)/seconds.json") }
        }
        if settings.contains("B"), let b = proto.B {
            var queries = b.queries
            if maxQueries > 0 { queries = Array(queries.prefix(maxQueries)) }
            var seconds: [FusionMethod: [String: Double]] = [:]
            for q in queries {
                let volume = try ImageFile.read(path(q.image)).volume()
                let truth = try ImageFile.read(path(q.truth_labels)).labelVolume()
                let plane = VoxelAxisPlane(axis: q.axis)
                for method in sliceFusion.split(separator: ",").compactMap({ FusionMethod(rawValue: String($0)) }) {
                    let t0 = monotonicSeconds()
                    let p = try SlicePropagator(aligner: EngineAligner.slices(), fusion: method, path: SlicePath(rawValue: slicePath) ?? .chained)
                        .predict(volume: volume, labels: truth, selection: SliceSelection(plane: plane, indices: q.labelled_slices))
                    let dt = monotonicSeconds() - t0
                    let dir = "\(out)/voxterm_slices_\(slicePath)_\(method.rawValue)"
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                    try NIfTIWriter.write(p.labels, to: "\(dir)/\(q.file)")
                    seconds[method, default: [:]][q.id] = dt
                    print("\(q.id) \(method.rawValue): \(String(format: "%.1f", dt)) s"); fflush(stdout)
                }
            }
            for (m, s) in seconds { try writeSeconds(s, "\(out)/voxterm_slices_\(slicePath)_\(m.rawValue)/seconds.json") }
        }
    }

    func writeSeconds(_ s: [String: Double], _ file: String) throws {
        let data = try JSONSerialization.data(withJSONObject: s, options: [.prettyPrinted, .sortedKeys])
        try FileIO.writeAtomically(file, Array(data))
    }
}
