// Fuzz target: the MGH/MGZ reader (header, data, optional tail) on arbitrary bytes, in memory.
// The first byte picks the mode: even as .mgh, odd gzip-compressed as .mgz.

func fuzzMGH(_ data: UnsafeRawBufferPointer) {
    guard let mode = data.first else { return }
    let rest = Array(data[1...])
    let limits = NIfTIReadLimits(maxDataBytes: 256 << 10)
    if mode % 2 == 0 {
        exerciseImage(try? MGH.read(bytes: rest, path: "f.mgh", limits: limits))
    } else if let gz = try? rest.withUnsafeBytes({ try GzipLayer.gzip([$0], path: "f.mgz") }) {
        exerciseImage(try? MGH.read(bytes: gz, path: "f.mgz", limits: limits))
    }
}

/// Touches what a command would use of an image read from another format.
func exerciseImage(_ image: NIfTIImage?) {
    guard let image else { return }
    _ = image.warnings
    _ = image.geometry.orientation
    if image.geometry.voxelCount <= 1 << 16 {
        _ = try? image.volume()
        _ = try? image.labelVolume()
    }
}
