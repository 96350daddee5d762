import Foundation
import TestSupport
import Testing
import VoxtermModel
#if canImport(Glibc)
import Glibc
#endif

/// Reading `l.nhdr` (voxels in `l.raw`) and writing `l.mhd` (voxels in `l.raw` too) used to
/// replace the input's voxels with `--force`; an input's data file is an input (exit 3, one line,
/// the file untouched).
@Suite("An input's detached data file is never written over")
struct DataFileSafetyCLITests {
    static let labels = TestPaths.samples.appendingPathComponent("colin27_2mm_aal.nii.gz").path

    @Test("convert l.nhdr l.mhd --force is refused as an input; a header naming another data file is followed")
    func convertRefusesAnInputsDataFile() throws {
        let dir = TestPaths.temporaryDirectory("voxterm-datafile-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let nhdr = dir.appendingPathComponent("l.nhdr").path, raw = dir.appendingPathComponent("l.raw").path
        var r = try runVoxterm(["convert", Self.labels, nhdr, "--labels"])
        #expect(r.status == 0, "\(r.stderr)")
        let before = try Data(contentsOf: URL(fileURLWithPath: raw))
        for force in [false, true] {
            r = try runVoxterm(["convert", nhdr, dir.appendingPathComponent("l.mhd").path] + (force ? ["--force"] : []))
            #expect(r.status == 3, "\(r.stderr)")
            #expect(r.stderr == "voxterm: error: \(raw): is also an input (IN (its data file)); voxterm never writes over an input, even with --force: choose another path for OUT (its data file)\n")
            #expect(r.stdout.isEmpty)
        }
        // A header whose data file has another stem: writing that stem's .nhdr is refused too.
        let other = dir.appendingPathComponent("k.nhdr").path
        let text = try String(contentsOfFile: nhdr, encoding: .utf8).replacingOccurrences(of: "data file: l.raw", with: "data file: shared.raw")
        try text.write(toFile: other, atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: raw, toPath: dir.appendingPathComponent("shared.raw").path)
        r = try runVoxterm(["convert", other, dir.appendingPathComponent("shared.nhdr").path, "--force"])
        #expect(r.status == 3 && r.stderr.contains("shared.raw: is also an input (IN (its data file))"), "\(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: raw)) == before)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.appendingPathComponent("shared.raw").path)) == before)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("l.mhd").path))
        // Another name still works.
        r = try runVoxterm(["convert", nhdr, dir.appendingPathComponent("m.mhd").path])
        #expect(r.status == 0, "\(r.stderr)")
    }

    /// `bench io --write x.nhdr` used to replace an existing `x.raw` without a word and leave its
    /// own 3.6 MB `x.raw` behind after every run: now an existing data file is refused like an
    /// existing header, nothing is left, and the bytes count both files.
    @Test func benchIOWritesNoDataFileOverAndLeavesNone() throws {
        let dir = TestPaths.temporaryDirectory("voxterm-benchio")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = TestPaths.samples.appendingPathComponent("colin27_2mm.nii.gz").path
        for name in ["x.nhdr", "y.mhd"] {
            let header = dir.appendingPathComponent(name).path
            let raw = dir.appendingPathComponent((name as NSString).deletingPathExtension + ".raw").path
            try Data("precious".utf8).write(to: URL(fileURLWithPath: raw))
            var r = try runVoxterm(["bench", "io", image, "--write", header, "--repeats", "1"])
            #expect(r.status == 3 && r.stderr.contains("\(raw) exists"), "\(r.status) \(r.stderr)")
            #expect(try String(contentsOfFile: raw, encoding: .utf8) == "precious")
            try FileManager.default.removeItem(atPath: raw)
            r = try runVoxterm(["bench", "io", image, "--write", header, "--repeats", "2"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "the bench left files behind")
            // 91 x 109 x 91 float32 voxels in the data file, plus the header.
            let bytes = r.stdout.split(separator: " ").firstIndex(of: "bytes,").map { Int(r.stdout.split(separator: " ")[$0 - 1]) ?? 0 } ?? 0
            #expect(bytes > 91 * 109 * 91 * 4, "\(r.stdout)")
        }
    }

    /// Ctrl-C during `bench io --write`: exit 130 within a second, and nothing left (it used to
    /// leave `.w.nii.gz.tmp-*` files and print nothing).
    @Test func benchIOInterruptedLeavesNothing() throws {
        let dir = TestPaths.temporaryDirectory("voxterm-benchio-int")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("w.nii.gz").path, log = dir.appendingPathComponent("../benchio-int.log").standardized.path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let p = try StartedProcess.start(TestPaths.voxtermBinary.path, ["bench", "io", TestPaths.samples.appendingPathComponent("colin27_1mm.nii.gz").path,
                                                                       "--write", out, "--repeats", "10000"], log: log)
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: out) && !p.hasExited && Date() < deadline { usleep(20_000) }
        try #require(!p.hasExited, "finished before the signal")
        let t0 = Date()
        p.signal(SIGINT)
        let status = p.wait(timeout: 10) ?? -1
        #expect(status == 130, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        #expect(Date().timeIntervalSince(t0) < 1.5)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(left.isEmpty, "left: \(left)")
    }
}
