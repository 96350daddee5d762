#if canImport(Glibc)
import Glibc
#endif

/// The files one command writes, made visible together: each is written in full to a temporary
/// file beside its destination first, and only when all of them are written does `commit` move
/// them into place. A failure (a full disk, Ctrl-C before `commit`) leaves none of them.
///
/// Without `overwrite` every destination is created exclusively (`FileIO.place`): if one
/// exists by the time of `commit` (another writer won a race) the files this set already
/// placed are removed again and the error says "already exists". Two files of one set may not
/// share a path. Not thread-safe: one set belongs to one command.
public final class OutputSet: @unchecked Sendable {
    /// Whether existing regular files at the destinations may be replaced (`--force`).
    public let overwrite: Bool
    private var staged: [(tmp: String, path: String)] = []
    private var committed = false

    public init(overwrite: Bool) { self.overwrite = overwrite }

    deinit { discard() }

    /// Destinations staged so far, in order.
    public var paths: [String] { staged.map(\.path) }

    /// Writes `path`'s contents (through `producer`, given the temporary file's descriptor and
    /// path) to a temporary file; `commit` puts it in place.
    public func write(_ path: String, producer: (Int32, String) throws -> Void) throws {
        precondition(!committed, "OutputSet used after commit")
        if let other = staged.first(where: { FileIO.sameFile($0.path, path) }) {
            throw FileError(path: path, reason: "is given for two outputs (also as \(other.path)); each output needs its own path")
        }
        let tmp = try FileIO.writeTemporary(for: path, producer: producer)
        staged.append((tmp, path))
    }

    /// Writes `bytes` to `path` (see the producer form).
    public func write(_ path: String, bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { b in try write(path) { fd, _ in try FileIO.writeAll(fd, b, path: path) } }
    }

    /// Puts every staged file in place, in the order written; on failure undoes what it placed
    /// (exclusive mode: removes the files it created) and removes the remaining temporaries.
    public func commit() throws {
        committed = true
        var placed: [String] = []
        for (k, item) in staged.enumerated() {
            do {
                try FileIO.place(item.tmp, at: item.path, exclusive: !overwrite)
                placed.append(item.path)
            } catch {
                if !overwrite { for p in placed { unlink(p) } }
                for rest in staged[k...] { unlink(rest.tmp) }
                staged = []
                throw error
            }
        }
        staged = []
    }

    /// Removes the temporary files of a set that will not be committed.
    public func discard() {
        for item in staged { unlink(item.tmp) }
        staged = []
    }
}

/// An output folder (`register --out DIR`, the workbench's `S`) written as a whole.
///
/// The policy (README, "Outputs"): a folder that exists and is not empty is refused without
/// `overwrite`; with it, it may hold only files of an earlier set (`setNames`), which are
/// replaced all at once. The new set is written into a temporary folder beside DIR
/// (`.DIR.tmp-XXXXXX`) and swapped in with one `renameat2(RENAME_EXCHANGE)` (or renamed onto a
/// missing or empty DIR), so DIR holds the old set or the new one, never a mix, and a failure
/// half way (a full disk, a signal) leaves DIR as it was and no temporary folder.
public final class OutputFolder: @unchecked Sendable {
    /// The destination folder, as given.
    public let path: String
    /// Where the files are written until `commit`.
    public let staging: String
    private let target: String
    private var committed = false

    /// Checks `dir` and creates the staging folder. `setNames` are the file names a set of this
    /// kind can hold (the only ones `overwrite` may replace).
    public init(_ dir: String, overwrite: Bool, setNames: Set<String>) throws {
        path = dir
        let target = try Self.check(dir, overwrite: overwrite, setNames: setNames)
        var st = stat()
        if stat(target, &st) != 0 { try FileIO.createFolders(FileIO.directoryName(target), for: dir) }
        self.target = target
        let parent = FileIO.directoryName(target)
        let base = target.split(separator: "/").last.map(String.init) ?? target
        var template = Array("\(parent)/.\(base).tmp-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw FileError(path: dir, reason: "cannot create a folder in \(parent): \(FileIO.errnoReason(errno))")
        }
        staging = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let mask = umask(0o022); umask(mask)
        chmod(staging, 0o777 & ~mask)
    }

    /// The checks of `init` without writing anything (for a command to make before its work):
    /// returns the folder that will be replaced (a symbolic link resolved).
    @discardableResult
    public static func check(_ dir: String, overwrite: Bool, setNames: Set<String>) throws -> String {
        var st = stat()
        var target = dir
        while target.count > 1 && target.hasSuffix("/") { target.removeLast() }
        if lstat(target, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK, let real = FileIO.realPath(target) {
            target = real // swap the folder the link points to, not the link
        }
        // The folder is replaced whole (a new inode): the current folder, or one holding it, would
        // leave this shell in a deleted folder (and `.` cannot be renamed at all: EBUSY, found only
        // after the whole registration). Refused before any work.
        if stat(target, &st) == 0, let real = FileIO.realPath(target), let cwd = FileIO.realPath("."),
           cwd == real || cwd.hasPrefix(real == "/" ? "/" : real + "/") {
            throw FileError(path: dir, reason: "is the current folder (or holds it); voxterm replaces an output folder whole: name a new folder, e.g. --out results")
        }
        if stat(target, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw FileError(path: dir, reason: "exists and is not a folder; --out names a folder")
            }
            let entries = try FileIO.folderEntries(target)
            if !entries.isEmpty {
                guard overwrite else {
                    throw FileError(path: dir, reason: "is not empty (\(FileIO.listed(entries))); pass --force to replace an earlier run's files, or choose a new folder")
                }
                let foreign = entries.filter { !setNames.contains($0) }
                guard foreign.isEmpty else {
                    throw FileError(path: dir, reason: "holds files voxterm did not write (\(FileIO.listed(foreign))); even with --force only an earlier run's files are replaced: choose an empty or new folder")
                }
            }
        }
        // The set is staged beside the folder: its nearest existing ancestor must be a writable folder.
        var ancestor = FileIO.directoryName(target)
        while stat(ancestor, &st) != 0 {
            guard errno == ENOENT, ancestor != "/", ancestor != "." else { break }
            ancestor = FileIO.directoryName(ancestor)
        }
        guard stat(ancestor, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw FileError(path: dir, reason: "cannot create it: \(ancestor) is not a folder")
        }
        guard access(ancestor, W_OK | X_OK) == 0 else {
            throw FileError(path: dir, reason: "cannot create a folder in \(ancestor): \(FileIO.errnoReason(errno))")
        }
        return target
    }

    deinit { if !committed { FileIO.removeFlatFolder(staging) } }

    /// The staging path of file `name` (write it there, atomically or not).
    public func file(_ name: String) -> String { staging + "/" + name }

    /// Makes the staged set DIR's contents in one step; the earlier set (if any) is removed.
    public func commit() throws {
        committed = true
        do {
            if try FileIO.swapFolder(staging, into: target, naming: path) { FileIO.removeFlatFolder(staging) } // now the earlier set
        } catch {
            FileIO.removeFlatFolder(staging)
            throw error
        }
    }

    /// Removes the staging folder and what was written into it.
    public func discard() {
        if !committed { committed = true; FileIO.removeFlatFolder(staging) }
    }
}

extension FileIO {
    /// Puts folder `staged` at `target` in one step, so `target` is never missing: renamed there
    /// when `target` does not exist (`renameat2` NOREPLACE, so a folder created meanwhile is not
    /// replaced; plain `rename`, which never replaces a non-empty folder, where the file system
    /// takes no flags, as NFS) or is an empty folder, else exchanged with it
    /// (`renameat2(RENAME_EXCHANGE)`), the new folder taking the old one's permissions. Returns
    /// true when an earlier folder was exchanged: it is now at `staged` and the caller removes it.
    /// Nothing is removed here; on an error (`naming` is the path errors name) both folders are
    /// as they were.
    ///
    /// A file system without RENAME_EXCHANGE (NFS, most cluster file systems: EINVAL) fails the
    /// exchange, unless `aside` is given: then the earlier folder is renamed to `aside`, `staged`
    /// to `target`, and the earlier folder on to `staged` (so `target` is missing between the
    /// first two renames; an interrupted process leaves it at `aside`).
    public static func swapFolder(_ staged: String, into target: String, naming: String, aside: String? = nil) throws -> Bool {
        func unsupported(_ e: Int32) -> Bool { e == EINVAL || e == ENOSYS || e == EOPNOTSUPP }
        var st = stat()
        if stat(target, &st) != 0 {
            var r = renameat2.map { $0(AT_FDCWD, staged, AT_FDCWD, target, 1) } ?? rename(staged, target)
            if r != 0 && renameat2 != nil && unsupported(errno) { r = rename(staged, target) }
            if r == 0 { return false }
            let e = errno
            throw FileError(path: naming, reason: e == EEXIST || e == ENOTEMPTY ? "was created by someone else meanwhile; nothing written" : "cannot create it: \(errnoReason(e))")
        }
        if (try? folderEntries(target))?.isEmpty == true {
            chmod(staged, st.st_mode & 0o7777)
            if rename(staged, target) == 0 { return false } // replaces an empty folder atomically
        }
        chmod(staged, st.st_mode & 0o7777)
        if let exchange = renameat2, exchange(AT_FDCWD, staged, AT_FDCWD, target, 2) == 0 { return true }
        let e = renameat2 == nil ? ENOSYS : errno
        guard let aside, unsupported(e) else {
            throw FileError(path: naming, reason: "cannot replace its contents: \(errnoReason(e))")
        }
        guard rename(target, aside) == 0 else {
            throw FileError(path: naming, reason: "cannot move the earlier folder aside: \(errnoReason(errno))")
        }
        guard rename(staged, target) == 0 else {
            let e2 = errno
            rename(aside, target)
            throw FileError(path: naming, reason: "cannot rename into place: \(errnoReason(e2))")
        }
        _ = rename(aside, staged) // if this fails the earlier folder stays at `aside`
        return true
    }

    /// Names in folder `path` (without "." and ".."), sorted.
    public static func folderEntries(_ path: String) throws -> [String] {
        guard let d = opendir(path) else { throw FileError(path: path, reason: errnoReason(errno)) }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { out.append(name) }
        }
        return out.sorted()
    }

    /// Up to three names and a count, for messages ("a, b, c and 2 more").
    public static func listed(_ names: [String]) -> String {
        names.prefix(3).joined(separator: ", ") + (names.count > 3 ? " and \(names.count - 3) more" : "")
    }

    /// Creates `dir` and its missing parents (mode 0777 & ~umask); `what` names the output in errors.
    public static func createFolders(_ dir: String, for what: String) throws {
        var st = stat()
        if dir.isEmpty || stat(dir, &st) == 0 {
            if !dir.isEmpty && (st.st_mode & S_IFMT) != S_IFDIR {
                throw FileError(path: what, reason: "\(dir) is not a folder")
            }
            return
        }
        try createFolders(directoryName(dir), for: what)
        if mkdir(dir, 0o777) != 0 && errno != EEXIST {
            throw FileError(path: what, reason: "cannot create the folder \(dir): \(errnoReason(errno))")
        }
    }

    /// Removes a folder holding only files (a staging folder), ignoring errors.
    static func removeFlatFolder(_ path: String) {
        for name in (try? folderEntries(path)) ?? [] { unlink(path + "/" + name) }
        rmdir(path)
    }

    /// Whether two paths name the same file, the one rule every "is this output an input / another
    /// output" check uses: by device and inode when both exist (so a symbolic link, a hard link or
    /// another spelling of an input is that input), else by `comparablePath` (real folder plus
    /// name: `a/./x.nii` and `a/x.nii` are one destination before either exists).
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        if stat(a, &sa) == 0 && stat(b, &sb) == 0 { return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino }
        return comparablePath(a) == comparablePath(b)
    }

    /// A path to compare destinations by: the real path of the folder plus the file name
    /// (the file itself need not exist), or the text as given when the folder does not exist.
    public static func comparablePath(_ path: String) -> String {
        if let real = realPath(path) { return real }
        let base = path.split(separator: "/").last.map(String.init) ?? path
        if let dir = realPath(directoryName(path)) { return dir + "/" + base }
        return path
    }
}
