internal import CPNG
import VolumeCore

/// A PNG that could not be encoded or decoded, with libpng's message.
public struct PNGError: Error, CustomStringConvertible, Equatable, Sendable {
    /// libpng's or our message.
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// PNG encoding and decoding through libpng's simplified API (status returns, no setjmp),
/// plus text chunks spliced into the encoded bytes.
public enum PNGCodec {
    /// Encodes `image` as an 8-bit RGBA PNG, with `text` as tEXt chunks (iTXt for non-Latin-1 text);
    /// `opaque` drops the alpha channel (an 8-bit RGB PNG, for pictures whose alpha is all 255).
    public static func encode(_ image: RGBAImage, text: [(key: String, value: String)] = [], opaque: Bool = false) throws -> [UInt8] {
        guard image.width > 0, image.height > 0 else { throw PNGError("cannot encode an empty \(image.width)x\(image.height) image") }
        if opaque {
            let n = image.width * image.height
            let rgb = [UInt8](unsafeUninitializedCapacity: 3 * n) { out, count in
                image.pixels.withUnsafeBufferPointer { px in
                    for i in 0..<n { out[3 * i] = px[4 * i]; out[3 * i + 1] = px[4 * i + 1]; out[3 * i + 2] = px[4 * i + 2] }
                }
                count = 3 * n
            }
            return try write(pixels: rgb, width: image.width, height: image.height, channels: 3, text: text)
        }
        return try write(pixels: image.pixels, width: image.width, height: image.height, channels: 4, text: text)
    }

    private static func write(pixels: [UInt8], width: Int, height: Int, channels: Int,
                              text: [(key: String, value: String)]) throws -> [UInt8] {
        var png = png_image()
        png.version = UInt32(voxterm_png_image_version)
        png.width = UInt32(width)
        png.height = UInt32(height)
        png.format = UInt32(channels == 3 ? voxterm_png_format_rgb : voxterm_png_format_rgba)
        // Speed over size: about 4x faster to encode for 10-20 % more bytes (see `voxterm bench render`).
        png.flags = UInt32(voxterm_png_image_flag_fast)
        defer { png_image_free(&png) }
        let stride = Int32(width * channels)
        // One pass into a buffer of the raw size plus deflate's worst-case overhead (a pass with no
        // buffer would compress the whole picture only to learn the size); libpng reports the
        // size it needs when a buffer is too small, and the second pass then has it.
        let raw = (width * channels + 1) * height
        var size = raw + raw / 1000 + 12 * (raw / 4096 + 1) + 4096
        var out: [UInt8] = []
        for _ in 0..<2 {
            let capacity = size
            out = [UInt8](repeating: 0, count: capacity)
            let ok = out.withUnsafeMutableBytes { dst in
                pixels.withUnsafeBytes { px in
                    png_image_write_to_memory(&png, dst.baseAddress, &size, 0, px.baseAddress, stride, nil)
                }
            }
            if ok != 0 && size > 0 && size <= capacity { break }
            guard size > capacity else { throw PNGError("libpng: \(message(&png))") }
            png_image_free(&png)
            png.opaque = nil
            png.warning_or_error = 0
        }
        guard size > 0 && size <= out.count else { throw PNGError("libpng: \(message(&png))") }
        out.removeSubrange(size...)
        return text.isEmpty ? out : try insertText(text, into: out)
    }

    /// Decodes any PNG libpng reads into 8-bit RGBA.
    public static func decode(_ bytes: [UInt8]) throws -> RGBAImage {
        var png = png_image()
        png.version = UInt32(voxterm_png_image_version)
        defer { png_image_free(&png) }
        let ok = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&png, $0.baseAddress, $0.count) }
        guard ok != 0 else { throw PNGError("libpng: \(message(&png))") }
        png.format = UInt32(voxterm_png_format_rgba)
        let w = Int(png.width), h = Int(png.height)
        var px = [UInt8](repeating: 0, count: w * h * 4)
        let ok2 = px.withUnsafeMutableBytes { png_image_finish_read(&png, nil, $0.baseAddress, Int32(w * 4), nil) }
        guard ok2 != 0 else { throw PNGError("libpng: \(message(&png))") }
        return RGBAImage(width: w, height: h, pixels: px)
    }

    private static func message(_ png: inout png_image) -> String {
        withUnsafeBytes(of: &png.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "unknown error" : String(decoding: bytes, as: UTF8.self)
        }
    }

    // MARK: Text chunks

    /// Inserts text chunks before IEND, each with its CRC-32.
    public static func insertText(_ text: [(key: String, value: String)], into png: [UInt8]) throws -> [UInt8] {
        let iend: [UInt8] = [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44]
        guard png.count >= 20, Array(png[(png.count - 12)..<(png.count - 4)]) == iend else {
            throw PNGError("encoded PNG does not end with IEND")
        }
        var chunks: [UInt8] = []
        for (key, value) in text {
            let k = Array(key.utf8.filter { $0 >= 32 && $0 < 127 }.prefix(79))
            guard !k.isEmpty else { continue }
            if value.unicodeScalars.allSatisfy({ $0.value < 256 && $0.value != 0 }) {
                chunks += chunk("tEXt", k + [0] + value.unicodeScalars.map { UInt8($0.value) })
            } else {
                // iTXt: keyword, 0, compression flag 0, method 0, empty language, 0, empty translated key, 0, UTF-8 text.
                chunks += chunk("iTXt", k + [0, 0, 0, 0, 0] + Array(value.utf8))
            }
        }
        var out = Array(png[..<(png.count - 12)])
        out += chunks
        out += png[(png.count - 12)...]
        return out
    }

    /// Reads the tEXt and iTXt chunks of a PNG (key, value), in file order; checks every CRC.
    public static func readText(_ png: [UInt8]) throws -> [(key: String, value: String)] {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard png.count >= 8, Array(png[0..<8]) == signature else { throw PNGError("not a PNG (bad signature)") }
        var out: [(String, String)] = []
        var p = 8
        while p + 12 <= png.count {
            let len = Int(png[p]) << 24 | Int(png[p + 1]) << 16 | Int(png[p + 2]) << 8 | Int(png[p + 3])
            guard p + 12 + len <= png.count else { throw PNGError("chunk at byte \(p) runs past the end") }
            let type = String(decoding: png[(p + 4)..<(p + 8)], as: UTF8.self)
            let data = Array(png[(p + 8)..<(p + 8 + len)])
            let crcStored = UInt32(png[p + 8 + len]) << 24 | UInt32(png[p + 9 + len]) << 16
                | UInt32(png[p + 10 + len]) << 8 | UInt32(png[p + 11 + len])
            guard crcStored == crc32(Array(png[(p + 4)..<(p + 8 + len)])) else { throw PNGError("bad CRC in \(type) chunk at byte \(p)") }
            if let z = data.firstIndex(of: 0) {
                let key = String(decoding: data[..<z], as: UTF8.self)
                if type == "tEXt" {
                    out.append((key, String(String.UnicodeScalarView(data[(z + 1)...].map { Unicode.Scalar($0) }))))
                } else if type == "iTXt" {
                    // Skip compression flag, method, language tag and translated keyword.
                    var q = z + 3
                    for _ in 0..<2 { while q < data.count && data[q] != 0 { q += 1 }; q += 1 }
                    if q <= data.count { out.append((key, String(decoding: data[min(q, data.count)...], as: UTF8.self))) }
                }
            }
            if type == "IEND" { break }
            p += 12 + len
        }
        return out
    }

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let t = Array(type.utf8)
        let n = UInt32(data.count)
        let crc = crc32(t + data)
        return [UInt8(n >> 24), UInt8((n >> 16) & 255), UInt8((n >> 8) & 255), UInt8(n & 255)] + t + data
            + [UInt8(crc >> 24), UInt8((crc >> 16) & 255), UInt8((crc >> 8) & 255), UInt8(crc & 255)]
    }

    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 (ISO 3309, as PNG uses) of `bytes`.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    /// Encodes and writes `image` to `path` atomically (temporary file, fsync, rename).
    public static func write(_ image: RGBAImage, to path: String, text: [(key: String, value: String)] = []) throws {
        let bytes = try encode(image, text: text)
        try FileIO.writeAtomically(path, bytes)
    }
}
