import Foundation
import ImageIO
import NIfTI
import Testing
import TestSupport
import VolumeCore

/// An input's detached data file is protected like the input itself: writing `a.mhd` (data in
/// `a.raw`) must not replace the `a.raw` that an input `a.nhdr` reads its voxels from, even with
/// `overwrite: true` (what batch subjects and registration outputs pass).
@Suite("Writes never replace an input's data file")
struct DataFileProtectionTests {
    let labels = LabelVolume(geometry: VolumeGeometry(size: [4, 3, 2], spacing: [1, 2, 3]), labels: (0..<24).map { Int32($0 % 5) })

    @Test("dataFiles(of:) names a detached header's data file (by the header, not by the stem) and a pair's other half")
    func dataFilesAreFound() throws {
        let dir = TestPaths.temporaryDirectory("voxterm-datafiles")
        defer { try? FileManager.default.removeItem(at: dir) }
        let nhdr = dir.appendingPathComponent("a.nhdr").path, mhd = dir.appendingPathComponent("m.mhd").path
        try ImageFile.write(labels, to: nhdr)
        try ImageFile.write(labels, to: mhd)
        #expect(ImageFile.dataFiles(of: nhdr) == [dir.appendingPathComponent("a.raw").path])
        #expect(ImageFile.dataFiles(of: mhd) == [dir.appendingPathComponent("m.raw").path])
        // A header naming another file: that file, whatever its name.
        let other = dir.appendingPathComponent("other.nhdr").path
        let text = try String(contentsOfFile: nhdr, encoding: .utf8).replacingOccurrences(of: "data file: a.raw", with: "data file: shared.raw")
        try text.write(toFile: other, atomically: true, encoding: .utf8)
        #expect(ImageFile.dataFiles(of: other) == [dir.appendingPathComponent("shared.raw").path])
        #expect(ImageFile.dataFiles(of: dir.appendingPathComponent("x.hdr").path) == [dir.appendingPathComponent("x.img").path])
        let single = dir.appendingPathComponent("s.nii.gz").path
        try ImageFile.write(labels, to: single)
        #expect(ImageFile.dataFiles(of: single).isEmpty)
        #expect(ImageFile.dataFiles(of: dir.appendingPathComponent("missing.nhdr").path).isEmpty)
    }

    @Test("writing X.mhd/X.nhdr with overwrite over an input's data file is refused and the input stays", arguments: ["a.mhd", "a.nhdr"])
    func overwriteDoesNotReachAnInputsDataFile(_ output: String) throws {
        let dir = TestPaths.temporaryDirectory("voxterm-datafiles")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent(output.hasSuffix("mhd") ? "a.nhdr" : "a.mhd").path
        try ImageFile.write(labels, to: input)
        let raw = dir.appendingPathComponent("a.raw").path
        let before = try Data(contentsOf: URL(fileURLWithPath: raw))
        var other = labels
        other.labels = other.labels.map { $0 + 7 }
        let out = dir.appendingPathComponent(output).path
        for set in [nil, OutputSet(overwrite: true)] {
            #expect(throws: NIfTIError.self) {
                try ImageFile.write(other, to: out, options: NIfTIWriter.Options(protectedPaths: [input], overwrite: true, set: set))
            }
            do {
                try ImageFile.write(other, to: out, options: NIfTIWriter.Options(protectedPaths: [input], overwrite: true, set: set))
            } catch {
                #expect("\(error)" == "\(raw): refusing to overwrite an input file; choose another output path")
            }
            try set?.commit()
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: raw)) == before)
        #expect(try ImageFile.read(input).labelVolume().labels == labels.labels)
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
