// Fuzz target: label tables (ITK-SNAP, FreeSurfer, AAL-style text, mricron .lut), in memory.

func fuzzLabelTable(_ data: UnsafeRawBufferPointer) {
    guard let table = try? LabelTable.parse(Array(data), path: "fuzz") else { return }
    for (v, _) in table.entries.prefix(16) {
        _ = table.color(of: v)
        _ = table.name(of: v)
    }
    // Name look-up scans every entry, so only a few names per input.
    _ = table.values(named: table.entries.values.prefix(2).map(\.name) + ["12", " x "])
}
