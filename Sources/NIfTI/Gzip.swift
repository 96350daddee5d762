internal import CZlib
import VolumeCore
#if canImport(Glibc)
import Glibc
#endif

/// gzip decompression and compression through zlib, the only caller of zlib.
enum Gzip {
    /// True when the bytes start with the gzip magic number.
    static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b }

    /// A streaming inflater over an in-memory gzip file, which may hold several members.
    final class Inflater {
        private var stream = z_stream()
        private let input: [UInt8]
        private var inputOffset = 0
        private var finished = false
        let path: String
        /// Total bytes produced so far.
        private(set) var produced = 0

        init(_ input: [UInt8], path: String) throws {
            self.input = input
            self.path = path
            let r = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            guard r == Z_OK else { throw NIfTIError(path, "cannot start gzip decompression (zlib error \(r))") }
        }

        deinit { inflateEnd(&stream) }

        /// Fills `out` completely; fewer bytes available means the data ends early.
        /// Returns the number of bytes written.
        func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
            var written = 0
            while written < out.count && !finished {
                let status: Int32 = input.withUnsafeBufferPointer { inBuf in
                    stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress! + inputOffset)
                    let availIn = min(inBuf.count - inputOffset, Int(UInt32.max))
                    stream.avail_in = UInt32(availIn)
                    stream.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self) + written
                    let availOut = min(out.count - written, Int(UInt32.max))
                    stream.avail_out = UInt32(availOut)
                    let s = inflate(&stream, Z_NO_FLUSH)
                    inputOffset += availIn - Int(stream.avail_in)
                    written += availOut - Int(stream.avail_out)
                    return s
                }
                switch status {
                case Z_OK:
                    if stream.avail_in == 0 && inputOffset >= input.count && stream.avail_out > 0 {
                        throw NIfTIError(path, "gzip data is truncated (ends after \(produced + written) uncompressed bytes)")
                    }
                case Z_STREAM_END:
                    // Another gzip member may follow (multi-member files, e.g. from pigz or cat).
                    var next = inputOffset
                    while next < input.count && input[next] == 0 { next += 1 } // tolerate zero padding
                    if next + 1 < input.count && input[next] == 0x1f && input[next + 1] == 0x8b {
                        inputOffset = next
                        inflateReset(&stream)
                    } else {
                        finished = true
                    }
                case Z_BUF_ERROR:
                    throw NIfTIError(path, "gzip data is truncated (ends after \(produced + written) uncompressed bytes)")
                default:
                    let msg = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw NIfTIError(path, "gzip data is corrupt (\(msg))")
                }
            }
            produced += written
            return written
        }

        /// Reads exactly `count` bytes, or throws saying the data ends early.
        func readExactly(_ count: Int, what: String) throws -> [UInt8] {
            var out = [UInt8](repeating: 0, count: count)
            let got = try out.withUnsafeMutableBytes { try read(into: $0) }
            guard got == count else {
                throw NIfTIError(path, "\(what) is truncated: \(got) of \(count) bytes present after decompression")
            }
            return out
        }

        /// Discards `count` bytes.
        func skip(_ count: Int, what: String) throws {
            var left = count
            var scratch = [UInt8](repeating: 0, count: min(count, 1 << 16))
            while left > 0 {
                let n = min(left, scratch.count)
                let got = try scratch.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<n])) }
                if got < n { throw NIfTIError(path, "\(what) is truncated after decompression") }
                left -= n
            }
        }
    }

    /// Bytes of input per independently deflated chunk in `compress`.
    static let chunkSize = 1 << 20

    /// The compressor `compress` uses.
    enum Engine: String, Sendable { case libdeflate, zlib }

    /// zlib by default: one gzip member, which every reader reads (pynrrd and other single-stream
    /// readers stop after a first member). `voxterm bench io --write --gzip-writer libdeflate`
    /// measures the multi-member libdeflate writer for comparison.
    nonisolated(unsafe) static var engine = Engine.zlib

    /// Compresses the concatenation of `parts` as gzip at `level` (1 fastest ... 9 smallest):
    /// with zlib (the default), one member of sync-flushed 1 MiB chunks deflated in parallel
    /// (`compressWithZlib`); with libdeflate (benchmarks only), one gzip member per chunk
    /// (`Deflate.gzipMembers`), faster but unreadable by single-stream readers such as pynrrd.
    static func compress(_ parts: [UnsafeRawBufferPointer], level: Int32, path: String,
                         negatedFloats: Set<Int> = []) throws -> [UInt8] {
        switch engine {
        case .zlib: return try compressWithZlib(parts, level: level, path: path, negatedFloats: negatedFloats)
        case .libdeflate:
            if !negatedFloats.isEmpty {   // benchmarks only: one joined copy with the negated parts
                var joined: [UInt8] = []
                for (i, part) in parts.enumerated() {
                    if negatedFloats.contains(i) {
                        part.bindMemory(to: Float.self).map { -$0 }.withUnsafeBytes { joined.append(contentsOf: $0) }
                    } else {
                        joined.append(contentsOf: part)
                    }
                }
                return try joined.withUnsafeBytes { try compress([$0], level: level, path: path) }
            }
            guard let out = Deflate.gzipMembers(parts, level: level, chunk: chunkSize) else { throw NIfTIError(path, "gzip compression failed") }
            return out
        }
    }

    /// Compresses the concatenation of `parts` as one gzip member at `level` (1 fastest ...
    /// 9 smallest), deflating ~1 MiB chunks in parallel as pigz does: each chunk is a raw
    /// deflate stream ended by a sync flush (the last by finish), the chunks' CRC-32s combined,
    /// so any gzip reader sees an ordinary single-member file. No name or time is stored.
    /// Parts whose index is in `negatedFloats` are float32 values written negated (e.g. RAS
    /// vectors as LPS), one chunk at a time, so no negated copy of the whole part is made.
    /// With `sink`, the file is handed over piece by piece as batches of chunks are compressed
    /// (at most `batchChunks` compressed chunks in memory) and the returned array is empty.
    static func compressWithZlib(_ parts: [UnsafeRawBufferPointer], level: Int32, path: String,
                                 negatedFloats: Set<Int> = [],
                                 sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil) throws -> [UInt8] {
        var chunks: [UnsafeRawBufferPointer] = [], negate: [Bool] = []
        for (i, part) in parts.enumerated() {
            let c = Gzip.chunks(of: [part], size: chunkSize)
            chunks += c
            negate += [Bool](repeating: negatedFloats.contains(i), count: c.count)
        }
        if chunks.isEmpty { chunks.append(UnsafeRawBufferPointer(start: nil, count: 0)); negate.append(false) }
        let header: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3] // deflate, no flags, no mtime, Unix
        var file: [UInt8] = sink == nil ? header : []
        if let sink { try header.withUnsafeBytes { try sink($0) } }
        var crc: UInt = 0
        var total = 0
        let batch = sink == nil ? chunks.count : batchChunks
        var start = 0
        while start < chunks.count {
            let end = min(chunks.count, start + batch)
            var outputs = [[UInt8]](repeating: [], count: end - start)
            var crcs = [UInt](repeating: 0, count: end - start)
            var failed = [Bool](repeating: false, count: end - start)
            outputs.withUnsafeMutableBufferPointer { out in
                crcs.withUnsafeMutableBufferPointer { crc in
                    failed.withUnsafeMutableBufferPointer { bad in
                        parallelFor(end - start) { t in
                            let c = start + t
                            func run(_ chunk: UnsafeRawBufferPointer) {
                                // At level 1 (fastest), a chunk that entropy coding would shrink by
                                // less than `storeAbove` is stored (deflate's stored blocks).
                                let store = level == 1 && estimatedDeflateRatio(chunk) > storeAbove
                                if let deflated = deflateRaw(chunk, level: store ? 0 : level, last: c == chunks.count - 1) {
                                    out[t] = deflated
                                } else {
                                    bad[t] = true
                                }
                                crc[t] = UInt(Deflate.crc32(chunk))
                            }
                            if negate[c] {
                                let negated = chunks[c].bindMemory(to: Float.self).map { -$0 }
                                negated.withUnsafeBytes { run($0) }
                            } else {
                                run(chunks[c])
                            }
                        }
                    }
                }
            }
            guard !failed.contains(true) else { throw NIfTIError(path, "gzip compression failed") }
            for t in outputs.indices {
                let c = start + t
                crc = c == 0 ? crcs[0] : UInt(crc32_combine(uLong(crc), uLong(crcs[t]), Int(chunks[c].count)))
                total += chunks[c].count
                if let sink { try outputs[t].withUnsafeBytes { try sink($0) } } else { file.append(contentsOf: outputs[t]) }
                outputs[t] = []   // one copy at a time
            }
            start = end
        }
        var trailer: [UInt8] = []
        let size = UInt32(truncatingIfNeeded: total)
        for k in 0..<4 { trailer.append(UInt8(truncatingIfNeeded: UInt32(truncatingIfNeeded: crc) >> (8 * k))) }
        for k in 0..<4 { trailer.append(UInt8(truncatingIfNeeded: size >> (8 * k))) }
        if let sink { try trailer.withUnsafeBytes { try sink($0) } } else { file += trailer }
        return file
    }

    /// At level 1, chunks whose estimated deflated size (`estimatedDeflateRatio`) is above this
    /// fraction of their size are written as stored blocks instead of being compressed: on a
    /// displacement field (float32 vectors, whose low mantissa bytes are noise) zlib's level 1
    /// saves 5 % at about 60 MB/s a core, storing saves nothing at memory speed. Warped images
    /// (0.2-0.5), Jacobians (0.5-0.84) and labels are compressed as before.
    static let storeAbove = 0.9

    /// The order-0 entropy of `chunk`'s bytes over 8 bits: about the size ratio Huffman coding
    /// reaches (string matching and run lengths can do better on repetitive data, so a chunk is
    /// only judged incompressible when this is high; 1 MiB of a field: 0.94-0.98 against zlib's
    /// level 1 at 0.94-0.97).
    static func estimatedDeflateRatio(_ chunk: UnsafeRawBufferPointer) -> Double {
        let n = chunk.count
        guard n >= 4096 else { return 0 }
        var h = [UInt32](repeating: 0, count: 1024)   // four interleaved histograms
        h.withUnsafeMutableBufferPointer { hp in
            let b = chunk.baseAddress!.assumingMemoryBound(to: UInt8.self), q = hp.baseAddress!
            var i = 0
            while i + 4 <= n {
                q[Int(b[i])] &+= 1; q[256 + Int(b[i + 1])] &+= 1; q[512 + Int(b[i + 2])] &+= 1; q[768 + Int(b[i + 3])] &+= 1
                i += 4
            }
            while i < n { q[Int(b[i])] &+= 1; i += 1 }
        }
        var entropy = 0.0
        let total = Double(n)
        for v in 0..<256 {
            let c = Double(h[v] &+ h[256 + v] &+ h[512 + v] &+ h[768 + v])
            if c > 0 { let p = c / total; entropy -= p * log2(p) }
        }
        return entropy / 8
    }

    /// Chunks compressed per batch when streaming (`compressWithZlib(sink:)`): 16 MiB of input.
    static let batchChunks = 16

    /// One chunk as raw deflate data, ended by a sync flush, or by finish when `last`; nil on a zlib error.
    private static func deflateRaw(_ chunk: UnsafeRawBufferPointer, level: Int32, last: Bool) -> [UInt8]? {
        var s = z_stream()
        // Level 1 (the default) uses zlib's run-length strategy: on volumes, fields and labels
        // 2-2.5 times faster than level 1's string matching at about the same size (fields 0.949
        // against 0.951 of the raw size, a warped brain 0.237 against 0.245, a Jacobian 0.758
        // against 0.715).
        guard deflateInit2_(&s, level, Z_DEFLATED, -15, 8, level == 1 ? Z_RLE : Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { deflateEnd(&s) }
        var out = [UInt8]()
        out.reserveCapacity(Int(deflateBound(&s, uLong(chunk.count))) + 64)
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        var dummy: UInt8 = 0
        let flush = last ? Z_FINISH : Z_SYNC_FLUSH
        return withUnsafeMutablePointer(to: &dummy) { dummyPointer -> [UInt8]? in
            s.next_in = UnsafeMutablePointer(mutating: chunk.baseAddress?.assumingMemoryBound(to: UInt8.self)) ?? dummyPointer
            s.avail_in = UInt32(chunk.count)
            while true {
                let status: Int32 = scratch.withUnsafeMutableBufferPointer { buf in
                    s.next_out = buf.baseAddress
                    s.avail_out = UInt32(buf.count)
                    return deflate(&s, flush)
                }
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { return nil }
                out.append(contentsOf: scratch[0..<(scratch.count - Int(s.avail_out))])
                if last ? status == Z_STREAM_END : (s.avail_in == 0 && s.avail_out > 0) { return out }
            }
        }
    }
}

extension Gzip {
    /// Compressed inputs up to this many bytes are inflated whole by libdeflate (input and
    /// output both in memory); larger ones stream through zlib.
    static let wholeInflateLimit = 1 << 30

    /// Between `count` and `maxCount` bytes from the start of the gzip (or zlib) data
    /// `compressed`: libdeflate over whole members when the input is at most
    /// `wholeInflateLimit` bytes, zlib streaming otherwise or when libdeflate cannot finish
    /// (which also produces the messages for corrupt and truncated data).
    static func inflateBuffer(_ compressed: [UInt8], count: Int, maxCount: Int, path: String, what: String) throws -> [UInt8] {
        let capacity = max(count, maxCount)
        var out = [UInt8](hugePagesCount: capacity) { _ in } // filled below; only the filled part is kept
        if compressed.count <= wholeInflateLimit {
            let wrapper: Deflate.Wrapper = isGzip(compressed) ? .gzip : .zlib
            let n = out.withUnsafeMutableBytes { o in
                compressed.withUnsafeBytes { Deflate.inflate($0, into: o, wrapper: wrapper) }
            }
            if let n, n >= count {
                out.removeSubrange(n...)
                return out
            }
        }
        let inflater = try Inflater(compressed, path: path)
        var n = try out.withUnsafeMutableBytes { try inflater.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<count])) }
        if n == count && capacity > count {
            // Optional bytes after the required ones (a trailer): a damaged trailer is ignored.
            n += (try? out.withUnsafeMutableBytes { try inflater.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[count...])) }) ?? 0
        }
        guard n >= count else {
            throw NIfTIError(path, "\(what) is shorter than the header claims: \(n) of \(count) bytes present after decompression")
        }
        out.removeSubrange(n...)
        return out
    }
}

/// voxterm's one gzip layer, for the readers and writers of every format: whole members
/// through libdeflate when the compressed data fits in memory, zlib streaming otherwise.
public enum GzipLayer {
    /// True when `bytes` start with the gzip magic number (1f 8b).
    public static func isGzip(_ bytes: [UInt8]) -> Bool { Gzip.isGzip(bytes) }

    /// True when `bytes` start like a zlib stream (deflate, 32K window, valid check bits).
    public static func isZlib(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] & 0x0f == 8 && bytes[0] >> 4 <= 7 && (UInt16(bytes[0]) << 8 | UInt16(bytes[1])) % 31 == 0
    }

    /// At least `count` and at most `maxCount` decompressed bytes of the gzip or zlib data
    /// `compressed` (several gzip members are read one after another). Throws, naming `path`,
    /// when the data is corrupt or holds fewer than `count` bytes; `what` names the part in that
    /// message. The caller bounds `count` (deflate expands at most `maxDeflateRatio`:1).
    public static func inflate(_ compressed: [UInt8], count: Int, maxCount: Int = 0, path: String,
                               what: String = "data") throws -> [UInt8] {
        try Gzip.inflateBuffer(compressed, count: count, maxCount: maxCount, path: path, what: what)
    }

    /// Up to `maxCount` bytes from the start of the gzip or zlib data (streamed, so a header
    /// can be read without inflating the whole file); fewer when the data ends.
    public static func inflatePrefix(_ compressed: [UInt8], maxCount: Int, path: String) throws -> [UInt8] {
        let inflater = try Gzip.Inflater(compressed, path: path)
        var out = [UInt8](repeating: 0, count: maxCount)
        let n: Int
        do { n = try out.withUnsafeMutableBytes { try inflater.read(into: $0) } } catch let e as NIfTIError where e.reason.contains("truncated") {
            return try inflatePrefixTolerant(compressed, maxCount: maxCount, path: path)
        }
        out.removeSubrange(n...)
        return out
    }

    /// What a truncated stream holds, read in small steps (for format detection).
    private static func inflatePrefixTolerant(_ compressed: [UInt8], maxCount: Int, path: String) throws -> [UInt8] {
        let inflater = try Gzip.Inflater(compressed, path: path)
        var out: [UInt8] = []
        var step = [UInt8](repeating: 0, count: 64)
        while out.count < maxCount {
            guard let n = try? step.withUnsafeMutableBytes({ try inflater.read(into: $0) }), n > 0 else { break }
            out += step[0..<n]
        }
        return out
    }

    /// The gzip writer: "zlib" (default, one member) or "libdeflate" (several members, for
    /// `voxterm bench io --write` comparisons); false for another name.
    public static func setWriter(_ name: String) -> Bool {
        guard let e = Gzip.Engine(rawValue: name) else { return false }
        Gzip.engine = e
        return true
    }

    /// Largest ratio of uncompressed to compressed size deflate can reach (about 1032:1).
    public static let maxDeflateRatio = 1032

    /// The concatenation of `parts` as one gzip member at `level` (1 fastest ... 9 smallest).
    public static func gzip(_ parts: [UnsafeRawBufferPointer], level: Int = 1, path: String) throws -> [UInt8] {
        try Gzip.compress(parts, level: Int32(min(9, max(1, level))), path: path)
    }

    /// `data` as one zlib stream (MetaImage's `CompressedData`), through libdeflate.
    public static func zlib(_ data: UnsafeRawBufferPointer, level: Int = 1, path: String) throws -> [UInt8] {
        guard let out = Deflate.compress(data, level: Int32(min(12, max(1, level))), wrapper: .zlib) else {
            throw NIfTIError(path, "zlib compression failed")
        }
        return out
    }
}

extension Gzip {
    /// `parts` cut into consecutive pieces of at most `size` bytes (no piece spans two parts),
    /// the units the parallel writers compress one per task.
    static func chunks(of parts: [UnsafeRawBufferPointer], size: Int) -> [UnsafeRawBufferPointer] {
        var chunks: [UnsafeRawBufferPointer] = []
        for part in parts {
            var o = 0
            while o < part.count {
                let n = min(size, part.count - o)
                chunks.append(UnsafeRawBufferPointer(rebasing: part[o..<(o + n)]))
                o += n
            }
        }
        return chunks
    }
}
