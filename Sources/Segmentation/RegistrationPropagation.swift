import Dispatch
import Foundation
import Synchronization
import VolumeCore

/// The first few-shot predictor: register every support to the query, carry its labels over
/// (soft, trilinear), and fuse them (majority or locally weighted vote).
///
/// Supports labelled on some slices only vote where their mapped point falls on a labelled slice
/// (within half a voxel); elsewhere they abstain rather than vote background.
public struct RegistrationPropagationPredictor: SegmentationPredictor {
    /// The registration used between a support and the query.
    public var aligner: PairwiseAligner
    /// Fusion rule and options.
    public var fusion: FusionOptions

    /// Register supports concurrently (`voxtermThreadCount` ≥ 2): up to `maxConcurrentSupports`
    /// registrations at a time (at least one per thread), each on its share of the threads (at
    /// least one). A registration still running when the others have finished and no support is
    /// left takes the freed threads at its next iteration, so the cores stay busy to the end. On
    /// small pyramid levels one registration cannot keep two cores busy, so this beats registering
    /// one support at a time on all threads. Progress is reported as supports start.
    public var concurrentSupports: Bool
    /// Most registrations run at once with `concurrentSupports`, whatever the thread count (each
    /// holds its pyramid and full-resolution fields: about 80 MB more per registration for a 2 mm
    /// brain, 470 MB in all at k = 5 measured at 2 mm only; a 1 mm registration peaks near 450 MB).
    public var maxConcurrentSupports = 6

    public init(aligner: PairwiseAligner, fusion: FusionOptions = FusionOptions(), concurrentSupports: Bool = false) {
        self.aligner = aligner; self.fusion = fusion; self.concurrentSupports = concurrentSupports
    }

    public func predict(query: Volume, supports: [LoadedSupport],
                        progress: (SegmentationProgress) -> Void,
                        isCancelled: @escaping () -> Bool) throws -> Prediction {
        guard !supports.isEmpty else { throw SegmentationError.invalidInput("no support examples: give at least one labelled image") }
        let start = monotonicSeconds()
        for s in supports where s.labels.geometry.size != s.image.geometry.size {
            throw SegmentationError.invalidInput("support \(s.name): labels are not on the image's grid")
        }
        var fields = [VectorField?](repeating: nil, count: supports.count)
        let threads = effectiveThreadCount
        // All supports at once (up to `maxConcurrentSupports`), each on one thread while they
        // outnumber the cores: the kernel shares the cores between them, and single-threaded work
        // wastes nothing on small pyramid levels. Two at a time left one core idle while the third
        // of three registered alone.
        let workers = concurrentSupports && threads >= 2 ? max(1, min(supports.count, maxConcurrentSupports)) : 1
        if workers == 1 {
            for n in supports.indices {
                if isCancelled() { throw SegmentationError.cancelled }
                progress(SegmentationProgress(step: n, total: supports.count,
                                              message: "registering support \(n + 1) of \(supports.count) (\(supports[n].name))",
                                              elapsed: monotonicSeconds() - start))
                fields[n] = try aligner.align(fixed: query, moving: supports[n].image, isCancelled: isCancelled)
            }
        } else {
            // A shared queue of supports; `running` counts workers still registering, and every
            // registration re-reads its share of the threads each time it polls for cancellation
            // (once per iteration). One thread (body 0 of runOnThreads) registers nothing: it
            // reports each support as a worker starts it (`progress` is only ever called from
            // that one thread, never from two at once, and
            // every support is reported, whichever worker takes it), then waits for the workers.
            let next = Atomic<Int>(0), running = Atomic<Int>(workers), failed = Atomic<Bool>(false)
            // Supports started and not yet reported; -1 for a worker that has finished.
            let started = Mutex<[Int]>([])
            let wake = DispatchSemaphore(value: 0)
            var errors = [Error?](repeating: nil, count: supports.count)
            let total = supports.count
            let aligner = self.aligner
            fields.withUnsafeMutableBufferPointer { fieldSlots in
                errors.withUnsafeMutableBufferPointer { errorSlots in
                    // Each worker writes its own supports' slots (pointers, not the inout buffers).
                    let f = fieldSlots, e = errorSlots
                    let work: (Int) -> Void = { _ in
                        let share = { max(1, threads / max(1, running.load(ordering: .relaxed))) }
                        withThreadCount(share()) {
                            while true {
                                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                                if i >= total || failed.load(ordering: .relaxed) || isCancelled() { break }
                                started.withLock { $0.append(i) }
                                wake.signal()
                                setThreadCountOfThisThread(share())
                                do {
                                    f[i] = try aligner.align(fixed: query, moving: supports[i].image, isCancelled: {
                                        setThreadCountOfThisThread(share())
                                        return failed.load(ordering: .relaxed) || isCancelled()
                                    })
                                } catch { e[i] = error; failed.store(true, ordering: .relaxed); break }
                            }
                            running.wrappingSubtract(1, ordering: .relaxed)
                        }
                        started.withLock { $0.append(-1) }
                        wake.signal()
                    }
                    runOnThreads(workers + 1) { t in
                        guard t == 0 else { return work(t) }
                        var finished = 0
                        while finished < workers {
                            wake.wait()
                            for i in started.withLock({ s in defer { s = [] }; return s }) {
                                guard i >= 0 else { finished += 1; continue }
                                progress(SegmentationProgress(step: i, total: total,
                                                              message: "registering support \(i + 1) of \(total) (\(supports[i].name)), \(workers) at a time",
                                                              elapsed: monotonicSeconds() - start))
                            }
                        }
                    }
                }
            }
            // The first real failure (the others may have stopped on it as on a cancellation).
            let real = errors.compactMap { $0 }
            if let e = real.first(where: { ($0 as? SegmentationError) != .cancelled }) ?? real.first { throw e }
            if isCancelled() || fields.contains(where: { $0 == nil }) { throw SegmentationError.cancelled }
        }
        let mapped = zip(supports, fields).map { MappedSupport(image: $0.image, labels: $0.labels, field: $1!) }
        if isCancelled() { throw SegmentationError.cancelled }
        progress(SegmentationProgress(step: supports.count, total: supports.count, message: "fusing labels",
                                      elapsed: monotonicSeconds() - start))
        return fuseLabels(query: query, supports: mapped, options: fusion,
                          known: supports.map { s in s.slices.map { knownMask($0, s.image.geometry) } })
    }
}

/// Per voxel of `g`: true on the selected slices.
func knownMask(_ s: SliceSelection, _ g: VolumeGeometry) -> [Bool] {
    var mask = [Bool](repeating: false, count: g.voxelCount)
    for i in s.indices where i < g.size[s.plane.axis] {
        for idx in SliceAccess.indices(g, axis: s.plane.axis, index: i) { mask[idx] = true }
    }
    return mask
}
