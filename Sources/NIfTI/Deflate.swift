internal import CDeflate
import VolumeCore

/// Whole-buffer inflate and deflate through libdeflate, the only caller of libdeflate.
///
/// libdeflate decompresses a whole member in one call, 2-3x faster than zlib's streaming
/// inflate, but needs the whole compressed input and an output buffer large enough for the
/// member. Callers use it when the compressed file fits in memory (`Gzip.wholeInflateLimit`)
/// and fall back to zlib streaming (`Gzip.Inflater`) whenever it cannot finish, so error
/// messages (truncated, corrupt) always come from one place.
enum Deflate {
    /// The container around the deflate data.
    enum Wrapper { case gzip, zlib }

    /// Inflates the members of `input` (several gzip members one after another, zero padding
    /// between them tolerated) into `out` until `out` is full or the input ends. Returns the
    /// number of bytes written, or nil when libdeflate cannot finish: corrupt or truncated data,
    /// or a member that does not fit in what is left of `out`.
    static func inflate(_ input: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer,
                        wrapper: Wrapper = .gzip) -> Int? {
        guard let d = libdeflate_alloc_decompressor() else { return nil }
        defer { libdeflate_free_decompressor(d) }
        var inPos = 0, outPos = 0
        while outPos < out.count {
            if wrapper == .gzip {
                while inPos < input.count && input[inPos] == 0 { inPos += 1 }
                guard inPos + 1 < input.count, input[inPos] == 0x1f, input[inPos + 1] == 0x8b else { break }
            } else if inPos >= input.count {
                break
            }
            var used = 0, made = 0
            let r: libdeflate_result
            switch wrapper {
            case .gzip:
                r = libdeflate_gzip_decompress_ex(d, input.baseAddress! + inPos, input.count - inPos,
                                                  out.baseAddress! + outPos, out.count - outPos, &used, &made)
            case .zlib:
                r = libdeflate_zlib_decompress_ex(d, input.baseAddress! + inPos, input.count - inPos,
                                                  out.baseAddress! + outPos, out.count - outPos, &used, &made)
            }
            guard r == LIBDEFLATE_SUCCESS else { return nil }
            inPos += used
            outPos += made
            if wrapper == .zlib { break } // one zlib stream
        }
        return outPos
    }

    /// The concatenation of `parts` as gzip members of at most `chunk` input bytes each (every
    /// part split on its own), compressed in parallel, one libdeflate compressor per chunk, at
    /// `level` (1 fastest ... 12 smallest); nil on failure. Readers of gzip (zlib's gzread,
    /// Python's gzip, nibabel, ITK, FreeSurfer, libdeflate itself) read the members one after
    /// another as one stream.
    static func gzipMembers(_ parts: [UnsafeRawBufferPointer], level: Int32, chunk: Int) -> [UInt8]? {
        let chunks = Gzip.chunks(of: parts, size: chunk)
        if chunks.isEmpty { return compress(UnsafeRawBufferPointer(start: nil, count: 0), level: level, wrapper: .gzip) }
        var outputs = [[UInt8]?](repeating: nil, count: chunks.count)
        outputs.withUnsafeMutableBufferPointer { out in
            parallelFor(chunks.count) { c in out[c] = compress(chunks[c], level: level, wrapper: .gzip) }
        }
        var file: [UInt8] = []
        file.reserveCapacity(outputs.reduce(0) { $0 + ($1?.count ?? 0) })
        for o in outputs {
            guard let o else { return nil }
            file.append(contentsOf: o)
        }
        return file
    }

    /// The CRC-32 of `data` (gzip's), by libdeflate (several times faster than zlib's).
    static func crc32(_ data: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        guard let b = data.baseAddress, data.count > 0 else { return initial }
        return libdeflate_crc32(initial, b, data.count)
    }

    /// `input` as one gzip or zlib member at `level` (1 fastest ... 12 smallest), or nil on failure.
    static func compress(_ input: UnsafeRawBufferPointer, level: Int32, wrapper: Wrapper) -> [UInt8]? {
        guard let c = libdeflate_alloc_compressor(level) else { return nil }
        defer { libdeflate_free_compressor(c) }
        let bound = wrapper == .gzip ? libdeflate_gzip_compress_bound(c, input.count)
                                     : libdeflate_zlib_compress_bound(c, input.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = out.withUnsafeMutableBytes { o -> Int in
            let src = input.baseAddress ?? UnsafeRawPointer(o.baseAddress!)
            return wrapper == .gzip ? libdeflate_gzip_compress(c, src, input.count, o.baseAddress!, o.count)
                                    : libdeflate_zlib_compress(c, src, input.count, o.baseAddress!, o.count)
        }
        guard n > 0 else { return nil }
        out.removeSubrange(n...)
        return out
    }
}
