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
    // The reader refuses unusable geometry (NIfTIReadLimits.requireUsableGeometry): what it
    // returns must pass the one validation, and what `info` shows must not trap either.
    let geometry = image.geometry
    if let problem = image.header.geometryProblem ?? GeometryValidation.problem(with: geometry) {
        fatalError("the reader returned an image with unusable geometry: \(problem)")
    }
    _ = geometry.orientation
    _ = geometry.spacing
    guard geometry.voxelCount <= 1 << 16 else { return }
    // Resampling and rendering cost about a millisecond: done for small grids only (most inputs).
    if geometry.voxelCount <= 1 << 12, let volume = try? image.volume() {
        // A tiny resample onto a 3x3x3 grid spanning the image's world box (both interpolations),
        // and a small render of the middle slice of every plane, as export and the workbench do.
        let tiny = tinyGrid(spanning: geometry)
        _ = volume.resampled(to: tiny)
        _ = volume.resampled(to: tiny, interpolation: .nearest)
        let scene = SliceScene(image: volume)
        // One plane per input (which one follows the data), to keep a run near a millisecond.
        let plane = SlicePlane.allCases[Int(volume.voxels.count % 3)]
        do {
            let mapping = scene.mapping(plane)
            _ = mapping.slice(ofWorld: geometry.centre)
            if scene.outputSizeProblem(mapping, options: RenderOptions()) == nil {
                let size = scene.outputScale(mapping, options: RenderOptions())
                if size.width * size.height <= 1 << 16 { _ = scene.render(mapping, slice: mapping.middleSlice) }
            }
        }
    }
    _ = try? image.labelVolume()
    _ = try? image.vectorField()
}

/// A 3x3x3 grid whose corners are the image's corner voxels (world space).
private func tinyGrid(spanning g: VolumeGeometry) -> VolumeGeometry {
    var a = g.affine
    for c in 0..<3 {
        let f = Double(max(1, [g.size.x, g.size.y, g.size.z][c] - 1)) / 2
        for r in 0..<3 { a[r, c] *= f }
    }
    return VolumeGeometry(size: [3, 3, 3], affine: a)
}
