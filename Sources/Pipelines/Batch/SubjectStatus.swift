import Foundation
import VolumeCore
import NIfTI
import Registration
import Segmentation
#if canImport(Glibc)
import Glibc
#endif

/// Where a subject of a batch stands.
public enum SubjectState: String, Codable, Sendable, CaseIterable {
    /// No record yet (never started in this folder).
    case pending
    /// Started and not finished: still running, or its process was killed (then it is redone).
    case running
    /// Finished; its outputs are in `DIR/<subject>/`.
    case done
    /// Failed with a one-line reason; retried on the next run.
    case failed
    /// Stopped by Ctrl-C, SIGTERM or `scancel`; redone on the next run.
    case interrupted
}

/// The record `DIR/status/<subject>.json` of one subject: state, the checksums of its inputs
/// and settings (so a re-run skips it only when nothing changed), and its scores.
public struct SubjectStatus: Codable, Sendable, Equatable {
    public var subject: String
    public var state: SubjectState
    /// One line saying why the subject failed or stopped.
    public var reason: String?
    /// Hash (hex) of the task settings and every input's checksum; a change means redo.
    public var fingerprint: String
    /// Checksum (hex, 64-bit, of the file bytes) of every input, by path.
    public var inputs: [String: String]
    /// Wall-clock seconds of the subject (loading, registration or prediction, scoring, writing).
    public var seconds: Double?
    /// Peak resident memory in MB: the subject's own with one job at a time, else the process's
    /// peak while it ran (shared with the subjects running beside it; `peakMemoryShared`).
    public var peakMemoryMB: Double?
    public var peakMemoryShared: Bool?
    /// Similarity of the fixed image to the moving image before and after registration
    /// (`metric`; lower is better). Register only.
    public var similarityBefore: Double?
    public var similarityAfter: Double?
    public var metric: String?
    /// Percentage of fixed-grid voxels whose Jacobian determinant is ≤ 0. Register only.
    public var foldingPercent: Double?
    /// Dice per label value (as text) against the truth or fixed labels, when they exist.
    public var dice: [String: Double]?
    public var meanDice: Double?
    /// Mean Dice before registration (register with labels and fixed labels).
    public var meanDiceBefore: Double?
    /// Threads the subject ran on.
    public var threads: Int?
    /// ISO 8601 times.
    public var started: String?
    public var finished: String?
    public var host: String?
    public var pid: Int32?
    /// `JOBID_TASKID` when run as a SLURM array task.
    public var slurm: String?
    /// How many times this subject was started in this folder.
    public var attempts: Int

    public init(subject: String, state: SubjectState, fingerprint: String = "", inputs: [String: String] = [:], attempts: Int = 0) {
        self.subject = subject; self.state = state; self.fingerprint = fingerprint; self.inputs = inputs; self.attempts = attempts
    }

    enum CodingKeys: String, CodingKey {
        case subject, state, reason, fingerprint, inputs, seconds, metric, dice, threads, started, finished, host, pid, slurm, attempts
        case peakMemoryMB = "peak_memory_mb", peakMemoryShared = "peak_memory_shared"
        case similarityBefore = "similarity_before", similarityAfter = "similarity_after"
        case foldingPercent = "folding_percent", meanDice = "mean_dice", meanDiceBefore = "mean_dice_before"
    }
}

/// The batch folder's layout and its status records.
public struct BatchFolder: Sendable {
    /// The output folder `DIR`.
    public let path: String

    public init(_ path: String) { self.path = path }

    public var statusFolder: String { join(path, "status") }
    public var qcFolder: String { join(path, "qc") }
    public var slurmFolder: String { join(path, "slurm") }
    /// `DIR/batch.json`: the cohort and settings of the last command run on this folder.
    public var manifestPath: String { join(path, "batch.json") }
    public func subjectFolder(_ subject: String) -> String { join(path, subject) }
    public func statusPath(_ subject: String) -> String { join(statusFolder, subject + ".json") }
    public func lockPath(_ subject: String) -> String { join(statusFolder, "." + subject + ".lock") }

    /// Creates `DIR` and `DIR/status`, or throws a one-line `FileError` (errno in words).
    public func create() throws {
        for p in [path, statusFolder] {
            var st = stat()
            if stat(p, &st) == 0 {
                guard (st.st_mode & S_IFMT) == S_IFDIR else { throw FileError(path: p, reason: "exists and is not a folder; --out names a folder") }
                continue
            }
            try FileIO.createFolders(p, for: p)
        }
    }

    /// Refuses `DIR` as a batch folder when it exists, is not empty and holds no `batch.json` a
    /// batch wrote (a folder of the user's own files, which the batch's summary, status and
    /// subject folders would replace or mix with), or is not a folder. A missing or empty `DIR`
    /// is fine. Throws a one-line `FileError`.
    public func checkReusable() throws {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw FileError(path: path, reason: "exists and is not a folder; --out names a folder") }
        let entries = try FileIO.folderEntries(path)
        guard !entries.isEmpty else { return }
        guard FileIO.exists(manifestPath) else {
            throw FileError(path: path, reason: "is not empty (\(FileIO.listed(entries))) and is not a batch folder (no batch.json); voxterm batch writes into a new or empty folder or resumes one it wrote: choose another --out")
        }
        do { _ = try BatchManifest.read(self) } catch {
            throw FileError(path: manifestPath, reason: "is not a voxterm batch manifest, so \(path) is not a batch folder; choose another --out")
        }
    }

    /// Refuses what is at `DIR/<subject>` unless voxterm may replace it: nothing, an empty folder,
    /// or an earlier result, i.e. a folder (not a link) with a record `DIR/status/<subject>.json`
    /// holding only `resultNames`. Throws a one-line `FileError` naming the path.
    public func checkSubjectFolder(_ subject: String, resultNames: Set<String>) throws {
        let dir = subjectFolder(subject)
        var st = stat()
        guard lstat(dir, &st) == 0 else { return }
        let advice = "voxterm batch replaces a subject's folder only when it holds an earlier result: move it away or choose another --out"
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw FileError(path: dir, reason: "exists and is not a folder voxterm batch wrote (subject \(subject)); \(advice)")
        }
        let entries = try FileIO.folderEntries(dir)
        guard !entries.isEmpty else { return }
        guard FileIO.exists(statusPath(subject)) else {
            throw FileError(path: dir, reason: "holds files (\(FileIO.listed(entries))) but has no record \(statusPath(subject)), so voxterm batch did not write it; \(advice)")
        }
        let foreign = entries.filter { !resultNames.contains($0) }
        guard foreign.isEmpty else {
            throw FileError(path: dir, reason: "holds files that are not results of this batch task (\(FileIO.listed(foreign))); \(advice)")
        }
    }

    /// The record of `subject`, or nil when there is none (or it is unreadable: then it is redone).
    public func status(of subject: String) -> SubjectStatus? {
        guard let bytes = try? FileIO.readAll(statusPath(subject), limit: 16 << 20) else { return nil }
        return try? JSONDecoder().decode(SubjectStatus.self, from: Data(bytes))
    }

    /// Writes the record atomically.
    public func write(_ status: SubjectStatus) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileIO.writeAtomically(statusPath(status.subject), Array(try enc.encode(status)) + [10])
    }

    /// The records of `subjects`, in that order (`pending` where there is none).
    public func statuses(_ subjects: [String]) -> [SubjectStatus] {
        subjects.map { status(of: $0) ?? SubjectStatus(subject: $0, state: .pending) }
    }
}

func join(_ a: String, _ b: String) -> String { (a as NSString).appendingPathComponent(b) }

func describeFileError(_ error: Error) -> String {
    if let e = error as? FileError { return e.reason }
    let ns = error as NSError
    if let u = ns.userInfo[NSUnderlyingErrorKey] as? NSError, u.domain == NSPOSIXErrorDomain { return FileIO.errnoReason(Int32(u.code)) }
    return ns.localizedDescription
}

/// An exclusive advisory lock on a file (`flock`), released on `unlock()` or when the process
/// dies — so a subject killed with SIGKILL is free for the next run, and two processes (two
/// SLURM tasks, or a task and a local run) never run the same subject at once.
public final class FileLock: @unchecked Sendable {
    private var fd: Int32

    /// Takes the lock without waiting; nil when another process holds it.
    public static func tryLock(_ path: String) throws -> FileLock? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path: path, reason: "cannot open the lock file: \(FileIO.errnoReason(errno))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 { close(fd); return nil }
        return FileLock(fd: fd)
    }

    /// Takes the lock, waiting for it.
    public static func lock(_ path: String) throws -> FileLock {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path: path, reason: "cannot open the lock file: \(FileIO.errnoReason(errno))") }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { let e = errno; close(fd); throw FileError(path: path, reason: "cannot lock: \(FileIO.errnoReason(e))") }
        }
        return FileLock(fd: fd)
    }

    private init(fd: Int32) { self.fd = fd }

    public func unlock() {
        guard fd >= 0 else { return }
        close(fd)  // closing the only descriptor releases the flock
        fd = -1
    }

    deinit { unlock() }
}

/// A 64-bit checksum of bytes (the word and byte steps and the final avalanche of xxHash64,
/// one lane), for change detection only — not a cryptographic hash.
public struct Checksum64: Sendable {
    static let p1: UInt64 = 0x9E37_79B1_85EB_CA87, p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    static let p3: UInt64 = 0x1656_67B1_9E37_79F9, p4: UInt64 = 0x85EB_CA77_C2B2_AE63, p5: UInt64 = 0x27D4_EB2F_1656_67C5
    private var h: UInt64 = Checksum64.p5
    private var length: UInt64 = 0

    public init() {}

    @inline(__always) static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    /// Adds bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        var i = 0
        var h = self.h
        while i + 8 <= n {
            var k = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) &* Self.p2
            k = Self.rotl(k, 31) &* Self.p1
            h ^= k
            h = Self.rotl(h, 27) &* Self.p1 &+ Self.p4
            i += 8
        }
        while i < n {
            h ^= UInt64(bytes[i]) &* Self.p5
            h = Self.rotl(h, 11) &* Self.p1
            i += 1
        }
        self.h = h
        length &+= UInt64(n)
    }

    /// Adds a string's UTF-8 bytes and a terminator, so consecutive strings cannot run together.
    public mutating func update(_ text: String) {
        let bytes = Array(text.utf8) + [0xFF]
        bytes.withUnsafeBytes { update($0) }
    }

    /// The checksum as 16 hex digits.
    public var hex: String {
        var x = h &+ length
        x ^= x >> 33; x = x &* Self.p2; x ^= x >> 29; x = x &* Self.p3; x ^= x >> 32
        let s = String(x, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// The checksum of a file's bytes, read in 4 MiB pieces; throws a one-line `FileError`.
    public static func file(_ path: String) throws -> String {
        let fd = try FileIO.openForReading(path)
        defer { close(fd) }
        _ = try FileIO.regularFileSize(fd, path: path)
        var c = Checksum64()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, reason: "cannot read: \(FileIO.errnoReason(errno))")
            }
            if n == 0 { break }
            c.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return c.hex
    }
}
