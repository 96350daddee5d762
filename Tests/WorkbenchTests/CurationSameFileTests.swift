import Foundation
import Testing
import TestSupport
@testable import Workbench
#if canImport(Glibc)
import Glibc
#endif

/// The workbench's "is this the open image / an input" check is the writer's rule (device and
/// inode): a hard link to the open image is the open image (it compared real paths before, and a
/// hard link has its own).
@Suite struct CurationSameFileTests {
    @Test func linksAreTheSameFile() throws {
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.nii").path, b = dir.appendingPathComponent("b.nii").path
        #expect(FileManager.default.createFile(atPath: a, contents: Data([1])))
        #expect(FileManager.default.createFile(atPath: b, contents: Data([1])))
        let soft = dir.appendingPathComponent("soft.nii").path, hard = dir.appendingPathComponent("hard.nii").path
        #expect(symlink(a, soft) == 0)
        #expect(link(a, hard) == 0)
        #expect(CurationIO.same(a, soft))
        #expect(CurationIO.same(a, hard))
        #expect(!CurationIO.same(a, b), "equal contents, two files")
        #expect(CurationIO.same(dir.appendingPathComponent("new.nii").path, dir.path + "/./new.nii"))
    }
}
