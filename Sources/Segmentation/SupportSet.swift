import Foundation
import VolumeCore

/// The plane of a 2-D slice **in voxel terms**: the slices perpendicular to one voxel axis of the
/// volume as stored (`axial` = perpendicular to the third axis k, `coronal` = the second axis j,
/// `sagittal` = the first axis i). The words are the manifest's JSON words; they match the
/// anatomical planes only for a volume stored in axial order (e.g. RAS, LPS). A sagittally stored
/// volume (e.g. PIR) has its `axial` voxel-axis slices in the head's sagittal plane. For the
/// anatomical (world-axis) plane of a display, see `SlicePlane` (SliceRendering).
public enum VoxelAxisPlane: String, Codable, Sendable, CaseIterable {
    case axial, coronal, sagittal

    /// The plane perpendicular to voxel axis `axis` (0 = i, 1 = j, 2 = k).
    public init(axis: Int) { self = axis == 0 ? .sagittal : (axis == 1 ? .coronal : .axial) }

    /// The voxel axis the plane is perpendicular to (0 = i, 1 = j, 2 = k).
    public var axis: Int {
        switch self { case .sagittal: 0; case .coronal: 1; case .axial: 2 }
    }
}

/// A choice of slices of one plane.
public struct SliceSelection: Codable, Sendable, Equatable, Hashable {
    /// The plane the slices lie in.
    public var plane: VoxelAxisPlane
    /// Voxel indices along the plane's axis, ascending, without repeats.
    public var indices: [Int]

    public init(plane: VoxelAxisPlane, indices: [Int]) {
        self.plane = plane
        self.indices = Array(Set(indices)).sorted()
    }

    /// Parses `axial:20,30,40` (plane, colon, comma-separated indices).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let plane = VoxelAxisPlane(rawValue: parts[0].lowercased()) else {
            throw SegmentationError.invalidArgument("slice selection \"\(text)\" must look like axial:20,30,40 (plane axial, coronal or sagittal)")
        }
        var idx: [Int] = []
        for p in parts[1].split(separator: ",") {
            guard let v = Int(p.trimmingCharacters(in: .whitespaces)), v >= 0 else {
                throw SegmentationError.invalidArgument("slice index \"\(p)\" in \"\(text)\" is not a non-negative integer")
            }
            idx.append(v)
        }
        guard !idx.isEmpty else { throw SegmentationError.invalidArgument("slice selection \"\(text)\" lists no slices") }
        self.init(plane: plane, indices: idx)
    }

    /// `axial:20,30,40`.
    public var text: String { "\(plane.rawValue):" + indices.map(String.init).joined(separator: ",") }
}

/// One labelled example: an image and its label map, the whole volume or only some slices.
public struct SupportExample: Codable, Sendable, Equatable, Hashable {
    /// Path of the image (relative to the manifest's folder when saved).
    public var image: String
    /// Path of the label map on the image's grid.
    public var labels: String
    /// When set, only these slices are labelled; otherwise the whole volume.
    public var slices: SliceSelection?

    public init(image: String, labels: String, slices: SliceSelection? = nil) {
        self.image = image; self.labels = labels; self.slices = slices
    }
}

/// An ordered list of support examples, saved as a small JSON manifest with relative paths.
public struct SupportSet: Sendable, Equatable {
    /// Examples, in the order the user added them (absolute or cwd-relative paths in memory).
    public var examples: [SupportExample]

    public init(examples: [SupportExample] = []) { self.examples = examples }

    private struct Manifest: Codable {
        var format: String
        var version: Int
        var examples: [SupportExample]
    }

    /// Reads a manifest without touching the files it names (`parse`); paths in it are resolved
    /// against the manifest's folder. `SupportSet.load` (Pipelines) also checks the files.
    public static func read(_ path: String) throws -> SupportSet {
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(path, limit: 16 << 20) } catch let e as FileError {
            throw SegmentationError.manifest(path, e.reason)
        }
        return try parse(bytes, path: path, folder: FileIO.directoryName(path))
    }

    /// Parses manifest bytes (JSON) without touching the files it names: format, version, field
    /// types, non-empty paths and slice lists, slice indices ≥ 0. Relative paths are resolved
    /// against `folder`; `path` only names the manifest in errors.
    public static func parse(_ bytes: [UInt8], path: String, folder: String = ".") throws -> SupportSet {
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: Data(bytes)) } catch {
            throw SegmentationError.manifest(path, "not a voxterm support-set manifest (\(describe(error)))")
        }
        guard manifest.format == "voxterm-support-set" else {
            throw SegmentationError.manifest(path, "format is \"\(manifest.format)\", expected \"voxterm-support-set\"")
        }
        guard manifest.version == 1 else {
            throw SegmentationError.manifest(path, "version \(manifest.version) is not supported (this voxterm reads version 1)")
        }
        for (n, ex) in manifest.examples.enumerated() {
            let name = "example \(n + 1)"
            for (field, value) in [("image", ex.image), ("labels", ex.labels)] where value.isEmpty || value.contains("\0") {
                throw SegmentationError.manifest(path, "\(name): \(field) path is \(value.isEmpty ? "empty" : "not a valid path (contains a NUL byte)")")
            }
            if let s = ex.slices {
                guard !s.indices.isEmpty else { throw SegmentationError.manifest(path, "\(name): slices lists no \(s.plane.rawValue) slices") }
                if let bad = s.indices.first(where: { $0 < 0 }) {
                    throw SegmentationError.manifest(path, "\(name): \(s.plane.rawValue) slice \(bad) is negative")
                }
            }
        }
        return SupportSet(examples: manifest.examples.map {
            // Re-made through the initialisers so slice indices come out ascending without repeats.
            SupportExample(image: resolve($0.image, against: folder), labels: resolve($0.labels, against: folder),
                           slices: $0.slices.map { SliceSelection(plane: $0.plane, indices: $0.indices) })
        })
    }

    /// Checks every example: files readable, label grid equal to the image grid, slice indices in
    /// range, and no example listed twice. `grid` reads the grid of an image file (its header);
    /// `manifestPath` only names the manifest in errors.
    public func validate(manifestPath: String = "support set", grid: (String) throws -> VolumeGeometry) throws {
        var seen = Set<SupportExample>()
        for (n, ex) in examples.enumerated() {
            let name = "example \(n + 1)"
            guard !seen.contains(ex) else {
                throw SegmentationError.manifest(manifestPath, "\(name) repeats an earlier example (\(ex.image))")
            }
            seen.insert(ex)
            let ig: VolumeGeometry, lg: VolumeGeometry
            do {
                ig = try grid(ex.image)
                lg = try grid(ex.labels)
            } catch {
                throw SegmentationError.manifest(manifestPath, "\(name): \(error)")
            }
            guard ig.size == lg.size, ig.affine.maxDifference(to: lg.affine) < 1e-3 else {
                throw SegmentationError.manifest(manifestPath, "\(name): labels \(ex.labels) are not on the grid of image \(ex.image)")
            }
            if let s = ex.slices {
                let n = ig.size[s.plane.axis]
                if let bad = s.indices.first(where: { $0 >= n }) {
                    throw SegmentationError.manifest(manifestPath, "\(name): \(s.plane.rawValue) slice \(bad) is outside 0..<\(n)")
                }
            }
        }
    }

    /// Writes the manifest atomically, with paths relative to its folder where possible; with
    /// `set`, staged there (it appears when the set is committed); with `exclusive`, only if
    /// `path` does not exist (created atomically: of racing writers exactly one wins).
    public func save(_ path: String, in set: OutputSet? = nil, exclusive: Bool = false) throws {
        let bytes = try manifestBytes(for: path)
        if let set { try set.write(path, bytes: bytes) } else { try FileIO.writeAtomically(path, bytes, exclusive: exclusive) }
    }

    /// The manifest's JSON for a file at `path` (paths relative to its folder where possible).
    public func manifestBytes(for path: String) throws -> [UInt8] {
        let dir = FileIO.directoryName(path)
        let m = Manifest(format: "voxterm-support-set", version: 1, examples: examples.map {
            SupportExample(image: relative($0.image, to: dir), labels: relative($0.labels, to: dir), slices: $0.slices)
        })
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try enc.encode(m)
        return Array(data) + [10]
    }
}

private func describe(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let k, _): return "missing field \"\(k.stringValue)\""
    case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
        return "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
    case DecodingError.dataCorrupted(let c):
        return c.codingPath.isEmpty ? "invalid JSON" : "invalid value at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
    default: return "\(error)"
    }
}

/// `path` made absolute against `dir` when it is relative.
func resolve(_ path: String, against dir: String) -> String {
    path.hasPrefix("/") || dir == "." ? path : "\(dir)/\(path)"
}

/// `path` relative to `dir` (both made absolute first), or absolute when that is simpler.
func relative(_ path: String, to dir: String) -> String {
    let cwd = FileManager.default.currentDirectoryPath
    func absolute(_ p: String) -> [Substring] {
        let a = p.hasPrefix("/") ? p : "\(cwd)/\(p)"
        var parts: [Substring] = []
        for c in a.split(separator: "/") {
            if c == "." || c.isEmpty { continue }
            if c == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(c)
        }
        return parts
    }
    let p = absolute(path), d = absolute(dir)
    var common = 0
    while common < min(p.count, d.count) && p[common] == d[common] { common += 1 }
    if common == 0 { return "/" + p.joined(separator: "/") }
    let ups = Array(repeating: "..", count: d.count - common)
    return (ups + p[common...].map(String.init)).joined(separator: "/")
}

/// The former name of `VoxelAxisPlane`, which said "support" where it meant a voxel axis.
@available(*, deprecated, renamed: "VoxelAxisPlane")
public typealias SupportPlane = VoxelAxisPlane
