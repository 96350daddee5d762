import VolumeCore

/// Fixed-size chunks of a linear range, so parallel reductions add partial sums in the same order
/// whatever the thread count (results are bit-identical for 1 or 2 threads).
@usableFromInline let reductionChunk = 8192

/// Runs `body(lo, hi)` over `0..<count` in chunks of `reductionChunk`, in parallel.
@inlinable
func parallelChunks(_ count: Int, _ body: (Int, Int) -> Void) {
    let chunks = (count + reductionChunk - 1) / reductionChunk
    parallelFor(chunks) { c in body(c * reductionChunk, min(count, (c + 1) * reductionChunk)) }
}

/// Sums `term(lo, hi)` over chunks in parallel and adds the partial sums in chunk order.
@inlinable
func parallelSum(_ count: Int, _ term: (Int, Int) -> Double) -> Double {
    let chunks = (count + reductionChunk - 1) / reductionChunk
    var partial = [Double](repeating: 0, count: chunks)
    partial.withUnsafeMutableBufferPointer { p in
        parallelFor(chunks) { c in p[c] = term(c * reductionChunk, min(count, (c + 1) * reductionChunk)) }
    }
    return partial.reduce(0, +)
}

/// A heap buffer of floats with a stable address, for scratch space reused across iterations.
public final class FloatBuffer: @unchecked Sendable {
    /// Base address (`count` values, zero-initialised).
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of values.
    public let count: Int

    public init(count: Int, value: Float = 0) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: value, count: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    /// A copy as an array.
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
