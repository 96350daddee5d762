import Foundation
import Synchronization
import Testing
import TestSupport
import VoxtermModel
#if canImport(Glibc)
import Glibc
#endif

/// Issue 13 (hardening, round 2) through the built binary: each class of hostile input or
/// situation gives its exit status and one stderr line naming the file, leaves the inputs
/// byte-identical and leaves no temporary or partial output. Inputs are tiny synthetic volumes so
/// the registrations involved take a fraction of a second in release builds.
@Suite(.serialized) struct HardeningRound2CLITests {
    /// Every entry of `dir`, hidden ones included, sorted.
    static func entries(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    }

    /// Bytes of each file, to prove inputs unchanged afterwards.
    static func snapshot(_ paths: [String]) -> [String: Data] {
        var out: [String: Data] = [:]
        for p in paths { out[p] = FileManager.default.contents(atPath: p) }
        return out
    }

    /// A small pair of blobs (24x24x20, 2 mm) and the fixed image's labels, in `dir`.
    static func tinyPair(in dir: URL) throws -> (fixed: String, moving: String, labels: String) {
        let g = VolumeGeometry(size: [24, 24, 20], spacing: [2, 2, 2], origin: [-23, -23, -19])
        func blob(_ c: SIMD3<Double>, _ r: Double) -> Volume {
            var v = Volume(geometry: g)
            for n in 0..<g.voxelCount {
                let p = g.world(ofVoxel: SIMD3(g.voxel(ofIndex: n))) - c
                let d = (p * p).sum().squareRoot()
                v.voxels[n] = Float(100 * exp(-d * d / (2 * r * r))) + (d < r ? 50 : 0)
            }
            return v
        }
        let fixed = dir.appendingPathComponent("fixed.nii.gz").path
        let moving = dir.appendingPathComponent("moving.nii.gz").path
        let labels = dir.appendingPathComponent("fixed_labels.nii.gz").path
        let f = blob([0, 0, 0], 9)
        try NIfTIWriter.write(f, to: fixed)
        try NIfTIWriter.write(blob([3, -2, 1], 10), to: moving)
        try NIfTIWriter.write(LabelVolume(geometry: g, labels: f.voxels.map { $0 > 60 ? 1 : 0 }), to: labels)
        return (fixed, moving, labels)
    }

    /// Expects a failed run: `status`, exactly one line on stderr, naming `file` and containing `words`.
    static func expectRefusal(_ r: ProcessResult, status: Int32, file: String, _ words: String,
                              _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "\(what): exit \(r.status), expected \(status): \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(what): \(lines.count) stderr lines: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(file) && r.stderr.contains(words), "\(what): \(r.stderr) lacks \(file) / \(words)",
                sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, "\(what): printed \(r.stdout)", sourceLocation: sourceLocation)
    }

    // MARK: Class 1: non-finite or singular geometry

    @Test(arguments: BadGeometry.allCases)
    func unusableGeometryIsRefusedByEveryCommandAndShownByInfo(_ bad: BadGeometry) throws {
        let dir = TestPaths.temporaryDirectory("geometry-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (fixed, _, labels) = try Self.tinyPair(in: dir)
        let path = try bad.make(in: dir)
        let name = (path as NSString).lastPathComponent
        let before = Self.snapshot([path, fixed, labels])
        let entriesBefore = Self.entries(dir)
        let out = dir.appendingPathComponent("out").path
        let runs: [(String, [String])] = [
            ("export", ["export", path, "-o", dir.appendingPathComponent("x.png").path]),
            ("convert", ["convert", path, dir.appendingPathComponent("c.nii").path]),
            ("register fixed", ["register", path, fixed, "--out", out, "--preset", "fast", "--mode", "affine", "--quiet"]),
            ("register moving", ["register", fixed, path, "--out", out, "--preset", "fast", "--mode", "affine", "--quiet"]),
            ("segment query", ["segment", path, "--support", "\(fixed):\(labels)", "--out", dir.appendingPathComponent("p.nii.gz").path, "--quiet"]),
            ("segment support", ["segment", fixed, "--support", "\(path):\(labels)", "--out", dir.appendingPathComponent("p.nii.gz").path, "--quiet"]),
            ("export --labels", ["export", fixed, "--labels", path, "-o", dir.appendingPathComponent("x.png").path]),
        ]
        for (what, args) in runs {
            let r = try runVoxterm(args)
            Self.expectRefusal(r, status: 2, file: name, bad.expectedReason, "\(bad) \(what)")
            #expect(r.stderr.contains("geometry is unusable"), "\(r.stderr)")
        }
        // info shows the header, says the geometry is unusable, and its JSON is valid (nulls).
        let text = try runVoxterm(["info", path])
        #expect(text.status == 0 && text.stdout.contains("UNUSABLE") && text.stdout.contains(bad.expectedReason), "\(text.stdout)\(text.stderr)")
        let json = try runVoxterm(["info", "--json", path])
        #expect(json.status == 0, "\(json.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(obj["geometry_usable"] as? Bool == false)
        #expect((obj["geometry_problem"] as? String)?.contains(bad.expectedReason) == true)
        #expect(obj["shape"] as? [Int] == [5, 4, 3])
        #expect(Self.snapshot([path, fixed, labels]) == before, "an input changed")
        #expect(Self.entries(dir) == entriesBefore, "something was written: \(Self.entries(dir))")
    }

    /// A non-unit quaternion (nibabel refuses it) is read, normalised, with a warning.
    @Test func nonUnitQuaternionIsAWarning() throws {
        let dir = TestPaths.temporaryDirectory("quat-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try BadGeometry.makeNonUnitQuaternion(in: dir)
        let r = try runVoxterm(["info", path])
        #expect(r.status == 0 && r.stdout.contains("warning       quatern_b/c/d: b² + c² + d² is 1.44"), "\(r.stdout)")
        let c = try runVoxterm(["convert", path, dir.appendingPathComponent("c.nii").path])
        #expect(c.status == 0, "\(c.stderr)")
    }

    // MARK: Class 3: racing writers

    /// Six converts of one input to one new output, started together: exactly one writes it, the
    /// others say it exists (exit 3); the file is a complete image; no temporary file is left.
    @Test func racingConvertsExactlyOneWins() throws {
        let dir = TestPaths.temporaryDirectory("race-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = TestPaths.samples.appendingPathComponent("colin27_2mm.nii.gz").path
        for round in 0..<3 {
            let dest = dir.appendingPathComponent("same\(round).nii").path
            // Started with posix_spawn (StartedProcess), each writing its messages to its own log.
            let logs = (0..<6).map { dir.appendingPathComponent(".log\(round)-\($0)").path }
            let procs = try logs.map { try StartedProcess.start(TestPaths.voxtermBinary.path, ["convert", input, dest], log: $0) }
            let statuses = procs.map { $0.wait(timeout: 120) ?? -1 }
            let texts = try logs.map { try String(contentsOfFile: $0, encoding: .utf8) }
            for log in logs { try FileManager.default.removeItem(atPath: log) }
            #expect(statuses.filter { $0 == 0 }.count == 1, "round \(round): \(statuses) \(texts)")
            for (s, t) in zip(statuses, texts) where s != 0 {
                #expect(s == 3 && t.contains("same\(round).nii: already exists") && t.split(separator: "\n").count == 1, "\(t)")
            }
            let info = try runVoxterm(["info", "--json", dest])
            #expect(info.status == 0 && info.stdout.contains("\"shape\""), "\(info.stderr)")
        }
        #expect(Self.entries(dir) == ["same0.nii", "same1.nii", "same2.nii"], "\(Self.entries(dir))")
    }

    // MARK: Class 4: output sets

    /// register --out DIR: a non-empty DIR is refused without --force (exit 3, DIR unchanged); with
    /// --force an earlier run's set is replaced as a whole; files voxterm did not write are never
    /// replaced; a new DIR appears complete or not at all.
    @Test func registerOutputFolderIsOneSet() throws {
        let dir = TestPaths.temporaryDirectory("set-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (fixed, moving, labels) = try Self.tinyPair(in: dir)
        let inputs = Self.snapshot([fixed, moving, labels])
        let out = dir.appendingPathComponent("R")
        let args = ["register", fixed, moving, "--out", out.path, "--preset", "fast", "--mode", "affine", "--quiet"]
        let first = try runVoxterm(args + ["--fixed-labels", labels, "--moving-labels", labels])
        #expect(first.status == 0, "\(first.stderr)")
        let firstSet = Self.entries(out)
        #expect(firstSet.contains("warped_labels.nii.gz") && firstSet.contains("summary.json"), "\(firstSet)")
        let firstSummary = try Data(contentsOf: out.appendingPathComponent("summary.json"))
        // Again without --force: refused before any work, DIR byte-identical.
        let again = try runVoxterm(args)
        Self.expectRefusal(again, status: 3, file: out.path, "is not empty", "second run")
        #expect(again.stderr.contains("--force"))
        #expect(try Data(contentsOf: out.appendingPathComponent("summary.json")) == firstSummary)
        // With --force, without labels this time: the whole set is replaced, the old
        // warped_labels.nii.gz does not survive to mix two runs.
        let forced = try runVoxterm(args + ["--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(!Self.entries(out).contains("warped_labels.nii.gz"), "\(Self.entries(out))")
        #expect(try Data(contentsOf: out.appendingPathComponent("summary.json")) != firstSummary)
        // A file voxterm did not write: refused even with --force.
        try Data("mine".utf8).write(to: out.appendingPathComponent("notes.txt"))
        let foreign = try runVoxterm(args + ["--force"])
        Self.expectRefusal(foreign, status: 3, file: out.path, "notes.txt", "foreign file")
        #expect(Self.snapshot([fixed, moving, labels]) == inputs)
        // Nothing beside DIR: no staging folder left by any run.
        #expect(Self.entries(dir) == ["R", "fixed.nii.gz", "fixed_labels.nii.gz", "moving.nii.gz"], "\(Self.entries(dir))")
    }

    /// segment's outputs (labels, confidence, manifest) appear together: an existing one (without
    /// --force) stops the run before any work and nothing else is written.
    @Test func segmentOutputsAppearTogether() throws {
        let dir = TestPaths.temporaryDirectory("segset-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (fixed, moving, labels) = try Self.tinyPair(in: dir)
        let conf = dir.appendingPathComponent("conf.nii.gz")
        try Data("existing".utf8).write(to: conf)
        let pred = dir.appendingPathComponent("pred.nii.gz").path
        let r = try runVoxterm(["segment", moving, "--support", "\(fixed):\(labels)", "--out", pred,
                                "--confidence", conf.path, "--save-support-set", dir.appendingPathComponent("s.json").path,
                                "--preset", "fast", "--quiet"])
        Self.expectRefusal(r, status: 3, file: "conf.nii.gz", "already exists", "existing confidence")
        #expect(Self.entries(dir) == ["conf.nii.gz", "fixed.nii.gz", "fixed_labels.nii.gz", "moving.nii.gz"], "\(Self.entries(dir))")
        let ok = try runVoxterm(["segment", moving, "--support", "\(fixed):\(labels)", "--out", pred,
                                 "--confidence", dir.appendingPathComponent("conf2.nii.gz").path,
                                 "--save-support-set", dir.appendingPathComponent("s.json").path, "--preset", "fast", "--quiet"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(Self.entries(dir) == ["conf.nii.gz", "conf2.nii.gz", "fixed.nii.gz", "fixed_labels.nii.gz", "moving.nii.gz",
                                      "pred.nii.gz", "s.json"], "\(Self.entries(dir))")
        // Other formats go through the same set: a detached header's data file is an output too
        // (an existing conf3.raw is refused before any work), and all files appear together.
        let before = Self.entries(dir)
        try Data("raw".utf8).write(to: dir.appendingPathComponent("conf3.raw"))
        let mgz = dir.appendingPathComponent("pred.mgz").path, nhdr = dir.appendingPathComponent("conf3.nhdr").path
        let clash = try runVoxterm(["segment", moving, "--support", "\(fixed):\(labels)", "--out", mgz, "--confidence", nhdr,
                                    "--preset", "fast", "--quiet"])
        Self.expectRefusal(clash, status: 3, file: "conf3.raw", "already exists", "existing data file of an .nhdr output")
        #expect(Self.entries(dir) == (before + ["conf3.raw"]).sorted(), "\(Self.entries(dir))")
        try FileManager.default.removeItem(at: dir.appendingPathComponent("conf3.raw"))
        let other = try runVoxterm(["segment", moving, "--support", "\(fixed):\(labels)", "--out", mgz, "--confidence", nhdr,
                                    "--preset", "fast", "--quiet"])
        #expect(other.status == 0, "\(other.stderr)")
        #expect(Self.entries(dir) == (before + ["conf3.nhdr", "conf3.raw", "pred.mgz"]).sorted(), "\(Self.entries(dir))")
    }

    // MARK: Class 5: special files, Ctrl-C while loading

    @Test func specialFilesAreRefusedAtOnce() throws {
        let dir = TestPaths.temporaryDirectory("fifo-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (fixed, _, labels) = try Self.tinyPair(in: dir)
        let fifo = dir.appendingPathComponent("pipe.nii").path
        #expect(mkfifo(fifo, 0o644) == 0)
        let out = dir.appendingPathComponent("out").path
        let runs: [[String]] = [
            ["info", fifo], ["info", "/dev/zero"],
            ["convert", fifo, dir.appendingPathComponent("c.nii").path],
            ["export", fifo, "-o", dir.appendingPathComponent("x.png").path],
            ["register", fixed, fifo, "--out", out, "--quiet"],
            ["segment", fifo, "--support", "\(fixed):\(labels)", "--out", dir.appendingPathComponent("p.nii").path],
            ["segment", fixed, "--support", "\(fixed):\(labels)", "--truth", fifo, "--out", dir.appendingPathComponent("p.nii").path],
        ]
        for args in runs {
            let t0 = Date()
            let r = try runVoxterm(args)
            #expect(Date().timeIntervalSince(t0) < 5, "\(args): took \(Date().timeIntervalSince(t0)) s")
            let name = args.contains("/dev/zero") ? "/dev/zero" : "pipe.nii"
            Self.expectRefusal(r, status: 2, file: name, args.contains("/dev/zero") ? "character device" : "FIFO (named pipe)", "\(args)")
        }
        #expect(Self.entries(dir) == ["fixed.nii.gz", "fixed_labels.nii.gz", "moving.nii.gz", "pipe.nii"])
    }

    /// Moments of a segment run a SIGINT is sent at, each recognised from outside the process
    /// (not by sleeping): loading the inputs (50 ms of CPU used, past start-up and the signal
    /// handlers, and no progress line yet: the 1 mm query and supports take about 0.1 s of CPU
    /// to read), registration begun (the progress line), and registration well under way (half
    /// a CPU second after that). `hangUp`: registration begun, and SIGHUP instead (the SSH
    /// session dropped), which must stop the run the same way (it left partial temporaries).
    enum SegmentPhase: String, CaseIterable, CustomTestStringConvertible {
        case loadingInputs, registrationBegun, registering, hangUp
        var testDescription: String { rawValue }
    }

    /// SIGINT in each phase of a segment run (loading the 1 mm images included): exit 130
    /// within a second, nothing written.
    @Test(arguments: SegmentPhase.allCases)
    func ctrlCInEveryPhaseStopsWithinASecond(_ phase: SegmentPhase) throws {
        let dir = TestPaths.temporaryDirectory("int-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = TestPaths.samples
        let query = s.appendingPathComponent("colin27_1mm.nii.gz").path
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("int-cli-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let p = try StartedProcess.start(TestPaths.voxtermBinary.path, [
            "segment", query,
            "--support", query + ":" + s.appendingPathComponent("colin27_1mm_aal.nii.gz").path,
            "--support", s.appendingPathComponent("subject01_2mm.nii.gz").path + ":" + s.appendingPathComponent("subject01_2mm_aal.nii.gz").path,
            "--out", dir.appendingPathComponent("p.nii.gz").path], log: log)
        var exited: Int32?
        // CPU ticks when the progress line first said "registering support" (nil before).
        var ticksAtRegistration: Int?
        let reached = Self.waitFor(p, exited: &exited) { () -> Bool in
            switch phase {
            case .loadingInputs:
                return Self.cpuTicks(p.pid) >= 5 && !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("registering")
            case .registrationBegun, .hangUp:
                return ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("registering support")
            case .registering:
                if ticksAtRegistration == nil, ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("registering support") {
                    ticksAtRegistration = Self.cpuTicks(p.pid)
                }
                return ticksAtRegistration.map { Self.cpuTicks(p.pid) > $0 + 50 } ?? false
            }
        }
        guard reached, exited == nil else {
            let status = exited ?? p.wait(timeout: 10) ?? -1
            Issue.record("phase \(phase) not seen before the run ended (status \(status), -1: killed after the deadline): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            return
        }
        let t0 = monotonicSeconds()
        p.signal(phase == .hangUp ? SIGHUP : SIGINT)
        let status = p.wait(timeout: 10) ?? -1
        let seconds = monotonicSeconds() - t0
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(seconds < 1.0, "took \(seconds) s from SIGINT to exit (signal while \(phase))")
        #expect(status == 130, "\(text)")
        #expect(text.contains("interrupted; nothing was written"), "\(text)")
        #expect(Self.entries(dir).isEmpty, "\(Self.entries(dir))")
    }

    /// Polls `condition` until it holds (true), `process` has exited (false, `exited` set to its
    /// status) or `timeout` seconds have passed (false, `exited` -1: the process is killed).
    static func waitFor(_ process: StartedProcess, exited: inout Int32?, timeout: Double = 120, _ condition: () -> Bool) -> Bool {
        let deadline = monotonicSeconds() + timeout
        while true {
            if condition() { return true }
            if process.hasExited { exited = process.wait(); return false }
            if monotonicSeconds() > deadline { exited = process.wait(timeout: 0) ?? -1; return false }
            usleep(500)
        }
    }

    /// User + system CPU time of process `pid`, in clock ticks (/proc/PID/stat fields 14 and 15).
    static func cpuTicks(_ pid: pid_t) -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13 else { return 0 }
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }

    // MARK: Class 7: lossless convert

    @Test func convertKeepsEveryVolumeAndTheDatatype() throws {
        let dir = TestPaths.temporaryDirectory("convert-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fx = BadNIfTI.fixtures
        // 4-D: every volume.
        let four = fx.appendingPathComponent("dim4_float32_las.nii.gz").path
        let o4 = dir.appendingPathComponent("four.nii.gz").path
        var r = try runVoxterm(["convert", four, o4])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        #expect(try NIfTIReader.read(o4).shape == NIfTIReader.read(four).shape)
        #expect(try NIfTIReader.read(o4).floatValues() == NIfTIReader.read(four).floatValues())
        // float64 beyond float32's range and int32 beyond float32's precision: kept exactly.
        var f64 = try Data(contentsOf: fx.appendingPathComponent("dt_float64_le.nii"))
        for k in 0..<60 { let v = Double(k) * 1e300; withUnsafeBytes(of: v.bitPattern.littleEndian) { f64.replaceSubrange((352 + 8 * k)..<(360 + 8 * k), with: $0) } }
        let big = dir.appendingPathComponent("big64.nii"); try f64.write(to: big)
        let o64 = dir.appendingPathComponent("o64.nii").path
        r = try runVoxterm(["convert", big.path, o64])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: o64))[352...] == f64[352...])
        var i32 = try Data(contentsOf: fx.appendingPathComponent("dt_int32_le.nii"))
        for k in 0..<60 { withUnsafeBytes(of: (Int32(2_000_000_001) - Int32(k)).littleEndian) { i32.replaceSubrange((352 + 4 * k)..<(356 + 4 * k), with: $0) } }
        let bigInt = dir.appendingPathComponent("bigint.nii"); try i32.write(to: bigInt)
        let oi = dir.appendingPathComponent("oi.nii").path
        r = try runVoxterm(["convert", bigInt.path, oi])
        #expect(r.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: oi))[352...] == i32[352...])
        #expect(try NIfTIReader.readHeader(oi).datatype == .int32)
        // What cannot be kept is said in one warning line naming the input.
        r = try runVoxterm(["convert", fx.appendingPathComponent("extension.nii").path, dir.appendingPathComponent("e.nii").path])
        #expect(r.status == 0 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("warning: ") && r.stderr.contains("extension.nii: header extensions"), "\(r.stderr)")
        // nibabel agrees on shape, datatype and values.
        if let py = pythonWithNibabel {
            let check = try runProcess(py, ["-c", """
                import nibabel as nib, numpy as np, sys
                for a, b in [(sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])]:
                    x, y = nib.load(a), nib.load(b)
                    assert x.shape == y.shape, (x.shape, y.shape)
                    assert x.get_data_dtype().newbyteorder('=') == y.get_data_dtype().newbyteorder('='), (x.get_data_dtype(), y.get_data_dtype())
                    assert np.array_equal(np.asanyarray(x.dataobj), np.asanyarray(y.dataobj))
                    assert np.allclose(x.affine, y.affine, atol=1e-4)
                print("ok")
                """, four, o4, big.path, o64])
            #expect(check.stdout.contains("ok"), "\(check.stderr)")
        }
    }

    // MARK: Class 10: SPM sidecar, NaN images in segment, extreme voxel sizes in export

    @Test func spmSidecarNaNImagesAndExtremeVoxelSizes() throws {
        let dir = TestPaths.temporaryDirectory("misc-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        // An Analyze pair with an SPM .mat: refused, naming both.
        var hdr = try Data(contentsOf: BadNIfTI.fixtures.appendingPathComponent("pair_int16.hdr"))
        for k in 0..<4 { hdr[344 + k] = 0 }
        try hdr.write(to: dir.appendingPathComponent("spm.hdr"))
        try Data(contentsOf: BadNIfTI.fixtures.appendingPathComponent("pair_int16.img")).write(to: dir.appendingPathComponent("spm.img"))
        try Data("MATLAB 5.0 MAT-file".utf8).write(to: dir.appendingPathComponent("spm.mat"))
        let r = try runVoxterm(["info", dir.appendingPathComponent("spm.img").path])
        Self.expectRefusal(r, status: 2, file: "spm.hdr", "SPM affine sidecar", "spm sidecar")
        #expect(r.stderr.contains("spm.mat"))
        // NaN voxels in a support image of segment: the message names that file.
        let (fixed, moving, labels) = try Self.tinyPair(in: dir)
        var v = try NIfTIReader.read(fixed).volume()
        v.voxels[7] = .nan
        let nan = dir.appendingPathComponent("nan_support.nii.gz").path
        try NIfTIWriter.write(v, to: nan)
        let s = try runVoxterm(["segment", moving, "--support", "\(nan):\(labels)", "--out", dir.appendingPathComponent("p.nii.gz").path, "--quiet"])
        Self.expectRefusal(s, status: 2, file: "nan_support.nii.gz", "NaN", "segment NaN support")
        let q = try runVoxterm(["segment", nan, "--support", "\(fixed):\(labels)", "--out", dir.appendingPathComponent("p.nii.gz").path, "--quiet"])
        Self.expectRefusal(q, status: 2, file: "nan_support.nii.gz", "NaN", "segment NaN query")
        // Voxels 0.001 x 100 mm: export names the sizes instead of libpng's "Invalid IHDR data".
        let aniso = dir.appendingPathComponent("aniso.nii.gz").path
        try NIfTIWriter.write(Volume(geometry: VolumeGeometry(size: [40, 40, 5], spacing: [0.001, 100, 1]), repeating: 1), to: aniso)
        let e = try runVoxterm(["export", aniso, "-o", dir.appendingPathComponent("a.png").path])
        Self.expectRefusal(e, status: 2, file: "aniso.nii.gz", "voxel sizes 0.001 x 100 mm", "extreme voxel sizes")
        #expect(e.stderr.contains("4000000 pixels") && !e.stderr.contains("IHDR"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("a.png").path))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("p.nii.gz").path))
    }

    // MARK: Class 2: outputs colliding with inputs or with each other; all checked before work

    @Test func collidingOutputsAreRefusedBeforeAnyWork() throws {
        let dir = TestPaths.temporaryDirectory("collide-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (fixed, moving, labels) = try Self.tinyPair(in: dir)
        let truth = dir.appendingPathComponent("truth.nii.gz").path
        try FileManager.default.copyItem(atPath: labels, toPath: truth)
        let link = dir.appendingPathComponent("hardlink.nii.gz").path
        #expect(Glibc.link(truth, link) == 0)
        let before = Self.snapshot([fixed, moving, labels, truth])
        let entries = Self.entries(dir)
        let seg = ["segment", moving, "--support", "\(fixed):\(labels)", "--preset", "fast", "--quiet"]
        let cases: [(String, [String], String)] = [
            ("--out T --truth T --force", seg + ["--out", truth, "--truth", truth, "--force"], "is also an input (--truth)"),
            ("--out through a hard link of --truth", seg + ["--out", link, "--truth", truth, "--force"], "is also an input (--truth)"),
            ("--out over a support's labels", seg + ["--out", labels, "--force"], "is also an input (--support)"),
            ("--out X --confidence X", seg + ["--out", dir.appendingPathComponent("x.nii.gz").path, "--confidence", dir.appendingPathComponent("./x.nii.gz").path], "given for both --out and --confidence"),
            ("--out X --save-support-set X", seg + ["--out", dir.appendingPathComponent("x.json").path.replacingOccurrences(of: ".json", with: ".nii"), "--save-support-set", dir.appendingPathComponent("x.nii").path], "given for both --out and --save-support-set"),
            ("a missing --truth", seg + ["--out", dir.appendingPathComponent("y.nii.gz").path, "--truth", dir.appendingPathComponent("none.nii.gz").path], "none.nii.gz: no such file or directory"),
            ("an output folder that does not exist", seg + ["--out", dir.appendingPathComponent("no/y.nii.gz").path], "cannot create a file in"),
            ("convert IN IN --force", ["convert", fixed, fixed, "--force"], "is also an input (IN)"),
            ("export -o over --labels", ["export", fixed, "--labels", labels, "-o", labels.replacingOccurrences(of: ".nii.gz", with: ".png"), "--truth", dir.appendingPathComponent("missing.nii.gz").path], "missing.nii.gz: no such file or directory"),
            ("register --out into a file", ["register", fixed, moving, "--out", fixed, "--quiet"], "exists and is not a folder"),
        ]
        for (what, args, words) in cases {
            let t0 = Date()
            let r = try runVoxterm(args)
            let status: Int32 = words.contains("no such file") ? 2 : 3
            #expect(r.status == status, "\(what): exit \(r.status): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(words), "\(what): \(r.stderr)")
            // Before any work: no registration ran (a fraction of a second even in a debug build).
            #expect(!r.stderr.contains("iteration") && Date().timeIntervalSince(t0) < 10, "\(what)")
        }
        #expect(Self.snapshot([fixed, moving, labels, truth]) == before, "an input changed")
        #expect(Self.entries(dir) == entries, "something was written: \(Self.entries(dir))")
    }

    // MARK: Class 6: names that look like options; `--` ends options everywhere

    @Test func namesThatLookLikeOptions() throws {
        let dir = TestPaths.temporaryDirectory("dash-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (fixed, _, _) = try Self.tinyPair(in: dir)
        try FileManager.default.copyItem(atPath: fixed, toPath: dir.appendingPathComponent("-h.nii.gz").path)
        // Run from dir so the names are bare, as a user would type them.
        func run(_ args: [String]) throws -> ProcessResult {
            try runProcess("/bin/sh", ["-c", "cd \"$1\" && shift && exec \"$@\"", "sh", dir.path, TestPaths.voxtermBinary.path] + args)
        }
        for args in [["info", "-h.nii.gz"], ["convert", "-h.nii.gz", "o.nii"], ["export", "-h.nii.gz", "-o", "o.png"],
                     ["info", "--json", "-h.nii.gz"]] {
            let r = try run(args)
            #expect(r.status == 64, "\(args): exit \(r.status) (never 0 without the work)")
            #expect(r.stderr.contains("-h.nii.gz: looks like a file name") && r.stderr.contains("--"), "\(r.stderr)")
        }
        // The other formats' names too (the screen once knew only NIfTI's endings).
        for name in ["-h.mgz", "-v.nrrd", "-x.mha"] {
            let r = try run(["info", name])
            #expect(r.status == 64 && r.stderr.contains("\(name): looks like a file name"), "\(name): \(r.stderr)")
        }
        // After `--`, every command takes it as a name.
        var r = try run(["info", "--", "-h.nii.gz"])
        #expect(r.status == 0 && r.stdout.hasPrefix("-h.nii.gz"), "\(r.stderr)")
        r = try run(["convert", "--force", "--", "-h.nii.gz", "-o.nii"])
        #expect(r.status == 0 && FileManager.default.fileExists(atPath: dir.appendingPathComponent("-o.nii").path), "\(r.stderr)")
        r = try run(["export", "-o", "x.png", "--", "-h.nii.gz"])
        #expect(r.status == 0, "\(r.stderr)")
        // ./-h.nii.gz works as well.
        r = try run(["info", "./-h.nii.gz"])
        #expect(r.status == 0, "\(r.stderr)")
        // The help says how.
        for cmd in ["info", "convert", "export", "register", "segment", "view"] {
            let h = try runVoxterm([cmd, "--help"])
            #expect(h.stdout.contains("after --") && h.stdout.contains("./-h.nii.gz"), "\(cmd) --help")
        }
        // A negative slice is a clear message, not "Missing value".
        r = try runVoxterm(["export", fixed, "-o", dir.appendingPathComponent("s.png").path, "--slice", "-1"])
        #expect(r.status == 2 && r.stderr.contains("--slice: -1 is out of range"), "\(r.stderr)")
        // Non-finite numbers anywhere on the command line: exit 64, one line naming the option.
        for (args, words) in [(["export", fixed, "-o", "x.png", "--at", "nan,0,0"], "--at nan,0,0: nan is not a finite number"),
                              (["export", fixed, "-o", "x.png", "--gain", "inf"], "--gain inf"),
                              (["export", fixed, "-o", "x.png", "--window", "0,1e999"], "--window 0,1e999"),
                              (["register", fixed, fixed, "--out", "R", "--regularisation", "update=nan"], "update=nan"),
                              (["register", fixed, fixed, "--out", "R", "--smoothing", "2x1xinf"], "2x1xinf"),
                              // `--opt=nan` names its own option; the flag before it is not put in front.
                              (["register", fixed, fixed, "--out", "R", "--quiet", "--smoothing=2x1xinf"], "error: --smoothing=2x1xinf: inf is not")] {
            let n = try runVoxterm(args)
            #expect(n.status == 64 && n.stderr.split(separator: "\n").count == 1 && n.stderr.contains(words), "\(args): \(n.stderr)")
        }
    }

    // MARK: Class 9: every command through every class of outcome, statuses as in README

    @Test func exitStatusesAgreeWithTheREADME() throws {
        let dir = TestPaths.temporaryDirectory("status-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (fixed, moving, labels) = try Self.tinyPair(in: dir)
        let missing = dir.appendingPathComponent("missing.nii.gz").path
        let existing = dir.appendingPathComponent("existing.nii.gz").path
        try FileManager.default.copyItem(atPath: fixed, toPath: existing)
        let full = dir.appendingPathComponent("full")
        try FileManager.default.createDirectory(at: full, withIntermediateDirectories: true)
        try Data().write(to: full.appendingPathComponent("summary.json"))
        func o(_ n: String) -> String { dir.appendingPathComponent(n).path }
        let reg = ["--preset", "fast", "--mode", "affine", "--quiet"]
        let seg = ["--preset", "fast", "--quiet"]
        // (command, bad input -> 2, output problem -> 3, malformed command line -> 64)
        let table: [(String, [String], [String], [String])] = [
            ("info", ["info", missing], ["info", fixed], ["info", fixed, "--bogus"]),
            ("convert", ["convert", missing, o("c.nii")], ["convert", fixed, existing], ["convert", fixed, o("c.png")]),
            ("export", ["export", missing, "-o", o("e.png")], ["export", fixed, "-o", o("no/e.png")], ["export", fixed, "-o", o("e.png"), "--plane", "sideways"]),
            ("register", ["register", fixed, missing, "--out", o("R")] + reg, ["register", fixed, moving, "--out", full.path] + reg,
             ["register", fixed, moving, "--out", o("R"), "--metric", "nope"]),
            ("segment", ["segment", missing, "--support", "\(fixed):\(labels)", "--out", o("s.nii")] + seg,
             ["segment", moving, "--support", "\(fixed):\(labels)", "--out", existing] + seg,
             ["segment", moving, "--support", "\(fixed):\(labels)", "--out", o("s.nii"), "--fusion", "nope"]),
        ]
        for (cmd, bad, output, usage) in table {
            let b = try runVoxterm(bad)
            #expect(b.status == 2, "\(cmd) bad input: \(b.status) \(b.stderr)")
            if cmd != "info" {
                let w = try runVoxterm(output)
                #expect(w.status == 3, "\(cmd) output problem: \(w.status) \(w.stderr)")
            }
            let u = try runVoxterm(usage)
            #expect(u.status == 64, "\(cmd) command line: \(u.status) \(u.stderr)")
        }
        // And each succeeds on good input.
        for ok in [["info", fixed], ["convert", fixed, o("ok.nii")], ["export", fixed, "-o", o("ok.png")],
                   ["register", fixed, moving, "--out", o("okR")] + reg,
                   ["segment", moving, "--support", "\(fixed):\(labels)", "--out", o("ok_seg.nii.gz")] + seg] {
            let r = try runVoxterm(ok)
            #expect(r.status == 0, "\(ok[0]): \(r.stderr)")
        }
    }
}
