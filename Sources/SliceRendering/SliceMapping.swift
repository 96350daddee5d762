import VolumeCore

/// The three orthogonal anatomical viewing planes.
public enum SlicePlane: String, CaseIterable, Sendable {
    /// Perpendicular to S-I: rows run anterior (top) to posterior (bottom).
    case axial
    /// Perpendicular to A-P: rows run superior (top) to inferior (bottom).
    case coronal
    /// Perpendicular to R-L: columns run anterior (left) to posterior (right), rows superior to inferior.
    case sagittal

    /// World axis (0 = x R-L, 1 = y A-P, 2 = z S-I) the plane is perpendicular to.
    public var normalWorldAxis: Int {
        switch self { case .axial: 2; case .coronal: 1; case .sagittal: 0 }
    }

    /// World axes shown along display columns and rows.
    public var displayWorldAxes: (column: Int, row: Int) {
        switch self { case .axial: (0, 1); case .coronal: (0, 2); case .sagittal: (1, 2) }
    }
}

/// Left-right convention of axial and coronal displays.
public enum DisplayConvention: String, CaseIterable, Sendable {
    /// Subject's left on the image's left (the default).
    case neurological
    /// Subject's left on the image's right (as if facing the patient).
    case radiological
}

/// How a volume's voxels map to the pixels of one display plane, derived from the affine.
///
/// The display is the voxel grid permuted and flipped to the nearest axis-aligned anatomical
/// orientation (no resampling, native resolution): for an oblique affine the display is the
/// nearest axis-aligned view, which `isOblique` states. Display pixel (column, row) has its
/// origin at the top-left, rows growing downward. Columns grow toward the subject's Right in
/// neurological axial/coronal views (Left when radiological) and toward Posterior in sagittal
/// views; rows grow toward Posterior (axial) or Inferior (coronal, sagittal).
public struct SliceMapping: Equatable, Sendable {
    /// The grid being displayed.
    public let geometry: VolumeGeometry
    /// The viewing plane.
    public let plane: SlicePlane
    /// Left-right convention.
    public let convention: DisplayConvention
    /// Voxel axis shown along columns, rows, and the axis the slice index counts along.
    public let columnAxis: Int, rowAxis: Int, sliceAxis: Int
    /// True when the voxel index decreases as the column (row) index grows.
    public let columnFlipped: Bool, rowFlipped: Bool
    /// Display size in native pixels (one pixel per voxel).
    public let width: Int, height: Int
    /// Number of slices along `sliceAxis`.
    public let sliceCount: Int
    /// Millimetres per column step and per row step (voxel spacing along those axes).
    public let pixelSpacing: (column: Double, row: Double)
    /// Anatomical direction of the left, right, top and bottom image edges (nearest axis).
    public let edgeDirections: (left: AnatomicalDirection, right: AnatomicalDirection,
                                top: AnatomicalDirection, bottom: AnatomicalDirection)
    /// True when the affine is not axis-aligned: the display shows the nearest axis-aligned view.
    public let isOblique: Bool

    /// Equal when built from the same geometry, plane and convention (everything else derives from them).
    public static func == (a: SliceMapping, b: SliceMapping) -> Bool {
        a.geometry == b.geometry && a.plane == b.plane && a.convention == b.convention
    }

    /// Derives the display of `plane` for `geometry`.
    public init(geometry: VolumeGeometry, plane: SlicePlane, convention: DisplayConvention = .neurological) {
        self.geometry = geometry
        self.plane = plane
        self.convention = convention
        let dirs = geometry.orientation.directions
        func voxelAxis(ofWorld w: Int) -> Int { dirs.firstIndex { $0.worldAxis == w }! }
        let (cw, rw) = plane.displayWorldAxes
        columnAxis = voxelAxis(ofWorld: cw)
        rowAxis = voxelAxis(ofWorld: rw)
        sliceAxis = voxelAxis(ofWorld: plane.normalWorldAxis)
        // Direction the column index should grow toward, and the row index.
        let columnToward: AnatomicalDirection
        switch plane {
        case .axial, .coronal: columnToward = convention == .neurological ? .right : .left
        case .sagittal: columnToward = .posterior
        }
        let rowToward: AnatomicalDirection = plane == .axial ? .posterior : .inferior
        columnFlipped = dirs[columnAxis] != columnToward
        rowFlipped = dirs[rowAxis] != rowToward
        width = geometry.size[columnAxis]
        height = geometry.size[rowAxis]
        sliceCount = geometry.size[sliceAxis]
        let sp = geometry.spacing
        pixelSpacing = (sp[columnAxis], sp[rowAxis])
        edgeDirections = (columnToward.opposite, columnToward, rowToward.opposite, rowToward)
        isOblique = !AxisOrientation.isAxisAligned(geometry.affine)
    }

    /// The middle slice index.
    public var middleSlice: Int { (sliceCount - 1) / 2 }

    /// Physical height/width of one display pixel (1 for isotropic in-plane voxels).
    public var pixelAspect: Double { pixelSpacing.row / pixelSpacing.column }

    /// Voxel index of display pixel (column, row) on `slice`.
    @inlinable
    public func voxel(column: Int, row: Int, slice: Int) -> SIMD3<Int> {
        var v = SIMD3<Int>(0, 0, 0)
        v[columnAxis] = columnFlipped ? width - 1 - column : column
        v[rowAxis] = rowFlipped ? height - 1 - row : row
        v[sliceAxis] = slice
        return v
    }

    /// Continuous voxel coordinate of a continuous display position (pixel centres at integers).
    public func voxel(column: Double, row: Double, slice: Double) -> SIMD3<Double> {
        var v = SIMD3<Double>(0, 0, 0)
        v[columnAxis] = columnFlipped ? Double(width - 1) - column : column
        v[rowAxis] = rowFlipped ? Double(height - 1) - row : row
        v[sliceAxis] = slice
        return v
    }

    /// World position (mm, RAS+) of a continuous display position on `slice`.
    public func world(column: Double, row: Double, slice: Double) -> SIMD3<Double> {
        geometry.world(ofVoxel: voxel(column: column, row: row, slice: slice))
    }

    /// Continuous display position (column, row) and slice coordinate of a world point (mm, RAS+).
    public func display(ofWorld p: SIMD3<Double>) -> (column: Double, row: Double, slice: Double) {
        display(ofVoxel: geometry.voxel(ofWorld: p))
    }

    /// Continuous display position (column, row) and slice coordinate of a continuous voxel coordinate.
    public func display(ofVoxel v: SIMD3<Double>) -> (column: Double, row: Double, slice: Double) {
        let c = columnFlipped ? Double(width - 1) - v[columnAxis] : v[columnAxis]
        let r = rowFlipped ? Double(height - 1) - v[rowAxis] : v[rowAxis]
        return (c, r, v[sliceAxis])
    }

    /// The slice index nearest to world point `p`, or nil outside the volume.
    public func slice(ofWorld p: SIMD3<Double>) -> Int? {
        let s = Int(display(ofWorld: p).slice.rounded())
        return s >= 0 && s < sliceCount ? s : nil
    }

    /// World unit vectors (RAS+) along which display columns and rows grow (the voxel axes' directions).
    public var displayDirections: (column: SIMD3<Double>, row: SIMD3<Double>) {
        func unit(_ axis: Int, _ flip: Bool) -> SIMD3<Double> {
            let c = geometry.affine.column(axis)
            let n = (c * c).sum().squareRoot()
            return (flip ? -c : c) / (n > 0 ? n : 1)
        }
        return (unit(columnAxis, columnFlipped), unit(rowAxis, rowFlipped))
    }

    /// Linear voxel index of display pixel (column, row) on `slice`, plus the strides (in linear
    /// index units) of one column step and one row step; the fast path for slice extraction.
    @inlinable
    public func linearLayout(slice: Int) -> (origin: Int, columnStride: Int, rowStride: Int) {
        let size = geometry.size
        let strides = SIMD3<Int>(1, size.x, size.x * size.y)
        let v0 = voxel(column: 0, row: 0, slice: slice)
        let origin = v0.x * strides.x + v0.y * strides.y + v0.z * strides.z
        return (origin, columnFlipped ? -strides[columnAxis] : strides[columnAxis],
                rowFlipped ? -strides[rowAxis] : strides[rowAxis])
    }

    /// Copies slice `slice` of a voxel buffer on this grid into display order (row-major, top row first).
    @inlinable
    public func extract<T>(_ buffer: UnsafeBufferPointer<T>, slice: Int, into out: UnsafeMutableBufferPointer<T>) {
        precondition(slice >= 0 && slice < sliceCount && out.count >= width * height)
        let (origin, cs, rs) = linearLayout(slice: slice)
        let w = width
        for r in 0..<height {
            var n = origin + r * rs
            let base = r * w
            for c in 0..<w {
                out[base + c] = buffer[n]
                n += cs
            }
        }
    }

    /// Slice `slice` of a voxel array on this grid, in display order (row-major, top row first).
    public func extract<T>(_ values: [T], slice: Int) -> [T] {
        precondition(values.count == geometry.voxelCount && slice >= 0 && slice < sliceCount)
        return values.withUnsafeBufferPointer { src in
            [T](unsafeUninitializedCapacity: width * height) { dst, n in
                // Initialise by copying: T may be trivial (Float, Int32) in all our uses.
                let (origin, cs, rs) = linearLayout(slice: slice)
                for r in 0..<height {
                    var k = origin + r * rs
                    for c in 0..<width {
                        (dst.baseAddress! + r * width + c).initialize(to: src[k])
                        k += cs
                    }
                }
                n = width * height
            }
        }
    }
}
