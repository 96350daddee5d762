import Testing
import VolumeCore
@testable import VoxtermCLI

/// `register` reads its two images at once; each read's own parallel loops get half of the
/// thread count in force where it is called (it used `voxtermThreadCount`, the machine's cores,
/// whatever the caller's `withThreadCount` said).
@Suite struct ConcurrentReadTests {
    @Test func readsShareTheCallersThreadCount() throws {
        let counts = withThreadCount(6) { Register.readConcurrently(["a", "b"]) { _ in effectiveThreadCount } }
        #expect(try counts.map { try $0.get() } == [3, 3])
        // Errors come back per path, in argument order.
        struct Missing: Error {}
        let results = Register.readConcurrently(["x", "y"]) { p -> Int in if p == "y" { throw Missing() }; return 1 }
        #expect((try? results[0].get()) == 1)
        #expect((try? results[1].get()) == nil)
    }
}
