import Foundation
import NIfTI
import TestSupport
import Testing
import VolumeCore

/// `NIfTIReader.read(bytes:)` / `readPair(header:image:)` (what the fuzz target drives) behave as
/// the file reader: same images from good files, same refusals from bad ones.
@Suite struct MemoryReadTests {
    static let fixtures = BadNIfTI.fixtures

    static let singleFiles: [String] = (try? FileManager.default.contentsOfDirectory(atPath: fixtures.path))?
        .filter { $0.hasSuffix(".nii") || $0.hasSuffix(".nii.gz") }.sorted() ?? []

    @Test(arguments: singleFiles) func sameImageAsFromTheFile(_ name: String) throws {
        let path = Self.fixtures.appendingPathComponent(name).path
        let bytes = try FileIO.readAll(path)
        let fromFile: NIfTIImage
        do { fromFile = try NIfTIReader.read(path) } catch let e as NIfTIError {
            // Refused fixtures (unsupported datatypes) are refused the same way.
            #expect(throws: NIfTIError(name, e.reason)) { _ = try bytes.withUnsafeBytes { try NIfTIReader.read(bytes: $0, path: name) } }
            return
        }
        let fromMemory = try bytes.withUnsafeBytes { try NIfTIReader.read(bytes: $0, path: name) }
        // (Compared as text: a NaN field makes == false.)
        #expect("\(fromMemory.header)" == "\(fromFile.header)")
        #expect(fromMemory.storage == fromFile.storage)
        #expect(fromMemory.floatValues().elementsEqual(fromFile.floatValues()) { $0 == $1 || ($0.isNaN && $1.isNaN) })
    }

    @Test(arguments: ["pair_int16.hdr", "nifti2_pair.hdr", "pair_gz_float32_be.hdr.gz"])
    func pairFromMemory(_ name: String) throws {
        let hdr = Self.fixtures.appendingPathComponent(name).path
        let img = hdr.replacingOccurrences(of: ".hdr", with: ".img")
        let fromFile = try NIfTIReader.read(hdr)
        let h = try FileIO.readAll(hdr), i = try FileIO.readAll(img)
        let fromMemory = try h.withUnsafeBytes { hb in try i.withUnsafeBytes { try NIfTIReader.readPair(header: hb, image: $0) } }
        #expect("\(fromMemory.header)" == "\(fromFile.header)")
        #expect(fromMemory.floatValues() == fromFile.floatValues())
    }

    /// The single-file bad inputs (pairs, folders and missing paths need the file system).
    static let badSingles = BadNIfTI.allCases.filter {
        ![.pairWithoutImage, .truncatedPairHeader, .shortPairImage, .hugeClaimPairGzip, .nearMaxBytesPairGzip,
          .directory, .missing].contains($0)
    }

    @Test(arguments: badSingles) func sameRefusalAsFromTheFile(_ bad: BadNIfTI) throws {
        let dir = TestPaths.temporaryDirectory("nifti-memory")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (path, _) = try bad.make(in: dir)
        let bytes = try FileIO.readAll(path)
        do {
            _ = try bytes.withUnsafeBytes { try NIfTIReader.read(bytes: $0, path: "mem.nii") }
            Issue.record("\(bad): read from memory succeeded")
        } catch let e as NIfTIError {
            #expect(e.path == "mem.nii")
            #expect(e.reason.contains(bad.expectedReason), "\(bad): \"\(e.reason)\" lacks \"\(bad.expectedReason)\"")
        }
    }
}
