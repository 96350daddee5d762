import Foundation
import Testing
import TestSupport
import VoxtermModel
#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C (or SIGTERM, or a dropped SSH session's SIGHUP) while dcm2niix converts a DICOM folder
/// used to leave `/tmp/voxterm-dicom.XXXXXX` (a converted copy of the patient's series) and a
/// running dcm2niix behind: `_exit` skips every `defer`. `ExitCleanup` now stops the child and
/// removes the folder first (an audit of every write path, 2026-12-07).
@Suite("An interrupted DICOM read leaves no temporary copy and no dcm2niix running")
struct ExitCleanupCLITests {
    // (No in-process test of `ExitCleanup.run()`: it is process-wide, and the test harness's own
    // children, other tests' voxterm runs, are registered too; it would stop them.)

    /// `info` on a DICOM folder, interrupted while dcm2niix runs: exit 130 within a second, the
    /// temporary folder gone, dcm2niix stopped. A stand-in dcm2niix on PATH writes its output
    /// and then waits, so the signal lands while it runs (a real conversion is over too soon).
    @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
    func interruptedWhileDcm2niixRuns(_ sig: Int32) throws {
        let dir = TestPaths.temporaryDirectory("exit-cleanup-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bin = dir.appendingPathComponent("bin"), tmp = dir.appendingPathComponent("tmp"), dicom = dir.appendingPathComponent("dicom")
        for d in [bin, tmp, dicom] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: false) }
        // A file DICOM detection takes for DICOM: 128 bytes of preamble, then "DICM".
        try (Data(repeating: 0, count: 128) + Data("DICM".utf8) + Data(repeating: 0, count: 64))
            .write(to: dicom.appendingPathComponent("IM0001"))
        let pidFile = dir.appendingPathComponent("fake.pid").path
        let script = """
        #!/bin/sh
        out=""
        while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out="$2"; shift; done
        printf 'converted copy of the series' > "$out/7.nii"
        echo $$ > '\(pidFile)'
        exec sleep 30
        """
        let fake = bin.appendingPathComponent("dcm2niix").path
        try script.write(toFile: fake, atomically: true, encoding: .utf8)
        chmod(fake, 0o755)
        let log = dir.appendingPathComponent("log").path
        let env = ["PATH": bin.path + ":/usr/bin:/bin", "TMPDIR": tmp.path]
        let p = try StartedProcess.start(TestPaths.voxtermBinary.path, ["info", dicom.path], log: log, environment: env)
        // Wait until the stand-in runs (its pid written, its output in the temporary folder).
        let deadline = monotonicSeconds() + 60
        while !FileManager.default.fileExists(atPath: pidFile) && !p.hasExited && monotonicSeconds() < deadline { usleep(20_000) }
        let fakePID = try #require(Int32((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""),
                                   "the stand-in dcm2niix never ran: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        defer { kill(fakePID, SIGKILL) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).contains { $0.hasPrefix("voxterm-dicom.") })
        let t0 = monotonicSeconds()
        p.signal(sig)
        let status = p.wait(timeout: 10) ?? -1
        let seconds = monotonicSeconds() - t0
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status == 130, "\(status): \(text)")
        #expect(seconds < 1.0, "took \(seconds) s")
        #expect(text.contains("interrupted"), "\(text)")
        let left = try FileManager.default.contentsOfDirectory(atPath: tmp.path)
        #expect(left.isEmpty, "left in TMPDIR: \(left)")
        usleep(100_000)
        var st: Int32 = 0
        _ = waitpid(fakePID, &st, WNOHANG)
        #expect(kill(fakePID, 0) != 0, "dcm2niix still runs")
    }

    /// `nohup voxterm ...` starts with SIGHUP ignored: the run must outlive the hangup it was
    /// started to survive (catching SIGHUP like Ctrl-C would stop it).
    @Test func aNohupRunOutlivesAHangup() throws {
        let dir = TestPaths.temporaryDirectory("nohup-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = TestPaths.samples
        let out = dir.appendingPathComponent("p.nii.gz").path, log = dir.appendingPathComponent("log").path
        let p = try StartedProcess.start("/usr/bin/nohup", [TestPaths.voxtermBinary.path, "segment",
            s.appendingPathComponent("subject01_2mm.nii.gz").path,
            "--support", s.appendingPathComponent("colin27_2mm.nii.gz").path + ":" + s.appendingPathComponent("colin27_2mm_aal.nii.gz").path,
            "--out", out], log: log)
        let deadline = monotonicSeconds() + 60
        while !(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("registering support")) && !p.hasExited
                && monotonicSeconds() < deadline { usleep(20_000) }
        try #require(!p.hasExited, "finished before the hangup: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        p.signal(SIGHUP)
        let status = p.wait(timeout: 120) ?? -1
        #expect(status == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        #expect(FileManager.default.fileExists(atPath: out))
    }
}
