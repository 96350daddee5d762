import VolumeCore

/// One resolution level of a stage: shrink factor, smoothing and iteration budget.
public struct PyramidLevel: Sendable, Equatable, Codable {
    /// Integer down-sampling factor of the fixed grid (1 = full resolution); singleton axes stay 1.
    public var shrink: Int
    /// Gaussian sigma applied to both images before shrinking, in voxels of the full-resolution fixed grid.
    public var smoothingSigma: Double
    /// Maximum number of iterations at this level (0 skips the level).
    public var iterations: Int

    public init(shrink: Int, smoothingSigma: Double, iterations: Int) {
        self.shrink = shrink; self.smoothingSigma = smoothingSigma; self.iterations = iterations
    }
}

/// Stop a level when the value's slope over the last `window` iterations, relative to its mean
/// magnitude, is above `-threshold` (ANTs' convergence criterion).
public struct Convergence: Sendable, Equatable, Codable {
    /// Number of recent values the line is fitted to.
    public var window: Int
    /// Relative decrease per iteration below which the level has converged.
    public var threshold: Double

    public init(window: Int = 10, threshold: Double = 1e-4) { self.window = window; self.threshold = threshold }

    /// True when `values` (most recent last) have stopped decreasing.
    public func hasConverged(_ values: [Double]) -> Bool {
        guard window >= 2, values.count >= window else { return false }
        let w = values.suffix(window)
        let n = Double(window)
        let meanX = (n - 1) / 2
        let meanY = w.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0
        for (i, y) in w.enumerated() {
            let dx = Double(i) - meanX
            sxy += dx * (y - meanY); sxx += dx * dx
        }
        let slope = sxy / sxx
        let scale = max(abs(meanY), 1e-12)
        return slope / scale > -threshold
    }
}

/// What a stage optimises.
public enum StageKind: String, Sendable, Equatable, Codable {
    /// 12-parameter affine (regular-step gradient descent, steps in mm).
    case affine
    /// Diffeomorphic deformable: stationary velocity field, exponentiated by scaling and squaring.
    case deformable
}

/// One stage of a plan: a transformation, a metric, a regularisation and its own pyramid levels.
public struct RegistrationStage: Sendable, Equatable, Codable {
    /// Affine or deformable.
    public var kind: StageKind
    /// The similarity this stage optimises.
    public var metric: MetricKind
    /// LNCC window half-width in voxels of each level.
    public var lnccRadius: Int
    /// Coarse to fine.
    public var levels: [PyramidLevel]
    /// Step per iteration: for affine the initial step in mm at shrink 1 (scaled by the shrink),
    /// for deformable the largest update in voxels of the level grid.
    public var learningRate: Double
    /// Deformable stages only.
    public var regularisation: Regularisation
    /// When a level stops before its iteration budget.
    public var convergence: Convergence
    /// Deformable stages: the most voxels a level's velocity field may have. A level grid with
    /// more (a 1 mm brain at full resolution: 7 M) keeps its field on the next coarser level grid
    /// that fits, while the metric still uses every voxel (`CoarseFieldWarp`); this bounds memory
    /// (each field is 3 floats a voxel) and the exponential's cost.
    public var maxFieldVoxels: Int
    /// Deformable stages: the step (voxels of the level grid) at full-resolution levels (shrink 1);
    /// nil = `learningRate` at every level. The default preset takes larger, smoother steps at full
    /// resolution than at the coarse levels (docs/registration.md, issue 15 third pass).
    public var fullResolutionLearningRate: Double?
    /// Deformable stages: the regularisation at full-resolution levels (shrink 1); nil = `regularisation`.
    public var fullResolutionRegularisation: Regularisation?
    /// Affine stages: the most voxels its finest level with iterations may have (nil = no limit).
    /// On a larger grid every level's shrink factor and smoothing are doubled until that level
    /// fits (`levels(on:)`): the default preset's levels 4 and 2 (8 and 4 mm on a 2 mm brain)
    /// become 8 and 4 on a 1 mm brain, the same lengths in mm, instead of a 2 mm level of 0.9 M
    /// voxels that cost 80 % of the affine's time and no Dice (docs/registration.md, issue 15).
    public var maxLevelVoxels: Int?
    /// Deformable stages: at least this many iterations at a full-resolution level (shrink 1, with
    /// iterations) whose field is capped below the level grid by `maxFieldVoxels` (a 1 mm brain:
    /// its field on the 2 mm grid, every voxel in the metric); nil = the level's own count. Grids
    /// whose full-resolution field fits (2 mm brains, 2-D images) are unchanged. Applied by
    /// `levels(on:)`. The default preset sets 8 (its full-resolution level runs 5): measured in
    /// docs/registration.md (issue 15, h54: the synthetic 1 mm pairs).
    public var minimumCoarseFieldIterations: Int?

    /// The presets' `maxLevelVoxels` for their affine stage (fast, default): a 2 mm brain's finest
    /// affine level (shrink 2: 45 × 54 × 45, 0.11 M voxels) and 2-D images up to about 1000 × 1000 fit unchanged; a
    /// 1 mm brain's (90 × 108 × 90, 0.87 M) does not.
    public static let defaultMaxAffineLevelVoxels = 300_000
    /// Deformable stages: symmetric normalisation (both images deformed half way into a middle
    /// space, as ANTs SyN) at levels whose field is the level grid itself (not capped by
    /// `maxFieldVoxels`) and without a diffusion penalty; other levels stay asymmetric.
    /// About twice the work per iteration.
    public var symmetric: Bool = false
    /// What the stage changes when the images are 2-D (one slice); nil = nothing.
    /// `RegistrationPlan.resolved(for:)` applies it.
    public var singleSlice: SingleSliceSettings?

    /// The default `maxFieldVoxels`: a 2 mm brain (0.9 M voxels) keeps its full-resolution
    /// field, a 1 mm brain gets its field at 2 mm.
    public static let defaultMaxFieldVoxels = 2_000_000

    public init(kind: StageKind, metric: MetricKind, lnccRadius: Int = 2, levels: [PyramidLevel], learningRate: Double,
                regularisation: Regularisation = Regularisation(), convergence: Convergence = Convergence(),
                maxFieldVoxels: Int = RegistrationStage.defaultMaxFieldVoxels,
                fullResolutionLearningRate: Double? = nil, fullResolutionRegularisation: Regularisation? = nil,
                maxLevelVoxels: Int? = nil, minimumCoarseFieldIterations: Int? = nil) {
        self.kind = kind; self.metric = metric; self.lnccRadius = lnccRadius; self.levels = levels
        self.learningRate = learningRate; self.regularisation = regularisation; self.convergence = convergence
        self.maxFieldVoxels = maxFieldVoxels
        self.fullResolutionLearningRate = fullResolutionLearningRate
        self.fullResolutionRegularisation = fullResolutionRegularisation
        self.maxLevelVoxels = maxLevelVoxels
        self.minimumCoarseFieldIterations = minimumCoarseFieldIterations
    }

    /// The levels this stage runs with fixed grid `g`: `levels`, or, when the finest level with
    /// iterations would have more than `maxLevelVoxels` voxels on `g`, every level with its
    /// shrink factor and smoothing (voxels of `g`) multiplied by the smallest power of two that
    /// brings it within the limit (iterations unchanged), the smoothing at least half the new
    /// shrink factor (the presets' rule: an unsmoothed full-resolution level becomes shrink 2 with
    /// σ 1). Level grids as the pyramid makes them (`Pyramid.levelGeometry`), so anisotropic grids
    /// shrink their fine axes first. Then, when `minimumCoarseFieldIterations` is set and `g`'s
    /// full-resolution field would exceed `maxFieldVoxels`, full-resolution levels with iterations
    /// run at least that many.
    public func levels(on g: VolumeGeometry) -> [PyramidLevel] {
        var out = budgetedLevels(on: g)
        if let n = minimumCoarseFieldIterations, hasCoarseFullResolutionField(on: g) {
            for i in out.indices where out[i].shrink == 1 && out[i].iterations > 0 {
                out[i].iterations = max(out[i].iterations, n)
            }
        }
        return out
    }

    /// True when a full-resolution level on `g` keeps its velocity on a coarser grid than `g`
    /// (more than `maxFieldVoxels` voxels; `CoarseFieldWarp.fieldGrid`): a 1 mm brain.
    public func hasCoarseFullResolutionField(on g: VolumeGeometry) -> Bool {
        CoarseFieldWarp.fieldGrid(full: g, shrink: 1, maxVoxels: maxFieldVoxels).size != g.size
    }

    /// `levels` with the level budget (`maxLevelVoxels`) applied.
    func budgetedLevels(on g: VolumeGeometry) -> [PyramidLevel] {
        guard let limit = maxLevelVoxels, let finest = levels.last(where: { $0.iterations > 0 }) else { return levels }
        var factor = 1
        // Stops when the level fits, or when shrinking more cannot make it smaller.
        while Pyramid.levelGeometry(g, shrink: finest.shrink * factor).voxelCount > limit,
              Pyramid.levelGeometry(g, shrink: finest.shrink * factor * 2).voxelCount
                < Pyramid.levelGeometry(g, shrink: finest.shrink * factor).voxelCount {
            factor *= 2
        }
        guard factor > 1 else { return levels }
        return levels.map { PyramidLevel(shrink: $0.shrink * factor,
                                         smoothingSigma: max($0.smoothingSigma * Double(factor), Double($0.shrink * factor) / 2),
                                         iterations: $0.iterations) }
    }

    /// The step and regularisation a deformable level uses: the full-resolution ones at shrink 1
    /// when set, the stage's otherwise.
    public func stepAndRegularisation(at level: PyramidLevel) -> (learningRate: Double, regularisation: Regularisation) {
        guard level.shrink == 1 else { return (learningRate, regularisation) }
        return (fullResolutionLearningRate ?? learningRate, fullResolutionRegularisation ?? regularisation)
    }

    /// The levels this stage really runs with fixed grid `g`: its 2-D settings applied
    /// (`resolved(for:)`), then the level budget (`levels(on:)`). What progress displays count.
    public func levelsAsRun(on g: VolumeGeometry) -> [PyramidLevel] {
        resolved(for: g).levels(on: g)
    }

    /// A readable name, e.g. "affine" or "deformable".
    public var name: String { kind.rawValue }

    /// The stage as it runs on a fixed grid `geometry`: with `singleSlice` applied when the grid is
    /// 2-D (one slice), unchanged otherwise. The settings are consumed (`singleSlice` is nil after).
    public func resolved(for geometry: VolumeGeometry) -> RegistrationStage {
        guard geometry.isSingleSlice, let s = singleSlice else { return self }
        var stage = self
        stage.singleSlice = nil
        if s.symmetric { stage.symmetric = true }
        if let n = s.minimumFullResolutionIterations {
            for i in stage.levels.indices where stage.levels[i].shrink == 1 && stage.levels[i].iterations > 0 {
                stage.levels[i].iterations = max(stage.levels[i].iterations, n)
            }
        }
        if s.minimumLevelPixels > 1 {
            // Keep a level if its grid has enough pixels along every in-plane axis; the finest
            // level is always kept.
            let kept = stage.levels.enumerated().filter { i, level in
                i == stage.levels.count - 1 || SingleSliceSettings.smallestSide(geometry, shrink: level.shrink) >= s.minimumLevelPixels
            }.map(\.element)
            stage.levels = kept
        }
        return stage
    }
}

/// What a stage changes for 2-D images (a single slice). 2-D registration is cheap (a 256 × 256
/// slice takes well under a second), and a slice holds far fewer pixels than a volume has voxels
/// at the same shrink, so the default preset's deformable stage runs differently there
/// (docs/registration.md, issue 15, h42): symmetric, more full-resolution iterations, and no level
/// whose grid is too small to carry the anatomy (a 2 mm slice of a brain at shrink 4: 23 × 27).
public struct SingleSliceSettings: Sendable, Equatable, Codable {
    /// Run the deformable levels symmetrically (`RegistrationStage.symmetric`). Levels with a
    /// diffusion penalty (e.g. `--regularisation diffusion=0.1`) or a field capped below the level
    /// grid run asymmetrically, whatever this says.
    public var symmetric: Bool
    /// At least this many iterations at full-resolution levels (shrink 1) that have iterations
    /// (more are kept); nil = the stage's.
    public var minimumFullResolutionIterations: Int?
    /// A level whose grid has fewer pixels than this along its shorter in-plane side is skipped
    /// (never the finest level); 0 or 1 = keep every level.
    public var minimumLevelPixels: Int

    /// Settings with the fields' meanings above; the defaults change nothing but `symmetric`.
    public init(symmetric: Bool, minimumFullResolutionIterations: Int? = nil, minimumLevelPixels: Int = 0) {
        self.symmetric = symmetric; self.minimumFullResolutionIterations = minimumFullResolutionIterations
        self.minimumLevelPixels = minimumLevelPixels
    }

    /// The default preset's 2-D settings: symmetric, 20 full-resolution iterations (instead of 5),
    /// levels at least 32 pixels across.
    public static let defaultPreset = SingleSliceSettings(symmetric: true, minimumFullResolutionIterations: 20, minimumLevelPixels: 32)

    /// Pixels along the shorter non-singleton side of `geometry`'s level grid at `shrink`.
    public static func smallestSide(_ geometry: VolumeGeometry, shrink: Int) -> Int {
        let size = Pyramid.levelGeometry(geometry, shrink: shrink).size
        let sides = (0..<3).filter { geometry.size[$0] > 1 }.map { size[$0] }
        return sides.min() ?? 1
    }
}

/// A registration plan: stages run in order, each refining the previous result.
public struct RegistrationPlan: Sendable, Equatable, Codable {
    /// Run in order; each starts from the previous stage's transform.
    public var stages: [RegistrationStage]
    /// Start the affine from the translation aligning the intensity centres of mass.
    public var alignCentresOfMass: Bool
    /// Emit a field snapshot every this many deformable iterations (0 = never).
    public var snapshotInterval: Int

    public init(stages: [RegistrationStage], alignCentresOfMass: Bool = true, snapshotInterval: Int = 0) {
        self.stages = stages; self.alignCentresOfMass = alignCentresOfMass; self.snapshotInterval = snapshotInterval
    }

    /// Speed/accuracy trade-offs (levels and iterations; see docs/registration.md).
    public enum Preset: String, Sendable, CaseIterable {
        /// Two levels (shrink 4, 2) per stage: about 1 s for a 2 mm brain.
        case fast
        /// Deformable levels 4, 2, 1 with few full-resolution iterations.
        case `default`
        /// More iterations, full-resolution affine and deformable levels.
        case accurate
    }

    /// Which stages a plan has.
    public enum Mode: String, Sendable, CaseIterable {
        /// Affine only (the field is zero).
        case affine
        /// Deformable only (no affine stage; centres of mass are still aligned).
        case deformable
        /// Affine, then deformable.
        case both
    }

    /// The preset's affine stage.
    public static func affineStage(_ preset: Preset) -> RegistrationStage {
        let levels: [PyramidLevel]
        switch preset {
        case .fast: levels = [.init(shrink: 4, smoothingSigma: 2, iterations: 60), .init(shrink: 2, smoothingSigma: 1, iterations: 30)]
        case .default: levels = [.init(shrink: 4, smoothingSigma: 2, iterations: 100), .init(shrink: 2, smoothingSigma: 1, iterations: 50)]
        case .accurate: levels = [.init(shrink: 4, smoothingSigma: 2, iterations: 150), .init(shrink: 2, smoothingSigma: 1, iterations: 80),
                                  .init(shrink: 1, smoothingSigma: 0, iterations: 30)]
        }
        // Fast and default keep their finest affine level within `defaultMaxAffineLevelVoxels`
        // (coarser levels on a 1 mm brain); accurate keeps its full-resolution affine level.
        return RegistrationStage(kind: .affine, metric: .lncc, lnccRadius: 2, levels: levels, learningRate: 1.0,
                                 convergence: Convergence(window: 10, threshold: 1e-5),
                                 maxLevelVoxels: preset == .accurate ? nil : RegistrationStage.defaultMaxAffineLevelVoxels)
    }

    /// The preset's deformable stage.
    public static func deformableStage(_ preset: Preset) -> RegistrationStage {
        let levels: [PyramidLevel]
        switch preset {
        case .fast: levels = [.init(shrink: 4, smoothingSigma: 2, iterations: 40), .init(shrink: 2, smoothingSigma: 1, iterations: 20)]
        case .default: levels = [.init(shrink: 4, smoothingSigma: 2, iterations: 50), .init(shrink: 2, smoothingSigma: 1, iterations: 30),
                                 .init(shrink: 1, smoothingSigma: 0, iterations: 5)]
        case .accurate: levels = [.init(shrink: 4, smoothingSigma: 2, iterations: 80), .init(shrink: 2, smoothingSigma: 1, iterations: 50),
                                  .init(shrink: 1, smoothingSigma: 0, iterations: 20)]
        }
        // The default preset's full-resolution level takes 0.5-voxel steps (the coarse levels 0.25)
        // with a smoother update and field (σ 2 / 0.5 instead of 1.5 / 0.35): measured in
        // docs/registration.md (issue 15, third pass); the other presets keep one setting.
        let fine: (Double, Regularisation)? = preset == .default ? (0.5, Regularisation(updateSigma: 2, fieldSigma: 0.5)) : nil
        var stage = RegistrationStage(kind: .deformable, metric: .lncc, lnccRadius: 2, levels: levels, learningRate: 0.25,
                                      regularisation: Regularisation(updateSigma: 1.5, fieldSigma: 0.35),
                                      convergence: Convergence(window: 10, threshold: 1e-5),
                                      fullResolutionLearningRate: fine?.0, fullResolutionRegularisation: fine?.1)
        // 2-D images: symmetric, 20 full-resolution iterations, levels ≥ 32 pixels across
        // (default preset only; measured in docs/registration.md, issue 15, h42).
        if preset == .default { stage.singleSlice = .defaultPreset }
        // 1 mm brains (full-resolution field capped at 2 mm): 8 full-resolution iterations
        // instead of 5 (default preset only; measured in docs/registration.md, issue 15, h54: 10
        // gained a little more but put the 1 mm whole process at 9.2-10.1 s idle, over the 10 s
        // budget on 2 of 6 runs; 8 keeps the gain over Greedy -sv like for like; the lead).
        if preset == .default { stage.minimumCoarseFieldIterations = 8 }
        return stage
    }

    /// The plan as it runs on a fixed grid `geometry`: each stage `resolved(for:)` it (2-D images
    /// take the stages' `singleSlice` settings).
    public func resolved(for geometry: VolumeGeometry) -> RegistrationPlan {
        var plan = self
        plan.stages = stages.map { $0.resolved(for: geometry) }
        return plan
    }

    /// The plan of a mode and preset.
    public static func preset(_ preset: Preset, mode: Mode = .both) -> RegistrationPlan {
        switch mode {
        case .affine: return RegistrationPlan(stages: [affineStage(preset)])
        case .deformable: return RegistrationPlan(stages: [deformableStage(preset)])
        case .both: return RegistrationPlan(stages: [affineStage(preset), deformableStage(preset)])
        }
    }
}

extension PyramidLevel {
    /// Builds levels from ANTs-style `x`-separated lists ("4x2x1", "100x50x25", "2x1x0"); all lists
    /// must have the same length. Returns nil with a reason on malformed input.
    public static func parse(shrink: String, iterations: String, smoothing: String?) -> Result<[PyramidLevel], LevelParseError> {
        func ints(_ s: String, _ what: String) -> Result<[Int], LevelParseError> {
            let parts = s.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0! >= 0 }) else {
                return .failure(LevelParseError("\(what) '\(s)' must be non-negative integers separated by x, e.g. 4x2x1"))
            }
            return .success(parts.map { $0! })
        }
        guard case .success(let f) = ints(shrink, "--levels") else { return .failure(LevelParseError("--levels '\(shrink)' must be positive integers separated by x, e.g. 4x2x1")) }
        guard f.allSatisfy({ $0 >= 1 }) else { return .failure(LevelParseError("--levels '\(shrink)': shrink factors must be at least 1")) }
        let its: [Int]
        switch ints(iterations, "--iterations") { case .success(let v): its = v; case .failure(let e): return .failure(e) }
        var sig: [Double] = f.map { Double($0 - 1) / 2 }
        if let smoothing {
            let parts = smoothing.split(separator: "x", omittingEmptySubsequences: false).map { Double($0) }
            guard parts.allSatisfy({ $0 != nil && $0! >= 0 && $0!.isFinite }) else {
                return .failure(LevelParseError("--smoothing '\(smoothing)' must be non-negative numbers (voxels) separated by x, e.g. 2x1x0"))
            }
            sig = parts.map { $0! }
        }
        guard its.count == f.count, sig.count == f.count else {
            return .failure(LevelParseError("--levels, --iterations and --smoothing must list the same number of levels (\(f.count), \(its.count), \(sig.count))"))
        }
        return .success((0..<f.count).map { PyramidLevel(shrink: f[$0], smoothingSigma: sig[$0], iterations: its[$0]) })
    }
}

/// Why a level list could not be parsed.
public struct LevelParseError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}

// Decoding plans written before a stored property existed: every property with a default in the
// initialiser is optional in the JSON and takes that default when missing (Swift's synthesised
// decoding would throw `keyNotFound`). Encoding stays synthesised (every key written).

extension RegistrationStage {
    /// Decodes a stage; `kind`, `metric`, `levels` and `learningRate` are required, the others
    /// take the initialiser's defaults when missing: `lnccRadius` 2, `Regularisation()`,
    /// `Convergence()`, `maxFieldVoxels` `defaultMaxFieldVoxels` (a plan written before the field
    /// cap ran with its field on the level grid; 2 mm brains and 2-D images are unchanged by the
    /// cap), `symmetric` false (plans before it were asymmetric), and nil (nothing) for
    /// `fullResolutionLearningRate`, `fullResolutionRegularisation`, `maxLevelVoxels`,
    /// `minimumCoarseFieldIterations` (plans before it ran the levels' own counts) and `singleSlice`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(kind: try c.decode(StageKind.self, forKey: .kind), metric: try c.decode(MetricKind.self, forKey: .metric),
                  lnccRadius: try c.decodeIfPresent(Int.self, forKey: .lnccRadius) ?? 2,
                  levels: try c.decode([PyramidLevel].self, forKey: .levels),
                  learningRate: try c.decode(Double.self, forKey: .learningRate),
                  regularisation: try c.decodeIfPresent(Regularisation.self, forKey: .regularisation) ?? Regularisation(),
                  convergence: try c.decodeIfPresent(Convergence.self, forKey: .convergence) ?? Convergence(),
                  maxFieldVoxels: try c.decodeIfPresent(Int.self, forKey: .maxFieldVoxels) ?? RegistrationStage.defaultMaxFieldVoxels,
                  fullResolutionLearningRate: try c.decodeIfPresent(Double.self, forKey: .fullResolutionLearningRate),
                  fullResolutionRegularisation: try c.decodeIfPresent(Regularisation.self, forKey: .fullResolutionRegularisation),
                  maxLevelVoxels: try c.decodeIfPresent(Int.self, forKey: .maxLevelVoxels),
                  minimumCoarseFieldIterations: try c.decodeIfPresent(Int.self, forKey: .minimumCoarseFieldIterations))
        symmetric = try c.decodeIfPresent(Bool.self, forKey: .symmetric) ?? false
        singleSlice = try c.decodeIfPresent(SingleSliceSettings.self, forKey: .singleSlice)
    }
}

extension SingleSliceSettings {
    /// Decodes the settings; missing fields take the initialiser's defaults (`symmetric` false,
    /// no iteration floor, `minimumLevelPixels` 0: every level kept).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(symmetric: try c.decodeIfPresent(Bool.self, forKey: .symmetric) ?? false,
                  minimumFullResolutionIterations: try c.decodeIfPresent(Int.self, forKey: .minimumFullResolutionIterations),
                  minimumLevelPixels: try c.decodeIfPresent(Int.self, forKey: .minimumLevelPixels) ?? 0)
    }
}

extension RegistrationPlan {
    /// Decodes a plan; `stages` is required, `alignCentresOfMass` (true) and `snapshotInterval` (0)
    /// take the initialiser's defaults when missing.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(stages: try c.decode([RegistrationStage].self, forKey: .stages),
                  alignCentresOfMass: try c.decodeIfPresent(Bool.self, forKey: .alignCentresOfMass) ?? true,
                  snapshotInterval: try c.decodeIfPresent(Int.self, forKey: .snapshotInterval) ?? 0)
    }
}
