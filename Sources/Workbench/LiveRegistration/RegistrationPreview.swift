import Foundation
import VoxtermModel
import SliceRendering

/// The moving image as the registration currently maps it onto the image grid, for display.
public struct RegistrationPreview: Sendable {
    /// The moving image warped onto the image grid.
    public var warped: Volume
    /// The complete fixed→moving displacement `A(x + u(x)) - x` on the image grid (RAS mm).
    public var displacement: VectorField { fieldOverlay.field }
    /// The displacement prepared for display, its magnitude and Jacobian determinant computed.
    public var fieldOverlay: FieldOverlay
    /// The moving labels carried onto the image grid (when the moving image has labels).
    public var warpedLabels: LabelVolume?
    /// The labels present in `warpedLabels` (found where the preview is made, off the UI thread).
    public var warpedLabelsPresent: [Int32]
    /// Voxels with Jacobian ≤ 0 per slice index along each voxel axis (x, y, z).
    public var foldingPerSlice: [[Int]]

    /// A preview of `displacement`; computes its magnitude, Jacobian and folded voxels per slice.
    public init(warped: Volume, displacement: VectorField, warpedLabels: LabelVolume?) {
        self.warped = warped; self.warpedLabels = warpedLabels
        warpedLabelsPresent = warpedLabels?.presentLabels ?? []
        fieldOverlay = FieldOverlay(field: displacement, style: FieldStyle(mode: .jacobian))
        foldingPerSlice = Self.foldingCounts(fieldOverlay.jacobian!)
    }

    /// The preview of the map `x ↦ affine(x + field(x))` (`field` on any grid, nil = zero) on `fixed`'s grid.
    public static func make(fixed: VolumeGeometry, moving: Volume, movingLabels: LabelVolume?, affine: VolumeCore.AffineTransform,
                            field: VectorField?) -> RegistrationPreview {
        let map = FixedToMovingMap(affine: affine, field: field?.resampled(to: fixed) ?? VectorField(zeroOn: fixed))
        return RegistrationPreview(warped: map.warp(moving), displacement: map.totalDisplacement,
                                   warpedLabels: movingLabels.map { map.warp($0) })
    }

    /// Voxels with value ≤ 0 per slice index along x, y and z.
    static func foldingCounts(_ jacobian: Volume) -> [[Int]] {
        let s = jacobian.geometry.size
        var counts = [[Int](repeating: 0, count: s.x), [Int](repeating: 0, count: s.y), [Int](repeating: 0, count: s.z)]
        jacobian.voxels.withUnsafeBufferPointer { j in
            var i = 0
            for z in 0..<s.z { for y in 0..<s.y { for x in 0..<s.x {
                if j[i] <= 0 { counts[0][x] += 1; counts[1][y] += 1; counts[2][z] += 1 }
                i += 1
            } } }
        }
        return counts
    }
}
