import Foundation
import NIfTI
import TestSupport
import Testing
import VolumeCore

/// Randomly corrupted headers (fixed seed) must be read or refused with a NIfTIError, never
/// crash the process, and whatever is read must be usable (values, geometry, orientation).
@Suite("Corrupted headers never crash the reader")
struct HeaderFuzzTests {
    /// A small deterministic generator (SplitMix64).
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e3779b97f4a7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
            z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// Field offsets worth hitting in NIfTI-1 (dims, intent, datatype, bitpix, pixdim, vox_offset,
    /// scaling, codes, quaternion, qoffset, srow) and NIfTI-2.
    static let fields1 = [0, 40, 42, 44, 46, 48, 50, 68, 70, 72, 76, 80, 84, 88, 108, 112, 116, 252, 254, 256, 260, 264, 268, 280, 296, 312, 344]
    static let fields2 = [0, 4, 12, 14, 16, 24, 32, 40, 48, 104, 112, 120, 128, 168, 176, 184, 344, 348, 352, 360, 368, 376, 400, 432, 464, 504]

    static let interesting: [[UInt8]] = [
        [0, 0, 0, 0], [0xff, 0xff, 0xff, 0xff], [0xff, 0x7f, 0, 0], [0, 0, 0x80, 0x7f], [0, 0, 0xc0, 0x7f], [0, 0, 0x80, 0xff],
        [1, 0, 0, 0], [0, 0x80, 0, 0], [7, 0, 0, 0], [8, 0, 0, 0], [0x10, 0, 0, 0], [0x60, 1, 0, 0],
    ]

    @Test("4,000 mutated headers: a result or a NIfTIError, and usable results",
          arguments: ["las.nii", "vec5d_float32.nii.gz", "nifti2.nii", "pair_int16.hdr", "dim4_float32_las.nii.gz"])
    func mutate(_ name: String) throws {
        let dir = TestPaths.temporaryDirectory("nifti-fuzz")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Work on the uncompressed bytes; gzip the mutants back when the fixture was gzipped.
        let source = try NIfTIReader.read(Fixtures.path(name))
        let isNIfTI2 = source.header.version == 2
        var original = try Data(contentsOf: Fixtures.folder.appendingPathComponent(name))
        let gzipped = name.hasSuffix(".gz")
        if gzipped {
            let plain = dir.appendingPathComponent("plain.nii")
            try FileManager.default.copyItem(at: Fixtures.folder.appendingPathComponent(name),
                                              to: dir.appendingPathComponent("plain.nii.gz"))
            let r = try runProcess("/bin/sh", ["-c", "gzip -d -f \"$0\"", plain.path + ".gz"])
            try #require(r.status == 0, "gunzip failed: \(r.stderr)")
            original = try Data(contentsOf: plain)
        }
        let isPair = name.hasSuffix(".hdr")
        if isPair {
            try FileManager.default.copyItem(at: Fixtures.folder.appendingPathComponent("pair_int16.img"),
                                              to: dir.appendingPathComponent("mutant.img"))
        }
        let fields = isNIfTI2 ? Self.fields2 : Self.fields1
        let headerSize = isNIfTI2 ? 540 : 348
        var rng = Random(state: UInt64(name.utf8.reduce(17) { $0 &* 31 &+ Int($1) }))
        let iterations = gzipped ? 400 : 1000
        var refused = 0, read = 0
        for _ in 0..<iterations {
            var d = original
            for _ in 0..<(1 + rng.below(3)) {
                let at = rng.below(4) == 0 ? rng.below(headerSize) : fields[rng.below(fields.count)]
                let bytes = rng.below(3) == 0 ? (0..<4).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                                              : Self.interesting[rng.below(Self.interesting.count)]
                for (k, b) in bytes.enumerated() where at + k < d.count { d[at + k] = b }
            }
            if rng.below(10) == 0 { d = d.prefix(rng.below(d.count + 1)) }
            let path = dir.appendingPathComponent(isPair ? "mutant.hdr" : "mutant.nii").path
            try d.write(to: URL(fileURLWithPath: path))
            var readPath = path
            if gzipped {
                try gzip(path)
                readPath = path + ".gz"
            }
            do {
                let image = try NIfTIReader.read(readPath, limits: NIfTIReadLimits(maxDataBytes: 64 << 20))
                read += 1
                let values = image.floatValues()
                #expect(values.count == image.shape.reduce(1, *))
                _ = IntensityStatistics(values)
                _ = image.geometry.orientation.description
                _ = image.warnings
                _ = try? image.volume(frame: image.frameCount - 1)
                _ = try? image.labelVolume()
                _ = try? image.vectorField()
            } catch let e as NIfTIError {
                refused += 1
                #expect(!e.description.contains("\n"))
                #expect(e.path.hasPrefix(dir.path))
            }
            try? FileManager.default.removeItem(atPath: readPath)
        }
        #expect(read > 0 && refused > 0, "read \(read), refused \(refused)")
    }
}
