// Fuzz target: the NRRD reader on arbitrary bytes, in memory: the header, attached data in every
// encoding, and a detached data file (the last quarter of the input stands in for it).

func fuzzNRRD(_ data: UnsafeRawBufferPointer) {
    let bytes = Array(data)
    let limits = NIfTIReadLimits(maxDataBytes: 256 << 10)
    let detached = Array(bytes[(bytes.count * 3 / 4)...])
    exerciseImage(try? NRRD.read(bytes: bytes, path: "f.nrrd", limits: limits) { name in (detached, name) })
    // The header-only reader on the same bytes as a file (a detached data file named in the
    // header does not exist there: a refusal, never a crash).
    withScratchFile(bytes, suffix: ".nrrd") { path in
        _ = try? NRRD.readHeader(path)
        _ = try? ImageFile.readHeader(path)
    }
}
