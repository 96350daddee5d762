// libFuzzer target: label tables (ITK-SNAP, FreeSurfer, AAL-style text, mricron .lut), in memory.
// Built by Scripts/fuzz.sh together with the VolumeCore sources as one module.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLabelTable(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    let data = Array(UnsafeBufferPointer(start: bytes, count: count))
    if let table = try? LabelTable.parse(data, path: "fuzz") {
        for (v, e) in table.entries.prefix(64) {
            _ = table.color(of: v)
            _ = table.name(of: v)
            _ = table.values(named: [e.name])
        }
    }
    return 0
}
