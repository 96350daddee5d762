import Foundation
import ImageIO
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
}
