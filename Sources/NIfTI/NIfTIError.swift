import VolumeCore

/// Why a NIfTI file could not be read or written; the message names the file and the field.
public struct NIfTIError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file concerned.
    public var path: String
    /// What is wrong, naming the header field where there is one.
    public var reason: String

    public init(_ path: String, _ reason: String) { self.path = path; self.reason = reason }
    init(_ e: FileError) { self.init(e.path, e.reason) }

    /// One line: `path: reason`.
    public var description: String { "\(path): \(reason)" }
}
