import Registration
import Testing
import TestSupport
import VolumeCore

/// `checkGradient` for every similarity metric, transformation and regulariser.
@Suite struct GradientTests {
    /// An oblique, anisotropic grid so the chain rule through the affine is exercised.
    static let oblique: VolumeGeometry = {
        let r = Phantom.rotationZ(20).composed(after: .scaling([1.5, 1.0, 2.0]))
        var a = r
        a.translation = [-13, -12, -13]
        return VolumeGeometry(size: [18, 24, 13], affine: a)
    }()

    static func values(_ x: [Double]) -> [Float] { x.map { Float($0) } }

    /// Metric value as a function of the warped intensities.
    static func metricCheck(_ kind: MetricKind, geometry g: VolumeGeometry) -> GradientCheck {
        let fixed = Phantom.image(g)
        var rng = SplitMix64(seed: 7)
        let warped = Phantom.image(g, centre: g.centre + SIMD3(1.5, -1, 0.5)).voxels.map { Double($0) + 0.05 * rng.nextDouble() }
        let metric = fixed.voxels.withUnsafeBufferPointer { kind.make(fixed: $0, size: g.size, radius: 2) }
        func f(_ x: [Double]) -> Double { values(x).withUnsafeBufferPointer { metric.evaluate(warped: $0.baseAddress!, gradient: nil) } }
        var grad = [Float](repeating: 0, count: g.voxelCount)
        values(warped).withUnsafeBufferPointer { w in
            grad.withUnsafeMutableBufferPointer { _ = metric.evaluate(warped: w.baseAddress!, gradient: $0.baseAddress!) }
        }
        return checkGradient(of: f, gradient: grad.map { Double($0) }, at: warped, step: 1e-2)
    }

    @Test(arguments: MetricKind.allCases)
    func metricGradient3D(kind: MetricKind) {
        let c = Self.metricCheck(kind, geometry: Self.oblique)
        #expect(c.relativeError() < 1e-2, "\(kind): \(c)")
    }

    @Test(arguments: MetricKind.allCases)
    func metricGradient2D(kind: MetricKind) {
        let g = VolumeGeometry(size: [20, 17, 1], spacing: [1.2, 1, 3])
        let c = Self.metricCheck(kind, geometry: g)
        #expect(c.relativeError() < 1e-2, "\(kind): \(c)")
    }

    /// Mean squares between a fixed phantom and the moving phantom seen through the affine.
    @Test func affineTransformGradient() {
        let g = Self.oblique
        let fixed = Phantom.image(g)
        let moving = MovingImage(Phantom.image(VolumeGeometry(size: [20, 18, 14], spacing: [1.2, 1.1, 1.3], origin: [-12, -10, -9]),
                                               centre: [0.5, 0, 0]))
        let metric = fixed.voxels.withUnsafeBufferPointer { MetricKind.mse.make(fixed: $0, size: g.size) }
        let n = g.voxelCount
        let warped = FloatBuffer(count: n), mg = FloatBuffer(count: 3 * n), dv = FloatBuffer(count: n)
        var start = AffineWarp(centre: g.centre)
        start.parameters = [0.7, -0.4, 0.3, 1.02, 0.05, -0.03, -0.04, 0.97, 0.02, 0.01, 0.03, 1.01]
        func f(_ x: [Double]) -> Double {
            var a = start; a.parameters = x
            a.warp(moving, onto: g, into: warped.pointer, movingGradient: nil)
            return metric.evaluate(warped: warped.pointer, gradient: nil)
        }
        start.warp(moving, onto: g, into: warped.pointer, movingGradient: mg.pointer)
        _ = metric.evaluate(warped: warped.pointer, gradient: dv.pointer)
        let grad = start.gradient(dValue: dv.pointer, movingGradient: mg.pointer, grid: g)
        let c = checkGradient(of: f, gradient: grad, at: start.parameters, directions: 6, step: 1e-4)
        #expect(c.relativeError() < 2e-2, "\(c)")
    }

    /// Mean squares as a function of a dense displacement field (before an affine). (The chain rule
    /// is metric-independent; LNCC in single precision is too noisy for a finite difference here.)
    @Test func displacementTransformGradient() {
        let g = Self.oblique
        let n = g.voxelCount
        let fixed = Phantom.image(g)
        let moving = MovingImage(Phantom.image(g, centre: g.centre + SIMD3(1, 0.5, -0.5)))
        let metric = fixed.voxels.withUnsafeBufferPointer { MetricKind.mse.make(fixed: $0, size: g.size) }
        let warp = DisplacementWarp(grid: g, affine: Phantom.rotationZ(3))
        let u0 = Phantom.velocity(g, seed: 3, sigmaVoxels: 2, maxMM: 1.5).map { Double($0) }
        let warped = FloatBuffer(count: n), mg = FloatBuffer(count: 3 * n), dv = FloatBuffer(count: n)
        let grad = FloatBuffer(count: 3 * n)
        func f(_ x: [Double]) -> Double {
            Self.values(x).withUnsafeBufferPointer { warp.warp(moving, field: $0.baseAddress!, into: warped.pointer, movingGradient: nil) }
            return metric.evaluate(warped: warped.pointer, gradient: nil)
        }
        Self.values(u0).withUnsafeBufferPointer { warp.warp(moving, field: $0.baseAddress!, into: warped.pointer, movingGradient: mg.pointer) }
        _ = metric.evaluate(warped: warped.pointer, gradient: dv.pointer)
        warp.gradient(dValue: dv.pointer, movingGradient: mg.pointer, into: grad.pointer)
        let c = checkGradient(of: f, gradient: grad.array.map { Double($0) }, at: u0, directions: 4, step: 0.1)
        #expect(c.relativeError() < 2e-2, "\(c)")
    }

    /// The velocity field's gradient: exact with zero squarings (exp(v) = id + v); with squarings the
    /// engine uses ∂/∂u as the update direction, which must still be a descent direction whose
    /// directional derivative is within 35 % of the true one.
    @Test func velocityTransformGradient() {
        let g = VolumeGeometry(size: [16, 14, 12], spacing: [1.5, 1.5, 1.5])
        let n = g.voxelCount
        let fixed = Phantom.image(g)
        let moving = MovingImage(Phantom.image(g, centre: g.centre + SIMD3(1.5, -1, 0.5)))
        let metric = fixed.voxels.withUnsafeBufferPointer { MetricKind.mse.make(fixed: $0, size: g.size) }
        let warp = DisplacementWarp(grid: g, affine: .identity)
        let v0 = Phantom.velocity(g, seed: 5, sigmaVoxels: 2, maxMM: 2).map { Double($0) }
        let warped = FloatBuffer(count: n), mg = FloatBuffer(count: 3 * n), dv = FloatBuffer(count: n)
        let u = FloatBuffer(count: 3 * n), scratch = FloatBuffer(count: 3 * n), grad = FloatBuffer(count: 3 * n)
        for steps in [0, 4] {
            func f(_ x: [Double]) -> Double {
                Self.values(x).withUnsafeBufferPointer {
                    VelocityField.exponential($0.baseAddress!, grid: g, steps: steps, into: u.pointer, scratch: scratch.pointer)
                }
                warp.warp(moving, field: u.pointer, into: warped.pointer, movingGradient: nil)
                return metric.evaluate(warped: warped.pointer, gradient: nil)
            }
            _ = f(v0)
            warp.warp(moving, field: u.pointer, into: warped.pointer, movingGradient: mg.pointer)
            _ = metric.evaluate(warped: warped.pointer, gradient: dv.pointer)
            warp.gradient(dValue: dv.pointer, movingGradient: mg.pointer, into: grad.pointer)
            let gr = grad.array.map { Double($0) }
            if steps == 0 {
                let c = checkGradient(of: f, gradient: gr, at: v0, step: 0.02)
                #expect(c.relativeError() < 2e-2, "steps 0: \(c)")
            } else {
                let norm = gr.reduce(0) { $0 + $1 * $1 }.squareRoot()
                let d = gr.map { -$0 / norm }
                let h = 1e-3
                let numeric = (f(zip(v0, d).map { $0 + h * $1 }) - f(zip(v0, d).map { $0 - h * $1 })) / (2 * h)
                #expect(numeric < 0, "not a descent direction: \(numeric)")
                #expect(abs(numeric / -norm - 1) < 0.35, "numeric \(numeric) vs -|g| \(-norm)")
            }
        }
    }

    /// The diffusion penalty's value and exact gradient.
    @Test(arguments: [false, true])
    func diffusionPenaltyGradient(twoD: Bool) {
        let g = twoD ? VolumeGeometry(size: [15, 13, 1], spacing: [1.5, 1, 2]) : Self.oblique
        let u0 = Phantom.velocity(g, seed: 11, sigmaVoxels: 1, maxMM: 2).map { Double($0) }
        func f(_ x: [Double]) -> Double {
            Self.values(x).withUnsafeBufferPointer { DiffusionPenalty.evaluate($0.baseAddress!, grid: g, addGradientTo: nil) }
        }
        var grad = [Float](repeating: 0, count: u0.count)
        Self.values(u0).withUnsafeBufferPointer { u in
            grad.withUnsafeMutableBufferPointer { _ = DiffusionPenalty.evaluate(u.baseAddress!, grid: g, addGradientTo: $0.baseAddress!) }
        }
        let c = checkGradient(of: f, gradient: grad.map { Double($0) }, at: u0, step: 1e-2)
        #expect(c.relativeError() < 1e-2, "\(c)")
        #expect(f(u0) > 0)
        #expect(f(u0.map { _ in 1.5 }) == 0, "a constant field has no penalty")
    }

    /// The Gaussian update rule keeps constants, and lowers the diffusion penalty of a rough field.
    @Test func gaussianSmoothingRule() {
        let g = Self.oblique
        let n = g.voxelCount
        var rng = SplitMix64(seed: 2)
        var u = (0..<(3 * n)).map { _ in Float(rng.nextDouble()) }
        let before = u.withUnsafeBufferPointer { DiffusionPenalty.evaluate($0.baseAddress!, grid: g, addGradientTo: nil) }
        let scratch = FloatBuffer(count: n)
        u.withUnsafeMutableBufferPointer { FieldOps.smooth($0.baseAddress!, grid: g, sigma: 1.5, scratch: scratch.pointer) }
        let after = u.withUnsafeBufferPointer { DiffusionPenalty.evaluate($0.baseAddress!, grid: g, addGradientTo: nil) }
        #expect(after < 0.2 * before)
        var c = [Float](repeating: 2.5, count: 3 * n)
        c.withUnsafeMutableBufferPointer { FieldOps.smooth($0.baseAddress!, grid: g, sigma: 2, scratch: scratch.pointer) }
        #expect(c.allSatisfy { abs($0 - 2.5) < 1e-5 })
    }

    /// Box sums (LNCC's windows) are symmetric: ⟨B x, y⟩ = ⟨x, B y⟩, which makes the LNCC gradient exact.
    @Test func boxSumIsSelfAdjoint() {
        let size = SIMD3(11, 9, 7)
        let n = size.x * size.y * size.z
        var rng = SplitMix64(seed: 4)
        let x = (0..<n).map { _ in Float(rng.nextDouble()) }, y = (0..<n).map { _ in Float(rng.nextDouble()) }
        let bx = FloatBuffer(x), by = FloatBuffer(y)
        Filters.boxSumInPlace(bx.pointer, size: size, radius: [2, 2, 2])
        Filters.boxSumInPlace(by.pointer, size: size, radius: [2, 2, 2])
        let a = zip(bx.array, y).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        let b = zip(x, by.array).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        #expect(abs(a - b) < 1e-6 * abs(a))
        // A corner voxel's window holds 3x3x3 voxels, an interior one 5x5x5.
        let ones = FloatBuffer([Float](repeating: 1, count: n))
        Filters.boxSumInPlace(ones.pointer, size: size, radius: [2, 2, 2])
        #expect(ones.array[0] == 27)
        #expect(ones.array[5 + 11 * (4 + 9 * 3)] == 125)
    }
}
