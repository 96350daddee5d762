import ArgumentParser
import Foundation
import VoxtermModel

/// `voxterm convert IN OUT`: rewrite a NIfTI file (any supported layout) as NIfTI-1 .nii/.nii.gz.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite an image as NIfTI-1 (.nii or .nii.gz), optionally reoriented to RAS.",
        discussion: "Intensities are written as float32 (scaling applied); with --labels as the smallest integer type that holds them. The output is written to a temporary file and renamed into place; the input is never overwritten.")

    @Argument(help: "Input image (.nii, .nii.gz, .hdr/.img).") var input: String
    @Argument(help: "Output file (.nii or .nii.gz).") var output: String
    @Flag(help: "Reorder and flip the voxel axes to RAS (world positions unchanged), like fslreorient2std.") var canonical = false
    @Flag(help: "Treat the image as a label map (integer output, no interpolation).") var labels = false
    @Option(help: "Which 3-D volume of a 4-D series to write (0-based).") var frame = 0
    @Flag(help: "Replace an existing output file.") var force = false

    func validate() throws {
        let lower = output.lowercased()
        guard lower.hasSuffix(".nii") || lower.hasSuffix(".nii.gz") else {
            throw ValidationError("the output must end in .nii or .nii.gz")
        }
    }

    func run() throws {
        let image: NIfTIImage
        let options = NIfTIWriter.Options(protectedPaths: [input], overwrite: force)
        do {
            image = try NIfTIReader.read(input)
            try NIfTIWriter.checkDestination(output, options: options)
        } catch {
            printError(error)
            throw ExitCode(ExitCodes.badInput)
        }
        do {
            if labels {
                var l = try image.labelVolume()
                if canonical { l = l.canonical() }
                try NIfTIWriter.write(l, to: output, options: options)
                print("wrote \(output): \(l.geometry.size.x)x\(l.geometry.size.y)x\(l.geometry.size.z) labels, \(l.geometry.orientation)")
            } else {
                var v = try image.volume(frame: frame)
                if canonical { v = v.canonical() }
                try NIfTIWriter.write(v, to: output, options: options)
                print("wrote \(output): \(v.size.x)x\(v.size.y)x\(v.size.z) float32, \(v.geometry.orientation)")
            }
        } catch {
            printError(error)
            throw ExitCode(ExitCodes.writeFailed)
        }
    }
}
