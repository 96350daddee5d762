import VolumeCore

/// Images prepared for registration: intensities rescaled to [0, 1] (0.5th to 99.5th percentile),
/// and their smoothed, shrunk versions per level, cached.
final class Pyramid {
    let fixed: Volume
    let moving: Volume
    private var fixedLevels: [String: (VolumeGeometry, FloatBuffer)] = [:]
    private var movingLevels: [String: MovingImage] = [:]

    init(fixed: Volume, moving: Volume) {
        self.fixed = fixed
        self.moving = moving
    }

    /// Rescales intensities to [0, 1] between the 0.5th and 99.5th percentiles (clipped).
    static func normalised(_ v: Volume) -> Volume {
        var p = v.percentiles([0.005, 0.995])
        if !(p[1] > p[0]) {
            let s = v.statistics
            p = [Float(s.minimum), Float(s.maximum)]
        }
        let lo = p[0], scale = p[1] > lo ? 1 / (p[1] - lo) : 1
        var out = v
        out.voxels.withUnsafeMutableBufferPointer { b in
            parallelChunks(b.count) { l, h in for i in l..<h { b[i] = min(max((b[i] - lo) * scale, 0), 1) } }
        }
        return out
    }

    /// Per-axis shrink factor in physical units: the finest axis shrinks by `s`, a coarser axis by
    /// `s · finest spacing / its spacing` rounded (at least 1), so coarse levels of anisotropic
    /// images are near isotropic (as ANTs and Greedy); singleton axes stay 1.
    static func shrinkVector(_ s: Int, geometry g: VolumeGeometry) -> SIMD3<Int> {
        let sp = g.spacing, h = finestSpacing(g)
        var f = SIMD3<Int>(repeating: 1)
        for a in 0..<3 where g.size[a] > 1 { f[a] = max(1, Int((Double(s) * h / sp[a]).rounded())) }
        return f
    }

    /// The smallest voxel spacing (mm) over the non-singleton axes.
    static func finestSpacing(_ g: VolumeGeometry) -> Double {
        var h = Double.infinity
        for a in 0..<3 where g.size[a] > 1 { h = min(h, g.spacing[a]) }
        return h.isFinite ? h : g.spacing.min()
    }

    /// Per-axis sigma in voxels of `g` for a physical sigma in mm (0 on singleton axes).
    static func sigmaVoxels(_ mm: Double, _ g: VolumeGeometry) -> SIMD3<Double> {
        let sp = g.spacing
        return SIMD3(g.size.x > 1 ? mm / sp.x : 0, g.size.y > 1 ? mm / sp.y : 0, g.size.z > 1 ? mm / sp.z : 0)
    }

    /// Per-axis LNCC radius on a level grid: `r` voxels along its finest axis, the same length in
    /// mm (rounded, at least 1 when `r` ≥ 1) along the others.
    static func radii(_ r: Int, _ g: VolumeGeometry) -> SIMD3<Int> {
        let h = finestSpacing(g), sp = g.spacing
        var out = SIMD3<Int>(repeating: 0)
        for a in 0..<3 where g.size[a] > 1 { out[a] = r == 0 ? 0 : max(1, Int((Double(r) * h / sp[a]).rounded())) }
        return out
    }

    /// The level grid: voxel `i` sits at full-resolution voxel `i·s + (s-1)/2` (per axis).
    static func levelGeometry(_ g: VolumeGeometry, shrink: Int) -> VolumeGeometry {
        let f = shrinkVector(shrink, geometry: g)
        var size = SIMD3<Int>.zero
        for a in 0..<3 { size[a] = max(1, Int((Double(g.size[a]) / Double(f[a])).rounded())) }
        let fd = SIMD3<Double>(f)
        let scale = AffineTransform.scaling(fd, origin: (fd - 1) / 2)
        return VolumeGeometry(size: size, affine: g.affine.composed(after: scale))
    }

    /// True for the full-resolution, unsmoothed level. The registration keeps only that level
    /// while it runs (`retainOnly`; plans run coarse to fine, so the coarser levels are rarely
    /// needed again, and are computed again if they are): the pyramid then holds the two rescaled
    /// images and their full-resolution copies (a fixed level and a `MovingImage` are buffers of
    /// their own) instead of up to four more full-size images.
    static func isFull(_ level: PyramidLevel) -> Bool { level.shrink == 1 && level.smoothingSigma == 0 }

    /// The fixed image at a level (smoothed with `sigma` full-resolution voxels, then shrunk).
    func fixedLevel(_ level: PyramidLevel) -> (VolumeGeometry, FloatBuffer) {
        let key = "\(level.shrink)/\(level.smoothingSigma)"
        if let hit = fixedLevels[key] { return hit }
        let g = fixed.geometry
        if Pyramid.isFull(level) {
            let out = FloatBuffer(fixed.voxels)
            fixedLevels[key] = (g, out)
            return (g, out)
        }
        let smooth = FloatBuffer(fixed.voxels)
        let scratch = FloatBuffer(count: g.voxelCount)
        let sig = Pyramid.sigmaVoxels(sigmaMM(level), g)
        Filters.gaussian(smooth.pointer, size: g.size, sigma: sig, scratch: scratch.pointer)
        let lg = Pyramid.levelGeometry(g, shrink: level.shrink)
        let out = FloatBuffer(count: lg.voxelCount)
        let f = SIMD3<Double>(Pyramid.shrinkVector(level.shrink, geometry: g))
        let ls = lg.size, src = UnsafeBufferPointer(start: smooth.pointer, count: g.voxelCount), dst = out.pointer
        parallelFor(ls.y * ls.z) { row in
            let j = row % ls.y, k = row / ls.y
            for i in 0..<ls.x {
                let p = SIMD3(Double(i), Double(j), Double(k)) * f + (f - 1) / 2
                dst[row * ls.x + i] = Volume.sampleLinear(src, g.size, p)
            }
        }
        fixedLevels[key] = (lg, out)
        return (lg, out)
    }

    /// Whether the fixed image at `level` is held (computed and not dropped since).
    func holdsFixedLevel(_ level: PyramidLevel) -> Bool { fixedLevels["\(level.shrink)/\(level.smoothingSigma)"] != nil }

    /// Drops the cached images no level in `levels` uses (each is a full-resolution moving image
    /// or a fixed level), so finished coarse levels do not hold memory through the finer ones.
    /// The only place the cache shrinks (reading a level never drops another).
    func retainOnly(_ levels: [PyramidLevel]) {
        let fixedKeys = Set(levels.map { "\($0.shrink)/\($0.smoothingSigma)" })
        let movingKeys = Set(levels.map { "\(sigmaMM($0))" })
        fixedLevels = fixedLevels.filter { fixedKeys.contains($0.key) }
        movingLevels = movingLevels.filter { movingKeys.contains($0.key) }
    }

    /// A level's smoothing in mm: its sigma in voxels of the fixed grid's finest axis.
    func sigmaMM(_ level: PyramidLevel) -> Double { level.smoothingSigma * Pyramid.finestSpacing(fixed.geometry) }

    /// The moving image at a level: smoothed with the same physical sigma, not shrunk.
    func movingLevel(_ level: PyramidLevel) -> MovingImage {
        let sigmaMM = sigmaMM(level)
        let key = "\(sigmaMM)"
        if let hit = movingLevels[key] { return hit }
        let g = moving.geometry
        let buf = FloatBuffer(moving.voxels)
        if sigmaMM > 0 {
            let sig = Pyramid.sigmaVoxels(sigmaMM, g)
            let scratch = FloatBuffer(count: g.voxelCount)
            Filters.gaussian(buf.pointer, size: g.size, sigma: sig, scratch: scratch.pointer)
        }
        let m = MovingImage(voxels: buf, size: g.size, worldToVoxel: g.affine.inverse ?? .identity)
        movingLevels[key] = m
        return m
    }
}
