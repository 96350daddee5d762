import Foundation
import NIfTI
import TestSupport
import Testing
import VolumeCore
#if canImport(Glibc)
import Glibc
#endif

/// Broken files give one-line errors naming the file and the problem, without crashing or
/// allocating what the file cannot justify. The CLI side is in CLITests/InfoCLITests.swift.
@Suite("Bad input is refused clearly")
struct BadInputTests {
    @Test("each broken file gives a one-line error naming the file and the problem", arguments: BadNIfTI.allCases)
    func refused(_ bad: BadNIfTI) throws {
        let dir = TestPaths.temporaryDirectory("nifti-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (path, named) = try bad.make(in: dir)
        let before = peakResidentBytes()
        do {
            let image = try NIfTIReader.read(path)
            Issue.record("\(bad): read succeeded with shape \(image.shape)")
        } catch let e as NIfTIError {
            #expect(e.path == named, "\(bad): the error names \(e.path), expected \(named)")
            #expect(e.description.hasPrefix(named + ": "))
            #expect(e.reason.contains(bad.expectedReason), "\(bad): \"\(e.reason)\" lacks \"\(bad.expectedReason)\"")
            #expect(!e.description.contains("\n"), "\(bad): error spans several lines")
        }
        if bad.claimsHugeVolume {
            // The claim is hundreds of MB or more; nothing near that may be touched. (The CLI test
            // runs the binary under `ulimit -v`, which also catches untouched allocations.)
            let grown = peakResidentBytes() - before
            #expect(grown < 32 << 20, "\(bad): peak resident memory grew by \(grown >> 20) MB")
        }
        // The header-only path refuses the same files, except those whose header is sound and
        // only the data is wrong.
        let headerIsSound: Set<BadNIfTI> = [.truncatedData, .voxOffsetPastEnd, .dataShorterThanHeader,
                                             .dataShorterThanHeaderGzip, .hugeClaimGzip, .hugeClaimNIfTI2Gzip,
                                             .hugeClaimPairGzip, .truncatedGzip, .corruptGzip]
        if !headerIsSound.contains(bad) {
            #expect(throws: NIfTIError.self, "\(bad): readHeader accepted it") { try NIfTIReader.readHeader(path) }
        }
    }

    @Test("a file without read permission is refused with 'permission denied' (not as root)")
    func unreadable() throws {
        let dir = TestPaths.temporaryDirectory("nifti-unreadable")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Fixtures.copy("las.nii", to: dir, as: "unreadable.nii")
        chmod(path, 0)
        defer { chmod(path, 0o644) }
        if geteuid() == 0 {
            // Root ignores permission bits (CAP_DAC_OVERRIDE), so the read succeeds here; the CLI
            // test drops those capabilities with setpriv to check the message as root too.
            #expect(try NIfTIReader.read(path).shape == [5, 4, 3])
            return
        }
        #expect(throws: NIfTIError(path, "permission denied")) { try NIfTIReader.read(path) }
    }

    @Test("the size limit (VOXTERM_MAX_VOLUME_MB) refuses large data before allocating it")
    func readLimit() throws {
        let path = Fixtures.path("dt_float64_le.nii") // 60 voxels x 8 bytes
        #expect(throws: NIfTIError.self) { try NIfTIReader.read(path, limits: NIfTIReadLimits(maxDataBytes: 400)) }
        #expect(try NIfTIReader.read(path, limits: NIfTIReadLimits(maxDataBytes: 480)).shape == [5, 4, 3])
        let gz = Fixtures.path("vec5d_float32.nii.gz") // 72 x 4 bytes
        #expect(throws: NIfTIError.self) { try NIfTIReader.read(gz, limits: NIfTIReadLimits(maxDataBytes: 200)) }
    }

    @Test("bytes after the data and zero padding after a gzip member are tolerated, as nibabel does")
    func trailingBytes() throws {
        let dir = TestPaths.temporaryDirectory("nifti-trailing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try NIfTIReader.read(Fixtures.path("las.nii"))
        var data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("las.nii")))
        data.append(Data(repeating: 7, count: 33))
        let p = dir.appendingPathComponent("trailing.nii").path
        try data.write(to: URL(fileURLWithPath: p))
        #expect(try NIfTIReader.read(p).floatValues() == good.floatValues())
        var gz = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("lpi.nii.gz")))
        gz.append(Data(repeating: 0, count: 64))
        let q = dir.appendingPathComponent("padded.nii.gz").path
        try gz.write(to: URL(fileURLWithPath: q))
        #expect(try NIfTIReader.read(q).floatValues() == NIfTIReader.read(Fixtures.path("lpi.nii.gz")).floatValues())
    }
}
