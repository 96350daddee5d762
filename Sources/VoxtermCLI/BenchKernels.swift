import ArgumentParser
import Foundation
import VoxtermModel

/// `voxterm bench kernels FIXED MOVING`: the deformable stage's inner loops one by one on a real
/// pair at its own grid (one full-resolution iteration's worth of each), wall and CPU seconds.
struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Time the deformable stage's kernels (exponential, warp with gradient, LNCC and its gradient, smoothing) on FIXED's grid.")

    @Argument(help: "Fixed image (its grid is the level grid).") var fixed: String
    @Argument(help: "Moving image (sampled through an identity affine).") var moving: String
    @Option(help: "Number of timed repeats per kernel.") var repeats = 9
    @Option(help: "Largest synthetic velocity, in voxels (sets the exponential's squarings).") var maxVelocity = 3.0
    @Option(help: "Worker threads (default: all cores).") var threads: Int?

    func run() throws {
        if let threads { voxtermThreadCount = max(1, threads) }
        let f = try ImageFile.read(fixed).volume(), m = try ImageFile.read(moving).volume()
        let grid = f.geometry, n = grid.voxelCount, s = grid.size
        // The engine's own rescaling (0.5th-99.5th percentile to [0, 1]), so the kernels see the
        // values a registration gives them.
        func scaled(_ v: Volume) -> FloatBuffer { FloatBuffer(Registration.rescaled(v).voxels) }
        let fb = scaled(f)
        let mi = MovingImage(voxels: scaled(m), size: m.size, worldToVoxel: m.geometry.affine.inverse ?? .identity)
        // A smooth velocity (mm) whose largest vector is about `maxVelocity` voxels.
        let v = FloatBuffer(count: 3 * n)
        let sp = grid.spacing.min()
        for k in 0..<s.z { for j in 0..<s.y { for i in 0..<s.x {
            let q = SIMD3(Double(i) / Double(s.x), Double(j) / Double(s.y), Double(k) / Double(max(s.z, 1)))
            let idx = grid.index(i, j, k)
            v.pointer[idx] = Float(maxVelocity * sp * sin(2 * .pi * q.y) * cos(2 * .pi * q.z))
            v.pointer[n + idx] = Float(maxVelocity * sp * sin(2 * .pi * q.z) * cos(2 * .pi * q.x) * 0.7)
            v.pointer[2 * n + idx] = Float(maxVelocity * sp * sin(2 * .pi * q.x) * 0.5)
        } } }
        let u = FloatBuffer(count: 3 * n), scratch3 = FloatBuffer(count: 3 * n), grad = FloatBuffer(count: 3 * n)
        let warped = FloatBuffer(count: n), dvalue = FloatBuffer(count: n), scratch = FloatBuffer(count: n)
        let metric = MetricKind.lncc.make(sharing: fb, size: s, radii: SIMD3(repeating: 2))
        let warp = DisplacementWarp(grid: grid, affine: .identity)
        let steps = VelocityField.squaringSteps(v.pointer, grid: grid)
        var rows: [(String, Double, Double)] = []
        func time(_ name: String, _ body: () -> Void) {
            body()
            var walls: [Double] = [], cpus: [Double] = []
            for _ in 0..<max(1, repeats) {
                let c0 = processCPUSeconds(), t0 = monotonicSeconds()
                body()
                walls.append(monotonicSeconds() - t0); cpus.append(processCPUSeconds() - c0)
            }
            rows.append((name, median(walls), median(cpus)))
        }
        time("exponential (\(steps) squarings)") {
            VelocityField.exponential(v.pointer, grid: grid, into: u.pointer, scratch: scratch3.pointer)
        }
        time("  of which one self-composition") {
            FieldOps.selfComposeInterleaved(scratch3.pointer, grid: grid, into: grad.pointer)
        }
        time("  of which the squarings' count") { _ = VelocityField.squaringSteps(v.pointer, grid: grid) }
        time("warp with moving gradient") {
            warp.warp(mi, field: u.pointer, into: warped.pointer, movingGradient: scratch3.pointer)
        }
        time("lncc value and gradient") { _ = metric.evaluate(warped: warped.pointer, gradient: dvalue.pointer) }
        time("lncc value only") { _ = metric.evaluate(warped: warped.pointer, gradient: nil) }
        time("chain rule (gradient wrt u)") {
            warp.gradient(dValue: dvalue.pointer, movingGradient: scratch3.pointer, into: grad.pointer)
        }
        time("smooth update (sigma 2)") {
            FieldOps.smoothPhysical(grad.pointer, grid: grid, sigma: 2, scratch: scratch.pointer)
        }
        time("max norm and step") {
            let mx = FieldOps.maxFinestVoxelNorm(grad.pointer, grid: grid)
            let sc = Float(-0.25 / max(mx, 1e-9))
            // The engine's step, added to a velocity (here the moving-gradient scratch, unused
            // after the chain-rule row).
            FieldOps.addScaled(grad.pointer, scale: sc, to: scratch3.pointer, count: 3 * n)
        }
        time("smooth field (sigma 0.5)") {
            FieldOps.smoothPhysical(u.pointer, grid: grid, sigma: 0.5, scratch: scratch.pointer)
        }
        print("voxterm bench kernels: \(s.x)x\(s.y)x\(s.z) grid, \(effectiveThreadCount) threads, medians over \(max(1, repeats)) runs")
        print("kernel                                 wall ms    CPU ms")
        var tw = 0.0, tc = 0.0
        for (name, w, c) in rows where name != "lncc value only" && !name.hasPrefix(" ") {
            tw += w; tc += c
        }
        for (name, w, c) in rows {
            print(name.padding(toLength: 36, withPad: " ", startingAt: 0) + String(format: "%10.2f%10.2f", w * 1000, c * 1000))
        }
        print("one iteration (all but value only)".padding(toLength: 36, withPad: " ", startingAt: 0)
              + String(format: "%10.2f%10.2f", tw * 1000, tc * 1000))
    }
}
