// libFuzzer target: the NIfTI reader on arbitrary bytes, as .nii, .nii.gz and .hdr/.img.
// Built by Scripts/fuzz.sh together with the VolumeCore and NIfTI sources as one module.
#if canImport(Glibc)
import Glibc
#endif

private let scratch: String = {
    let dir = "/dev/shm/voxterm-fuzz-\(getpid())"
    mkdir(dir, 0o700)
    return dir
}()

private func put(_ path: String, _ data: UnsafeRawBufferPointer) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    if fd < 0 { return }
    if data.count > 0 { _ = write(fd, data.baseAddress!, data.count) }
    close(fd)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNIfTI(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    let data = UnsafeRawBufferPointer(start: bytes, count: count)
    // Small ceiling so the fuzzer explores refusals rather than allocating gigabytes.
    let limits = NIfTIReadLimits(maxDataBytes: 64 << 20)
    let kind = count > 0 ? bytes[0] % 3 : 0
    switch kind {
    case 0:
        let p = "\(scratch)/f.nii"
        put(p, data)
        exercise(try? NIfTIReader.read(p, limits: limits))
    case 1:
        // The same bytes, gzip-compressed, so the inflate path sees valid streams with odd content.
        let p = "\(scratch)/f.nii.gz"
        if let gz = try? Gzip.compress(UnsafeRawBufferPointer(rebasing: data[1...]), level: 1, path: p) {
            gz.withUnsafeBytes { put(p, $0) }
            exercise(try? NIfTIReader.read(p, limits: limits))
        }
    default:
        // Split into a header (first 348 bytes) and an image file.
        let cut = min(count, 349)
        put("\(scratch)/f.hdr", UnsafeRawBufferPointer(rebasing: data[1..<cut]))
        put("\(scratch)/f.img", UnsafeRawBufferPointer(rebasing: data[cut...]))
        exercise(try? NIfTIReader.read("\(scratch)/f.hdr", limits: limits))
    }
    return 0
}

private func exercise(_ image: NIfTIImage?) {
    guard let image else { return }
    _ = image.warnings
    _ = image.geometry.orientation
    if image.geometry.voxelCount <= 1 << 22 {
        _ = try? image.volume()
        _ = try? image.labelVolume()
        _ = try? image.vectorField()
    }
}
