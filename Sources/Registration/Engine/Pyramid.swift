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

    /// Per-axis shrink factor (singleton axes stay 1).
    static func shrinkVector(_ s: Int, size: SIMD3<Int>) -> SIMD3<Int> {
        SIMD3(size.x > 1 ? s : 1, size.y > 1 ? s : 1, size.z > 1 ? s : 1)
    }

    /// The level grid: voxel `i` sits at full-resolution voxel `i·s + (s-1)/2`.
    static func levelGeometry(_ g: VolumeGeometry, shrink: Int) -> VolumeGeometry {
        let f = shrinkVector(shrink, size: g.size)
        var size = SIMD3<Int>.zero
        for a in 0..<3 { size[a] = max(1, Int((Double(g.size[a]) / Double(f[a])).rounded())) }
        let fd = SIMD3<Double>(f)
        let scale = AffineTransform.scaling(fd, origin: (fd - 1) / 2)
        return VolumeGeometry(size: size, affine: g.affine.composed(after: scale))
    }

    /// The fixed image at a level (smoothed with `sigma` full-resolution voxels, then shrunk).
    func fixedLevel(_ level: PyramidLevel) -> (VolumeGeometry, FloatBuffer) {
        let key = "\(level.shrink)/\(level.smoothingSigma)"
        if let hit = fixedLevels[key] { return hit }
        let g = fixed.geometry
        let smooth = FloatBuffer(fixed.voxels)
        let scratch = FloatBuffer(count: g.voxelCount)
        let sig = SIMD3(g.size.x > 1 ? level.smoothingSigma : 0, g.size.y > 1 ? level.smoothingSigma : 0,
                        g.size.z > 1 ? level.smoothingSigma : 0)
        Filters.gaussian(smooth.pointer, size: g.size, sigma: sig, scratch: scratch.pointer)
        let lg = Pyramid.levelGeometry(g, shrink: level.shrink)
        let out = FloatBuffer(count: lg.voxelCount)
        let f = SIMD3<Double>(Pyramid.shrinkVector(level.shrink, size: g.size))
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

    /// The moving image at a level: smoothed with the same physical sigma, not shrunk.
    func movingLevel(_ level: PyramidLevel) -> MovingImage {
        let sigmaMM = level.smoothingSigma * (fixed.geometry.spacing.sum() / 3)
        let key = "\(sigmaMM)"
        if let hit = movingLevels[key] { return hit }
        let g = moving.geometry
        let buf = FloatBuffer(moving.voxels)
        if sigmaMM > 0 {
            let sp = g.spacing
            let sig = SIMD3(g.size.x > 1 ? sigmaMM / sp.x : 0, g.size.y > 1 ? sigmaMM / sp.y : 0, g.size.z > 1 ? sigmaMM / sp.z : 0)
            let scratch = FloatBuffer(count: g.voxelCount)
            Filters.gaussian(buf.pointer, size: g.size, sigma: sig, scratch: scratch.pointer)
        }
        let m = MovingImage(voxels: buf, size: g.size, worldToVoxel: g.affine.inverse ?? .identity)
        movingLevels[key] = m
        return m
    }
}
