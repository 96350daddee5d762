import ArgumentParser
import Foundation
import VoxtermModel

/// `voxterm convert IN OUT`: rewrite an image of any supported format as NIfTI-1, MGH/MGZ, NRRD or MetaImage.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite an image as NIfTI-1 (.nii/.nii.gz), MGH (.mgh/.mgz), NRRD (.nrrd/.nhdr) or MetaImage (.mha/.mhd), optionally reoriented to RAS.",
        discussion: "To NIfTI, lossless: every volume of a 4-D (or 5-D) image, in the input's datatype with its scaling (scl_slope/scl_inter), pixdim, units and intent; a warning line names anything that cannot be kept (header extensions, NIfTI-2's float64 header fields). To MGH, NRRD or MetaImage: one volume (--frame) as float32 (scaling applied). With --labels the first volume is written as labels, in the smallest integer type that holds them. The output is created exclusively (refused if it exists, unless --force) through a temporary file; the input is never overwritten." + "\n\n" + dashNamesHelp)

    @Argument(help: "Input image (NIfTI, MGH/MGZ, NRRD, MetaImage, a DICOM folder or FOLDER@N for its N-th series).") var input: String
    @Argument(help: "Output file; its extension picks the format (.nii, .nii.gz, .mgh, .mgz, .nrrd, .nhdr, .mha, .mhd).") var output: String
    @Flag(help: "Reorder and flip the voxel axes to RAS (world positions unchanged), like fslreorient2std.") var canonical = false
    @Flag(help: "Treat the image as a label map (integer output, no interpolation).") var labels = false
    @Option(help: "Write only this 3-D volume of a 4-D series (0-based); all volumes by default.") var frame: Int?
    @Flag(help: "Replace an existing output file.") var force = false
    @Option(help: "The series of a DICOM folder holding several (1-based, as `voxterm info FOLDER` lists them); the same as FOLDER@N.") var series: Int?

    func validate() throws {
        if let frame, frame < 0 { throw ValidationError("--frame \(frame): volumes are numbered from 0") }
        if let series, series < 1 { throw ValidationError("--series \(series): series are numbered from 1 (voxterm info FOLDER lists them)") }
        guard ImageFormat.isWritableExtension(output) else {
            throw ValidationError("the output must end in .nii, .nii.gz, .mgh, .mgz, .nrrd, .nhdr, .mha or .mhd")
        }
    }

    func run() throws {
        let signals = SignalCancellation() // Ctrl-C: exit within a second, never half way through the write
        defer { signals.stop() }
        do {
            // Every check before any work: the input, the output (never the input, --force to replace).
            try Preflight(inputs: [("IN", input)], outputs: [("OUT", output)], force: force).check()
            var input = self.input
            if let series {
                guard !DICOM.isSeriesSelector(input), (try? FormatDetection.format(of: input)) == .dicom else {
                    throw CommandFailure("--series \(series): \(input) is not a DICOM folder or file (or already names a series with @N)", status: ExitCodes.usage)
                }
                input = DICOM.seriesPath(input, series)
            }
            let image = try ImageFile.read(input)
            if let frame, frame >= image.frameCount {
                throw CommandFailure("--frame \(frame): \(input) has \(image.frameCount) volume\(image.frameCount == 1 ? "" : "s") (0...\(image.frameCount - 1))", status: ExitCodes.badInput)
            }
            // Every file (an .nhdr's or .mhd's data file too) staged, then put in place together.
            let set = OutputSet(overwrite: force)
            let options = NIfTIWriter.Options(protectedPaths: [input], overwrite: force, set: set)
            if labels {
                if image.frameCount > 1 && frame == nil {
                    standardError.write("voxterm: warning: \(input): --labels writes the first of its \(image.frameCount) volumes\n")
                }
                var l = try image.labelVolume()
                if canonical { l = l.canonical() }
                try signals.writing { try writingOutputs { try ImageFile.write(l, to: output, options: options); try set.commit() } }
                print("wrote \(output): \(l.geometry.size.x)x\(l.geometry.size.y)x\(l.geometry.size.z) labels, \(l.geometry.orientation)")
            } else if !Self.isNIfTI(output) {
                var v = try image.volume(frame: frame ?? 0)
                if canonical { v = v.canonical() }
                if image.frameCount > 1 && frame == nil {
                    standardError.write("voxterm: warning: \(input): \((output as NSString).pathExtension) holds one volume here: the first of \(image.frameCount) written, as float32\n")
                }
                try signals.writing { try writingOutputs { try ImageFile.write(v, to: output, options: options); try set.commit() } }
                print("wrote \(output): \(v.size.x)x\(v.size.y)x\(v.size.z) float32, \(v.geometry.orientation)")
            } else {
                let warnings = try signals.writing {
                    try writingOutputs {
                        let w = try ImageFile.writeLossless(image, to: output, canonical: canonical, frame: frame, options: options)
                        try set.commit()
                        return w
                    }
                }
                for w in warnings { standardError.write("voxterm: warning: \(input): \(w)\n") }
                let written = try NIfTIReader.readHeader(output)
                print("wrote \(output): \(written.shape.map(String.init).joined(separator: "x")) \(written.datatype.map { "\($0)" } ?? "?"), \(AxisOrientation(affine: written.bestAffine.affine))")
            }
        } catch {
            throw ExitCodes.fail(error)
        }
    }

    /// True for a NIfTI output name (.nii, .nii.gz), which gets the lossless path.
    static func isNIfTI(_ path: String) -> Bool {
        let l = path.lowercased()
        return l.hasSuffix(".nii") || l.hasSuffix(".nii.gz")
    }
}
