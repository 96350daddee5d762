// Fuzz target: the MetaImage reader on arbitrary bytes, in memory: the header, LOCAL data (raw or
// zlib), and a detached data file (the last quarter of the input stands in for it).

func fuzzMetaImage(_ data: UnsafeRawBufferPointer) {
    let bytes = Array(data)
    let limits = NIfTIReadLimits(maxDataBytes: 256 << 10)
    let detached = Array(bytes[(bytes.count * 3 / 4)...])
    exerciseImage(try? MetaImage.read(bytes: bytes, path: "f.mha", limits: limits) { name in (detached, name) })
    _ = FormatDetection.classify(bytes, path: "f")
    // The header-only reader on the same bytes as a file (a detached data file named in the
    // header does not exist there: a refusal, never a crash).
    withScratchFile(bytes, suffix: ".mha") { path in
        _ = try? MetaImage.readHeader(path)
        _ = try? ImageFile.readHeader(path)
    }
}
