// C's `stdout`/`stderr` are global `var`s, which Swift 6 language mode refuses to touch from
// nonisolated code. They are read here only, once each, behind Sendable wrappers, so the rest of
// the commands compile in Swift 6 mode (docs/decisions.md).
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Standard error as a text stream: unbuffered, as C's `stderr` (progress lines, warnings, errors).
/// `standardError.write("...\n")` or `print(..., to: &standardError)`.
struct StandardError: TextOutputStream, Sendable {
    /// Writes `text` as it is (no newline added).
    func write(_ text: String) { fputs(text, Glibc.stderr) }
}

/// The process's standard error (see `StandardError`).
let standardError = StandardError()

/// Standard output, as `print` writes it (C's buffered `stdout`).
enum StandardOutput {
    /// Writes what `print` buffered (so a progress report shows before a long step); false on a failed write.
    @discardableResult
    static func flush() -> Bool { fflush(Glibc.stdout) == 0 }

    /// True when a write to standard output failed (a full disk, `> /dev/full`), now or earlier.
    static var failed: Bool { !flush() || ferror(Glibc.stdout) != 0 }
}
