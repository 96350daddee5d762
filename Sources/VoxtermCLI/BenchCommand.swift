import ArgumentParser
import Foundation
import VoxtermModel

/// `voxterm bench ...`: measured timings (medians over repeats), never asserted in tests.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks: time voxterm's own operations (medians over repeats).",
        subcommands: [BenchIO.self, BenchRegister.self, BenchSegment.self, BenchRender.self, BenchTUI.self])
}

/// Median of a list of seconds.
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}

/// `voxterm bench io FILE`: time of loading a NIfTI file into memory as float32.
struct BenchIO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "io", abstract: "Time reading FILE into memory (header, inflate, decode to float32).")

    @Argument(help: "An image of any supported format (NIfTI, MGH/MGZ, NRRD, MetaImage, DICOM folder).") var file: String
    @Option(help: "Number of timed repeats.") var repeats = 7

    func run() throws {
        var times: [Double] = []
        var voxels = 0
        for _ in 0..<max(1, repeats) {
            let t0 = monotonicSeconds()
            let img = try ImageFile.read(file)
            let v = img.floatValues()
            times.append(monotonicSeconds() - t0)
            voxels = v.count
        }
        print("voxterm bench io \(file): \(voxels) voxels, median \(String(format: "%.4f", median(times))) s over \(times.count) runs (min \(String(format: "%.4f", times.min()!)) s)")
    }
}
