import Registration
import Testing
import TestSupport
import VolumeCore

/// Progress events, cancellation, determinism and bad input.
@Suite struct EngineTests {
    static let grid = VolumeGeometry(size: [24, 22, 20], spacing: [1.5, 1.5, 1.5], origin: [-17.25, -15.75, -14.25])

    static func pair() -> (Volume, Volume) {
        let fixed = Phantom.image(grid)
        let moving = Phantom.image(grid, centre: grid.centre + SIMD3(1.5, -1, 0.5))
        return (fixed, moving)
    }

    static func smallPlan(snapshots: Int = 0) -> RegistrationPlan {
        var a = RegistrationPlan.affineStage(.fast)
        a.levels = [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 15)]
        var d = RegistrationPlan.deformableStage(.fast)
        d.levels = [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 10), PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 10)]
        d.convergence.window = 0
        return RegistrationPlan(stages: [a, d], snapshotInterval: snapshots)
    }

    @Test func streamsProgressAndSnapshots() throws {
        let (fixed, moving) = Self.pair()
        var iterations: [RegistrationProgress] = [], snapshots: [VectorField] = [], finished: [String] = []
        let result = try Registration.register(fixed: fixed, moving: moving, plan: Self.smallPlan(snapshots: 5)) { event in
            switch event {
            case .iteration(let p): iterations.append(p)
            case .snapshot(_, let f): snapshots.append(f)
            case .stageFinished(_, let name, _): finished.append(name)
            case .affine: break
            }
        }
        #expect(finished == ["affine", "deformable"])
        #expect(iterations.contains { $0.stageName == "affine" })
        #expect(iterations.filter { $0.stageName == "deformable" }.count == 20)
        #expect(zip(iterations, iterations.dropFirst()).allSatisfy { $0.elapsed <= $1.elapsed })
        #expect(snapshots.count == 4)
        #expect(snapshots.last?.geometry == fixed.geometry)
        #expect(result.stages.map(\.name) == ["affine", "deformable"])
        #expect(result.stages[1].iterations == [10, 10])
    }

    @Test func asyncStreamDeliversEventsAndResult() async throws {
        let (fixed, moving) = Self.pair()
        let box = ResultBox()
        var count = 0
        for await event in Registration.events(fixed: fixed, moving: moving, plan: Self.smallPlan(), token: CancellationToken(),
                                               completion: { box.set($0) }) {
            if case .iteration = event { count += 1 }
        }
        #expect(count > 20)
        #expect(box.succeeded)
    }

    @Test func cancellationStopsWithinAnIteration() throws {
        let (fixed, moving) = Self.pair()
        let token = CancellationToken()
        var seen = 0
        #expect(throws: RegistrationError.cancelled) {
            _ = try Registration.register(fixed: fixed, moving: moving, plan: Self.smallPlan(), token: token) { event in
                if case .iteration = event { seen += 1; if seen == 3 { token.cancel() } }
            }
        }
        #expect(seen == 3)
    }

    /// Same inputs and plan give bit-identical results, with one thread or two.
    @Test func deterministicAcrossRunsAndThreadCounts() throws {
        let (fixed, moving) = Self.pair()
        let saved = voxtermThreadCount
        defer { voxtermThreadCount = saved }
        voxtermThreadCount = 2
        let a = try Registration.register(fixed: fixed, moving: moving, plan: Self.smallPlan())
        let b = try Registration.register(fixed: fixed, moving: moving, plan: Self.smallPlan())
        voxtermThreadCount = 1
        let c = try Registration.register(fixed: fixed, moving: moving, plan: Self.smallPlan())
        #expect(a.field == b.field && a.affine == b.affine)
        #expect(a.field == c.field && a.affine == c.affine && a.inverseField == c.inverseField)
        #expect(a.field.data.contains { $0 != 0 })
    }

    @Test func rejectsBadInput() {
        let (fixed, moving) = Self.pair()
        var nan = moving
        nan.voxels[10] = .nan; nan.voxels[11] = .infinity
        #expect(throws: RegistrationError.unusableImage(role: "moving", reason: "has 2 NaN or infinite voxels; replace them (e.g. by 0) before registering")) {
            _ = try Registration.register(fixed: fixed, moving: nan, plan: Self.smallPlan())
        }
        let flat = Volume(geometry: fixed.geometry, repeating: 3)
        #expect(throws: RegistrationError.self) { _ = try Registration.register(fixed: flat, moving: moving, plan: Self.smallPlan()) }
        let empty = Volume(geometry: fixed.geometry, repeating: 0)
        do {
            _ = try Registration.register(fixed: fixed, moving: empty, plan: Self.smallPlan())
            Issue.record("an empty moving image was accepted")
        } catch let e as RegistrationError {
            #expect("\(e)".contains("moving image is constant"))
        } catch { Issue.record("unexpected \(error)") }
        let slice = Phantom.image(VolumeGeometry(size: [24, 22, 1], spacing: [1.5, 1.5, 1.5]))
        do {
            _ = try Registration.register(fixed: slice, moving: moving, plan: Self.smallPlan())
            Issue.record("2-D against 3-D was accepted")
        } catch let e as RegistrationError {
            #expect("\(e)".contains("fixed image is 2-D"))
        } catch { Issue.record("unexpected \(error)") }
        #expect(throws: RegistrationError.self) {
            _ = try Registration.register(fixed: fixed, moving: moving, plan: RegistrationPlan(stages: [
                RegistrationStage(kind: .affine, metric: .ncc, levels: [], learningRate: 1)]))
        }
    }

    @Test func parsesLevelLists() throws {
        let l = try PyramidLevel.parse(shrink: "4x2x1", iterations: "100x50x25", smoothing: "2x1x0").get()
        #expect(l == [PyramidLevel(shrink: 4, smoothingSigma: 2, iterations: 100), PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 50),
                      PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 25)])
        #expect(throws: LevelParseError.self) { try PyramidLevel.parse(shrink: "4x2", iterations: "100x50x25", smoothing: nil).get() }
        #expect(throws: LevelParseError.self) { try PyramidLevel.parse(shrink: "4x0", iterations: "1x1", smoothing: nil).get() }
        #expect(throws: LevelParseError.self) { try PyramidLevel.parse(shrink: "4xa", iterations: "1x1", smoothing: nil).get() }
    }

    @Test func convergenceBySlope() {
        let c = Convergence(window: 5, threshold: 1e-3)
        #expect(!c.hasConverged([-1, -2, -3, -4, -5]))
        #expect(c.hasConverged([-5, -5, -5, -5, -5]))
        #expect(c.hasConverged([-5, -4.9, -4.8, -4.7, -4.6]))
        #expect(!c.hasConverged([-1, -2, -3]))
    }

    /// The ITK transform file maps fixed LPS points to moving LPS points.
    @Test func itkAffineConvention() {
        var a = Phantom.rotationZ(10)
        a.translation = [3, -2, 5]
        let r = RegistrationResult(affine: a, field: VectorField(zeroOn: Self.grid), inverseField: VectorField(zeroOn: Self.grid),
                                   velocity: VectorField(zeroOn: Self.grid), stages: [])
        let lines = r.itkAffineText.split(separator: "\n")
        #expect(lines[0] == "#Insight Transform File V1.0")
        #expect(lines[2] == "Transform: AffineTransform_double_3_3")
        let p = lines[3].split(separator: " ").dropFirst().compactMap { Double($0) }
        #expect(p.count == 12)
        let xRAS = SIMD3<Double>(10, 20, 30)
        let xLPS = SIMD3(-xRAS.x, -xRAS.y, xRAS.z)
        var yLPS = SIMD3<Double>(p[9], p[10], p[11])
        for r in 0..<3 {
            let row = SIMD3<Double>(p[3 * r], p[3 * r + 1], p[3 * r + 2])
            yLPS[r] += (row * xLPS).sum()
        }
        let yRAS = a.apply(xRAS)
        #expect(abs(yLPS.x + yRAS.x) < 1e-9 && abs(yLPS.y + yRAS.y) < 1e-9 && abs(yLPS.z - yRAS.z) < 1e-9)
    }
}

final class ResultBox: @unchecked Sendable {
    var succeeded = false
    func set(_ r: Result<RegistrationResult, Error>) { if case .success = r { succeeded = true } }
}
