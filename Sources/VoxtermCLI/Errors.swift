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
    /// A malformed command line (ArgumentParser's own status, EX_USAGE).
    static let usage: Int32 = 64

    /// The exit status of `error`, the README's table in one place: a refusal carries its own
    /// status; anything thrown while outputs are written (`WriteFailure`) is 3; a cancellation is
    /// 130; a command-line problem 64; every other error is about an input, 2.
    static func status(for error: Error) -> Int32 {
        switch error {
        case let f as CommandFailure: return f.status
        case is WriteFailure: return writeFailed
        case is ValidationError: return usage
        case SegmentationError.cancelled, RegistrationError.cancelled: return interrupted
        case let e as ExitCode: return e.rawValue
        default: return badInput
        }
    }

    /// Prints `error` as one line (unless it is already an exit status) and returns the exit
    /// status to throw: `catch { throw ExitCodes.fail(error) }`.
    static func fail(_ error: Error) -> ExitCode {
        if SignalCancellation.anySignal.isCancelled && !(error is ExitCode) && !(error is WriteFailure) {
            // Whatever failed after Ctrl-C (a child killed by the same signal, a read cut short) failed because of it.
            standardError.write("voxterm: interrupted; nothing was written\n")
            return ExitCode(interrupted)
        }
        if !(error is ExitCode) { printError(error) }
        return ExitCode(status(for: error))
    }
}

/// An error raised while writing outputs: exit status 3 whatever its type (a `FileError` or
/// `NIfTIError` from a write is not a bad input).
struct WriteFailure: Error, CustomStringConvertible {
    let underlying: Error
    var description: String { "\(underlying)" }
}

/// Runs `body`, which writes outputs; its errors become `WriteFailure` (exit 3).
func writingOutputs<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as WriteFailure { throw e } catch SegmentationError.cancelled {
        throw SegmentationError.cancelled
    } catch let e as CommandFailure { throw e } catch { throw WriteFailure(underlying: error) }
}

/// Prints a one-line error to standard error.
func printError(_ error: Error) {
    var line = "voxterm: error: \(error)"
    if let i = line.firstIndex(of: "\n") { line = String(line[..<i]) }
    standardError.write(line + "\n")
}

/// Makes a failed write to standard output (a full disk, `> /dev/full`) an error — one line on
/// stderr and exit status 3 — instead of a silent success: checked when the process exits.
func checkStandardOutputAtExit() {
    atexit {
        if StandardOutput.failed {
            standardError.write("voxterm: error: standard output: cannot write: \(FileIO.errnoReason(errno))\n")
            _exit(ExitCodes.writeFailed)
        }
    }
}

