import Foundation
import Synchronization
import Testing
import VolumeCore
@testable import Segmentation

/// An aligner that works for `polls[moving tag]` polls of `isCancelled` (1 ms apart), records the
/// thread count it sees at each poll, and returns a constant shift per support.
final class PollingAligner: PairwiseAligner, @unchecked Sendable {
    let polls: [Int]
    let lock = Mutex<[Int: [Int]]>([:])
    init(polls: [Int]) { self.polls = polls }
    func align(fixed: Volume, moving: Volume, isCancelled: @escaping () -> Bool) throws -> VectorField {
        let tag = Int(moving.voxels[0])
        var seen: [Int] = []
        for _ in 0..<polls[tag] {
            if isCancelled() { throw SegmentationError.cancelled }
            seen.append(effectiveThreadCount)
            usleep(1000)
        }
        lock.withLock { $0[tag, default: []] += seen }
        return VectorField(zeroOn: fixed.geometry)
    }
}

@Suite struct SupportSchedulingTests {
    /// Three supports on two threads: the first two run one thread each; the last one left running
    /// takes both threads once the other has finished; each support is registered exactly once,
    /// and the prediction is the sequential one.
    @Test func theLastRegistrationTakesTheFreedThreads() throws {
        let (img, lab) = phantom()
        var supports: [LoadedSupport] = []
        for t in 0..<3 {
            var im = img
            im.voxels[0] = Float(t)
            supports.append(LoadedSupport(image: im, labels: lab, name: "s\(t)"))
        }
        let aligner = PollingAligner(polls: [30, 120, 30])
        let concurrent = RegistrationPropagationPredictor(aligner: aligner, fusion: FusionOptions(method: .majority), concurrentSupports: true)
        var events: [SegmentationProgress] = []
        let p = try withThreadCount(2) {
            try concurrent.predict(query: img, supports: supports, progress: { events.append($0) }, isCancelled: { false })
        }
        let seen = aligner.lock.withLock { $0 }
        #expect(seen.keys.sorted() == [0, 1, 2])
        for t in 0..<3 { #expect(seen[t]?.count == aligner.polls[t], "support \(t) registered once") }
        // Support 1 (the long one) ends on both threads, once the others are done.
        #expect(seen[1]?.last == 2)
        #expect(seen.values.allSatisfy { $0.allSatisfy { $0 == 1 || $0 == 2 } })
        #expect(events.last?.message == "fusing labels")
        let sequential = RegistrationPropagationPredictor(aligner: ConstantAligner(), fusion: FusionOptions(method: .majority))
        let q = try sequential.predict(query: img, supports: supports, progress: { _ in }, isCancelled: { false })
        #expect(p.labels.labels == q.labels.labels)
    }

    @Test func concurrentRegistrationsStopWhenCancelled() {
        let (img, lab) = phantom()
        let supports = (0..<3).map { t -> LoadedSupport in
            var im = img
            im.voxels[0] = Float(t)
            return LoadedSupport(image: im, labels: lab)
        }
        let flag = Atomic<Bool>(false)
        let aligner = PollingAligner(polls: [100_000, 100_000, 100_000])
        let predictor = RegistrationPropagationPredictor(aligner: aligner, concurrentSupports: true)
        let start = Date()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) { flag.store(true, ordering: .relaxed) }
        #expect(throws: SegmentationError.cancelled) {
            _ = try withThreadCount(2) {
                try predictor.predict(query: img, supports: supports, progress: { _ in },
                                      isCancelled: { flag.load(ordering: .relaxed) })
            }
        }
        #expect(Date().timeIntervalSince(start) < 5)
    }
}
