// Fuzz target: support-set manifests (JSON) parsed from memory, without touching the files they
// name, then the paths made relative again as `save` does.

func fuzzSupportSet(_ data: UnsafeRawBufferPointer) {
    guard let set = try? SupportSet.parse(Array(data), path: "fuzz.json", folder: "/data/sets") else { return }
    for ex in set.examples.prefix(16) {
        _ = relative(ex.image, to: "/data/sets")
        _ = relative(ex.labels, to: "/data")
        _ = ex.slices?.text
    }
}
