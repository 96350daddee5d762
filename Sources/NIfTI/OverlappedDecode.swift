import Dispatch
import VolumeCore

extension Gzip.Inflater {
    /// Smallest image (in voxels) worth a decoding thread; smaller ones decode on request.
    static let overlapThreshold = 1 << 16

    /// Inflates exactly `byteCount` bytes of image data. For images of at least
    /// `overlapThreshold` voxels, a second thread converts each finished ~1 MB chunk to scaled
    /// float32 while the next one inflates, so decoding costs no wall time; `floats` is then set,
    /// and `raw` is empty when `floats` holds the values exactly (`NIfTIHeader.floatsAreExact`).
    func readImageData(_ byteCount: Int, header: NIfTIHeader) throws -> (raw: [UInt8], floats: [Float]?) {
        let bytesPerVoxel = header.datatype!.byteCount
        let voxels = byteCount / bytesPerVoxel
        var raw = [UInt8](hugePagesCount: byteCount) { _ in } // filled by inflating (or an error is thrown)
        func shortData(_ got: Int) -> NIfTIError {
            NIfTIError(path, "data is shorter than the header claims: \(got) of \(byteCount) bytes present after decompression")
        }
        guard voxtermThreadCount > 1, voxels >= Self.overlapThreshold else {
            let n = try raw.withUnsafeMutableBytes { try read(into: $0) }
            guard n == byteCount else { throw shortData(n) }
            return (raw, nil)
        }

        var floats = [Float](hugePagesCount: voxels) { _ in } // every chunk is decoded below
        let chunkVoxels = max(1, (1 << 20) / bytesPerVoxel)
        let chunks = (voxels + chunkVoxels - 1) / chunkVoxels
        try raw.withUnsafeMutableBytes { rawBuffer in
            try floats.withUnsafeMutableBufferPointer { floatBufferInout in
                let floatBuffer = floatBufferInout
                let src = UnsafeRawBufferPointer(rawBuffer)
                func decodeChunk(_ c: Int) {
                    let lo = c * chunkVoxels, hi = min(voxels, lo + chunkVoxels)
                    header.convertScaled(src, from: lo, count: hi - lo,
                                         into: UnsafeMutableBufferPointer(rebasing: floatBuffer[lo..<hi]))
                }
                // The producer signals once per inflated chunk; `failed` is written before the
                // signal that releases the consumer, so the semaphore orders the two.
                let ready = DispatchSemaphore(value: 0)
                var failed = false
                let consumer = WorkerThread {
                    for c in 0..<chunks {
                        ready.wait()
                        if failed { return }
                        decodeChunk(c)
                    }
                }
                var thrown: Error?
                do {
                    for c in 0..<chunks {
                        let lo = c * chunkVoxels * bytesPerVoxel, hi = min(byteCount, lo + chunkVoxels * bytesPerVoxel)
                        let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: rawBuffer[lo..<hi]))
                        guard n == hi - lo else { throw shortData(lo + n) }
                        ready.signal()
                    }
                } catch {
                    thrown = error
                    failed = true
                    ready.signal()
                }
                consumer.join()
                if let thrown { throw thrown }
            }
        }
        // Keep one copy when float32 is exact for this datatype (a 35 MB uint8 image keeps
        // its 140 MB of floats, not 175 MB).
        return (header.floatsAreExact ? [] : raw, floats)
    }
}

/// A closure running on its own serial dispatch queue, joined explicitly. A custom serial queue
/// runs on an overcommitting thread, so a producer waiting for this consumer can never starve it
/// of a thread (as `concurrentPerform` could, by running both on the caller, one after the other).
final class WorkerThread {
    private let done = DispatchSemaphore(value: 0)

    /// Starts `body`.
    init(_ body: @escaping () -> Void) {
        let done = self.done
        DispatchQueue(label: "voxterm.nifti.decode").async {
            body()
            done.signal()
        }
    }

    /// Waits for the closure to finish.
    func join() { done.wait() }
}

extension Gzip {
    /// The image data of a gzipped single file inflated whole by libdeflate (header and data,
    /// `offset + byteCount` bytes), then decoded to scaled float32 in parallel for images of at
    /// least `Inflater.overlapThreshold` voxels. Nil when libdeflate cannot finish (corrupt or
    /// truncated data, or more bytes after the data in the last member): the caller then
    /// streams with zlib, which also words the error.
    static func inflateImageWhole(_ compressed: [UInt8], offset: Int, byteCount: Int,
                                  header: NIfTIHeader) -> (raw: [UInt8], floats: [Float]?)? {
        let total = offset + byteCount
        var whole = [UInt8](hugePagesCount: total) { _ in } // filled by inflating, or discarded
        let n = whole.withUnsafeMutableBytes { o in
            compressed.withUnsafeBytes { Deflate.inflate($0, into: o, wrapper: .gzip) }
        }
        guard n == total else { return nil }
        let bytesPerVoxel = header.datatype!.byteCount
        let voxels = byteCount / bytesPerVoxel
        guard voxtermThreadCount > 1, voxels >= Inflater.overlapThreshold else {
            return (Array(whole[offset..<total]), nil)
        }
        var floats = [Float](hugePagesCount: voxels) { _ in } // every chunk is decoded below
        whole.withUnsafeBytes { all in
            let src = UnsafeRawBufferPointer(rebasing: all[offset..<total])
            floats.withUnsafeMutableBufferPointer { dst in
                let chunks = max(1, min(64, voxels / 65536))
                parallelFor(chunks) { c in
                    let lo = voxels * c / chunks, hi = voxels * (c + 1) / chunks
                    header.convertScaled(src, from: lo, count: hi - lo,
                                         into: UnsafeMutableBufferPointer(rebasing: dst[lo..<hi]))
                }
            }
        }
        return (header.floatsAreExact ? [] : Array(whole[offset..<total]), floats)
    }
}
