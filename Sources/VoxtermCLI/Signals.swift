import Dispatch
import VoxtermModel
#if canImport(Glibc)
import Glibc
#endif

/// Turns SIGINT (Ctrl-C) and SIGTERM into a cancellation token that long-running commands poll,
/// so they stop promptly, write nothing half-done, and exit with status 130.
final class SignalCancellation: @unchecked Sendable {
    /// Cancelled when a signal arrives.
    let token = CancellationToken()
    private var sources: [DispatchSourceSignal] = []
    private let signals: [Int32]

    init(signals: [Int32] = [SIGINT, SIGTERM]) {
        self.signals = signals
        for s in signals {
            signal(s, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: s, queue: .global())
            src.setEventHandler { [token] in token.cancel() }
            src.resume()
            sources.append(src)
        }
    }

    /// True once a signal arrived.
    var isCancelled: Bool { token.isCancelled }

    /// Stops listening and restores the default handlers.
    func stop() {
        for s in sources { s.cancel() }
        sources = []
        for s in signals { signal(s, SIG_DFL) }
    }
}
