import Dispatch
import Foundation
import VoxtermModel
#if canImport(Glibc)
import Glibc
#endif

/// Turns SIGINT (Ctrl-C), SIGTERM and SIGHUP (the SSH session dropped) into a cancellation token that long-running commands poll,
/// so they stop promptly, write nothing half-done, and exit with status 130.
///
/// Work that does not poll the token (reading and decompressing a large input, a blocking
/// call) is still stopped within a second: half a second after the signal, unless output files
/// are being written (`writing`), the process prints "interrupted; nothing was written" and
/// exits 130 by itself. Output files are only ever written inside `writing`, which a signal
/// never cuts short (each file is atomic; the command checks the token after it).
final class SignalCancellation: @unchecked Sendable {
    /// Cancelled when a signal arrives.
    let token = CancellationToken()
    /// Cancelled when a signal arrives at any `SignalCancellation` of this process: an error that
    /// follows (a child killed by the same Ctrl-C, e.g. dcm2niix, whose failure would otherwise be
    /// reported as a bad input) is reported as the interruption it is (`ExitCodes.fail`).
    static let anySignal = CancellationToken()
    private var sources: [DispatchSourceSignal] = []
    private var signals: [Int32]
    private let lock = NSLock()
    private var writingDepth = 0

    /// `grace` nil: no watchdog, for a command that winds down itself and keeps what it finished
    /// (`voxterm batch`: its pool polls the token between subjects and inside every registration,
    /// then records the interrupted subject and refreshes the summary).
    init(signals: [Int32] = [SIGINT, SIGTERM, SIGHUP], grace: Double? = 0.5) {
        self.signals = signals
        install(grace: grace)
    }

    private func install(grace: Double?) {
        // A hangup the user asked to outlive (`nohup voxterm batch ...` starts with SIGHUP
        // ignored) stays ignored: catching it would stop the very run nohup was for.
        signals.removeAll { $0 == SIGHUP && Self.isIgnored($0) }
        for s in signals {
            #if !os(Linux)
            signal(s, SIG_IGN) // on Linux the source itself catches the signal; ignoring it first
            #endif             // opened a window in which a Ctrl-C at start-up was lost
            let src = DispatchSource.makeSignalSource(signal: s, queue: .global())
            src.setEventHandler { [token, self] in // released by stop() (cancel drops the handler)
                token.cancel()
                SignalCancellation.anySignal.cancel()
                if let grace { DispatchQueue.global().asyncAfter(deadline: .now() + grace) { self.exitUnlessWriting() } }
            }
            src.resume()
            sources.append(src)
        }
    }

    /// Runs `body` (which writes outputs) without being cut short by the watchdog.
    func writing<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); writingDepth += 1; lock.unlock()
        defer { lock.lock(); writingDepth -= 1; lock.unlock() }
        return try body()
    }

    private func exitUnlessWriting() {
        lock.lock(); defer { lock.unlock() }
        guard writingDepth == 0, !sources.isEmpty else { return }
        ExitCleanup.run()   // temporary folders (dcm2niix's output) and children: _exit skips every defer
        standardError.write("voxterm: interrupted; nothing was written\n")
        _exit(ExitCodes.interrupted)
    }

    /// True once a signal arrived.
    var isCancelled: Bool { token.isCancelled }

    /// Whether `s` is ignored (SIG_IGN) in this process, as `nohup` leaves SIGHUP.
    static func isIgnored(_ s: Int32) -> Bool {
        var current = sigaction()
        guard sigaction(s, nil, &current) == 0 else { return false }
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == 1 // SIG_IGN is (void (*)(int)) 1
    }

    /// Stops listening and restores the default handlers.
    func stop() {
        lock.lock()
        for s in sources { s.cancel() }
        sources = []
        lock.unlock()
        for s in signals { signal(s, SIG_DFL) }
    }
}
