import Foundation
import NIfTI
import Testing
import TestSupport
import VolumeCore
#if canImport(Glibc)
import Glibc
#endif

/// One "same file" rule (`FileIO.sameFile`: device and inode when both paths exist) for the
/// writer's input protection and for an output set's duplicate outputs: a symbolic link and a
/// hard link to a file are that file. Before 2026-12-07 (fourth session) the writer compared real
/// paths and the output set compared path text, so a hard link passed both.
@Suite struct SameFileRuleTests {
    static func setUp() throws -> (dir: URL, input: String, symlink: String, hardlink: String, volume: Volume) {
        let dir = TestPaths.temporaryDirectory()
        let volume = Volume(geometry: VolumeGeometry(size: [4, 3, 2], spacing: [1, 1, 1], origin: [0, 0, 0]),
                            voxels: (0..<24).map(Float.init))
        let input = dir.appendingPathComponent("input.nii").path
        try NIfTIWriter.write(volume, to: input)
        let symlink = dir.appendingPathComponent("symlink.nii").path
        let hardlink = dir.appendingPathComponent("hardlink.nii").path
        #expect(Glibc.symlink(input, symlink) == 0)
        #expect(Glibc.link(input, hardlink) == 0)
        return (dir, input, symlink, hardlink, volume)
    }

    @Test func theWriterNeverReplacesAnInputThroughALink() throws {
        let s = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: s.dir) }
        let before = try Data(contentsOf: URL(fileURLWithPath: s.input))
        let options = NIfTIWriter.Options(protectedPaths: [s.input], overwrite: true)
        var other = s.volume
        other.voxels = other.voxels.map { -$0 }
        for path in [s.symlink, s.hardlink] {
            #expect(throws: NIfTIError.self, "\(path)") { try NIfTIWriter.write(other, to: path, options: options) }
        }
        // Neither the input nor its hard link changed.
        #expect(try Data(contentsOf: URL(fileURLWithPath: s.input)) == before)
        #expect(try Data(contentsOf: URL(fileURLWithPath: s.hardlink)) == before)
        // An unrelated file is written.
        try NIfTIWriter.write(other, to: s.dir.appendingPathComponent("new.nii").path, options: options)
    }

    @Test func anOutputSetRefusesOneFileUnderTwoNames() throws {
        let s = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: s.dir) }
        for second in [s.symlink, s.hardlink, s.dir.appendingPathComponent("./input.nii").path] {
            let set = OutputSet(overwrite: true)
            try set.write(s.input, bytes: [1, 2, 3])
            #expect(throws: FileError.self, "\(second)") { try set.write(second, bytes: [4]) }
        }
        // Two new names in one folder are two files, also before either exists.
        let set = OutputSet(overwrite: true)
        try set.write(s.dir.appendingPathComponent("a.nii").path, bytes: [1])
        try set.write(s.dir.appendingPathComponent("b.nii").path, bytes: [2])
        try set.commit()
    }
}
