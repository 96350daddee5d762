internal import CZlib
import VolumeCore

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

    /// Compresses `data` as one gzip member at `level` (1 fastest ... 9 smallest).
    static func compress(_ data: UnsafeRawBufferPointer, level: Int32 = 6, path: String) throws -> [UInt8] {
        var s = z_stream()
        guard deflateInit2_(&s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw NIfTIError(path, "cannot start gzip compression")
        }
        defer { deflateEnd(&s) }
        var out = [UInt8]()
        out.reserveCapacity(data.count / 2 + 1024)
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        var offset = 0
        var status: Int32 = Z_OK
        repeat {
            let n = min(data.count - offset, 1 << 30)
            s.next_in = UnsafeMutablePointer(mutating: (data.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!).assumingMemoryBound(to: UInt8.self) + offset)
            s.avail_in = UInt32(n)
            let flush = offset + n >= data.count ? Z_FINISH : Z_NO_FLUSH
            repeat {
                status = chunk.withUnsafeMutableBufferPointer { c in
                    s.next_out = c.baseAddress
                    s.avail_out = UInt32(c.count)
                    return deflate(&s, flush)
                }
                guard status != Z_STREAM_ERROR else { throw NIfTIError(path, "gzip compression failed") }
                out.append(contentsOf: chunk[0..<(chunk.count - Int(s.avail_out))])
            } while s.avail_out == 0
            offset += n
        } while status != Z_STREAM_END
        return out
    }
}
