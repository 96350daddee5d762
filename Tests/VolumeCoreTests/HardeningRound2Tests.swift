import Foundation
import Testing
import TestSupport
@testable import VolumeCore
#if canImport(Glibc)
import Glibc
#endif

/// Issue 13 at library level: geometry validation, exclusive atomic creation, output sets and
/// folders, non-blocking opens of special files.
@Suite struct GeometryValidationTests {
    @Test func acceptsOrdinaryAffines() {
        #expect(GeometryValidation.problem(with: VolumeCore.AffineTransform.identity) == nil)
        let oblique = VolumeCore.AffineTransform(linear: [[0, -2, 0.1], [1.5, 0, 0], [0, 0.2, 3]], translation: [10, -20, 5])
        #expect(GeometryValidation.problem(with: oblique) == nil)
        #expect(GeometryValidation.problem(with: VolumeCore.AffineTransform.scaling([0.001, 100, 1], origin: [-90, 120, 5])) == nil)
    }

    @Test func refusesNonFiniteSingularAndAbsurdAffines() throws {
        var nan = VolumeCore.AffineTransform.identity; nan[1, 2] = .nan
        #expect(try #require(GeometryValidation.problem(with: nan)).contains("non-finite entry (nan at row 1, column 2)"))
        var inf = VolumeCore.AffineTransform.identity; inf[0, 3] = -.infinity
        #expect(try #require(GeometryValidation.problem(with: inf)).contains("non-finite"))
        let zero = VolumeCore.AffineTransform(rows: .zero, .zero, .zero)
        #expect(try #require(GeometryValidation.problem(with: zero)).contains("voxel axis 0 has length 0"))
        // Two voxel axes along the same direction: singular although no column is zero.
        let parallel = VolumeCore.AffineTransform(linear: [[1, 2, 0], [0, 0, 0], [0, 0, 1]], translation: .zero)
        #expect(try #require(GeometryValidation.problem(with: parallel)).contains("singular"))
        #expect(try #require(GeometryValidation.problem(with: VolumeCore.AffineTransform.scaling([1e-9, 1, 1]))).contains("outside"))
        #expect(try #require(GeometryValidation.problem(with: VolumeCore.AffineTransform.scaling([1, 1, 1], origin: [0, 1e9, 0]))).contains("beyond"))
        #expect(throws: GeometryError.self) { try GeometryValidation.check(zero, path: "x.mgz") }
    }
}

@Suite struct AtomicCreationTests {
    func entries(_ dir: URL) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.sorted() ?? [] }

    /// Eight threads create the same file exclusively at once: exactly one wins.
    @Test func exactlyOneOfRacingExclusiveWritersWins() throws {
        for round in 0..<20 {
            let dir = TestPaths.temporaryDirectory("race")
            defer { try? FileManager.default.removeItem(at: dir) }
            let dest = dir.appendingPathComponent("same.nii").path
            let results = UnsafeMutableBufferPointer<Int>.allocate(capacity: 8)
            defer { results.deallocate() }
            DispatchQueue.concurrentPerform(iterations: 8) { k in
                let bytes = [UInt8](repeating: UInt8(k), count: 100_000)
                do { try FileIO.writeAtomically(dest, bytes, exclusive: true); results[k] = 1 }
                catch let e as FileError { results[k] = e.reason == FileIO.alreadyExists ? 0 : -1 }
                catch { results[k] = -1 }
            }
            #expect(results.filter { $0 == 1 }.count == 1, "round \(round): \(Array(results))")
            #expect(!results.contains(-1), "round \(round): an unexpected error")
            let winner = results.firstIndex(of: 1)!
            #expect(try Data(contentsOf: URL(fileURLWithPath: dest)) == Data(repeating: UInt8(winner), count: 100_000))
            #expect(entries(dir) == ["same.nii"], "temporary files left: \(entries(dir))")
        }
    }

    @Test func outputSetAppearsTogetherOrNotAtAll() throws {
        let dir = TestPaths.temporaryDirectory("set")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.txt").path, b = dir.appendingPathComponent("b.txt").path
        // Staged files are invisible until commit.
        let set = OutputSet(overwrite: false)
        try set.write(a, bytes: Array("A".utf8))
        try set.write(b, bytes: Array("B".utf8))
        #expect(!FileManager.default.fileExists(atPath: a) && !FileManager.default.fileExists(atPath: b))
        // The same path twice (also through another spelling) is refused.
        #expect(throws: FileError.self) { try set.write(dir.appendingPathComponent("./a.txt").path, bytes: [1]) }
        try set.commit()
        #expect(entries(dir) == ["a.txt", "b.txt"])
        // Without overwrite, a set whose second file exists places nothing (the first is undone).
        let c = dir.appendingPathComponent("c.txt").path
        let set2 = OutputSet(overwrite: false)
        try set2.write(c, bytes: Array("C".utf8))
        try set2.write(b, bytes: Array("B2".utf8))
        #expect(throws: FileError.self) { try set2.commit() }
        #expect(entries(dir) == ["a.txt", "b.txt"])
        #expect(try String(contentsOfFile: b, encoding: .utf8) == "B")
        // A set that is dropped leaves nothing.
        do {
            let set3 = OutputSet(overwrite: true)
            try set3.write(c, bytes: [1, 2, 3])
        }
        #expect(entries(dir) == ["a.txt", "b.txt"])
    }

    @Test func outputFolderPolicy() throws {
        let root = TestPaths.temporaryDirectory("folder")
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = root.appendingPathComponent("out")
        let names: Set<String> = ["x.txt", "y.txt", "summary.json"]
        func run(_ files: [String: String], overwrite: Bool) throws {
            let f = try OutputFolder(dir.path, overwrite: overwrite, setNames: names)
            for (n, t) in files { try FileIO.writeAtomically(f.file(n), Array(t.utf8)) }
            try f.commit()
        }
        try run(["x.txt": "1", "y.txt": "1", "summary.json": "1"], overwrite: false)
        #expect(entries(dir) == ["summary.json", "x.txt", "y.txt"])
        // Non-empty without overwrite: refused, nothing changes, no staging folder left.
        #expect(throws: FileError.self) { try run(["x.txt": "2"], overwrite: false) }
        #expect(try String(contentsOfFile: dir.appendingPathComponent("x.txt").path, encoding: .utf8) == "1")
        // With overwrite: the whole set is replaced, a file of the old set the new one lacks goes too.
        try run(["x.txt": "2", "summary.json": "2"], overwrite: true)
        #expect(entries(dir) == ["summary.json", "x.txt"])
        #expect(try String(contentsOfFile: dir.appendingPathComponent("x.txt").path, encoding: .utf8) == "2")
        // A file voxterm did not write: refused even with overwrite.
        try Data("notes".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        #expect(throws: FileError.self) { try run(["x.txt": "3"], overwrite: true) }
        #expect(try String(contentsOfFile: dir.appendingPathComponent("x.txt").path, encoding: .utf8) == "2")
        // A failure half way (the producer throws): DIR as it was, no staging folder beside it.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("notes.txt"))
        struct Full: Error {}
        #expect(throws: Full.self) {
            let f = try OutputFolder(dir.path, overwrite: true, setNames: names)
            try FileIO.writeAtomically(f.file("x.txt"), Array("4".utf8))
            try FileIO.writeAtomically(f.file("y.txt")) { _, _ in throw Full() }
            try f.commit()
        }
        #expect(entries(dir) == ["summary.json", "x.txt"])
        #expect(entries(root) == ["out"], "staging left: \(entries(root))")
        // A file where the folder should be.
        let file = root.appendingPathComponent("file"); try Data().write(to: file)
        #expect(throws: FileError.self) { try OutputFolder.check(file.path, overwrite: true, setNames: names) }
    }

    /// A FIFO with no writer, a device: refused at once instead of blocking in open().
    @Test func specialFilesAreRefusedWithoutBlocking() throws {
        let dir = TestPaths.temporaryDirectory("fifo")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("f.nii").path
        #expect(mkfifo(fifo, 0o644) == 0)
        let t0 = Date()
        #expect { try FileIO.readAll(fifo) } throws: { ($0 as? FileError)?.reason.contains("FIFO") == true }
        #expect { try FileIO.openForReading("/dev/zero") } throws: { ($0 as? FileError)?.reason.contains("character device") == true }
        #expect(Date().timeIntervalSince(t0) < 1)
    }
}
