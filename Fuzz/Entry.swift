// The one libFuzzer entry point of .fuzz/fuzzer: runs the target VOXTERM_FUZZ_TARGET names
// (Scripts/fuzz.sh sets it), so every target shares a single sanitizer build.
#if canImport(Glibc)
import Glibc
#endif

private enum FuzzTarget: String {
    case NIfTIReaderFuzz, LabelTableFuzz, SupportSetFuzz, ITKTransformFuzz, MGHFuzz, NRRDFuzz, MetaImageFuzz
}

private let selectedTarget: FuzzTarget = {
    let name = getenv("VOXTERM_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        fputs("VOXTERM_FUZZ_TARGET must name a target in Fuzz/ (got \"\(name)\")\n", stderr)
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEntry(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let data = UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : count)
    switch selectedTarget {
    case .NIfTIReaderFuzz: fuzzNIfTIReader(data)
    case .LabelTableFuzz: fuzzLabelTable(data)
    case .SupportSetFuzz: fuzzSupportSet(data)
    case .ITKTransformFuzz: fuzzITKTransform(data)
    case .MGHFuzz: fuzzMGH(data)
    case .NRRDFuzz: fuzzNRRD(data)
    case .MetaImageFuzz: fuzzMetaImage(data)
    }
    return 0
}
