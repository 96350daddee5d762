import Foundation
import VolumeCore
import NIfTI
import ImageIO
import Segmentation

// Support sets on disk: the NIfTI side of `SupportSet` (Segmentation itself knows no file format).

extension SupportSet {
    /// Reads a manifest; paths in it are resolved against the manifest's folder. With `validate`,
    /// checks that files exist, labels match their image's grid, and no example repeats.
    public static func load(_ path: String, validate: Bool = true) throws -> SupportSet {
        let set = try read(path)
        if validate { try set.validate(manifestPath: path) }
        return set
    }

    /// Checks every example against the NIfTI headers of its files (see `validate(manifestPath:grid:)`).
    public func validate(manifestPath: String = "support set") throws {
        try validate(manifestPath: manifestPath, grid: headerGeometry)
    }

    /// Reads every example's image and labels. `reuse` may return volumes already in memory for a
    /// path (e.g. the open image); files named twice are read once. Grids are checked by `validate`.
    public func readVolumes(reuse: (SupportExample) -> (image: Volume?, labels: LabelVolume?) = { _ in (nil, nil) })
        throws -> [(example: SupportExample, image: Volume, labels: LabelVolume)] {
        var images: [String: Volume] = [:], labelMaps: [String: LabelVolume] = [:]
        var out: [(example: SupportExample, image: Volume, labels: LabelVolume)] = []
        for ex in examples {
            let known = reuse(ex)
            let image: Volume
            if let v = known.image ?? images[ex.image] { image = v } else {
                image = try ImageFile.read(ex.image).volume()
                images[ex.image] = image
            }
            let labels: LabelVolume
            if let l = known.labels ?? labelMaps[ex.labels] { labels = l } else {
                labels = try ImageFile.read(ex.labels).labelVolume()
                labelMaps[ex.labels] = labels
            }
            out.append((ex, image, labels))
        }
        return out
    }

    /// The examples read as the supports of a registration-propagation prediction.
    public func loadedSupports() throws -> [LoadedSupport] {
        try readVolumes().map {
            LoadedSupport(image: $0.image, labels: $0.labels, slices: $0.example.slices,
                          name: ($0.example.image as NSString).lastPathComponent)
        }
    }
}

/// The spatial grid a NIfTI header describes, without reading the data.
public func headerGeometry(_ path: String) throws -> VolumeGeometry {
    let h = try ImageFile.readHeader(path)
    let s = h.shape
    return VolumeGeometry(size: SIMD3(s[0], s.count > 1 ? s[1] : 1, s.count > 2 ? s[2] : 1), affine: h.bestAffine.affine)
}
