import VolumeCore

/// A stationary velocity field `v` on a grid (world mm, RAS+, component-major). Its exponential
/// `exp(v)`, computed by scaling and squaring, is a diffeomorphism `x ↦ x + u(x)`; the inverse is
/// `exp(-v)` on the same grid, so forward and inverse come out together.
public enum VelocityField {
    /// Number of squarings so that the first step `v / 2^K` moves at most `maxStepVoxels` voxels.
    public static func squaringSteps(_ v: UnsafePointer<Float>, grid: VolumeGeometry, maxStepVoxels: Double = 0.5) -> Int {
        let maxNorm = FieldOps.maxVoxelNorm(v, grid: grid)
        guard maxNorm > maxStepVoxels else { return 1 }
        return min(16, max(1, Int(Foundation_log2(maxNorm / maxStepVoxels).rounded(.up))))
    }

    /// Writes `exp(sign · v)` into `u` using `steps` squarings (nil: chosen by `squaringSteps`).
    /// `scratch` holds 3 × voxels values. Outside the grid the field is extended by its border value.
    /// The squarings run on interleaved vectors (x, y, z of a voxel together), so each trilinear
    /// corner is one cache line instead of three.
    public static func exponential(_ v: UnsafePointer<Float>, sign: Float = 1, grid: VolumeGeometry, steps: Int? = nil,
                                   into u: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let n = grid.voxelCount
        let k = steps ?? squaringSteps(v, grid: grid)
        let scale = sign / Float(1 << k)
        if k == 0 {
            parallelChunks(3 * n) { lo, hi in for i in lo..<hi { u[i] = v[i] * scale } }
            return
        }
        // v / 2^k, interleaved; the first k - 1 squarings alternate between u and scratch, starting
        // where they end in scratch, and the last one reads scratch and writes u component-major
        // (the de-interleaving fused into it).
        let first = k % 2 == 0 ? u : scratch
        parallelChunks(n) { lo, hi in
            for i in lo..<hi { first[3 * i] = v[i] * scale; first[3 * i + 1] = v[n + i] * scale; first[3 * i + 2] = v[2 * n + i] * scale }
        }
        var cur = first, next = first == u ? scratch : u
        for _ in 0..<(k - 1) {
            FieldOps.selfComposeInterleaved(cur, grid: grid, into: next)
            swap(&cur, &next)
        }
        FieldOps.selfComposeInterleaved(cur, grid: grid, into: u, componentMajor: true)
    }
}

/// Operations on displacement fields stored as 3 × voxels floats (world mm, component-major).
public enum FieldOps {
    /// Largest vector length in voxel units (through the inverse of the grid's linear part).
    public static func maxVoxelNorm(_ v: UnsafePointer<Float>, grid: VolumeGeometry) -> Double {
        let n = grid.voxelCount
        let inv = grid.affine.inverse ?? .identity
        let chunks = (n + reductionChunk - 1) / reductionChunk
        var partial = [Double](repeating: 0, count: chunks)
        partial.withUnsafeMutableBufferPointer { out in
            parallelFor(chunks) { c in
                var m = 0.0
                // `inv.applyLinear`, written out so it is inlined (the same operations).
                let r0 = inv.rows.0, r1 = inv.rows.1, r2 = inv.rows.2
                for i in (c * reductionChunk)..<min(n, (c + 1) * reductionChunk) {
                    let h = SIMD4(Double(v[i]), Double(v[n + i]), Double(v[2 * n + i]), 0)
                    let q = SIMD3((r0 * h).sum(), (r1 * h).sum(), (r2 * h).sum())
                    m = max(m, (q * q).sum())
                }
                out[c] = m
            }
        }
        return (partial.max() ?? 0).squareRoot()
    }

    /// `out(x) = u(x) + u(x + u(x))` for a field stored interleaved (x, y, z of voxel `i` at
    /// `3i`, `3i + 1`, `3i + 2`), into `out` (also interleaved, or component-major with
    /// `componentMajor`: x of voxel `i` at `i`, y at `n + i`, z at `2n + i`). Trilinear, border
    /// values extended. Each trilinear corner is read as one unaligned 4-float load (its vector
    /// and the next voxel's x, which is ignored) and interpolated 4 lanes at a time; the
    /// arithmetic per lane is that of `selfComposeInterleavedReference`, so the results are the
    /// same bit for bit. A voxel whose last corner is the grid's last voxel (the load would pass
    /// the buffer's end) takes the reference's scalar reads. On an axis-aligned grid the voxel
    /// coordinate of `x + u(x)` is one product per axis (the reference's dot product with two
    /// zeros, which adds exact zeros: the same value).
    public static func selfComposeInterleaved(_ u: UnsafePointer<Float>, grid: VolumeGeometry,
                                              into out: UnsafeMutablePointer<Float>, componentMajor: Bool = false) {
        selfComposeInterleaved(u, grid: grid, into: out, vectorLoads: true, componentMajor: componentMajor)
    }

    /// `selfComposeInterleaved` with every corner read as three scalars (the branch the fast
    /// version takes at the buffer's end) and the voxel coordinate a full dot product: the
    /// reference it is checked against bit for bit.
    static func selfComposeInterleavedReference(_ u: UnsafePointer<Float>, grid: VolumeGeometry,
                                                into out: UnsafeMutablePointer<Float>, componentMajor: Bool = false) {
        selfComposeInterleaved(u, grid: grid, into: out, vectorLoads: false, componentMajor: componentMajor)
    }

    private static func selfComposeInterleaved(_ u: UnsafePointer<Float>, grid: VolumeGeometry,
                                               into out: UnsafeMutablePointer<Float>, vectorLoads: Bool,
                                               componentMajor: Bool) {
        let s = grid.size
        let inv = grid.affine.inverse ?? .identity
        let m0 = SIMD3<Float>(Float(inv[0, 0]), Float(inv[0, 1]), Float(inv[0, 2]))
        let m1 = SIMD3<Float>(Float(inv[1, 0]), Float(inv[1, 1]), Float(inv[1, 2]))
        let m2 = SIMD3<Float>(Float(inv[2, 0]), Float(inv[2, 1]), Float(inv[2, 2]))
        let diagonal = vectorLoads && m0.y == 0 && m0.z == 0 && m1.x == 0 && m1.z == 0 && m2.x == 0 && m2.y == 0
        let nx = s.x, ny = s.y, nz = s.z, n = nx * ny * nz
        let maxX = Float(nx - 1), maxY = Float(ny - 1), maxZ = Float(nz - 1)
        let dx = nx > 1 ? 3 : 0, dy = ny > 1 ? 3 * nx : 0, dz = nz > 1 ? 3 * nx * ny : 0
        let lastX = max(nx - 2, 0), lastY = max(ny - 2, 0), lastZ = max(nz - 2, 0)
        // The highest first-float offset a 4-float load may start at.
        let safeEnd = 3 * n - 4
        let raw = UnsafeRawPointer(u)
        // Stores: interleaved (stride 3, component offset 1) or component-major (stride 1, offset n).
        let outStride = componentMajor ? 1 : 3, outComponent = componentMajor ? n : 1
        parallelFor(s.y * s.z) { row in
            let j = row % s.y, k = row / s.y
            let fj = Float(j), fk = Float(k)
            for i in 0..<s.x {
                let v = row &* s.x &+ i
                let idx = 3 &* v
                let d = SIMD3(u[idx], u[idx &+ 1], u[idx &+ 2])
                let x: Float, y: Float, z: Float
                if diagonal {
                    x = min(max(Float(i) + m0.x * d.x, 0), maxX)
                    y = min(max(fj + m1.y * d.y, 0), maxY)
                    z = min(max(fk + m2.z * d.z, 0), maxZ)
                } else {
                    x = min(max(Float(i) + (m0 * d).sum(), 0), maxX)
                    y = min(max(fj + (m1 * d).sum(), 0), maxY)
                    z = min(max(fk + (m2 * d).sum(), 0), maxZ)
                }
                let x0 = min(Int(x), lastX), y0 = min(Int(y), lastY), z0 = min(Int(z), lastZ)
                let fx = x - Float(x0), fy = y - Float(y0), fz = z - Float(z0)
                let c = 3 &* (x0 &+ nx &* (y0 &+ ny &* z0))
                let o: SIMD3<Float>
                if vectorLoads && c &+ dx &+ dy &+ dz <= safeEnd {
                    @inline(__always) func at(_ q: Int) -> SIMD4<Float> {
                        raw.loadUnaligned(fromByteOffset: 4 &* (c &+ q), as: SIMD4<Float>.self)
                    }
                    let a00 = at(0) + (at(dx) - at(0)) * fx
                    let a10 = at(dy) + (at(dx &+ dy) - at(dy)) * fx
                    let a01 = at(dz) + (at(dx &+ dz) - at(dz)) * fx
                    let a11 = at(dy &+ dz) + (at(dx &+ dy &+ dz) - at(dy &+ dz)) * fx
                    let a0 = a00 + (a10 - a00) * fy, a1 = a01 + (a11 - a01) * fy
                    let d4 = SIMD4(d, 0)
                    let r = d4 + a0 + (a1 - a0) * fz
                    o = SIMD3(r.x, r.y, r.z)
                } else {
                    let b = u + c
                    @inline(__always) func at(_ q: Int) -> SIMD3<Float> { SIMD3(b[q], b[q + 1], b[q + 2]) }
                    let a00 = at(0) + (at(dx) - at(0)) * fx
                    let a10 = at(dy) + (at(dx + dy) - at(dy)) * fx
                    let a01 = at(dz) + (at(dx + dz) - at(dz)) * fx
                    let a11 = at(dy + dz) + (at(dx + dy + dz) - at(dy + dz)) * fx
                    let a0 = a00 + (a10 - a00) * fy, a1 = a01 + (a11 - a01) * fy
                    o = d + a0 + (a1 - a0) * fz
                }
                let w = outStride &* v
                out[w] = o.x; out[w &+ outComponent] = o.y; out[w &+ 2 &* outComponent] = o.z
            }
        }
    }

    /// Resamples a field from grid `from` onto grid `to` through world space (trilinear, border
    /// values extended); vectors are world mm, so values are kept as they are.
    public static func resample(_ src: UnsafePointer<Float>, from: VolumeGeometry, to: VolumeGeometry,
                                into dst: UnsafeMutablePointer<Float>) {
        let n = to.voxelCount, m = from.voxelCount
        let map = (from.affine.inverse ?? .identity)
        forEachVoxel(of: to) { i, p in
            let v = Trilinear.sampleVector(src, stride: m, from.size, map.apply(p))
            dst[i] = v.x; dst[n + i] = v.y; dst[2 * n + i] = v.z
        }
    }

    /// Gaussian smoothing of each component, sigma in voxels of `grid` along every axis (0 = none).
    public static func smooth(_ u: UnsafeMutablePointer<Float>, grid: VolumeGeometry, sigma: Double,
                              scratch: UnsafeMutablePointer<Float>) {
        guard sigma > 0.01 else { return }
        let n = grid.voxelCount
        for c in 0..<3 {
            Filters.gaussian(u + c * n, size: grid.size, sigma: SIMD3(repeating: sigma), scratch: scratch)
        }
    }

    /// Gaussian smoothing of each component, sigma in voxels of `grid`'s finest axis (0 = none):
    /// the same length in mm along every axis, so anisotropic grids are smoothed isotropically.
    public static func smoothPhysical(_ u: UnsafeMutablePointer<Float>, grid: VolumeGeometry, sigma: Double,
                                      scratch: UnsafeMutablePointer<Float>) {
        guard sigma > 0.01 else { return }
        let n = grid.voxelCount
        let sig = Pyramid.sigmaVoxels(sigma * Pyramid.finestSpacing(grid), grid)
        for c in 0..<3 {
            Filters.gaussian(u + c * n, size: grid.size, sigma: sig, scratch: scratch)
        }
    }

    /// `v[i] += scale * g[i]` for `i` in `0..<count`, in parallel chunks: the descent's step.
    public static func addScaled(_ g: UnsafePointer<Float>, scale: Float, to v: UnsafeMutablePointer<Float>, count: Int) {
        parallelChunks(count) { lo, hi in for i in lo..<hi { v[i] += scale * g[i] } }
    }

    /// Largest vector length (mm) divided by the grid's finest spacing: a step length in voxels of
    /// the finest axis.
    public static func maxFinestVoxelNorm(_ v: UnsafePointer<Float>, grid: VolumeGeometry) -> Double {
        let n = grid.voxelCount
        let chunks = (n + reductionChunk - 1) / reductionChunk
        var partial = [Float](repeating: 0, count: chunks)
        partial.withUnsafeMutableBufferPointer { out in
            parallelFor(chunks) { c in
                var m: Float = 0
                for i in (c * reductionChunk)..<min(n, (c + 1) * reductionChunk) {
                    let s = v[i] * v[i] + v[n + i] * v[n + i] + v[2 * n + i] * v[2 * n + i]
                    if !(s <= m) { m = s.isNaN ? .infinity : s }   // NaN reads as infinite: the caller stops
                }
                out[c] = m
            }
        }
        return Double(partial.max() ?? 0).squareRoot() / Pyramid.finestSpacing(grid)
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func Foundation_log2(_ x: Double) -> Double { Glibc.log2(x) }
#else
import Darwin
@inline(__always) func Foundation_log2(_ x: Double) -> Double { Darwin.log2(x) }
#endif
