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

    /// Opens `path` read-only without blocking, with the reason in the error when that fails;
    /// anything but a regular file (a FIFO, socket, device or folder) is refused at once.
    ///
    /// `O_NONBLOCK` makes `open` return at once on a FIFO with no writer (a plain `open` would
    /// wait forever, deaf to Ctrl-C); `fstat` then refuses it before any read. On a regular file
    /// the flag changes nothing, and it is cleared anyway.
    public static func openForReading(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        if fd < 0 { throw FileError(path: path, reason: errnoReason(errno)) }
        do {
            _ = try regularFileSize(fd, path: path)
        } catch {
            close(fd)
            throw error
        }
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        return fd
    }

    /// Size of an open regular file; a directory or device is an error.
    public static func regularFileSize(_ fd: Int32, path: String) throws -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError(path: path, reason: errnoReason(errno)) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw FileError(path: path, reason: "is a directory, not a file") }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw FileError(path: path, reason: "is \(fileTypeName(st.st_mode)), not a regular file; voxterm reads regular files only")
        }
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

    /// "a FIFO (named pipe)", "a character device", ... for a `st_mode`.
    static func fileTypeName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFDIR: return "a directory"
        case S_IFLNK: return "a symbolic link"
        default: return "a special file"
        }
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
    ///
    /// With `exclusive`, the file must not exist: the complete temporary file is hard-linked
    /// into place (`link` fails if `path` exists, atomically), so of several racing writers
    /// exactly one wins and the others get "already exists". Without it, `rename` replaces
    /// whatever regular file is there.
    public static func writeAtomically(_ path: String, exclusive: Bool = false,
                                       producer: (Int32, String) throws -> Void) throws {
        let tmp = try writeTemporary(for: path, producer: producer)
        do {
            try place(tmp, at: path, exclusive: exclusive)
        } catch {
            unlink(tmp)
            throw error
        }
    }

    /// Writes `bytes` to `path` atomically and, with `exclusive`, only if it does not exist.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], exclusive: Bool) throws {
        try bytes.withUnsafeBytes { b in
            try writeAtomically(path, exclusive: exclusive) { fd, _ in try writeAll(fd, b, path: path) }
        }
    }

    /// Writes a complete, fsynced temporary file in `path`'s folder (`.NAME.tmp-XXXXXX`) and
    /// returns its path; on failure nothing is left behind. `place` puts it at `path`.
    public static func writeTemporary(for path: String, producer: (Int32, String) throws -> Void) throws -> String {
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
        ok = true
        return tmp
    }

    /// Moves the finished temporary file `tmp` to `path`: `rename` (replacing a regular file),
    /// or with `exclusive` `link` + `unlink`, which fails with "already exists" when `path`
    /// exists, whoever created it and however recently. `tmp` is left in place on failure.
    public static func place(_ tmp: String, at path: String, exclusive: Bool) throws {
        if exclusive {
            if link(tmp, path) == 0 { unlink(tmp); return }
            let e = errno
            if e == EEXIST { throw FileError(path: path, reason: alreadyExists) }
            // A file system without hard links (vfat, some FUSE mounts): renameat2's NOREPLACE.
            if e == EPERM || e == EOPNOTSUPP || e == EMLINK, let r = renameat2, r(AT_FDCWD, tmp, AT_FDCWD, path, 1) == 0 { return }
            let e2 = (e == EPERM || e == EOPNOTSUPP || e == EMLINK) ? errno : e
            if e2 == EEXIST { throw FileError(path: path, reason: alreadyExists) }
            throw FileError(path: path, reason: "cannot create it: \(errnoReason(e2))")
        }
        var existing = stat()
        if lstat(path, &existing) == 0 && (existing.st_mode & S_IFMT) != S_IFREG {
            throw FileError(path: path, reason: "exists and is not a regular file; voxterm only writes regular files")
        }
        guard rename(tmp, path) == 0 else {
            throw FileError(path: path, reason: "cannot rename into place: \(errnoReason(errno))")
        }
    }

    /// The reason given when an output exists and `--force` was not given.
    public static let alreadyExists = "already exists; pass --force to replace it"

    /// glibc's `renameat2` (not exported by the Glibc module), looked up once; nil when missing.
    /// Flags: 1 `RENAME_NOREPLACE`, 2 `RENAME_EXCHANGE`.
    static let renameat2: (@convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32)? = {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(sym, to: (@convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32).self)
    }()

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
