/// A reordering and flipping of voxel axes: output axis `a` reads input axis `sourceAxis[a]`,
/// reversed when `flipped[a]`. Used to bring any on-disk order to canonical RAS.
public struct AxisPermutation: Equatable, Sendable {
    /// For each output axis, the input axis it comes from.
    public var sourceAxis: SIMD3<Int>
    /// For each output axis, whether it runs opposite to its input axis.
    public var flipped: [Bool]

    public init(sourceAxis: SIMD3<Int>, flipped: [Bool]) {
        self.sourceAxis = sourceAxis
        self.flipped = flipped
    }

    /// The permutation that makes `geometry`'s voxel axes point R, A, S (nearest axis-aligned).
    public static func toCanonical(_ geometry: VolumeGeometry) -> AxisPermutation {
        let dirs = geometry.orientation.directions
        var src = SIMD3<Int>(0, 1, 2), flip = [false, false, false]
        for (inAxis, d) in dirs.enumerated() {
            src[d.worldAxis] = inAxis
            flip[d.worldAxis] = !d.isPositive
        }
        return AxisPermutation(sourceAxis: src, flipped: flip)
    }

    /// True when nothing moves.
    public var isIdentity: Bool { sourceAxis == [0, 1, 2] && flipped == [false, false, false] }

    /// The output geometry: permuted size, and an affine that keeps every voxel's world position.
    public func apply(to g: VolumeGeometry) -> VolumeGeometry {
        let size = SIMD3(g.size[sourceAxis[0]], g.size[sourceAxis[1]], g.size[sourceAxis[2]])
        // out voxel o maps to input voxel v with v[src[a]] = flipped ? n-1-o[a] : o[a].
        var m = AffineTransform(rows: .zero, .zero, .zero) // out voxel -> in voxel
        for a in 0..<3 {
            let s = sourceAxis[a]
            if flipped[a] { m[s, a] = -1; m[s, 3] = Double(g.size[s] - 1) } else { m[s, a] = 1 }
        }
        return VolumeGeometry(size: size, affine: g.affine.composed(after: m))
    }

    /// Input linear index of every output voxel, in output order.
    public func sourceIndices(for g: VolumeGeometry) -> [Int] {
        let out = apply(to: g)
        var idx = [Int](repeating: 0, count: g.voxelCount)
        var stride = SIMD3<Int>(1, g.size.x, g.size.x * g.size.y)
        stride = SIMD3(stride[sourceAxis[0]], stride[sourceAxis[1]], stride[sourceAxis[2]])
        var n = 0
        for k in 0..<out.size.z {
            let kk = flipped[2] ? out.size.z - 1 - k : k
            for j in 0..<out.size.y {
                let jj = flipped[1] ? out.size.y - 1 - j : j
                let base = kk * stride.z + jj * stride.y
                for i in 0..<out.size.x {
                    let ii = flipped[0] ? out.size.x - 1 - i : i
                    idx[n] = base + ii * stride.x
                    n += 1
                }
            }
        }
        return idx
    }
}

extension Volume {
    /// The same image with voxel axes reordered to point R, A, S; world positions unchanged.
    public func canonical() -> Volume {
        let p = AxisPermutation.toCanonical(geometry)
        if p.isIdentity { return self }
        let idx = p.sourceIndices(for: geometry)
        return Volume(geometry: p.apply(to: geometry), voxels: idx.map { voxels[$0] })
    }
}

extension LabelVolume {
    /// The same labels with voxel axes reordered to point R, A, S; world positions unchanged.
    public func canonical() -> LabelVolume {
        let p = AxisPermutation.toCanonical(geometry)
        if p.isIdentity { return self }
        let idx = p.sourceIndices(for: geometry)
        return LabelVolume(geometry: p.apply(to: geometry), labels: idx.map { labels[$0] })
    }
}
