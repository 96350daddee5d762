import VolumeCore
import Registration

/// `PairwiseAligner` on voxterm's registration engine: runs a plan and returns the total
/// fixed-to-moving map (affine and diffeomorphic parts composed) as one displacement field.
public struct EngineAligner: PairwiseAligner {
    /// The registration plan (stages and levels).
    public var plan: RegistrationPlan
    /// A token the registration also watches between its set-up steps, where `isCancelled`
    /// (polled at every iteration) is not asked; e.g. the one a signal handler cancels.
    public var token: CancellationToken?

    public init(plan: RegistrationPlan, token: CancellationToken? = nil) { self.plan = plan; self.token = token }

    /// The same aligner, also stopped by `token`.
    public func cancelled(by token: CancellationToken) -> EngineAligner { EngineAligner(plan: plan, token: token) }

    /// The preset plan for 3-D volumes (affine then deformable).
    public static func volumes(_ preset: RegistrationPlan.Preset = .default) -> EngineAligner {
        EngineAligner(plan: .preset(preset, mode: .both))
    }

    public func align(fixed: Volume, moving: Volume, isCancelled: @escaping () -> Bool) throws -> VectorField {
        let token = self.token ?? CancellationToken()
        let result: RegistrationResult
        do {
            result = try Registration.register(fixed: fixed, moving: moving, plan: plan, token: token) { _ in
                if isCancelled() { token.cancel() }
            }
        } catch RegistrationError.cancelled {
            throw SegmentationError.cancelled
        }
        return result.totalDisplacement()
    }
}

extension RegistrationResult {
    /// The whole map `x ↦ affine(x + u(x))` as a displacement `x ↦ x + U(x)` on the fixed grid (RAS mm).
    public func totalDisplacement() -> VectorField {
        let g = field.geometry
        let n = g.voxelCount
        var out = [Float](repeating: 0, count: 3 * n)
        let size = g.size
        let a = affine
        field.data.withUnsafeBufferPointer { u in
            out.withUnsafeMutableBufferPointer { o in
                parallelFor(size.z) { k in
                    for j in 0..<size.y {
                        for i in 0..<size.x {
                            let v = i + size.x * (j + size.y * k)
                            let x = g.affine.apply(SIMD3(Double(i), Double(j), Double(k)))
                            let y = a.apply(x + SIMD3(Double(u[v]), Double(u[n + v]), Double(u[2 * n + v])))
                            let d = y - x
                            o[v] = Float(d.x); o[n + v] = Float(d.y); o[2 * n + v] = Float(d.z)
                        }
                    }
                }
            }
        }
        return VectorField(geometry: g, data: out)
    }
}

extension EngineAligner {
    /// A deformable-only plan for neighbouring 2-D slices of one volume (already aligned, so no
    /// affine stage): two levels, LNCC, smooth updates.
    public static func slices() -> EngineAligner {
        var stage = RegistrationPlan.deformableStage(.fast)
        stage.levels = [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 40),
                        PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 30)]
        return EngineAligner(plan: RegistrationPlan(stages: [stage], alignCentresOfMass: false))
    }
}

