import Registration
import TestSupport
import VolumeCore

/// Small synthetic images for the registration tests.
enum Phantom {
    /// A smooth head-like phantom on `geometry`: a soft ellipsoid with a few Gaussian blobs inside,
    /// values in [0, 1], 0 at the grid's border (so sampling outside it is continuous); centred in world space at `centre`.
    static func image(_ geometry: VolumeGeometry, centre: SIMD3<Double>? = nil, radii: SIMD3<Double> = [11, 9, 8]) -> Volume {
        let c = centre ?? geometry.centre
        // Texture at the scale of a few voxels (like cortex), seeded so every call is identical.
        var rng = SplitMix64(seed: 99)
        let blobs: [(SIMD3<Double>, Double, Float)] = (0..<60).map { _ in
            let q = SIMD3(rng.nextDouble() * 2 - 1, rng.nextDouble() * 2 - 1, rng.nextDouble() * 2 - 1) * radii * 0.9
            return (q, 1.2 + 1.5 * rng.nextDouble(), Float(rng.nextDouble() * 0.8 - 0.3))
        }
        var v = Volume(geometry: geometry)
        let g = geometry
        for k in 0..<g.size.z { for j in 0..<g.size.y { for i in 0..<g.size.x {
            let p = g.world(ofVoxel: SIMD3(Double(i), Double(j), Double(k))) - c
            var rr = (p / radii) * (p / radii)
            if g.size.z == 1 { rr.z = 0 }
            let r = rr.sum().squareRoot()
            var val = Float(0.5 / (1 + Foundation_exp((r - 1) * 8)))
            for (bc, s, a) in blobs {
                let d = p - bc
                var d2 = (d * d).sum()
                if g.size.z == 1 { d2 -= d.z * d.z }
                val += a * Float(Foundation_exp(-d2 / (2 * s * s))) * (r < 1.2 ? 1 : 0.2)
            }
            v[i, j, k] = max(0, min(1, val))
        } } }
        return v
    }

    /// Labels of the phantom, defined by its intensities like tissue classes: inside the
    /// ellipsoid, 1 where the image is brighter than 0.55, 2 elsewhere.
    static func labels(_ geometry: VolumeGeometry, centre: SIMD3<Double>? = nil, radii: SIMD3<Double> = [11, 9, 8]) -> LabelVolume {
        let img = image(geometry, centre: centre, radii: radii)
        return LabelVolume(geometry: geometry, labels: img.voxels.map { $0 > 0.55 ? 1 : ($0 > 0.2 ? 2 : 0) })
    }

    /// A smooth random velocity field (seeded): Gaussian-smoothed noise scaled so its largest
    /// vector within the central half of the grid is `maxMM` millimetres.
    static func velocity(_ g: VolumeGeometry, seed: UInt64, sigmaVoxels: Double = 3, maxMM: Double) -> [Float] {
        var rng = SplitMix64(seed: seed)
        let n = g.voxelCount
        var v = (0..<(3 * n)).map { _ in Float(rng.nextDouble() * 2 - 1) }
        if g.size.z == 1 { for i in 0..<n { v[2 * n + i] = 0 } }
        let scratch = FloatBuffer(count: n)
        v.withUnsafeMutableBufferPointer { FieldOps.smooth($0.baseAddress!, grid: g, sigma: sigmaVoxels, scratch: scratch.pointer) }
        var m: Float = 0
        for i in 0..<n {
            let q = SIMD3<Double>(g.voxel(ofIndex: i)) / SIMD3<Double>(g.size &- 1) - 0.5
            guard abs(q.x) < 0.25, abs(q.y) < 0.25, g.size.z == 1 || abs(q.z) < 0.25 else { continue }
            m = max(m, (v[i] * v[i] + v[n + i] * v[n + i] + v[2 * n + i] * v[2 * n + i]).squareRoot())
        }
        return v.map { $0 * Float(maxMM) / m }
    }

    /// Mean endpoint error (mm) of `field` against the true displacement `truth` (component-major,
    /// 3 × n, mm) over the voxels `inside` selects, and the mean true motion there (mm): the
    /// registration tests' recovery measure.
    static func endpointError(_ field: VectorField, truth: [Float], inside: (Int) -> Bool) -> (error: Double, motion: Double) {
        let n = truth.count / 3
        var error = 0.0, motion = 0.0, count = 0
        for i in 0..<n where inside(i) {
            let t = SIMD3(truth[i], truth[n + i], truth[2 * n + i])
            let d = field.vector(at: i) - t
            error += Double((d * d).sum().squareRoot()); motion += Double((t * t).sum().squareRoot()); count += 1
        }
        return (error / Double(max(count, 1)), motion / Double(max(count, 1)))
    }

    /// `exp(v)` as an array.
    static func exponential(_ v: [Float], _ g: VolumeGeometry, sign: Float = 1) -> [Float] {
        let u = FloatBuffer(count: v.count), s = FloatBuffer(count: v.count)
        v.withUnsafeBufferPointer { VelocityField.exponential($0.baseAddress!, sign: sign, grid: g, into: u.pointer, scratch: s.pointer) }
        return u.array
    }

    /// `image(x + u(x))` on the image's own grid (trilinear), i.e. the moving image seen through `u`.
    static func warp(_ image: Volume, by u: [Float]) -> Volume {
        let g = image.geometry, n = g.voxelCount
        let inv = g.affine.inverse!
        var out = Volume(geometry: g)
        image.voxels.withUnsafeBufferPointer { src in
            for idx in 0..<n {
                let vx = g.voxel(ofIndex: idx)
                let p = g.world(ofVoxel: SIMD3<Double>(vx)) + SIMD3(Double(u[idx]), Double(u[n + idx]), Double(u[2 * n + idx]))
                out.voxels[idx] = Volume.sampleLinear(src, g.size, inv.apply(p))
            }
        }
        return out
    }

    /// Labels seen through `u` with nearest neighbour.
    static func warp(_ labels: LabelVolume, by u: [Float]) -> LabelVolume {
        let g = labels.geometry, n = g.voxelCount
        let inv = g.affine.inverse!
        var out = LabelVolume(geometry: g)
        for idx in 0..<n {
            let vx = g.voxel(ofIndex: idx)
            let p = g.world(ofVoxel: SIMD3<Double>(vx)) + SIMD3(Double(u[idx]), Double(u[n + idx]), Double(u[2 * n + idx]))
            out.labels[idx] = labels.sampleNearest(at: inv.apply(p))
        }
        return out
    }

    /// A rotation by `degrees` about world axis z.
    static func rotationZ(_ degrees: Double) -> AffineTransform {
        let a = degrees * .pi / 180
        return AffineTransform(linear: [[cos(a), -sin(a), 0], [sin(a), cos(a), 0], [0, 0, 1]], translation: .zero)
    }
}

#if canImport(Glibc)
import Glibc
func Foundation_exp(_ x: Double) -> Double { Glibc.exp(x) }
#endif
