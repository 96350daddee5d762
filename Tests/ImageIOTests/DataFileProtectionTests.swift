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
            // One write: refused with the data file named.
            let error = #expect(throws: NIfTIError.self) {
                try ImageFile.write(other, to: out, options: NIfTIWriter.Options(protectedPaths: [input], overwrite: true, set: set))
            }
            #expect(error.map { "\($0)" } == "\(raw): refusing to overwrite an input file; choose another output path")
            try set?.commit()
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: raw)) == before)
        #expect(try ImageFile.read(input).labelVolume().labels == labels.labels)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// An NRRD input `a.nhdr` whose detached data file has a NIfTI name (`data file: d.nii`, raw).
    func nhdrWithNIfTINamedData(in dir: URL) throws -> (header: String, data: String) {
        let (nhdr, data) = try nhdrWithRenamedDataFile(in: dir) { try ImageFile.write(labels, to: $0) }
        #expect(try ImageFile.read(nhdr).labelVolume().labels == labels.labels)
        return (nhdr, data)
    }

    @Test("every ImageFile writer and check protects the inputs' data files by itself: volume, labels, field, lossless, checkDestination")
    func everyWriterProtects() throws {
        let dir = TestPaths.temporaryDirectory("voxterm-datafiles")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (nhdr, data) = try nhdrWithNIfTINamedData(in: dir)
        let before = try Data(contentsOf: URL(fileURLWithPath: data))
        // Options naming only the header, as a caller writes them.
        let options = NIfTIWriter.Options(protectedPaths: [nhdr], overwrite: true)
        let refusal = "\(data): refusing to overwrite an input file; choose another output path"
        let writes: [(String, () throws -> Void)] = [
            ("volume", { try ImageFile.write(Volume(geometry: self.labels.geometry), to: data, options: options) }),
            ("labels", { try ImageFile.write(self.labels, to: data, options: options) }),
            ("field", { try ImageFile.write(VectorField(zeroOn: self.labels.geometry), to: data, options: options) }),
            ("lossless", { _ = try ImageFile.writeLossless(try ImageFile.read(nhdr), to: data, options: options) }),
            ("check", { try ImageFile.checkDestination(data, options: options) }),
        ]
        for (name, write) in writes {
            let error = #expect(throws: NIfTIError.self, "\(name)") { try write() }
            #expect(error.map { "\($0)" } == refusal, "\(name)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: data)) == before)
    }

    @Test("protectingDataFiles() reads the inputs' headers once: options that went through it come back as they are")
    func protectionIsFoundOnce() throws {
        let dir = TestPaths.temporaryDirectory("voxterm-datafiles")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (nhdr, data) = try nhdrWithNIfTINamedData(in: dir)
        let once = NIfTIWriter.Options(protectedPaths: [nhdr], overwrite: true).protectingDataFiles()
        #expect(once.protectedPaths == [nhdr, data])
        // The header gone, the options still protect its data file: nothing was read again.
        try FileManager.default.removeItem(atPath: nhdr)
        #expect(once.protectingDataFiles().protectedPaths == [nhdr, data])
        #expect(throws: NIfTIError.self) { try ImageFile.checkDestination(data, options: once) }
        // Changing the inputs asks again.
        var changed = once
        changed.protectedPaths = [nhdr]
        #expect(changed.protectingDataFiles().protectedPaths == [nhdr])
    }

    @Test("no code outside NIfTI and ImageIO writes or checks an image through NIfTIWriter (which does not know data files)")
    func everyWriteGoesThroughImageFile() throws {
        let sources = TestPaths.packageRoot.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String } ?? []
        let bypass = try Regex(#"NIfTIWriter\.(write|writeLossless|checkDestination)\("#)
        var found: [String] = []
        var scanned = 0
        for f in files where f.hasSuffix(".swift") && !f.hasPrefix("NIfTI/") && !f.hasPrefix("ImageIO/") {
            let text = try String(contentsOf: sources.appendingPathComponent(f), encoding: .utf8)
            scanned += 1
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains(bypass) && !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                found.append("Sources/\(f):\(n + 1): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(scanned > 50, "Sources/ not found at \(sources.path)")
        #expect(found.isEmpty, "use ImageFile.write / writeLossless / checkDestination:\n\(found.joined(separator: "\n"))")
    }
}
