import NIfTI
import Registration
import Testing
import TestSupport
import VolumeCore

/// Known motions on phantoms are recovered within stated tolerances.
@Suite struct RecoveryTests {
    static let grid3D = VolumeGeometry(size: [24, 22, 20], spacing: [1.5, 1.5, 1.5], origin: [-17.25, -15.75, -14.25])

    /// Largest distance (mm) between two affine maps over the phantom's voxels.
    static func maxDistance(_ a: AffineTransform, _ b: AffineTransform, on labels: LabelVolume) -> Double {
        var m = 0.0
        let g = labels.geometry
        for n in 0..<g.voxelCount where labels.labels[n] != 0 {
            let p = g.world(ofVoxel: SIMD3<Double>(g.voxel(ofIndex: n)))
            let d = a.apply(p) - b.apply(p)
            m = max(m, (d * d).sum().squareRoot())
        }
        return m
    }

    static func affinePlan() -> RegistrationPlan {
        RegistrationPlan(stages: [RegistrationStage(kind: .affine, metric: .ncc, levels: [
            PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 100), PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 100)],
            learningRate: 1, convergence: Convergence(window: 10, threshold: 1e-7))])
    }

    /// Moving = the fixed phantom's voxels under a header moved by a rotation and translation T, so
    /// moving(T(x)) = fixed(x): the affine must find T.
    @Test(arguments: [(0.0, SIMD3<Double>(3, -2, 1.5)), (6.0, SIMD3<Double>(2, 1, -1))])
    func recoversRigidMotion(degrees: Double, shift: SIMD3<Double>) throws {
        let fixed = Phantom.image(Self.grid3D)
        var t = Phantom.rotationZ(degrees)
        t.translation = shift
        let moving = Volume(geometry: VolumeGeometry(size: fixed.size, affine: t.composed(after: fixed.geometry.affine)),
                            voxels: fixed.voxels)
        let result = try Registration.register(fixed: fixed, moving: moving, plan: Self.affinePlan())
        let err = Self.maxDistance(result.affine, t, on: Phantom.labels(Self.grid3D))
        #expect(err < 0.3, "largest affine error \(err) mm for \(degrees)° and \(shift)")
    }

    /// Fixed and moving hold the same world image, the moving one stored with x reversed (LAS):
    /// the registration works in world space, so the result is the identity.
    @Test func differentOrientationsMeanNoMotion() throws {
        let fixed = Phantom.image(Self.grid3D)
        let g = fixed.geometry
        var a = g.affine
        let lastX = a.apply(SIMD3(Double(g.size.x - 1), 0, 0))
        a[0, 0] = -a[0, 0]
        a.translation = lastX
        var flipped = [Float](repeating: 0, count: g.voxelCount)
        for k in 0..<g.size.z { for j in 0..<g.size.y { for i in 0..<g.size.x {
            flipped[g.index(g.size.x - 1 - i, j, k)] = fixed[i, j, k]
        } } }
        let moving = Volume(geometry: VolumeGeometry(size: g.size, affine: a), voxels: flipped)
        #expect(moving.geometry.orientation.description != g.orientation.description)
        let result = try Registration.register(fixed: fixed, moving: moving, plan: Self.affinePlan())
        #expect(Self.maxDistance(result.affine, .identity, on: Phantom.labels(g)) < 0.2)
    }

    /// The bundled Colin27 sample (2 mm) with its AAL labels, resampled to 4 mm (3-D) or its
    /// central axial slice at 2 mm (2-D), to keep the test fast.
    static func sample(twoD: Bool) throws -> (Volume, LabelVolume) {
        let image = try NIfTIReader.read(TestPaths.samples.appendingPathComponent("colin27_2mm.nii.gz").path).volume()
        let labels = try NIfTIReader.read(TestPaths.samples.appendingPathComponent("colin27_2mm_aal.nii.gz").path).labelVolume()
        let g = image.geometry
        let target: VolumeGeometry
        if twoD {
            var a = g.affine
            a.translation = g.world(ofVoxel: [0, 0, Double(g.size.z / 2)])
            target = VolumeGeometry(size: [g.size.x, g.size.y, 1], affine: a)
        } else {
            let a = g.affine.composed(after: .scaling([2, 2, 2], origin: [0.5, 0.5, 0.5]))
            target = VolumeGeometry(size: g.size / 2, affine: a)
        }
        return (image.resampled(to: target), labels.resampled(to: target))
    }

    /// A smooth known diffeomorphism of real anatomy: `sample(twoD:)` as moving, and fixed = moving
    /// seen through exp(v) (v random from `seed` and smooth, largest displacement 5 mm); `truth` is
    /// that displacement on the fixed grid (x components, then y, then z).
    static func knownDeformation(twoD: Bool, seed: UInt64 = 21) throws
        -> (moving: Volume, movingLabels: LabelVolume, fixed: Volume, fixedLabels: LabelVolume, truth: [Float]) {
        let (moving, movingLabels) = try sample(twoD: twoD)
        let g = moving.geometry
        let truth = Phantom.exponential(Phantom.velocity(g, seed: seed, sigmaVoxels: twoD ? 5 : 2.5, maxMM: 5), g)
        return (moving, movingLabels, Phantom.warp(moving, by: truth), Phantom.warp(movingLabels, by: truth), truth)
    }

    /// What a registration of a `knownDeformation` pair must reach: endpoint error inside the
    /// fixed labels below 40 % of the motion, mean Dice up by more than 0.05 and above 0.9, no
    /// folding. Returns the mean Dice before registration.
    @discardableResult
    static func expectRecovered(_ result: RegistrationResult, truth: [Float], movingLabels: LabelVolume, fixedLabels: LabelVolume,
                                sourceLocation: SourceLocation = #_sourceLocation) -> Double {
        let (epe, epe0) = Phantom.endpointError(result.field, truth: truth) { fixedLabels.labels[$0] != 0 }
        #expect(epe < 0.4 * epe0, "endpoint error \(epe) mm vs \(epe0) mm before", sourceLocation: sourceLocation)
        let before = meanDice(diceScores(prediction: movingLabels, truth: fixedLabels))
        let after = meanDice(diceScores(prediction: result.warp(movingLabels), truth: fixedLabels))
        #expect(after > before + 0.05 && after > 0.9, "Dice \(before) -> \(after)", sourceLocation: sourceLocation)
        #expect(foldingFraction(result.jacobian) == 0, sourceLocation: sourceLocation)
        return before
    }

    /// A smooth known diffeomorphism of real anatomy (`knownDeformation`) is recovered: endpoint
    /// error inside the brain, Dice, no folding, and forward ∘ inverse ≈ identity; fixed labels
    /// carried back through the inverse match too.
    @Test(arguments: [false, true])
    func recoversSmoothDeformation(twoD: Bool) throws {
        let (moving, movingLabels, fixed, fixedLabels, truth) = try Self.knownDeformation(twoD: twoD)
        let g = moving.geometry
        var stage = RegistrationPlan.deformableStage(.default)
        stage.levels = [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 40), PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 40)]
        let plan = RegistrationPlan(stages: [stage], alignCentresOfMass: false)
        let result = try Registration.register(fixed: fixed, moving: moving, plan: plan)
        #expect(result.affine == .identity)
        let before = Self.expectRecovered(result, truth: truth, movingLabels: movingLabels, fixedLabels: fixedLabels)
        let ic = result.inverseConsistency(mask: fixedLabels)
        #expect(ic.mean < 0.1 && ic.max < 1, "inverse consistency \(ic) mm")
        let back = result.warpBack(fixedLabels, onto: g)
        let backDice = meanDice(diceScores(prediction: back, truth: movingLabels))
        #expect(backDice > before + 0.05 && backDice > 0.9, "inverse Dice \(before) -> \(backDice)")
    }
}

extension SIMD3 where Scalar == Float {
    func squaredLength() -> Float { (self * self).sum() }
}
