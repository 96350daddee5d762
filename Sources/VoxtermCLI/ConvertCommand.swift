import ArgumentParser
import Foundation
import VoxtermModel

/// `voxterm convert IN OUT`: rewrite an image of any supported format as NIfTI-1, MGH/MGZ, NRRD or MetaImage.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite an image as NIfTI-1 (.nii/.nii.gz), MGH (.mgh/.mgz), NRRD (.nrrd/.nhdr) or MetaImage (.mha/.mhd), optionally reoriented to RAS.",
        discussion: "Intensities are written as float32 (scaling applied); with --labels as the smallest integer type that holds them. The output is written to a temporary file and renamed into place; the input is never overwritten.")

    @Argument(help: "Input image (NIfTI, MGH/MGZ, NRRD, MetaImage, a DICOM folder or FOLDER@N for its N-th series).") var input: String
    @Argument(help: "Output file; its extension picks the format (.nii, .nii.gz, .mgh, .mgz, .nrrd, .nhdr, .mha, .mhd).") var output: String
    @Flag(help: "Reorder and flip the voxel axes to RAS (world positions unchanged), like fslreorient2std.") var canonical = false
    @Flag(help: "Treat the image as a label map (integer output, no interpolation).") var labels = false
    @Option(help: "Which 3-D volume of a 4-D series to write (0-based).") var frame = 0
    @Flag(help: "Replace an existing output file.") var force = false

    func validate() throws {
        guard ImageFormat.isWritableExtension(output) else {
            throw ValidationError("the output must end in .nii, .nii.gz, .mgh, .mgz, .nrrd, .nhdr, .mha or .mhd")
        }
    }

    func run() throws {
        let image: NIfTIImage
        let options = NIfTIWriter.Options(protectedPaths: [input], overwrite: force)
        do {
            image = try ImageFile.read(input)
            try NIfTIWriter.checkDestination(output, options: options)
        } catch {
            printError(error)
            throw ExitCode(ExitCodes.badInput)
        }
        do {
            if labels {
                var l = try image.labelVolume()
                if canonical { l = l.canonical() }
                try ImageFile.write(l, to: output, options: options)
                print("wrote \(output): \(l.geometry.size.x)x\(l.geometry.size.y)x\(l.geometry.size.z) labels, \(l.geometry.orientation)")
            } else {
                var v = try image.volume(frame: frame)
                if canonical { v = v.canonical() }
                try ImageFile.write(v, to: output, options: options)
                print("wrote \(output): \(v.size.x)x\(v.size.y)x\(v.size.z) float32, \(v.geometry.orientation)")
            }
        } catch {
            printError(error)
            throw ExitCode(ExitCodes.writeFailed)
        }
    }
}
