/// Reads little- or big-endian scalars at byte offsets of a header buffer.
struct ByteReader {
    let bytes: [UInt8]
    let swapped: Bool

    func u32(_ o: Int) -> UInt32 {
        var v: UInt32 = 0
        withUnsafeMutableBytes(of: &v) { d in for i in 0..<4 { d[i] = bytes[o + i] } }
        return swapped ? v.byteSwapped : v
    }
    func u64(_ o: Int) -> UInt64 {
        var v: UInt64 = 0
        withUnsafeMutableBytes(of: &v) { d in for i in 0..<8 { d[i] = bytes[o + i] } }
        return swapped ? v.byteSwapped : v
    }
    func i16(_ o: Int) -> Int16 {
        let v = UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8
        return Int16(bitPattern: swapped ? v.byteSwapped : v)
    }
    func i32(_ o: Int) -> Int32 { Int32(bitPattern: u32(o)) }
    func i64(_ o: Int) -> Int64 { Int64(bitPattern: u64(o)) }
    func f32(_ o: Int) -> Float { Float(bitPattern: u32(o)) }
    func f64(_ o: Int) -> Double { Double(bitPattern: u64(o)) }
    func u8(_ o: Int) -> UInt8 { bytes[o] }
    func string(_ o: Int, _ n: Int) -> String {
        let raw = bytes[o..<(o + n)]
        let upTo = raw.firstIndex(of: 0) ?? raw.endIndex
        return String(decoding: raw[raw.startIndex..<upTo], as: UTF8.self)
    }
}

/// Writes little-endian scalars at byte offsets of a header buffer.
struct ByteWriter {
    var bytes: [UInt8]

    init(count: Int) { bytes = [UInt8](repeating: 0, count: count) }

    mutating func put<T: FixedWidthInteger>(_ v: T, at o: Int) {
        withUnsafeBytes(of: v.littleEndian) { s in for i in 0..<s.count { bytes[o + i] = s[i] } }
    }
    mutating func i16(_ v: Int16, _ o: Int) { put(v, at: o) }
    mutating func i32(_ v: Int32, _ o: Int) { put(v, at: o) }
    mutating func f32(_ v: Float, _ o: Int) { put(v.bitPattern, at: o) }
    mutating func string(_ s: String, _ o: Int, _ n: Int) {
        for (i, b) in s.utf8.prefix(n - 1).enumerated() { bytes[o + i] = b }
    }
}
