import Foundation
import TestSupport
import Testing
import VoxtermModel

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
}
