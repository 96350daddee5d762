// Fuzz target: the MGH/MGZ reader (header, data, optional tail) on arbitrary bytes, in memory.
// The first byte picks the mode: even as .mgh, odd gzip-compressed as .mgz.

func fuzzMGH(_ data: UnsafeRawBufferPointer) {
    guard let mode = data.first else { return }
    let rest = Array(data[1...])
    let limits = NIfTIReadLimits(maxDataBytes: 256 << 10)
    let file: [UInt8]
    if mode % 2 == 0 {
        file = rest
    } else if let gz = try? rest.withUnsafeBytes({ try GzipLayer.gzip([$0], path: "f.mgz") }) {
        file = gz
    } else { return }
    let image = try? MGH.read(bytes: file, path: "f.mgh", limits: limits)
    exerciseImage(image)
    // The header-only reader (a prefix of the file; of an MGZ, only the header inflated) must
    // accept whatever the whole reader accepts, with the same shape and affine.
    withScratchFile(file, suffix: mode % 2 == 0 ? ".mgh" : ".mgz") { path in
        let header = try? MGH.readHeader(path)
        _ = try? ImageFile.readHeader(path)
        if let image {
            guard let header else { fatalError("MGH.readHeader refused a file MGH.read accepts") }
            if header.shape != image.header.shape || header.bestAffine.affine != image.header.bestAffine.affine {
                fatalError("MGH.readHeader disagrees with MGH.read: \(header.shape) vs \(image.header.shape)")
            }
        }
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
