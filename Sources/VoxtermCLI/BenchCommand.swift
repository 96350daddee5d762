import ArgumentParser
import Foundation
import VoxtermModel

/// `voxterm bench ...`: measured timings (medians over repeats), never asserted in tests.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks: time voxterm's own operations (medians over repeats).",
        subcommands: [BenchIO.self, BenchRegister.self, BenchKernels.self, BenchSegment.self, BenchRender.self, BenchTUI.self])
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
    @Option(help: "Time writing instead: FILE read once, then written as float32 to this path (format by extension: .nii.gz, .mgz, .nrrd, .mha, ...), replaced on each repeat and removed at the end.")
    var write: String?
    @Flag(help: "Time only reading the voxels in the file's data type (header, inflate; no float32 decoding), as nibabel's dataobj and SimpleITK's array view give them.")
    var raw = false
    @Option(name: .customLong("gzip-writer"), help: "gzip compressor for --write: zlib (default: one gzip member, parallel sync-flushed chunks) or libdeflate (one member per 1 MiB chunk: faster, but single-stream readers such as pynrrd read only the first).")
    var gzipWriter = "zlib"

    func validate() throws {
        if write != nil && !ImageFormat.isWritableExtension(write!) {
            throw ValidationError("--write must end in .nii, .nii.gz, .mgh, .mgz, .nrrd, .nhdr, .mha or .mhd")
        }
        if !["zlib", "libdeflate"].contains(gzipWriter) { throw ValidationError("--gzip-writer: zlib or libdeflate, not '\(gzipWriter)'") }
    }

    func run() throws {
        // The process-wide writer is set when the command runs, not while it is parsed.
        _ = GzipLayer.setWriter(gzipWriter)
        if let write {
            // The file written and, for a detached header (.nhdr, .mhd), its data file: none may exist
            // (they are removed after each run), and the bytes are both files' sizes.
            let files = [write] + [ImageFormat.dataFile(forHeader: write)].compactMap { $0 }
            if let existing = files.first(where: FileIO.exists) {
                throw ExitCodes.fail(CommandFailure("--write \(write): \(existing) exists; name a new file (the bench removes what it writes)",
                                                    status: ExitCodes.writeFailed))
            }
            // Ctrl-C: the repeats stop after the write under way, and what was written is removed.
            let signals = SignalCancellation()
            defer { signals.stop() }
            var times: [Double] = []
            var bytes = 0
            func removeWritten() { for f in files { try? FileManager.default.removeItem(atPath: f) } }
            defer { removeWritten() }
            let volume: Volume
            do { volume = try ImageFile.read(file).volume() } catch { throw ExitCodes.fail(error) }
            do {
                try signals.writing {
                    for _ in 0..<max(1, repeats) {
                        if signals.isCancelled { throw SegmentationError.cancelled }
                        removeWritten()
                        let t0 = monotonicSeconds()
                        try ImageFile.write(volume, to: write, options: NIfTIWriter.Options(protectedPaths: [file], overwrite: false))
                        times.append(monotonicSeconds() - t0)
                        bytes = files.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
                    }
                }
            } catch { throw ExitCodes.fail(error is SegmentationError ? error : WriteFailure(underlying: error)) }
            print("voxterm bench io --write \(write) (\(gzipWriter)): \(volume.voxels.count) float32 voxels, \(bytes) bytes, median \(String(format: "%.4f", median(times))) s over \(times.count) runs (min \(String(format: "%.4f", times.min()!)) s)")
            return
        }
        var times: [Double] = []
        var voxels = 0
        for _ in 0..<max(1, repeats) {
            let t0 = monotonicSeconds()
            let img = try ImageFile.read(file)
            if raw {
                times.append(monotonicSeconds() - t0)
                voxels = img.shape.reduce(1, *)
                continue
            }
            let v = img.floatValues()
            times.append(monotonicSeconds() - t0)
            voxels = v.count
        }
        print("voxterm bench io \(file)\(raw ? " --raw" : ""): \(voxels) voxels, median \(String(format: "%.4f", median(times))) s over \(times.count) runs (min \(String(format: "%.4f", times.min()!)) s)")
    }
}
