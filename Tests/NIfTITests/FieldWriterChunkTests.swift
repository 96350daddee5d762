import Foundation
@testable import NIfTI
import Testing
import TestSupport
import VolumeCore

/// The `.nii` writer negates a field's x and y (RAS → LPS) a chunk at a time: the bytes on disk
/// are the exact negation across chunk boundaries, and the same as the `.nii.gz` writer's.
@Suite struct FieldWriterChunkTests {
    @Test func negatedPartsAreExactAcrossChunks() throws {
        // x and y together (8 bytes a voxel) span one chunk and part of the next.
        let g = VolumeGeometry(size: [61, 53, 41], spacing: [1, 1, 1], origin: [0, 0, 0])
        let n = g.voxelCount
        #expect(8 * n > NIfTIWriter.negatedChunkBytes && (8 * n) % NIfTIWriter.negatedChunkBytes != 0)
        var rng = SplitMix64(seed: 5)
        var data = (0..<(3 * n)).map { _ in Float(rng.nextDouble() * 20 - 10) }
        data[0] = 0; data[1] = -0.0; data[NIfTIWriter.negatedChunkBytes / 4] = .infinity
        let field = VectorField(geometry: g, data: data)
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let nii = dir.appendingPathComponent("field.nii").path
        let gz = dir.appendingPathComponent("field.nii.gz").path
        try NIfTIWriter.write(field, to: nii)
        try NIfTIWriter.write(field, to: gz)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: nii))
        #expect(bytes.count == 352 + 12 * n)
        let onDisk = bytes.withUnsafeBytes { raw in
            (0..<(3 * n)).map { raw.loadUnaligned(fromByteOffset: 352 + 4 * $0, as: UInt32.self) }
        }
        let expected = (0..<(3 * n)).map { i in (i < 2 * n ? -data[i] : data[i]).bitPattern }
        #expect(onDisk == expected)
        // The gzip writer (zlib, streamed) holds the same bytes; both read back to the field.
        let same = try runProcess("/bin/sh", ["-c", "gzip -dc \"$0\" | cmp - \"$1\"", gz, nii])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        let back = try NIfTIReader.read(nii).vectorField()
        #expect(back.data.map(\.bitPattern) == data.map(\.bitPattern))
    }
}
