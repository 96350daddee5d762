/// NIfTI datatype codes (the `datatype` header field) and what voxterm does with each.
public enum NIfTIDatatype: Int16, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 2, int16 = 4, int32 = 8, float32 = 16, complex64 = 32, float64 = 64, rgb24 = 128
    case int8 = 256, uint16 = 512, uint32 = 768, int64 = 1024, uint64 = 1280
    case float128 = 1536, complex128 = 1792, complex256 = 2048, rgba32 = 2304

    /// Bytes per voxel.
    public var byteCount: Int {
        switch self {
        case .uint8, .int8: 1
        case .int16, .uint16: 2
        case .rgb24: 3
        case .int32, .uint32, .float32, .rgba32: 4
        case .int64, .uint64, .float64, .complex64: 8
        case .float128, .complex128: 16
        case .complex256: 32
        }
    }

    /// True for the real-valued types voxterm reads.
    public var isSupported: Bool {
        switch self {
        case .complex64, .complex128, .complex256, .rgb24, .rgba32, .float128: false
        default: true
        }
    }

    /// True for integer types (labels can be read without rounding).
    public var isInteger: Bool {
        switch self {
        case .uint8, .int8, .int16, .uint16, .int32, .uint32, .int64, .uint64: true
        default: false
        }
    }

    /// The lower-case name nibabel uses, e.g. "int16".
    public var description: String {
        switch self {
        case .uint8: "uint8"; case .int16: "int16"; case .int32: "int32"; case .float32: "float32"
        case .complex64: "complex64"; case .float64: "float64"; case .rgb24: "RGB24"; case .int8: "int8"
        case .uint16: "uint16"; case .uint32: "uint32"; case .int64: "int64"; case .uint64: "uint64"
        case .float128: "float128"; case .complex128: "complex128"; case .complex256: "complex256"
        case .rgba32: "RGBA32"
        }
    }
}
