#if canImport(Glibc)
import Glibc
#endif

/// Errors from reading or writing files, each naming the file.
public struct FileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The path concerned.
    public var path: String
    /// What went wrong, in a few words.
    public var reason: String

    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): \(reason)" }
}

/// File helpers on POSIX calls, the one place voxterm opens files for whole-file reads and
/// atomic writes.
public enum FileIO {
    /// Reads a whole regular file; rejects directories and unreadable paths with a clear reason.
    public static func readAll(_ path: String, limit: Int = Int.max) throws -> [UInt8] {
        let fd = try openForReading(path)
        defer { close(fd) }
        let size = try regularFileSize(fd, path: path)
        guard size <= limit else { throw FileError(path: path, reason: "file is \(size) bytes, more than the limit of \(limit)") }
        return try read(fd, count: size, path: path)
    }

    /// Opens `path` read-only, with the reason in the error when that fails.
    public static func openForReading(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw FileError(path: path, reason: errnoReason(errno)) }
        return fd
    }

    /// Size of an open regular file; a directory or device is an error.
    public static func regularFileSize(_ fd: Int32, path: String) throws -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError(path: path, reason: errnoReason(errno)) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw FileError(path: path, reason: "is a directory, not a file") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw FileError(path: path, reason: "is not a regular file") }
        return Int(st.st_size)
    }

    /// Reads exactly `count` bytes from the current offset (fewer means the file is truncated).
    public static func read(_ fd: Int32, count: Int, path: String) throws -> [UInt8] {
        var out = [UInt8](unsafeUninitializedCapacity: count) { buf, initialised in
            adviseHugePages(UnsafeMutableRawBufferPointer(buf))
            var done = 0
            while done < count {
                let r = Glibc.read(fd, buf.baseAddress! + done, count - done)
                if r < 0 { if errno == EINTR { continue }; break }
                if r == 0 { break }
                done += r
            }
            initialised = done
        }
        if out.count < count {
            let got = out.count
            out = []
            throw FileError(path: path, reason: "file ends after \(got) bytes, \(count) expected")
        }
        return out
    }

    /// True when `path` exists (any type).
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Canonical absolute path (symlinks resolved), or nil when it does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// `path` without its image extension (`.nii.gz`, `.nii`, `.hdr[.gz]`, `.img[.gz]`), folders kept:
    /// `a/b/colin.nii.gz` -> `a/b/colin`. Other paths are returned unchanged.
    public static func imageStem(_ path: String) -> String {
        for ext in [".nii.gz", ".nii", ".hdr.gz", ".img.gz", ".hdr", ".img"] where path.hasSuffix(ext) {
            return String(path.dropLast(ext.count))
        }
        return path
    }

    /// Writes `bytes` to `path` atomically: a temporary file in the same folder, fsync, rename.
    ///
    /// A reader sees the old file or the complete new one, never a partial one; on failure
    /// the temporary file is removed and nothing at `path` changes.
    public static func writeAtomically(_ path: String, _ bytes: UnsafeRawBufferPointer) throws {
        try writeAtomically(path) { fd, _ in try writeAll(fd, bytes, path: path) }
    }

    /// Writes all of `bytes` to the open descriptor `fd` (retrying short writes); `path` names
    /// the file in errors.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < bytes.count {
            let r = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if r < 0 { if errno == EINTR { continue }; throw FileError(path: path, reason: "cannot write: \(errnoReason(errno))") }
            done += r
        }
    }

    /// Writes `bytes` to `path` atomically (see the buffer form).
    public static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeAtomically(path, $0) }
    }

    /// Atomic write with a producer that writes into the temporary file's descriptor.
    public static func writeAtomically(_ path: String, producer: (Int32, String) throws -> Void) throws {
        // Renaming over a device, pipe or folder would replace it (e.g. /dev/full as root): refuse.
        var existing = stat()
        if lstat(path, &existing) == 0 && (existing.st_mode & S_IFMT) != S_IFREG {
            throw FileError(path: path, reason: "exists and is not a regular file; voxterm only writes regular files")
        }
        let dir = directoryName(path)
        let base = path.split(separator: "/").last.map(String.init) ?? path
        var template = Array("\(dir)/.\(base).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw FileError(path: path, reason: "cannot create a file in \(dir): \(errnoReason(errno))")
        }
        let tmp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var ok = false
        defer {
            if !ok { close(fd); unlink(tmp) }
        }
        fchmod(fd, 0o644)
        try producer(fd, tmp)
        guard fsync(fd) == 0 else { throw FileError(path: path, reason: "cannot write: \(errnoReason(errno))") }
        guard close(fd) == 0 else {
            unlink(tmp); ok = true
            throw FileError(path: path, reason: "cannot write: \(errnoReason(errno))")
        }
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp); ok = true
            throw FileError(path: path, reason: "cannot rename into place: \(errnoReason(e))")
        }
        ok = true
    }

    /// The folder part of a path ("." when there is none).
    public static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }

    /// Human-readable text of an errno value.
    public static func errnoReason(_ e: Int32) -> String {
        switch e {
        case ENOENT: return "no such file or directory"
        case EACCES: return "permission denied"
        case EISDIR: return "is a directory, not a file"
        case ENOSPC: return "no space left on device"
        case EROFS: return "read-only file system"
        case ENOTDIR: return "a parent of the path is not a directory"
        default: return String(cString: strerror(e))
        }
    }
}
