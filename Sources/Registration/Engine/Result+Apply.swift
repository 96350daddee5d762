import VolumeCore

extension RegistrationResult {
    /// The fixed grid the fields live on.
    public var fixedGeometry: VolumeGeometry { field.geometry }

    /// The forward map `x ↦ affine(x + field(x))`, on its own (what `warp` and `totalDisplacement` apply).
    public var map: FixedToMovingMap { FixedToMovingMap(affine: affine, field: field) }

    /// `moving` resampled onto the fixed grid through the registration (trilinear, 0 outside).
    public func warp(_ moving: Volume) -> Volume { map.warp(moving) }

    /// Moving labels carried onto the fixed grid (0 outside), sampled by `interpolation`
    /// (ANTs' GenericLabel unless told otherwise).
    public func warp(_ labels: LabelVolume, interpolation: LabelInterpolation = .generic) -> LabelVolume {
        map.warp(labels, interpolation: interpolation)
    }

    /// Fixed-space labels carried back onto a moving grid through the inverse (0 outside), sampled
    /// by `interpolation` (ANTs' GenericLabel unless told otherwise): moving point `y ↦ z + w(z)`,
    /// `z = affine⁻¹(y)`.
    public func warpBack(_ labels: LabelVolume, onto target: VolumeGeometry,
                         interpolation: LabelInterpolation = .generic) -> LabelVolume {
        let g = fixedGeometry, n = g.voxelCount
        let inv = affine.inverse ?? .identity
        let toFixedVoxel = (g.affine.inverse ?? .identity).composed(after: inv)
        let fixedWorldToLabel = labels.geometry.affine.inverse ?? .identity
        var out = [Int32](repeating: 0, count: target.voxelCount)
        let s = labels.geometry.size
        inverseField.data.withUnsafeBufferPointer { w in
            labels.labels.withUnsafeBufferPointer { l in
                out.withUnsafeMutableBufferPointer { o in
                    forEachVoxel(of: target) { i, y in
                        let zv = toFixedVoxel.apply(y)
                        let d = Trilinear.sampleVector(w.baseAddress!, stride: n, g.size, zv)
                        let x = g.affine.apply(zv) + d.double
                        o[i] = interpolation.sample(l, s, fixedWorldToLabel.apply(x))
                    }
                }
            }
        }
        return LabelVolume(geometry: target, labels: out)
    }

    /// The complete fixed→moving displacement `A(x + u(x)) - x` on the fixed grid (RAS mm).
    public var totalDisplacement: VectorField { map.totalDisplacement }

    /// Determinant of the Jacobian of the complete fixed→moving map: `det(A) · det(I + ∇u)`.
    public var jacobian: Volume {
        jacobianDeterminant(of: field, scale: affine.determinant)
    }

    /// Inverse consistency: `|u(x) + w(x + u(x))|` in mm per fixed voxel (mean and maximum),
    /// optionally only where `mask` is non-zero.
    public func inverseConsistency(mask: LabelVolume? = nil) -> (mean: Double, max: Double) {
        let g = fixedGeometry, n = g.voxelCount, s = g.size
        let inv = g.affine.inverse ?? .identity
        let step = g.affine.column(0)
        // Per row (y, z): the sum, maximum and count of the errors, added up in row order.
        let rows = s.y * s.z
        var sums = [Double](repeating: 0, count: rows), maxima = sums, counts = [Int](repeating: 0, count: rows)
        let noMask: [Int32] = []
        let maskLabels = mask?.labels ?? noMask
        let masked = mask != nil
        field.data.withUnsafeBufferPointer { u in
            inverseField.data.withUnsafeBufferPointer { w in
                maskLabels.withUnsafeBufferPointer { m in
                    sums.withUnsafeMutableBufferPointer { sp in
                        maxima.withUnsafeMutableBufferPointer { mp in
                            counts.withUnsafeMutableBufferPointer { cp in
                                parallelFor(rows) { row in
                                    let j = row % s.y, k = row / s.y
                                    var p = g.affine.apply(SIMD3(0, Double(j), Double(k)))
                                    var sum = 0.0, mx = 0.0, count = 0
                                    for i in (row * s.x)..<(row * s.x + s.x) {
                                        defer { p += step }
                                        if masked && m[i] == 0 { continue }
                                        let d = SIMD3(u[i], u[n + i], u[2 * n + i])
                                        let q = inv.apply(p + d.double)
                                        let b = Trilinear.sampleVector(w.baseAddress!, stride: n, g.size, q)
                                        let r = d + b
                                        let e = Double((r * r).sum().squareRoot())
                                        sum += e; mx = Swift.max(mx, e); count += 1
                                    }
                                    sp[row] = sum; mp[row] = mx; cp[row] = count
                                }
                            }
                        }
                    }
                }
            }
        }
        let count = counts.reduce(0, +)
        return (count > 0 ? sums.reduce(0, +) / Double(count) : 0, maxima.max() ?? 0)
    }

    /// The affine as an ITK transform file (`#Insight Transform File V1.0`,
    /// `AffineTransform_double_3_3`): ITK maps fixed-space LPS points to moving-space LPS points,
    /// `y = M x + T` with `M = P A P`, `T = P t`, `P = diag(-1, -1, 1)`, centre 0.
    public var itkAffineText: String { ITKTransformFile.text(for: affine) }

    /// The affine as text: the 4x4 fixed-world → moving-world matrix (RAS mm), one row a line.
    public var affineText: String {
        "# voxterm affine: fixed world (RAS mm) -> moving world (RAS mm), applied after field.nii.gz\n"
            + affine.matrix4x4.map { $0.map { "\($0)" }.joined(separator: " ") }.joined(separator: "\n") + "\n"
    }
}

extension Registration {
    /// Similarity of `warped` to `fixed` on the fixed grid by `metric`, after the same intensity
    /// rescaling the engine uses (lower is better; NCC/LNCC values are negated correlations).
    public static func similarity(fixed: Volume, warped: Volume, metric: MetricKind, lnccRadius: Int = 2) -> Double {
        similarity(rescaledFixed: rescaled(fixed), warped: warped, metric: metric, lnccRadius: lnccRadius)
    }

    /// An image's intensities as the engine rescales them: [0, 1] between its 0.5th and 99.5th
    /// percentiles, clipped.
    public static func rescaled(_ image: Volume) -> Volume { Pyramid.normalised(image) }

    /// `similarity(fixed:warped:metric:lnccRadius:)` with the fixed image already `rescaled`
    /// (so several similarities against one fixed image rescale it once).
    public static func similarity(rescaledFixed f: Volume, warped: Volume, metric: MetricKind, lnccRadius: Int = 2) -> Double {
        let fixed = f
        // Rescale the warped image with the percentiles of its own non-empty content.
        let w = warped.voxels.contains(where: { $0 != warped.voxels[0] }) ? Pyramid.normalised(warped) : warped
        return f.voxels.withUnsafeBufferPointer { fb in
            if metric == .lncc {
                // Slab by slab: a few planes of window sums instead of the optimiser's five volumes.
                return w.voxels.withUnsafeBufferPointer {
                    LocalCorrelationMetric.value(fixed: fb.baseAddress!, warped: $0.baseAddress!, size: fixed.size,
                                                 radii: SIMD3(repeating: lnccRadius))
                }
            }
            let m = metric.make(fixed: fb, size: fixed.size, radius: lnccRadius)
            return w.voxels.withUnsafeBufferPointer { m.evaluate(warped: $0.baseAddress!, gradient: nil) }
        }
    }
}
