import Foundation
import Synchronization
import Testing
import VolumeCore
@testable import Segmentation

/// An aligner that works for `polls[moving tag]` polls of `isCancelled` (1 ms apart), records the
/// thread count it sees at each poll, and returns a constant shift per support: `tag` voxels
/// along i (the tag is the moving image's first voxel), so each support's field is its own.
final class PollingAligner: PairwiseAligner, @unchecked Sendable {
    let polls: [Int]
    let lock = Mutex<[Int: [Int]]>([:])
    init(polls: [Int]) { self.polls = polls }
    /// Support `t`: the phantom's image tagged `t`, labelled with a one-voxel slab of label 1 at
    /// i = 10 + t, so only the field of support `t` carries it onto the query's plane i = 10, and
    /// a field given to another support puts that support's vote elsewhere (the majority is lost).
    static func supports(_ count: Int) -> [LoadedSupport] {
        let (img, _) = phantom()
        return (0..<count).map { t in
            var im = img
            im.voxels[0] = Float(t)
            var slab = LabelVolume(geometry: img.geometry)
            for k in 0..<20 { for j in 0..<20 { slab[10 + t, j, k] = 1 } }
            return LoadedSupport(image: im, labels: slab, name: "s\(t)")
        }
    }
    func align(fixed: Volume, moving: Volume, isCancelled: @escaping () -> Bool) throws -> VectorField {
        let tag = Int(moving.voxels[0])
        var seen: [Int] = []
        for _ in 0..<polls[tag] {
            if isCancelled() { throw SegmentationError.cancelled }
            seen.append(effectiveThreadCount)
            usleep(1000)
        }
        lock.withLock { $0[tag, default: []] += seen }
        var f = VectorField(zeroOn: fixed.geometry)
        let shift = SIMD3<Float>(Float(tag) * Float(fixed.geometry.spacing.x), 0, 0)
        for n in 0..<fixed.geometry.voxelCount { f.setVector(shift, at: n) }
        return f
    }
}

@Suite struct SupportSchedulingTests {
    /// Three supports on two threads: the first two run one thread each; the last one left running
    /// takes both threads once the other has finished; each support is registered exactly once,
    /// and the prediction is the sequential one.
    @Test func theLastRegistrationTakesTheFreedThreads() throws {
        let (img, _) = phantom()
        let supports = PollingAligner.supports(3)
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
        // Every support is reported as it starts, whichever thread registers it, on the caller's thread.
        let starts = events.filter { $0.message.hasPrefix("registering support") }
        #expect(starts.map(\.step).sorted() == [0, 1, 2], "\(starts.map(\.message))")
        #expect(starts.allSatisfy { $0.message.contains("(s\($0.step))") })
        // The prediction is the sequential one, field by field: support t's field carries support
        // t's slab onto the query's plane i = 10, and nothing else is labelled.
        let sequential = RegistrationPropagationPredictor(aligner: PollingAligner(polls: [1, 1, 1]), fusion: FusionOptions(method: .majority))
        let q = try sequential.predict(query: img, supports: supports, progress: { _ in }, isCancelled: { false })
        #expect(p.labels.labels == q.labels.labels)
        var off = 0
        for k in 0..<20 { for j in 0..<20 { for i in 0..<20 where p.labels[i, j, k] != (i == 10 ? 1 : 0) { off += 1 } } }
        #expect(off == 0, "\(off) voxels off the plane i = 10")
        // A field given to the wrong support would show: the same supports with two of them
        // paired the other way round predict something else.
        var swapped = supports
        (swapped[0].labels, swapped[2].labels) = (supports[2].labels, supports[0].labels)
        let wrong = try sequential.predict(query: img, supports: swapped, progress: { _ in }, isCancelled: { false })
        #expect(wrong.labels.labels != p.labels.labels)
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
