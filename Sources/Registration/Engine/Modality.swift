import VolumeCore

/// What the automatic metric choice measured on a pair of images: how much of the moving image's
/// intensity is explained by a function of the fixed image's, and how much by an increasing one.
public struct ModalityEvidence: Sendable, Equatable {
    /// Pearson correlation of the two intensities inside both foregrounds.
    public var correlation: Double
    /// Correlation ratio η² (0…1): the share of one image's intensity variance explained by any
    /// function of the other's (conditional means over 32 bins), the smaller of the two directions.
    public var correlationRatio: Double
    /// The share of the variance explained by the best increasing function (the weighted isotonic
    /// regression of the same conditional means), divided by the correlation ratio, the smaller of
    /// the two directions: close to 1 when the joint histogram follows one increasing relation (one
    /// modality, even two people), 0 for an inverted contrast (T1/T2), in between for a
    /// non-monotonic one (T1/CT: grey matter brightest on CT, white matter on T1).
    public var monotonicity: Double
    /// Foreground voxels the figures come from.
    public var voxels: Int

    public init(correlation: Double, correlationRatio: Double, monotonicity: Double, voxels: Int) {
        self.correlation = correlation; self.correlationRatio = correlationRatio
        self.monotonicity = monotonicity; self.voxels = voxels
    }
}

extension Registration {
    /// Monotonicity below which two images are taken to be of different modalities. On the real
    /// same-modality pairs (six 2-D T1 pairs of different people, Colin27 → ICBM 2009a) it is ≥ 0.98;
    /// on T2-like maps of them 0.00, on CT-like maps 0.55–0.71 as printed on the CT-like bench pairs
    /// (0.50 on the bundled Colin27; docs/registration.md).
    public static let modalityMonotonicityThreshold = 0.8

    /// Below this correlation ratio the joint histogram has too little structure to tell (e.g. two
    /// unrelated images): the images are taken for one modality.
    public static let modalityMinimumCorrelationRatio = 0.02

    /// Measures the joint intensity relation of two images after a coarse alignment: both rescaled
    /// as the engine does, centres of mass aligned, then a short affine by mutual information
    /// (which does not assume one modality) on a ≈ 8 mm level; the statistics are taken on a
    /// ≈ 2 mm level inside both foregrounds (each above 10 % of its range, so the dark background,
    /// dark in both, does not make any pair look related). Nil when `token` is cancelled or an
    /// image cannot be registered (non-finite voxels, constant).
    public static func modalityEvidence(fixed: Volume, moving: Volume,
                                        token: CancellationToken = CancellationToken()) -> ModalityEvidence? {
        // Unusable images (NaN voxels, constant) are left to the registration, which names the problem.
        guard (try? validate(fixed, role: "fixed")) != nil, (try? validate(moving, role: "moving")) != nil else { return nil }
        return modalityEvidence(PreparedPair(fixed: fixed, moving: moving), token: token)
    }

    /// `modalityEvidence(fixed:moving:token:)` on a prepared pair, whose rescaled images and
    /// coarse level (the ≈ 8 mm one, also the first level of the presets' affine stage) a
    /// registration given the same pair then uses instead of computing them again. The
    /// caller checks that neither image has non-finite voxels or is constant.
    public static func modalityEvidence(_ prepared: PreparedPair,
                                        token: CancellationToken = CancellationToken()) -> ModalityEvidence? {
        modalityEvidence(prepared, token: token, alignmentMM: modalityAlignmentMM)
    }

    /// The MI alignment's level, in mm (shrink = this / the finest spacing, rounded): ≈ 8 mm, the
    /// presets' first affine level at 2 mm and (with the affine level budget) at 1 mm, so the
    /// registration reuses it. It was 4 mm before 2026-12-07 (third session); 8 mm gives the same
    /// decision on the 20 dev pairs measured (same modality 0.987-1.000, T2-like 0.000-0.001,
    /// CT-like 0.40-0.66; docs/registration.md) at a third to two thirds of the check's time.
    static let modalityAlignmentMM = 8.0

    /// The fewest voxels along any (non-singleton) axis of the check's MI alignment level: the
    /// ≈ 8 mm level is made finer when it would have fewer (a 64 × 64 slice at 1 mm: shrink 4,
    /// 16 × 16, instead of 8 × 8). Brains at 1 and 2 mm (≥ 23 voxels at ≈ 8 mm) are unchanged.
    static let modalityMinimumAlignmentSide = 16

    /// The fewest voxels along any axis of the check's statistics level (≈ 2 mm): a finer level
    /// when it would have fewer, so the 32-bin conditional means rest on enough voxels.
    static let modalityMinimumStatisticsSide = 32

    /// The largest shrink factor up to `shrink` whose level grid (`Pyramid.levelGeometry`) of `g`
    /// has at least `minimumSide` voxels along every non-singleton axis (or the full grid's
    /// count, when that is smaller): at least 1.
    /// Only the two longest axes (of those with more than one voxel) must keep `minimumSide`
    /// voxels: a thin 3-D slab (256 × 256 × 10) is shrunk like a slice, not run at full resolution
    /// because its 10-voxel axis cannot keep 16 (review h51).
    static func cappedShrink(_ shrink: Int, _ g: VolumeGeometry, minimumSide: Int) -> Int {
        let axes = (0..<3).filter { g.size[$0] > 1 }.sorted { g.size[$0] > g.size[$1] }.prefix(2)
        func side(_ s: Int) -> Int {
            let size = Pyramid.levelGeometry(g, shrink: s).size
            return axes.map { size[$0] }.min() ?? 1
        }
        let needed = min(minimumSide, side(1))
        var s = max(1, shrink)
        while s > 1 && side(s) < needed { s -= 1 }
        return s
    }

    /// `modalityEvidence(_:token:)` with the MI alignment on a level of ≈ `alignmentMM` mm, the
    /// levels capped to keep `minimumSides` voxels per axis (1, 1: no cap; tests compare).
    static func modalityEvidence(_ prepared: PreparedPair, token: CancellationToken, alignmentMM: Double,
                                 minimumSides: (alignment: Int, statistics: Int) = (modalityMinimumAlignmentSide, modalityMinimumStatisticsSide))
        -> ModalityEvidence? {
        // Under the pair's lock: a registration taking the pair meanwhile waits for the check.
        prepared.withPyramid { modalityEvidence($0, token: token, alignmentMM: alignmentMM, minimumSides: minimumSides) } ?? nil
    }

    static func modalityEvidence(_ pyramid: Pyramid, token: CancellationToken, alignmentMM: Double,
                                 minimumSides: (alignment: Int, statistics: Int)) -> ModalityEvidence? {
        let f = pyramid.fixed, m = pyramid.moving
        let h = Pyramid.finestSpacing(f.geometry)
        // On a small image (a 64 × 64 slice at 1 mm, a small crop) the ≈ 8 mm level would be a few
        // voxels across: both levels are capped so that they keep enough voxels along every axis.
        let coarse = cappedShrink(max(1, Int((alignmentMM / h).rounded())), f.geometry, minimumSide: minimumSides.alignment)
        let fine = min(coarse, cappedShrink(max(1, Int((2 / h).rounded())), f.geometry, minimumSide: minimumSides.statistics))
        var affine = AffineWarp(centre: f.geometry.centre)
        let shift = centreOfMass(m) - centreOfMass(f)
        affine.parameters[0] = shift.x; affine.parameters[1] = shift.y; affine.parameters[2] = shift.z
        let level = PyramidLevel(shrink: coarse, smoothingSigma: Double(coarse) / 2, iterations: 50)
        let stage = RegistrationStage(kind: .affine, metric: .mi, levels: [level], learningRate: 1,
                                      convergence: Convergence(window: 10, threshold: 1e-5))
        var ctx = LevelContext(stage: 0, stageName: "modality", level: 0, levelCount: 1, shrink: coarse,
                               start: monotonicSeconds(), token: token, observer: { _ in }, snapshotInterval: 0)
        do { _ = try runAffineLevel(stage, level, pyramid, &affine, &ctx) } catch { return nil }
        if token.isCancelled { return nil }
        let statsLevel = PyramidLevel(shrink: fine, smoothingSigma: Double(fine - 1) / 2, iterations: 1)
        // At 2 mm the statistics level is the full-resolution one: read it around the cache, which
        // keeps only the coarse level for the registration (below).
        let full = Pyramid.isFull(statsLevel)
        let (grid, fb) = full ? (f.geometry, FloatBuffer(f.voxels)) : pyramid.fixedLevel(statsLevel)
        let movingStats = full ? MovingImage(voxels: FloatBuffer(m.voxels), size: m.geometry.size,
                                             worldToVoxel: m.geometry.affine.inverse ?? .identity)
                               : pyramid.movingLevel(statsLevel)
        let n = grid.voxelCount
        let warped = FloatBuffer(count: n)
        affine.warp(movingStats, onto: grid, into: warped.pointer, movingGradient: nil)
        // Keep only what a registration can use again (the coarse level).
        pyramid.retainOnly([level])
        var xs: [Float] = [], ys: [Float] = []
        for i in 0..<n {
            let x = fb.pointer[i], y = warped.pointer[i]
            if x > 0.1 && y > 0.1 { xs.append(x); ys.append(y) }
        }
        return evidence(xs, ys)
    }

    /// The statistics of `ModalityEvidence` from paired intensities in [0, 1].
    static func evidence(_ xs: [Float], _ ys: [Float]) -> ModalityEvidence {
        let count = xs.count
        guard count > 1 else { return ModalityEvidence(correlation: 1, correlationRatio: 0, monotonicity: 1, voxels: count) }
        var sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0
        for i in 0..<count {
            let x = Double(xs[i]), y = Double(ys[i])
            sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y
        }
        let c = Double(count)
        let cov = sxy - sx * sy / c, vx = sxx - sx * sx / c, vy = syy - sy * sy / c
        let r = vx > 0 && vy > 0 ? cov / (vx * vy).squareRoot() : 1
        let a = explained(by: xs, of: ys), b = explained(by: ys, of: xs)
        let ratio = min(a.any, b.any)
        let mono = min(a.any > 0 ? a.increasing / a.any : 1, b.any > 0 ? b.increasing / b.any : 1)
        return ModalityEvidence(correlation: r, correlationRatio: ratio, monotonicity: mono, voxels: count)
    }

    /// Shares of the variance of `ys` explained by any function of `xs` (32 bins of conditional
    /// means: the correlation ratio) and by an increasing one (pool-adjacent-violators on the
    /// conditional means, weighted by bin counts).
    static func explained(by xs: [Float], of ys: [Float]) -> (any: Double, increasing: Double) {
        let bins = 32
        var cnt = [Double](repeating: 0, count: bins), sum = [Double](repeating: 0, count: bins)
        var total = 0.0, total2 = 0.0
        for i in xs.indices {
            let b = min(max(Int(xs[i] * Float(bins)), 0), bins - 1)
            let y = Double(ys[i])
            cnt[b] += 1; sum[b] += y; total += y; total2 += y * y
        }
        let n = Double(xs.count), mean = total / n
        let variance = total2 - total * total / n
        guard variance > 0 else { return (0, 0) }
        var means: [(Double, Double)] = []          // (conditional mean, weight), bins in order
        for b in 0..<bins where cnt[b] > 0 { means.append((sum[b] / cnt[b], cnt[b])) }
        var any = 0.0
        for (mu, w) in means { any += w * (mu - mean) * (mu - mean) }
        // Pool adjacent violators: blocks of (mean, weight, bins) with increasing means.
        var blocks: [(Double, Double, Int)] = []
        for (mu, w) in means {
            blocks.append((mu, w, 1))
            while blocks.count > 1, blocks[blocks.count - 2].0 > blocks[blocks.count - 1].0 {
                let q = blocks.removeLast(), p = blocks.removeLast()
                let wsum = p.1 + q.1
                blocks.append(((p.0 * p.1 + q.0 * q.1) / wsum, wsum, p.2 + q.2))
            }
        }
        var inc = 0.0
        for (mu, w, _) in blocks { inc += w * (mu - mean) * (mu - mean) }
        return (any / variance, inc / variance)
    }

    /// Nil when the two images look like one modality (the joint histogram after a coarse
    /// alignment follows one increasing relation, see `modalityEvidence`), or when `token` is
    /// cancelled; otherwise a sentence saying why they do not, for the user.
    public static func modalitiesDiffer(fixed: Volume, moving: Volume,
                                        token: CancellationToken = CancellationToken()) -> String? {
        guard (try? validate(fixed, role: "fixed")) != nil, (try? validate(moving, role: "moving")) != nil else { return nil }
        return modalitiesDiffer(PreparedPair(fixed: fixed, moving: moving), token: token)
    }

    /// The decision on measured evidence: true when the joint histogram has structure
    /// (`modalityMinimumCorrelationRatio`) and no increasing relation explains it
    /// (`modalityMonotonicityThreshold`).
    static func modalitiesDiffer(_ e: ModalityEvidence) -> Bool {
        e.correlationRatio >= modalityMinimumCorrelationRatio && e.monotonicity < modalityMonotonicityThreshold
    }

    /// `modalitiesDiffer(fixed:moving:token:)` on a prepared pair (see `modalityEvidence(_:token:)`).
    public static func modalitiesDiffer(_ prepared: PreparedPair, token: CancellationToken = CancellationToken()) -> String? {
        guard let e = modalityEvidence(prepared, token: token), modalitiesDiffer(e) else { return nil }
        func r2(_ x: Double) -> Double { (x * 100).rounded() / 100 }
        return "the intensities of the two images do not follow one increasing relation (an increasing map explains \(Int((e.monotonicity * 100).rounded())) % of what their joint histogram explains; correlation \(r2(e.correlation))), as for two modalities"
    }
}
