import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What an early exit must not leave behind: temporary folders (dcm2niix's output, which holds a
/// converted copy of the patient's series) and child processes (dcm2niix itself).
///
/// `defer` blocks and destructors do not run when the CLI's signal watchdog ends the process with
/// `_exit`, so the places that make such things register them here for their lifetime, and the
/// watchdog calls `run()` just before `_exit` (from a dispatch thread, not a signal handler).
public enum ExitCleanup {
    private struct Pending: Sendable {
        var folders: Set<String> = []
        var children: Set<pid_t> = []
    }
    private static let pending = Mutex(Pending())

    /// A temporary folder (holding only files) to remove on an early exit, until `removeFolder`.
    public static func addFolder(_ path: String) { pending.withLock { _ = $0.folders.insert(path) } }
    /// The folder no longer needs removing on an early exit (it was removed, or it is kept).
    public static func removeFolder(_ path: String) { pending.withLock { _ = $0.folders.remove(path) } }
    /// A running child to stop (SIGTERM) on an early exit, until `removeChild`.
    public static func addChild(_ pid: pid_t) { pending.withLock { _ = $0.children.insert(pid) } }
    /// The child was waited for.
    public static func removeChild(_ pid: pid_t) { pending.withLock { _ = $0.children.remove(pid) } }

    /// Stops the registered children and removes the registered folders (their files first; the
    /// folders hold no subfolders). Returns what it removed, for tests.
    @discardableResult
    public static func run() -> (folders: [String], children: [pid_t]) {
        let p = pending.withLock { state -> Pending in
            let all = state
            state = Pending()
            return all
        }
        for pid in p.children {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            // Reaped within 0.2 s (dcm2niix stops at once on SIGTERM); one that ignores it is killed.
            var reaped = false
            for _ in 0..<20 {
                if waitpid(pid, &status, WNOHANG) != 0 { reaped = true; break }
                usleep(10_000)
            }
            if !reaped { kill(pid, SIGKILL); _ = waitpid(pid, &status, 0) }
        }
        for folder in p.folders {
            if let dir = opendir(folder) {
                while let entry = readdir(dir) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                    }
                    if name != "." && name != ".." { unlink(folder + "/" + name) }
                }
                closedir(dir)
            }
            rmdir(folder)
        }
        return (Array(p.folders), Array(p.children))
    }
}
