import SliceRendering
import VolumeCore

/// Small synthetic volumes for rendering tests (deterministic, no files).
enum Phantom {
    /// A RAS volume with an anisotropic grid and a smooth asymmetric pattern, so any flip shows.
    static func ras(size: SIMD3<Int> = [20, 24, 16], spacing: SIMD3<Double> = [1, 1.5, 2]) -> Volume {
        let g = VolumeGeometry(size: size, spacing: spacing, origin: [-10, -18, -15])
        var v = Volume(geometry: g)
        for k in 0..<size.z { for j in 0..<size.y { for i in 0..<size.x {
            v[i, j, k] = Float(i * 3 + j * 2 + k) + (i > size.x / 2 ? 40 : 0) + (j > size.y * 2 / 3 ? 20 : 0)
        } } }
        return v
    }

    /// The geometry whose voxel axes point along `axes` covering the same voxel centres as `g` (axis-aligned RAS).
    static func reoriented(_ g: VolumeGeometry, axes: [AnatomicalDirection]) -> VolumeGeometry {
        let sp = g.spacing
        var m = AffineTransform(rows: .zero, .zero, .zero)
        var size = SIMD3<Int>(1, 1, 1)
        let lo = g.world(ofVoxel: [0, 0, 0]), hi = g.world(ofVoxel: SIMD3<Double>(g.size &- 1))
        for (a, d) in axes.enumerated() {
            let w = d.worldAxis
            size[a] = g.size[w]
            m[w, a] = d.isPositive ? sp[w] : -sp[w]
            m[w, 3] = d.isPositive ? lo[w] : hi[w]
        }
        return VolumeGeometry(size: size, affine: m)
    }

    /// The same data stored with voxel axes along `axes` (exact: nearest-neighbour on coinciding centres).
    static func reoriented(_ v: Volume, axes: [AnatomicalDirection]) -> Volume {
        v.resampled(to: reoriented(v.geometry, axes: axes), interpolation: .nearest)
    }

    static func reoriented(_ l: LabelVolume, axes: [AnatomicalDirection]) -> LabelVolume {
        l.resampled(to: reoriented(l.geometry, axes: axes))
    }

    /// Spherical labels 1 (right), 2 (left), 3 (anterior-superior) on `g`.
    static func labels(on g: VolumeGeometry) -> LabelVolume {
        var l = LabelVolume(geometry: g)
        let c = g.centre
        for k in 0..<g.size.z { for j in 0..<g.size.y { for i in 0..<g.size.x {
            let p = g.world(ofVoxel: SIMD3(Double(i), Double(j), Double(k)))
            func near(_ q: SIMD3<Double>, _ r: Double) -> Bool { ((p - q) * (p - q)).sum() <= r * r }
            if near(c + [5, 0, 0], 3.5) { l[i, j, k] = 1 }
            else if near(c + [-5, 0, 0], 3.5) { l[i, j, k] = 2 }
            else if near(c + [0, 8, 6], 4) { l[i, j, k] = 3 }
        } } }
        return l
    }

    /// All-`u` displacement field (mm, RAS+) on `g`.
    static func uniformField(on g: VolumeGeometry, _ u: SIMD3<Float>) -> VectorField {
        var f = VectorField(zeroOn: g)
        for n in 0..<g.voxelCount { f.setVector(u, at: n) }
        return f
    }

    /// `u(x) = factor * (x - centre)`: Jacobian determinant `(1 + factor)^3` everywhere.
    static func radialField(on g: VolumeGeometry, factor: Double) -> VectorField {
        var f = VectorField(zeroOn: g)
        let c = g.centre
        for n in 0..<g.voxelCount {
            let p = g.world(ofVoxel: SIMD3<Double>(g.voxel(ofIndex: n)))
            let u = (p - c) * factor
            f.setVector(SIMD3<Float>(Float(u.x), Float(u.y), Float(u.z)), at: n)
        }
        return f
    }
}

extension RGBAImage {
    /// Pixels (x, y) whose colour satisfies `pred`.
    func pixels(where pred: (RGBA8) -> Bool) -> [SIMD2<Int>] {
        var out: [SIMD2<Int>] = []
        for y in 0..<height { for x in 0..<width where pred(self[x, y]) { out.append(SIMD2(x, y)) } }
        return out
    }

    /// Mean position of pixels satisfying `pred`, nil when there are none.
    func centroid(where pred: (RGBA8) -> Bool) -> SIMD2<Double>? {
        let p = pixels(where: pred)
        guard !p.isEmpty else { return nil }
        return p.reduce(SIMD2<Double>.zero) { $0 + SIMD2(Double($1.x), Double($1.y)) } / Double(p.count)
    }
}
