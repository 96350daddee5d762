import Registration
import Testing
import TestSupport
import VolumeCore

/// The default preset's 2-D settings (`SingleSliceSettings`) and symmetric normalisation
/// (`RegistrationStage.symmetric`).
@Suite struct SingleSliceTests {
    static func slice(_ nx: Int, _ ny: Int, spacing: Double) -> VolumeGeometry {
        VolumeGeometry(size: [nx, ny, 1], spacing: [spacing, spacing, spacing], origin: [0, 0, 0])
    }

    static func deformableLevels(_ plan: RegistrationPlan) -> [(Int, Int)] {
        plan.stages.first { $0.kind == .deformable }!.levels.map { ($0.shrink, $0.iterations) }
    }

    /// 2-D images get the default preset's 2-D settings: symmetric, at least 20 full-resolution
    /// iterations, and no level under 32 pixels across (a 2 mm brain slice, 91 × 109, loses
    /// shrink 4: 23 × 27; a 1 mm one, 181 × 217, keeps it: 45 × 54). 3-D images, the other
    /// presets and the affine stage are unchanged.
    @Test func defaultPresetResolvesPerDimension() {
        let plan = RegistrationPlan.preset(.default)
        let twoMM = plan.resolved(for: Self.slice(91, 109, spacing: 2))
        let oneMM = plan.resolved(for: Self.slice(181, 217, spacing: 1))
        let volume = plan.resolved(for: VolumeGeometry(size: [91, 109, 91], spacing: [2, 2, 2], origin: [0, 0, 0]))
        #expect(Self.deformableLevels(twoMM).elementsEqual([(2, 30), (1, 20)], by: ==))
        #expect(Self.deformableLevels(oneMM).elementsEqual([(4, 50), (2, 30), (1, 20)], by: ==))
        #expect(Self.deformableLevels(volume).elementsEqual([(4, 50), (2, 30), (1, 5)], by: ==))
        #expect(twoMM.stages[1].symmetric && oneMM.stages[1].symmetric && !volume.stages[1].symmetric)
        #expect(twoMM.stages.allSatisfy { $0.singleSlice == nil })
        #expect(twoMM.stages[0] == plan.stages[0] && volume == plan)
        for preset in [RegistrationPlan.Preset.fast, .accurate] {
            let p = RegistrationPlan.preset(preset)
            #expect(p.resolved(for: Self.slice(91, 109, spacing: 2)) == p)
        }
        // More full-resolution iterations than 20 are kept.
        var custom = plan
        custom.stages[1].levels = [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 40), PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 40)]
        #expect(Self.deformableLevels(custom.resolved(for: Self.slice(91, 109, spacing: 2))).elementsEqual([(2, 40), (1, 40)], by: ==))
        // The finest level stays even when it is small.
        let tiny = plan.resolved(for: Self.slice(20, 20, spacing: 1))
        #expect(Self.deformableLevels(tiny).elementsEqual([(1, 20)], by: ==))
        #expect(SingleSliceSettings.smallestSide(Self.slice(91, 109, spacing: 2), shrink: 4) == 23)
    }

    /// Symmetric normalisation recovers a known smooth deformation of the bundled Colin27 slice
    /// (largest displacement 5 mm): endpoint error below a third of the motion, no folding, and
    /// its forward and inverse fields invert each other; it is not the asymmetric result.
    @Test func symmetricRecoversAKnownDeformationWithoutFolding() throws {
        let (moving, _, fixed, _, truth) = try RecoveryTests.knownDeformation(twoD: true, seed: 11)
        var stage = RegistrationPlan.deformableStage(.default)
        stage.singleSlice = nil
        stage.levels = [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 30), PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 20)]
        func run(symmetric: Bool) throws -> (RegistrationResult, Double, Double) {
            var s = stage
            s.symmetric = symmetric
            let result = try Registration.register(fixed: fixed, moving: moving, plan: RegistrationPlan(stages: [s], alignCentresOfMass: false))
            let top = moving.voxels.max() ?? 1
            let (epe, epe0) = Phantom.endpointError(result.field, truth: truth) { moving.voxels[$0] > 0.1 * top }
            return (result, epe, epe0)
        }
        let (sym, epe, epe0) = try run(symmetric: true)
        let (asym, epeAsym, _) = try run(symmetric: false)
        print("symmetric endpoint error \(epe) mm, asymmetric \(epeAsym) mm, motion \(epe0) mm")
        #expect(epe < epe0 / 3, "endpoint error \(epe) mm against \(epe0) mm of motion")
        #expect(foldingFraction(sym.jacobian) == 0)
        #expect(sym.velocity.data != asym.velocity.data)
        // exp(v) and exp(-v) of the symmetric result invert each other inside the image.
        let ic = sym.inverseConsistency()
        #expect(ic.mean < 0.05 * epe0, "inverse consistency \(ic)")
    }

    /// Why the phantom above favours the asymmetric mode (issue 15, h45): its fixed image is the
    /// moving one resampled once by the truth, exactly the asymmetric model (`M∘exp(v)` against
    /// `M` resampled at the same points), while the symmetric mode resamples the fixed image a
    /// second time. Built the other way round (the moving image resampled by the inverse truth)
    /// or half way each side (the fixed image by `exp(v/2)`, the moving one by `exp(-v/2)`), the
    /// symmetric mode has the smaller endpoint error; over the three constructions it is not worse.
    /// Measured (Colin27 slice, levels 2/30, 1/20): symmetric 0.310 / 0.263 / 0.225 mm,
    /// asymmetric 0.148 / 0.379 / 0.291 mm. What is checked is what does not depend on how good
    /// the symmetric mode is: the asymmetric mode is best on the construction that matches its
    /// model, and the symmetric mode wins on the other two (not which mode wins on the first: a
    /// better symmetric mode may).
    @Test func symmetricEndpointErrorDependsOnWhichImageWasResampled() throws {
        let (original, _) = try RecoveryTests.sample(twoD: true)
        let g = original.geometry
        let velocity = Phantom.velocity(g, seed: 11, sigmaVoxels: 5, maxMM: 5)
        let truth = Phantom.exponential(velocity, g)
        let cases: [(fixed: Volume, moving: Volume)] = [
            (Phantom.warp(original, by: truth), original),
            (original, Phantom.warp(original, by: Phantom.exponential(velocity, g, sign: -1))),
            (Phantom.warp(original, by: Phantom.exponential(velocity.map { $0 / 2 }, g)),
             Phantom.warp(original, by: Phantom.exponential(velocity.map { -$0 / 2 }, g))),
        ]
        var stage = RegistrationPlan.deformableStage(.default)
        stage.singleSlice = nil
        stage.levels = [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 30), PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 20)]
        let top = original.voxels.max() ?? 1
        func endpointError(_ pair: (fixed: Volume, moving: Volume), symmetric: Bool) throws -> Double {
            var s = stage
            s.symmetric = symmetric
            let result = try Registration.register(fixed: pair.fixed, moving: pair.moving,
                                                    plan: RegistrationPlan(stages: [s], alignCentresOfMass: false))
            return Phantom.endpointError(result.field, truth: truth) { original.voxels[$0] > 0.1 * top }.error
        }
        let sym = try cases.map { try endpointError($0, symmetric: true) }
        let asym = try cases.map { try endpointError($0, symmetric: false) }
        print("endpoint error (fixed resampled / moving resampled / both half way): symmetric \(sym) mm, asymmetric \(asym) mm")
        #expect(asym[0] < asym[1] && asym[0] < asym[2], "asymmetric \(asym): best when the fixed image was resampled")
        #expect(sym[1] < asym[1] && sym[2] < asym[2], "symmetric \(sym), asymmetric \(asym)")
        #expect(sym.reduce(0, +) <= asym.reduce(0, +), "symmetric \(sym), asymmetric \(asym)")
        #expect(sym.allSatisfy { $0 < 0.4 }, "symmetric \(sym) mm against about 2.3 mm of motion")
    }

    /// An image registered to itself symmetrically stays put (the middle space is the image).
    @Test func symmetricIdentityIsAFixedPoint() throws {
        let (image, _) = try RecoveryTests.sample(twoD: true)
        let plan = RegistrationPlan.preset(.default, mode: .deformable).resolved(for: image.geometry)
        #expect(plan.stages[0].symmetric)
        let result = try Registration.register(fixed: image, moving: image, plan: plan)
        var largest: Float = 0
        for i in 0..<image.geometry.voxelCount { largest = max(largest, result.field.vector(at: i).squaredLength()) }
        #expect(Double(largest).squareRoot() < 0.05 * image.geometry.spacing.x, "largest displacement \(Double(largest).squareRoot()) mm")
    }
}
