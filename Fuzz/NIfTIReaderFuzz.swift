// Fuzz target: the NIfTI reader on arbitrary bytes, as .nii, .nii.gz and .hdr/.img, all in
// memory (no files). The first byte picks the mode.

func fuzzNIfTIReader(_ data: UnsafeRawBufferPointer) {
    guard let mode = data.first else { return }
    let rest = UnsafeRawBufferPointer(rebasing: data[1...])
    // Small ceiling so the fuzzer explores refusals rather than inflating and decoding megabytes.
    let limits = NIfTIReadLimits(maxDataBytes: 256 << 10)
    switch mode % 4 {
    case 0:
        // As a .nii (or .nii.gz when the bytes happen to be gzip).
        exercise(try? NIfTIReader.read(bytes: rest, path: "f.nii", limits: limits))
    case 1:
        // The same bytes gzip-compressed, so the inflate path sees valid streams with odd content.
        if let gz = try? Gzip.compress([rest], level: 1, path: "f.nii.gz") {
            gz.withUnsafeBytes { exercise(try? NIfTIReader.read(bytes: $0, path: "f.nii.gz", limits: limits)) }
        }
    case 2:
        // Split into a header (first 348 bytes) and an image.
        let cut = min(rest.count, 348)
        exercise(try? NIfTIReader.readPair(header: UnsafeRawBufferPointer(rebasing: rest[0..<cut]),
                                           image: UnsafeRawBufferPointer(rebasing: rest[cut...]), limits: limits))
    default:
        // Arbitrary bytes behind a gzip header: corrupt, truncated and multi-member deflate streams.
        let file: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3] + Array(rest)
        file.withUnsafeBytes { exercise(try? NIfTIReader.read(bytes: $0, path: "f.nii.gz", limits: limits)) }
    }
}

private func exercise(_ image: NIfTIImage?) {
    guard let image else { return }
    _ = image.warnings
    _ = image.geometry.orientation
    if image.geometry.voxelCount <= 1 << 16 {
        _ = try? image.volume()
        _ = try? image.labelVolume()
        _ = try? image.vectorField()
    }
}
