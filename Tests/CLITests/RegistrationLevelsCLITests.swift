import Foundation
import NIfTI
import Testing
import TestSupport
import VolumeCore

/// Which levels `register` and `bench register` run, through the built binary (issue 15 review):
/// the preset's rules for the image apply unless `--levels` is given, and `bench register` prints
/// the levels as run on each table's images.
@Suite(.serialized) struct RegistrationLevelsCLITests {
    static let samples = TestPaths.samples

    /// 2 mm slices (z = 45) of the bundled subject01 (fixed) and Colin27 (moving) with their labels,
    /// written into `dir`: fixed, moving, fixed labels, moving labels.
    static func slices(in dir: URL) throws -> [String] {
        try [("subject01_2mm", false), ("colin27_2mm", false), ("subject01_2mm_aal", true), ("colin27_2mm_aal", true)].map { name, labels in
            let img = try NIfTIReader.read(samples.appendingPathComponent("\(name).nii.gz").path)
            var g = img.geometry
            g.affine.translation = g.world(ofVoxel: [0, 0, 45])
            let target = VolumeGeometry(size: [g.size.x, g.size.y, 1], affine: g.affine)
            let out = dir.appendingPathComponent("\(name)_slice.nii.gz").path
            if labels { try NIfTIWriter.write(try img.labelVolume().resampled(to: target), to: out) }
            else { try NIfTIWriter.write(try img.volume().resampled(to: target), to: out) }
            return out
        }
    }

    /// `bench register` prints the levels each table ran, not the plan's: on a 2 mm 2-D slice the
    /// default preset's deformable stage runs 2/30 1/20 (shrink 4 would be 23 × 27 pixels; 20
    /// full-resolution iterations), on the 2 mm volume the planned 4/50 2/30 1/5. It used to print
    /// "deformable levels (shrink/iterations) 4/50 2/30 1/5" whatever the images.
    @Test func benchRegisterPrintsTheLevelsAsRun() throws {
        let dir = TestPaths.temporaryDirectory("bench-register-levels")
        let s = try Self.slices(in: dir)
        func sample(_ n: String) -> String { Self.samples.appendingPathComponent("\(n).nii.gz").path }
        let pairs: [[String: String]] = [
            ["id": "slice", "table": "2D 2 mm", "fixed_image": s[0], "moving_image": s[1], "fixed_labels": s[2], "moving_labels": s[3]],
            ["id": "volume", "table": "3D 2 mm", "fixed_image": sample("subject01_2mm"), "moving_image": sample("colin27_2mm"),
             "fixed_labels": sample("subject01_2mm_aal"), "moving_labels": sample("colin27_2mm_aal")],
        ]
        let manifest = dir.appendingPathComponent("manifest.json")
        try JSONSerialization.data(withJSONObject: ["pairs": pairs]).write(to: manifest)
        let json = dir.appendingPathComponent("records.json").path
        let r = try runVoxterm(["bench", "register", manifest.path, "--json", json])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("  2D 2 mm: affine 4/100 2/50; deformable 2/30 1/20"), "\(r.stdout)")
        #expect(lines.contains("  3D 2 mm: affine 4/100 2/50; deformable 4/50 2/30 1/5"), "\(r.stdout)")
        let records = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [[String: Any]])
        #expect(records.map { $0["levels"] as? String } == ["affine 4/100 2/50; deformable 2/30 1/20",
                                                             "affine 4/100 2/50; deformable 4/50 2/30 1/5"])
    }

    /// `bench register --json` is checked before any pair runs: never the manifest or a pair's
    /// file (even with --force), and an existing file only with --force. It used to replace
    /// whatever was there (the manifest itself, a pair's image) after every pair had run.
    @Test func benchRegisterJSONNeverWritesOverItsInputs() throws {
        let dir = TestPaths.temporaryDirectory("bench-register-json")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try Self.slices(in: dir)
        let manifest = dir.appendingPathComponent("manifest.json")
        try JSONSerialization.data(withJSONObject: ["pairs": [["id": "slice", "table": "2D", "fixed_image": s[0], "moving_image": s[1],
                                                                "fixed_labels": s[2], "moving_labels": s[3]]]]).write(to: manifest)
        let before = try [manifest.path, s[0]].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        for target in [manifest.path, s[0]] {
            for force in [false, true] {
                let r = try runVoxterm(["bench", "register", manifest.path, "--preset", "fast", "--json", target] + (force ? ["--force"] : []))
                #expect(r.status == 3 && r.stderr.contains("is also an input"), "\(target) \(force): \(r.status) \(r.stderr)")
                #expect(!r.stdout.contains("| 2D |"), "pairs ran before the refusal")
            }
        }
        #expect(try [manifest.path, s[0]].map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == before)
        let mine = dir.appendingPathComponent("mine.json").path
        try "my records".write(toFile: mine, atomically: true, encoding: .utf8)
        var r = try runVoxterm(["bench", "register", manifest.path, "--preset", "fast", "--json", mine])
        #expect(r.status == 3 && r.stderr.contains("--force"), "\(r.stderr)")
        #expect(try String(contentsOfFile: mine, encoding: .utf8) == "my records")
        r = try runVoxterm(["bench", "register", manifest.path, "--preset", "fast", "--json", mine, "--force"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: mine))) as? [Any])?.count == 1)
        // A pair without its labels: one line, exit 2 (was a crash on a force-unwrap, status 132).
        try JSONSerialization.data(withJSONObject: ["pairs": [["id": "bare", "fixed_image": s[0], "moving_image": s[1]]]]).write(to: manifest)
        r = try runVoxterm(["bench", "register", manifest.path, "--preset", "fast"])
        #expect(r.status == 2 && r.stderr == "voxterm: error: \(manifest.path): pair 1 (bare) has no fixed_labels\n", "\(r.status) \(r.stderr)")
    }

    /// `register --iterations` with the preset's own counts (and `--smoothing` with its own sigmas)
    /// writes the same files as no option on a 2-D slice, byte for byte (it used to drop the 2-D
    /// rules: shrink 4 ran and 5 full-resolution iterations instead of 20); fewer full-resolution
    /// iterations without --levels still run the floor of 20; `--levels` runs exactly what it says.
    @Test func presetValuesGivenOnTheCommandLineChangeNothingIn2D() throws {
        let dir = TestPaths.temporaryDirectory("register-levels-2d")
        let s = try Self.slices(in: dir)
        func run(_ name: String, _ extra: [String]) throws -> URL {
            let out = dir.appendingPathComponent(name)
            let r = try runVoxterm(["register", s[0], s[1], "--out", out.path, "--quiet", "--threads", "2"] + extra)
            #expect(r.status == 0, "\(extra): \(r.stderr)")
            return out
        }
        func bytes(_ dir: URL, _ file: String) throws -> Data { try Data(contentsOf: dir.appendingPathComponent(file)) }
        let plain = try run("plain", [])
        let own = try run("own", ["--iterations", "50x30x5", "--smoothing", "2x1x0"])
        let floor = try run("floor", ["--iterations", "50x30x1"])
        let exact = try run("exact", ["--levels", "4x2x1", "--iterations", "50x30x5", "--smoothing", "2x1x0"])
        for file in ["field.nii.gz", "warped.nii.gz", "affine.txt"] {
            #expect(try bytes(own, file) == bytes(plain, file), "\(file)")
            #expect(try bytes(floor, file) == bytes(plain, file), "\(file): 1 full-resolution iteration is raised to the floor of 20")
        }
        #expect(try bytes(exact, "field.nii.gz") != bytes(plain, "field.nii.gz"), "--levels runs shrink 4 and 5 full-resolution iterations")
    }
}
