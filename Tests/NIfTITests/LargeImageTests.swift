import Foundation
import NIfTI
import TestSupport
import Testing
import VolumeCore

/// Images large enough for the overlapped inflate-and-decode path (.nii.gz of at least 65,536
/// voxels) decode exactly as the plain .nii path does, and fail cleanly when cut short.
@Suite("Large gzipped images: overlapped inflate and decode")
struct LargeImageTests {
    /// A copy of fixture `name` grown to `dims` voxels of deterministic pseudo-random bytes,
    /// written as `stem.nii` (and `stem.nii.gz` when `gzipped`).
    static func grow(_ name: String, dims: [Int], in dir: URL, stem: String) throws -> String {
        var d = try Data(contentsOf: Fixtures.folder.appendingPathComponent(name))
        let bigEndian = d[0] == 0 && d[3] == 0x5c
        func put16(_ v: Int, _ o: Int) {
            let u = UInt16(truncatingIfNeeded: v)
            d[o] = UInt8(bigEndian ? u >> 8 : u & 0xff); d[o + 1] = UInt8(bigEndian ? u & 0xff : u >> 8)
        }
        put16(dims.count, 40)
        for (i, n) in dims.enumerated() { put16(n, 42 + 2 * i) }
        let image = try NIfTIReader.read(Fixtures.path(name))
        let bytes = dims.reduce(1, *) * image.header.datatype!.byteCount
        var state: UInt64 = 0x9e3779b97f4a7c15
        var payload = [UInt8](repeating: 0, count: bytes)
        for i in 0..<bytes {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            payload[i] = UInt8(truncatingIfNeeded: state >> 56)
        }
        d = d.prefix(Int(image.header.voxOffset)) + Data(payload)
        let p = dir.appendingPathComponent(stem + ".nii").path
        try d.write(to: URL(fileURLWithPath: p))
        return p
    }

    static func gzipCopy(_ path: String) throws -> String {
        let copy = path.replacingOccurrences(of: ".nii", with: "-gz.nii")
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try gzip(copy)
        return copy + ".gz"
    }

    @Test("gzipped and plain copies decode to identical float32 voxels",
          arguments: ["dt_int16_be.nii", "scaled_int16.nii", "scaled_uint8_be.nii", "dt_float64_be.nii",
                      "dt_uint8_le.nii", "dt_int64_le.nii", "scaled_float32.nii"])
    func overlappedEqualsPlain(_ name: String) throws {
        let dir = TestPaths.temporaryDirectory("nifti-large")
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = try Self.grow(name, dims: [67, 53, 41], in: dir, stem: "big")
        let gz = try Self.gzipCopy(plain)
        let a = try NIfTIReader.read(plain), b = try NIfTIReader.read(gz)
        #expect(b.storage == .singleGzip)
        #expect(a.floatValues().map(\.bitPattern) == b.floatValues().map(\.bitPattern))
        #expect(try a.volume().voxels.map(\.bitPattern) == b.volume().voxels.map(\.bitPattern))
        #expect(a.scaling?.slope == b.scaling?.slope)
    }

    @Test("4-D: every frame matches")
    func frames() throws {
        let dir = TestPaths.temporaryDirectory("nifti-large-4d")
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = try Self.grow("scaled_int16.nii", dims: [40, 40, 30, 3], in: dir, stem: "big4d")
        let gz = try Self.gzipCopy(plain)
        let a = try NIfTIReader.read(plain), b = try NIfTIReader.read(gz)
        for f in 0..<3 { #expect(try a.volume(frame: f).voxels.map(\.bitPattern) == b.volume(frame: f).voxels.map(\.bitPattern)) }
    }

    @Test("a gzipped pair decodes like the plain file")
    func gzippedPair() throws {
        let dir = TestPaths.temporaryDirectory("nifti-large-pair")
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = try Self.grow("dt_int16_le.nii", dims: [70, 60, 20], in: dir, stem: "big")
        // Split into a header (vox_offset 0 in a pair) and a gzipped image.
        var d = try Data(contentsOf: URL(fileURLWithPath: plain))
        let hdr = dir.appendingPathComponent("pair.hdr").path, img = dir.appendingPathComponent("pair.img").path
        var head = d.prefix(348)
        head[108] = 0; head[109] = 0; head[110] = 0; head[111] = 0
        head[344] = UInt8(ascii: "n"); head[345] = UInt8(ascii: "i"); head[346] = UInt8(ascii: "1")
        try head.write(to: URL(fileURLWithPath: hdr))
        d = d.dropFirst(352)
        try d.write(to: URL(fileURLWithPath: img))
        try gzip(img)
        let a = try NIfTIReader.read(plain), b = try NIfTIReader.read(hdr)
        #expect(b.storage == .pair)
        #expect(a.floatValues() == b.floatValues())
    }

    @Test("cut short while inflating: one error, no hang", arguments: [0.3, 0.6, 0.95])
    func truncatedMidway(_ fraction: Double) throws {
        let dir = TestPaths.temporaryDirectory("nifti-large-cut")
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = try Self.grow("dt_int16_le.nii", dims: [64, 64, 40], in: dir, stem: "big")
        let gz = try Self.gzipCopy(plain)
        let data = try Data(contentsOf: URL(fileURLWithPath: gz))
        try data.prefix(Int(Double(data.count) * fraction)).write(to: URL(fileURLWithPath: gz))
        #expect(throws: NIfTIError.self) { try NIfTIReader.read(gz) }
        do { _ = try NIfTIReader.read(gz) } catch let e as NIfTIError {
            #expect(e.reason.contains("truncated"), "\(e)")
        }
    }

    @Test("a stream that ends before the claimed data: 'data is shorter than the header claims'")
    func streamEndsEarly() throws {
        let dir = TestPaths.temporaryDirectory("nifti-large-short")
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = try Self.grow("dt_int16_le.nii", dims: [64, 64, 40], in: dir, stem: "big")
        var d = try Data(contentsOf: URL(fileURLWithPath: plain))
        d[46] = 41 // dim[3] 40 -> 41: one slice more than the data holds
        try d.write(to: URL(fileURLWithPath: plain))
        let gz = try Self.gzipCopy(plain)
        do {
            _ = try NIfTIReader.read(gz)
            Issue.record("read succeeded")
        } catch let e as NIfTIError {
            #expect(e.reason == "data is shorter than the header claims: \(64 * 64 * 40 * 2) of \(64 * 64 * 41 * 2) bytes present after decompression")
        }
    }
}
