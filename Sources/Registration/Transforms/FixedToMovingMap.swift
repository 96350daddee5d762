import VolumeCore

/// A fixed→moving map `x ↦ affine(x + field(x))` (world RAS mm; `field` on the fixed grid), as a
/// registration produces it or as a running one stands mid-way: warps images and labels onto the
/// fixed grid and gives the complete displacement. `RegistrationResult` applies its forward map
/// through this type.
public struct FixedToMovingMap: Sendable {
    /// Fixed world → moving world, applied after the field.
    public var affine: AffineTransform
    /// The displacement `u` on the fixed grid (RAS mm).
    public var field: VectorField

    public init(affine: AffineTransform, field: VectorField) { self.affine = affine; self.field = field }

    /// The fixed grid (the field's).
    public var fixedGeometry: VolumeGeometry { field.geometry }

    /// Moving world position (mm) of every fixed voxel, as continuous voxel indices of `target`,
    /// passed to `body(n, q)`.
    private func forEachMappedVoxel(into target: VolumeGeometry, _ body: (Int, SIMD3<Double>) -> Void) {
        let g = fixedGeometry, n = g.voxelCount
        let toVoxel = (target.affine.inverse ?? .identity).composed(after: affine)
        field.data.withUnsafeBufferPointer { u in
            forEachVoxel(of: g) { i, p in
                let x = p + SIMD3(Double(u[i]), Double(u[n + i]), Double(u[2 * n + i]))
                body(i, toVoxel.apply(x))
            }
        }
    }

    /// `moving` resampled onto the fixed grid through the registration (trilinear, 0 outside).
    public func warp(_ moving: Volume) -> Volume {
        var out = [Float](repeating: 0, count: fixedGeometry.voxelCount)
        moving.voxels.withUnsafeBufferPointer { m in
            out.withUnsafeMutableBufferPointer { o in
                forEachMappedVoxel(into: moving.geometry) { i, q in o[i] = Volume.sampleLinear(m, moving.size, q) }
            }
        }
        return Volume(geometry: fixedGeometry, voxels: out)
    }

    /// Moving labels carried onto the fixed grid (0 outside), sampled by `interpolation`
    /// (`LabelInterpolation.generic`, ANTs' GenericLabel, unless told otherwise).
    public func warp(_ labels: LabelVolume, interpolation: LabelInterpolation = .generic) -> LabelVolume {
        var out = [Int32](repeating: 0, count: fixedGeometry.voxelCount)
        let s = labels.geometry.size
        labels.labels.withUnsafeBufferPointer { l in
            out.withUnsafeMutableBufferPointer { o in
                forEachMappedVoxel(into: labels.geometry) { i, q in o[i] = interpolation.sample(l, s, q) }
            }
        }
        return LabelVolume(geometry: fixedGeometry, labels: out)
    }

    /// The complete fixed→moving displacement `A(x + u(x)) - x` on the fixed grid (RAS mm).
    public var totalDisplacement: VectorField {
        let g = fixedGeometry, n = g.voxelCount
        var out = [Float](repeating: 0, count: 3 * n)
        field.data.withUnsafeBufferPointer { u in
            out.withUnsafeMutableBufferPointer { o in
                forEachVoxel(of: g) { i, p in
                    let y = affine.apply(p + SIMD3(Double(u[i]), Double(u[n + i]), Double(u[2 * n + i]))) - p
                    o[i] = Float(y.x); o[n + i] = Float(y.y); o[2 * n + i] = Float(y.z)
                }
            }
        }
        return VectorField(geometry: g, data: out)
    }
}
