import VolumeCore

extension NIfTIWriter {
    /// Rewrites `image` as NIfTI-1 without losing data: every volume (dimensions 4 to 7), the
    /// stored datatype and its scaling (`scl_slope`/`scl_inter`), pixdim[4...7], units, intent
    /// and `cal_min`/`cal_max` are kept; the data is written little-endian. With `canonical`
    /// the voxel axes are reordered to RAS (world positions unchanged, every volume alike);
    /// with `frame`, only that 3-D volume is written.
    ///
    /// Returns one line for each thing that could not be kept (header extensions, float64
    /// header fields of a NIfTI-2 file rounded to float32), empty when the copy is exact.
    @discardableResult
    public static func writeLossless(_ image: NIfTIImage, to path: String, canonical: Bool = false, frame: Int? = nil,
                                     options: Options = Options()) throws -> [String] {
        let h = image.header
        guard let dt = h.datatype, dt.isSupported else { throw NIfTIError(image.path, "datatype \(h.datatypeCode) cannot be written") }
        let bs = dt.byteCount
        var geometry = image.geometry
        let perFrame = geometry.voxelCount
        let frames: Range<Int>
        var shape = image.shape
        if let frame {
            guard frame >= 0 && frame < image.frameCount else {
                throw NIfTIError(image.path, "volume \(frame) requested, the file has \(image.frameCount)")
            }
            frames = frame..<(frame + 1)
            shape = Array(shape.prefix(3))
        } else {
            frames = 0..<image.frameCount
        }
        var bytes = image.storedBytesLittleEndian(voxels: (frames.lowerBound * perFrame)..<(frames.upperBound * perFrame))
        if canonical {
            let p = AxisPermutation.toCanonical(geometry)
            if !p.isIdentity {
                let idx = p.sourceIndices(for: geometry)
                var out = [UInt8](repeating: 0, count: bytes.count)
                bytes.withUnsafeBytes { src in
                    out.withUnsafeMutableBytes { dst in
                        for f in 0..<frames.count {
                            let base = f * perFrame * bs
                            for (o, i) in idx.enumerated() {
                                (dst.baseAddress! + base + o * bs).copyMemory(from: src.baseAddress! + base + i * bs, byteCount: bs)
                            }
                        }
                    }
                }
                bytes = out
                geometry = p.apply(to: geometry)
                for a in 0..<min(3, shape.count) { shape[a] = [geometry.size.x, geometry.size.y, geometry.size.z][a] }
            }
        }
        var warnings: [String] = []
        if image.storage != .pair && h.voxOffset > Double(h.sizeofHdr + 4) {
            warnings.append("header extensions (\(Int(h.voxOffset) - h.sizeofHdr - 4) bytes before the data) are not copied")
        }
        let scaling = h.effectiveScaling
        if h.version == 2 {
            var worst = 0.0
            for r in 0..<3 { for c in 0..<4 {
                let v = geometry.affine[r, c]
                worst = max(worst, abs(Double(Float(v)) - v))
            } }
            if let (s, i) = scaling { worst = max(worst, abs(Double(Float(s)) - s), abs(Double(Float(i)) - i)) }
            if worst > 1e-6 { // below a micrometre: the float32 rounding of any NIfTI-1 writer
                warnings.append("NIfTI-2's float64 header fields are stored as float32 in NIfTI-1 (affine or scaling rounded by up to \(worst))")
            }
        }
        let opts = options
        try bytes.withUnsafeBytes { data in
            try write(data: data, datatype: dt, shape: shape, geometry: geometry, intent: h.intentCode, to: path, options: opts) { w in
                if let (s, i) = scaling { w.f32(Float(s), 112); w.f32(Float(i), 116) }
                for k in 4...7 where k < h.pixdim.count && h.pixdim[k].isFinite { w.f32(Float(h.pixdim[k]), 76 + 4 * k) }
                w.bytes[123] = UInt8(truncatingIfNeeded: h.xyztUnits == 0 ? 2 | 8 : h.xyztUnits)
                for (k, p) in h.intentParameters.prefix(3).enumerated() where p.isFinite { w.f32(Float(p), 56 + 4 * k) }
                if h.calMax.isFinite && h.calMin.isFinite { w.f32(Float(h.calMax), 124); w.f32(Float(h.calMin), 128) }
                if !h.intentName.isEmpty {
                    for k in 0..<16 { w.bytes[328 + k] = 0 }
                    w.string(h.intentName, 328, 16)
                }
                if !h.descrip.isEmpty && opts.description == "voxterm" {
                    for k in 0..<80 { w.bytes[148 + k] = 0 }
                    w.string(h.descrip, 148, 80)
                }
            }
        }
        return warnings
    }
}

extension NIfTIImage {
    /// Voxels `range` (linear, over all volumes) in the stored datatype, little-endian, unscaled.
    func storedBytesLittleEndian(voxels range: Range<Int>) -> [UInt8] {
        let dt = header.datatype!
        let bs = dt.byteCount
        if raw.isEmpty, let decoded {
            // Decoded exactly (floatsAreExact: 8/16-bit integers or float32, no scaling).
            var out = [UInt8](repeating: 0, count: range.count * bs)
            out.withUnsafeMutableBytes { dst in
                for (k, n) in range.enumerated() {
                    let v = decoded[n]
                    switch dt {
                    case .uint8: dst[k] = UInt8(v)
                    case .int8: dst[k] = UInt8(bitPattern: Int8(v))
                    case .int16: dst.storeBytes(of: Int16(v).littleEndian, toByteOffset: 2 * k, as: Int16.self)
                    case .uint16: dst.storeBytes(of: UInt16(v).littleEndian, toByteOffset: 2 * k, as: UInt16.self)
                    default: dst.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * k, as: UInt32.self)
                    }
                }
            }
            return out
        }
        var out = Array(raw[(range.lowerBound * bs)..<(range.upperBound * bs)])
        if header.isByteSwapped && bs > 1 {
            for k in stride(from: 0, to: out.count, by: bs) { out[k..<(k + bs)].reverse() }
        }
        return out
    }
}
