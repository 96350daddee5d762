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

/// The header-only readers take a path: the input is written to one scratch file per process
/// (in /dev/shm, memory-backed) and `body` reads it. The file is rewritten at every run.
func withScratchFile(_ bytes: [UInt8], suffix: String, _ body: (String) -> Void) {
    // /dev/shm where there is one (memory-backed), else the temporary folder: never silently skipped.
    let folder = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp")
    let path = "\(folder)/voxterm-fuzz-\(getpid())\(suffix)"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fatalError("cannot create the fuzz scratch file \(path)") }
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    if written == bytes.count { body(path) }
    unlink(path)
}
