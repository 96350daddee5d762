/// Why a segmentation could not be made; one line each.
public enum SegmentationError: Error, CustomStringConvertible, Equatable {
    /// A support-set manifest (path) is unreadable or inconsistent (reason).
    case manifest(String, String)
    /// Inputs that do not fit together (e.g. label map not on the image's grid).
    case invalidInput(String)
    /// A malformed argument.
    case invalidArgument(String)
    /// The caller cancelled.
    case cancelled

    public var description: String {
        switch self {
        case .manifest(let p, let r): "\(p): \(r)"
        case .invalidInput(let r), .invalidArgument(let r): r
        case .cancelled: "cancelled"
        }
    }
}
