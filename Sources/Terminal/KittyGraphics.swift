/// The kitty graphics protocol's PNG transmission (`f=100`), written by voxterm itself: libchafa
/// 1.12 sends kitty images as raw RGBA (4 bytes a pixel before base64), several megabytes per
/// picture; a PNG of the same picture is a small fraction of that.
public enum KittyGraphics {
    /// Base64 bytes per escape sequence: the protocol's limit (4096, a multiple of 4).
    public static let chunkSize = 4096

    /// The bytes that show `png` at the cursor, scaled by the terminal to `columns` x `rows`
    /// cells: a transmit-and-display command (`a=T,f=100`), quiet (`q=2`: no replies in the
    /// input stream), cursor left where it was (`C=1`), the base64 data in chunks of at most
    /// 4096 bytes (`m=1` on every chunk but the last).
    public static func place(png: [UInt8], columns: Int, rows: Int) -> [UInt8] {
        let data = base64(png)
        var out: [UInt8] = []
        out.reserveCapacity(data.count + data.count / chunkSize * 16 + 64)
        var offset = 0
        var first = true
        repeat {
            let end = min(data.count, offset + chunkSize)
            let more = end < data.count
            out += Array("\u{1B}_G".utf8)
            if first { out += Array("a=T,f=100,q=2,C=1,c=\(columns),r=\(rows),".utf8) }
            out += Array("m=\(more ? 1 : 0);".utf8)
            out += data[offset..<end]
            out += [0x1B, UInt8(ascii: "\\")]
            offset = end
            first = false
        } while offset < data.count
        return out
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 (RFC 4648) with `=` padding.
    public static func base64(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: (bytes.count + 2) / 3 * 4)
        bytes.withUnsafeBufferPointer { b in
            out.withUnsafeMutableBufferPointer { o in
                var i = 0, j = 0
                while i + 3 <= b.count {
                    let v = UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2])
                    o[j] = alphabet[Int(v >> 18)]; o[j + 1] = alphabet[Int((v >> 12) & 63)]
                    o[j + 2] = alphabet[Int((v >> 6) & 63)]; o[j + 3] = alphabet[Int(v & 63)]
                    i += 3; j += 4
                }
                let rest = b.count - i
                if rest > 0 {
                    let v = UInt32(b[i]) << 16 | (rest == 2 ? UInt32(b[i + 1]) << 8 : 0)
                    o[j] = alphabet[Int(v >> 18)]; o[j + 1] = alphabet[Int((v >> 12) & 63)]
                    o[j + 2] = rest == 2 ? alphabet[Int((v >> 6) & 63)] : UInt8(ascii: "=")
                    o[j + 3] = UInt8(ascii: "=")
                }
            }
        }
        return out
    }
}
