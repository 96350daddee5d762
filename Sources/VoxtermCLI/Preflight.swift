import Foundation
import VoxtermModel
#if canImport(Glibc)
import Glibc
#endif

/// A refusal found before any work, with the exit status it maps to (README table).
struct CommandFailure: Error, CustomStringConvertible {
    let message: String
    let status: Int32
    var description: String { message }
    /// A refusal of `message` with `status` (an input's problem, 2, unless said).
    init(_ message: String, status: Int32 = ExitCodes.badInput) { self.message = message; self.status = status }
}

/// The checks every command makes before any work (issue 13, class 2): every named input exists
/// and is a regular file; no two outputs share a path; no output is an input or an input's data
/// file (`ImageFile.dataFiles(of:)`; even with
/// `--force`: same file by device and inode, or by resolved path for files not yet there); every
/// output's folder exists and is writable; an existing output needs `--force`.
struct Preflight {
    /// Inputs with the option (or argument) that named them, e.g. ("--truth", "t.nii.gz").
    var inputs: [(option: String, path: String)] = []
    /// Output files with their options.
    var outputs: [(option: String, path: String)] = []
    /// `--force` given.
    var force = false

    /// Runs the checks in the order above; the first problem is thrown.
    func check() throws {
        // A detached header's data file (`.nhdr`/`.mhd` beside a `.raw`) is an output too.
        let outputs = self.outputs + self.outputs.compactMap { o in
            ImageFormat.dataFile(forHeader: o.path).map { ("\(o.option) (its data file)", $0) }
        }
        for (_, path) in inputs where !path.isEmpty {
            // A DICOM folder (or FOLDER@N series selector) is read by ImageFile, which checks it.
            var st = stat()
            let folder = path.lastIndex(of: "@").map { String(path[..<$0]) } ?? path
            if (stat(path, &st) == 0 || stat(folder, &st) == 0) && (st.st_mode & S_IFMT) == S_IFDIR { continue }
            do { close(try FileIO.openForReading(pathToOpen(path))) } catch let e as FileError {
                throw CommandFailure("\(path): \(e.reason)", status: ExitCodes.badInput)
            }
        }
        for (i, a) in outputs.enumerated() {
            for b in outputs[(i + 1)...] where Self.same(a.path, b.path) {
                throw CommandFailure("\(b.path): given for both \(a.option) and \(b.option); each output needs its own path",
                                     status: ExitCodes.writeFailed)
            }
        }
        // An input's data files (`a.nhdr`'s `a.raw`, a pair's `.img`) are inputs too: writing
        // `a.mhd` (data in `a.raw`) must not replace the voxels `a.nhdr` is read from.
        let read = inputs.filter { !$0.path.isEmpty } + inputs.flatMap { i in
            i.path.isEmpty ? [] : ImageFile.dataFiles(of: i.path).map { ("\(i.option) (its data file)", $0) }
        }
        for o in outputs {
            for i in read where Self.same(o.path, i.path) {
                throw CommandFailure("\(o.path): is also an input (\(i.option)); voxterm never writes over an input, even with --force: choose another path for \(o.option)",
                                     status: ExitCodes.writeFailed)
            }
        }
        for o in outputs {
            let dir = FileIO.directoryName(o.path)
            var st = stat()
            guard stat(dir, &st) == 0 else {
                throw CommandFailure("\(o.path): cannot create a file in \(dir): \(FileIO.errnoReason(errno))", status: ExitCodes.writeFailed)
            }
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw CommandFailure("\(o.path): cannot create a file in \(dir): not a folder", status: ExitCodes.writeFailed)
            }
            guard access(dir, W_OK | X_OK) == 0 else {
                throw CommandFailure("\(o.path): cannot create a file in \(dir): \(FileIO.errnoReason(errno))", status: ExitCodes.writeFailed)
            }
            if lstat(o.path, &st) == 0 {
                guard (st.st_mode & S_IFMT) == S_IFREG || (st.st_mode & S_IFMT) == S_IFLNK else {
                    throw CommandFailure("\(o.path): exists and is not a regular file; voxterm only writes regular files", status: ExitCodes.writeFailed)
                }
                guard force else { throw CommandFailure("\(o.path): \(FileIO.alreadyExists)", status: ExitCodes.writeFailed) }
            }
        }
    }

    /// The file actually opened for an input (a pair's `.img` when `.img` was named is itself).
    private func pathToOpen(_ p: String) -> String { p }

    /// Whether two paths name the same file (`FileIO.sameFile`).
    static func same(_ a: String, _ b: String) -> Bool { FileIO.sameFile(a, b) }
}

/// Screens the raw command line before ArgumentParser sees it (issue 13, classes 1 and 6):
/// - a file name that starts with "-" (`-h.nii.gz`) would be taken for options (`-h` printed the
///   help and exited 0): refused unless it comes after `--`;
/// - a non-finite number (`nan`, `inf`, `1e999`, also inside `--at nan,0,0` or `update=inf`) is a
///   command-line error.
/// Both exit 64 with one line. Tokens naming existing files are left alone.
enum CommandLineScreen {
    /// File name endings voxterm reads or writes.
    static let fileEndings = [".nii", ".nii.gz", ".hdr", ".hdr.gz", ".img", ".img.gz", ".mgh", ".mgz", ".nrrd", ".nhdr",
                              ".mha", ".mhd", ".raw", ".dcm", ".png", ".json", ".csv", ".tfm", ".txt", ".lut", ".label", ".ctbl", ".mat"]

    /// The problem with `arguments` (without the program name), or nil.
    static func problem(_ arguments: [String]) -> String? {
        var previous: String?
        for arg in arguments {
            if arg == "--" { return nil }
            defer { previous = arg }
            if FileIO.exists(arg) && !arg.hasPrefix("-") { continue }
            let lower = arg.lowercased()
            if arg.hasPrefix("-") && arg.count > 1 && fileEndings.contains(where: { lower.hasSuffix($0) }) && !arg.contains("=") {
                return "\(arg): looks like a file name, but a word starting with \"-\" is read as options; write it after -- (voxterm info -- \(arg)) or as ./\(arg)"
            }
            let value: String
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") { value = String(arg[arg.index(after: eq)...]) } else { value = arg }
            for part in value.split(whereSeparator: { ",:=x;".contains($0) }) {
                let t = part.trimmingCharacters(in: .whitespaces)
                if let d = Double(t), !d.isFinite {
                    // `--opt=nan` names its option itself; a separate value is named after the option before it.
                    let option = arg.hasPrefix("-") ? "" : previous.flatMap { $0.hasPrefix("-") && Double($0) == nil ? "\($0) " : nil } ?? ""
                    return "\(option)\(arg): \(t) is not a finite number; numbers on the command line must be finite"
                }
            }
        }
        return nil
    }
}
