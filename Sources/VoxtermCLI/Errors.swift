import ArgumentParser
import Foundation
import VoxtermModel
#if canImport(Glibc)
import Glibc
#endif

/// Exit codes, in one place: model and file errors map here.
enum ExitCodes {
    /// Unreadable, missing or malformed input.
    static let badInput: Int32 = 2
    /// Output could not be written.
    static let writeFailed: Int32 = 3
    /// A batch finished, but at least one subject failed (`voxterm batch`; reasons in summary.csv).
    static let someFailed: Int32 = 4
    /// Interrupted by Ctrl-C / SIGINT (128 + 2).
    static let interrupted: Int32 = 130
}

/// Prints a one-line error to standard error.
func printError(_ error: Error) {
    var line = "voxterm: error: \(error)"
    if let i = line.firstIndex(of: "\n") { line = String(line[..<i]) }
    fputs(line + "\n", stderr)
}

/// Makes a failed write to standard output (a full disk, `> /dev/full`) an error — one line on
/// stderr and exit status 3 — instead of a silent success: checked when the process exits.
func checkStandardOutputAtExit() {
    atexit {
        if fflush(stdout) != 0 || ferror(stdout) != 0 {
            fputs("voxterm: error: standard output: cannot write: \(FileIO.errnoReason(errno))\n", stderr)
            _exit(ExitCodes.writeFailed)
        }
    }
}

/// Creates the output folder `path` (and its parents), or throws a one-line `FileError`.
func createOutputFolder(_ path: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else { throw FileError(path: path, reason: "exists and is not a folder; --out names a folder") }
        return
    }
    do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
        let code = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? any Error).map { ($0 as NSError).code }
        throw FileError(path: path, reason: "cannot create the folder: \(code.map { FileIO.errnoReason(Int32($0)) } ?? "\(error)")")
    }
}
