import VolumeCore

extension Registration {
    /// Correlation (Pearson) of the two images' intensities inside both foregrounds (each above
    /// 10 % of its range, so the background/foreground edge, bright in both modalities, does not
    /// count), after the engine's rescaling, smoothing by 2 voxels, shrinking by 4
    /// and aligning the centres of mass: close to 1 for two images of one modality (even of two
    /// people), low or negative when the intensity relation is inverted or not monotonic (T1 and
    /// T2, MR and CT).
    public static func foregroundCorrelation(fixed: Volume, moving: Volume) -> Double {
        let f = Pyramid.normalised(fixed), m = Pyramid.normalised(moving)
        let pyramid = Pyramid(fixed: f, moving: m)
        let level = PyramidLevel(shrink: 4, smoothingSigma: 2, iterations: 1)
        let (grid, fb) = pyramid.fixedLevel(level)
        var affine = AffineWarp(centre: grid.centre)
        let shift = centreOfMass(m) - centreOfMass(f)
        affine.parameters[0] = shift.x; affine.parameters[1] = shift.y; affine.parameters[2] = shift.z
        let n = grid.voxelCount
        let warped = FloatBuffer(count: n)
        affine.warp(pyramid.movingLevel(level), onto: grid, into: warped.pointer, movingGradient: nil)
        var sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0, count = 0.0
        for i in 0..<n {
            let x = Double(fb.pointer[i]), y = Double(warped.pointer[i])
            guard x > 0.1 && y > 0.1 else { continue }
            sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y; count += 1
        }
        guard count > 1 else { return 1 }
        let cov = sxy - sx * sy / count, vx = sxx - sx * sx / count, vy = syy - sy * sy / count
        guard vx > 0, vy > 0 else { return 1 }
        return cov / (vx * vy).squareRoot()
    }

    /// Foreground correlation below which two images are taken to be of different modalities.
    public static let modalityCorrelationThreshold = 0.0

    /// Nil when the two images look like one modality (their foreground intensities correlate,
    /// see `foregroundCorrelation`); otherwise a sentence saying why they do not, for the user.
    public static func modalitiesDiffer(fixed: Volume, moving: Volume) -> String? {
        let r = foregroundCorrelation(fixed: fixed, moving: moving)
        guard r < modalityCorrelationThreshold else { return nil }
        return "the intensities of the two images do not follow one increasing relation (their correlation inside the foreground is \((r * 100).rounded() / 100), negative), as for two modalities"
    }
}
