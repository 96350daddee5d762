/// An integer label map (0 = background) on a `VolumeGeometry`.
public struct LabelVolume: Sendable, Equatable {
    /// The grid the labels live on.
    public var geometry: VolumeGeometry
    /// Labels in linear index order (x fastest).
    public var labels: [Int32]

    public init(geometry: VolumeGeometry, labels: [Int32]) {
        precondition(labels.count == geometry.voxelCount, "label count does not match the geometry")
        self.geometry = geometry
        self.labels = labels
    }

    /// An all-background label map.
    public init(geometry: VolumeGeometry) {
        self.init(geometry: geometry, labels: [Int32](repeating: 0, count: geometry.voxelCount))
    }

    /// Label at integer indices.
    @inlinable public subscript(i: Int, j: Int, k: Int) -> Int32 {
        get { labels[geometry.index(i, j, k)] }
        set { labels[geometry.index(i, j, k)] = newValue }
    }

    /// The distinct non-zero labels present, ascending.
    public var presentLabels: [Int32] {
        Array(voxelCounts.keys.filter { $0 != 0 }).sorted()
    }

    /// Number of voxels of each label (background included).
    public var voxelCounts: [Int32: Int] {
        var counts: [Int32: Int] = [:]
        for l in labels { counts[l, default: 0] += 1 }
        return counts
    }

    /// The label map as float intensities (e.g. for linear resampling of one-hot channels).
    public func mask(of label: Int32) -> Volume {
        Volume(geometry: geometry, voxels: labels.map { $0 == label ? 1 : 0 })
    }
}
