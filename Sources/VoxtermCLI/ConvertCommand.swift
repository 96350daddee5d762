import ArgumentParser
import Foundation
import VoxtermModel

/// `voxterm convert IN OUT`: rewrite a NIfTI file (any supported layout) as NIfTI-1 .nii/.nii.gz.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite an image as NIfTI-1 (.nii or .nii.gz), optionally reoriented to RAS.",
        discussion: "Lossless: every volume of a 4-D (or 5-D) image, in the input's datatype with its scaling (scl_slope/scl_inter), pixdim, units and intent; a warning line names anything that cannot be kept (header extensions, NIfTI-2's float64 header fields). With --labels the first volume is written as labels, in the smallest integer type that holds them. The output is created exclusively (refused if it exists, unless --force) through a temporary file; the input is never overwritten." + "\n\n" + dashNamesHelp)

    @Argument(help: "Input image (.nii, .nii.gz, .hdr/.img).") var input: String
    @Argument(help: "Output file (.nii or .nii.gz).") var output: String
    @Flag(help: "Reorder and flip the voxel axes to RAS (world positions unchanged), like fslreorient2std.") var canonical = false
    @Flag(help: "Treat the image as a label map (integer output, no interpolation).") var labels = false
    @Option(help: "Write only this 3-D volume of a 4-D series (0-based); all volumes by default.") var frame: Int?
    @Flag(help: "Replace an existing output file.") var force = false

    func validate() throws {
        if let frame, frame < 0 { throw ValidationError("--frame \(frame): volumes are numbered from 0") }
        let lower = output.lowercased()
        guard lower.hasSuffix(".nii") || lower.hasSuffix(".nii.gz") else {
            throw ValidationError("the output must end in .nii or .nii.gz")
        }
    }

    func run() throws {
        let signals = SignalCancellation() // Ctrl-C: exit within a second, never half way through the write
        defer { signals.stop() }
        do {
            // Every check before any work: the input, the output (never the input, --force to replace).
            try Preflight(inputs: [("IN", input)], outputs: [("OUT", output)], force: force).check()
            let image = try NIfTIReader.read(input)
            if let frame, frame >= image.frameCount {
                throw CommandFailure(message: "--frame \(frame): \(input) has \(image.frameCount) volume\(image.frameCount == 1 ? "" : "s") (0...\(image.frameCount - 1))", status: ExitCodes.usage)
            }
            let options = NIfTIWriter.Options(protectedPaths: [input], overwrite: force)
            if labels {
                if image.frameCount > 1 && frame == nil {
                    fputs("voxterm: warning: \(input): --labels writes the first of its \(image.frameCount) volumes\n", stderr)
                }
                var l = try image.labelVolume()
                if canonical { l = l.canonical() }
                try signals.writing { try writingOutputs { try NIfTIWriter.write(l, to: output, options: options) } }
                print("wrote \(output): \(l.geometry.size.x)x\(l.geometry.size.y)x\(l.geometry.size.z) labels, \(l.geometry.orientation)")
            } else {
                let warnings = try signals.writing {
                    try writingOutputs { try NIfTIWriter.writeLossless(image, to: output, canonical: canonical, frame: frame, options: options) }
                }
                for w in warnings { fputs("voxterm: warning: \(input): \(w)\n", stderr) }
                let written = try NIfTIReader.readHeader(output)
                print("wrote \(output): \(written.shape.map(String.init).joined(separator: "x")) \(written.datatype.map { "\($0)" } ?? "?"), \(AxisOrientation(affine: written.bestAffine.affine))")
            }
        } catch {
            throw ExitCodes.fail(error)
        }
    }
}
