import Foundation
@testable import ImageIO
import NIfTI
import Testing
import TestSupport
import VolumeCore

/// Every output format goes through the same staging and exclusive-creation path as NIfTI
/// (issue 13, classes 3 and 4): in an `OutputSet` nothing appears before `commit`, a detached
/// header's data file included, nothing is left after `discard`, and a commit that finds a file
/// in place (another writer won) replaces nothing.
@Suite("MGH, NRRD and MetaImage outputs are staged like NIfTI")
struct StagedWriteTests {
    let labels = LabelVolume(geometry: VolumeGeometry(size: [4, 3, 2], spacing: [1, 2, 3]), labels: (0..<24).map { Int32($0 % 5) })

    @Test(arguments: ["a.mgz", "b.mgh", "c.nrrd", "d.nhdr", "e.mha", "f.mhd", "g.nii.gz"])
    func outputSetPlacesEveryFileAtCommitOnly(_ name: String) throws {
        let dir = TestPaths.temporaryDirectory("voxterm-staged")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(name).path
        let files = [path] + [ImageFormat.dataFile(forHeader: path)].compactMap { $0 }
        // Written, then discarded: no file and no temporary left.
        do {
            let set = OutputSet(overwrite: false)
            try ImageFile.write(labels, to: path, options: NIfTIWriter.Options(overwrite: false, set: set))
            #expect(files.allSatisfy { !FileManager.default.fileExists(atPath: $0) }, "\(name) appeared before commit")
            #expect(set.paths.count == files.count, "\(set.paths)")
            set.discard()
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        }
        // Written and committed: every file in place, and it reads back.
        let set = OutputSet(overwrite: false)
        try ImageFile.write(labels, to: path, options: NIfTIWriter.Options(overwrite: false, set: set))
        try set.commit()
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == Set(files.map { ($0 as NSString).lastPathComponent }))
        #expect(try ImageFile.read(path).labelVolume().labels == labels.labels)
        // A second set without overwrite: the commit fails and the first files stay as they were.
        let before = try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        let again = OutputSet(overwrite: false)
        var other = labels
        other.labels[0] = 9
        try ImageFile.write(other, to: path, options: NIfTIWriter.Options(overwrite: true, set: again))
        #expect(throws: (any Error).self) { try again.commit() }
        #expect(try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == before)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)).count == files.count, "a temporary file was left")
    }

    /// Without an output set, a detached header and its data file still appear as a pair: a
    /// failure on either leaves neither (before, the data file was left without its header).
    @Test(arguments: ["d.nhdr", "f.mhd"])
    func aDetachedPairWrittenAloneAppearsWholeOrNotAtAll(_ name: String) throws {
        let dir = TestPaths.temporaryDirectory("voxterm-detached")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(name).path
        let raw = try #require(ImageFormat.dataFile(forHeader: path))
        let fm = FileManager.default
        // The header's path is a folder: the write fails, and no data file or temporary is left.
        try fm.createDirectory(atPath: path, withIntermediateDirectories: false)
        #expect(throws: (any Error).self) { try ImageFile.write(labels, to: path) }
        #expect(!fm.fileExists(atPath: raw), "the data file was left without its header")
        #expect(try fm.contentsOfDirectory(atPath: dir.path) == [name])
        try fm.removeItem(atPath: path)
        // Without overwrite, a header (or a data file) already in place refuses the pair: it stays
        // as it was, and the other file does not appear. (`ImageFile.write` refuses an existing
        // header or data file before writing anything; a file that appears after that check, a
        // race, reaches `writeDetached` itself, called here directly: a data file placed first is
        // removed again.)
        let bytes: [UInt8] = [1, 2, 3, 4]
        for (existing, other) in [(path, raw), (raw, path)] {
            try Data("old".utf8).write(to: URL(fileURLWithPath: existing))
            #expect(throws: (any Error).self) { try ImageFile.write(labels, to: path, options: NIfTIWriter.Options(overwrite: false)) }
            #expect(throws: (any Error).self) {
                try bytes.withUnsafeBytes { try writeDetached(path, data: $0, options: NIfTIWriter.Options(overwrite: false)) { _ in "new header" } }
            }
            #expect(try String(contentsOfFile: existing, encoding: .utf8) == "old")
            #expect(!fm.fileExists(atPath: other), "\(other) appeared beside the existing \(existing)")
            #expect(try fm.contentsOfDirectory(atPath: dir.path) == [(existing as NSString).lastPathComponent])
            try fm.removeItem(atPath: existing)
        }
        // Written alone with overwrite: both in place, and it reads back.
        try ImageFile.write(labels, to: path)
        #expect(try ImageFile.read(path).labelVolume().labels == labels.labels)
        #expect(Set(try fm.contentsOfDirectory(atPath: dir.path)).count == 2, "a temporary file was left")
    }
}
