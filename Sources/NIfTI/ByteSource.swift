import VolumeCore
#if canImport(Glibc)
import Glibc
#endif

/// Where the reader's bytes come from: an open file (read with `pread`, nothing else copied)
/// or a buffer in memory (the fuzz targets and `NIfTIReader.read(bytes:)`).
enum ByteSource {
    /// An open regular file of `size` bytes; the caller closes it.
    case file(Int32, size: Int)
    /// Bytes the caller keeps alive for the duration of the read.
    case memory(UnsafeRawBufferPointer)

    /// Total length in bytes.
    var size: Int {
        switch self {
        case .file(_, let size): size
        case .memory(let b): b.count
        }
    }

    /// Exactly `count` bytes from `offset`, or an error saying where the data ends.
    func read(at offset: Int, count: Int, path: String) throws -> [UInt8] {
        switch self {
        case .file(let fd, _):
            lseek(fd, off_t(offset), SEEK_SET)
            return try FileIO.read(fd, count: count, path: path)
        case .memory(let b):
            guard offset >= 0, count >= 0, offset <= b.count, count <= b.count - offset else {
                throw FileError(path: path, reason: "file ends after \(max(0, b.count - max(0, offset))) bytes, \(count) expected")
            }
            return Array(UnsafeRawBufferPointer(rebasing: b[offset..<(offset + count)]))
        }
    }
}
