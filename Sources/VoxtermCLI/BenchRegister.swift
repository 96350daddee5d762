import ArgumentParser
import Foundation
import VoxtermModel

/// `voxterm bench register MANIFEST`: voxterm's registration on every pair of a bench manifest
/// (`make_pairs.py` format), scored like `run_anchors.py`.
struct BenchRegister: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register every pair of a bench manifest; print Dice, %negJ, EPE, seconds and peak memory per table.")

    @Argument(help: "manifest.json written by make_pairs.py (paths relative to it).") var manifest: String
    @Option(help: "Only pairs of these tables (e.g. \"3D 2 mm\"); repeatable.") var table: [String] = []
    @Option(help: "At most this many pairs per table.") var maxPairs: Int?
    @OptionGroup var registration: RegistrationOptions
    @OptionGroup var labels: LabelInterpolationOption
    @Option(help: "Write per-pair records as JSON to this file (never over the manifest or a pair's file; an existing file needs --force).") var json: String?
    @Flag(help: "Replace an existing --json file.") var force = false
    @Option(help: "Worker threads (default: all cores).") var threads: Int?

    struct Record {
        var id: String, table: String
        /// The levels as run on this pair's fixed grid (`BenchRegister.levelsAsRun`).
        var levels: String
        var dice: Double, medianDice: Double, negJ: Double, minJ: Double
        var epe: Double?, epe95: Double?, seconds: Double, peakMB: Double
        var json: [String: Any] {
            var d: [String: Any] = ["id": id, "table": table, "dice": dice, "median_label_dice": medianDice,
                                    "negj_percent": negJ, "min_detj": minJ, "seconds": seconds, "peak_mb": peakMB,
                                    "levels": levels]
            if let epe { d["epe_mm"] = epe }
            if let epe95 { d["epe95_mm"] = epe95 }
            return d
        }
    }

    /// The levels `plan` runs on fixed grid `g`, stage by stage (`RegistrationStage.levelsAsRun(on:)`),
    /// as shrink/iterations: "affine 4/100 2/50; deformable 2/30 1/20" (a 2 mm 2-D slice, default preset).
    static func levelsAsRun(_ plan: RegistrationPlan, on g: VolumeGeometry) -> String {
        plan.stages.map { stage in
            "\(stage.name) " + stage.levelsAsRun(on: g).map { "\($0.shrink)/\($0.iterations)" }.joined(separator: " ")
        }.joined(separator: "; ")
    }

    func run() throws {
        if let threads { voxtermThreadCount = max(1, threads) }
        let plan = try registration.plan
        let root = (manifest as NSString).deletingLastPathComponent
        guard let data = FileManager.default.contents(atPath: manifest),
              let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let pairs = doc["pairs"] as? [[String: Any]] else {
            standardError.write("voxterm: error: \(manifest): not a bench manifest (JSON with a \"pairs\" list)\n")
            throw ExitCode(ExitCodes.badInput)
        }
        // --json is checked before any pair runs: never the manifest or a pair's file, and an
        // existing file only with --force (it was replaced after every pair had run, whatever it was).
        if let json {
            let files = pairs.flatMap { pair in ["fixed_image", "moving_image", "fixed_labels", "moving_labels", "fixed_mask"].compactMap { k in
                (pair[k] as? String).map { $0.hasPrefix("/") ? $0 : (root as NSString).appendingPathComponent($0) } } }
            do {
                try Preflight(inputs: [("MANIFEST", manifest)] + files.map { ("a pair's file", $0) }, outputs: [("--json", json)], force: force).check()
            } catch { throw ExitCodes.fail(error) }
        }
        // Every pair names its four files (a missing one used to crash on a force-unwrap).
        for (n, pair) in pairs.enumerated() {
            for k in ["fixed_image", "moving_image", "fixed_labels", "moving_labels"] where !(pair[k] is String) {
                standardError.write("voxterm: error: \(manifest): pair \(n + 1) (\(pair["id"] as? String ?? "no id")) has no \(k)\n")
                throw ExitCode(ExitCodes.badInput)
            }
        }
        var perTable: [String: Int] = [:]
        var records: [Record] = []
        for pair in pairs {
            let t = pair["table"] as? String ?? "?"
            if !table.isEmpty && !table.contains(t) { continue }
            if let maxPairs, perTable[t, default: 0] >= maxPairs { continue }
            perTable[t, default: 0] += 1
            func path(_ k: String) -> String? {
                (pair[k] as? String).map { $0.hasPrefix("/") ? $0 : (root as NSString).appendingPathComponent($0) }
            }
            // Each pair's peak memory is its own (loading, registration, scoring), not the
            // largest of the pairs before it.
            let perPairPeak = resetPeakMemory()
            do {
                let fixed = try ImageFile.read(path("fixed_image")!).volume()
                let moving = try ImageFile.read(path("moving_image")!).volume()
                let fixedLabels = try ImageFile.read(path("fixed_labels")!).labelVolume()
                let movingLabels = try ImageFile.read(path("moving_labels")!).labelVolume()
                let mask = try path("fixed_mask").map { try ImageFile.read($0).labelVolume() }
                let t0 = monotonicSeconds()
                let result = try Registration.register(fixed: fixed, moving: moving, plan: plan)
                let secs = monotonicSeconds() - t0
                let warped = result.warp(movingLabels, interpolation: labels.labelInterpolation)
                let dice = diceScores(prediction: warped, truth: fixedLabels)
                let sorted = dice.values.sorted()
                let med = sorted.isEmpty ? .nan : (sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                                                   : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2)
                let jac = result.jacobian
                let negJ = 100 * foldingFraction(jac, mask: mask)
                var minJ = Double.infinity
                for i in jac.voxels.indices where mask == nil || mask!.labels[i] != 0 { minJ = min(minJ, Double(jac.voxels[i])) }
                var epe: Double?, epe95: Double?
                if let tp = path("true_displacement") {
                    let truth = try ImageFile.read(tp).vectorField(convention: .ras)
                    let est = result.totalDisplacement
                    let n = truth.geometry.voxelCount
                    var errs: [Double] = []
                    for i in 0..<n where mask == nil || mask!.labels[i] != 0 {
                        let d = est.vector(at: i) - truth.vector(at: i)
                        errs.append(Double((d * d).sum().squareRoot()))
                    }
                    errs.sort()
                    epe = errs.reduce(0, +) / Double(max(errs.count, 1))
                    epe95 = errs.isEmpty ? nil : errs[min(errs.count - 1, Int(0.95 * Double(errs.count)))]
                }
                let r = Record(id: pair["id"] as? String ?? "?", table: t, levels: Self.levelsAsRun(plan, on: fixed.geometry),
                               dice: meanDice(dice), medianDice: med,
                               negJ: negJ, minJ: minJ, epe: epe, epe95: epe95, seconds: secs,
                               peakMB: peakMemoryMB() ?? .nan)
                records.append(r)
                print(String(format: "%@  Dice %.3f  median %.3f  %%negJ %.4f  min detJ %.2f  EPE %@  %.2f s  peak %.0f MB%@",
                             r.id, r.dice, r.medianDice, r.negJ, r.minJ, r.epe.map { String(format: "%.2f", $0) } ?? "–", r.seconds,
                             r.peakMB, perPairPeak ? "" : " (process peak so far)"))
                StandardOutput.flush()
            } catch {
                printError(error)
            }
        }
        print("\nvoxterm \(registration.preset.rawValue) (\(registration.mode.rawValue)), \(voxtermThreadCount) threads")
        // The levels each table ran (the plan resolved for its fixed grids: the affine level
        // budget, the 2-D settings), not the levels planned.
        var order: [String] = []
        for r in records where !order.contains(r.table) { order.append(r.table) }
        print("levels as run (shrink/iterations):")
        for t in order {
            var variants: [String] = []
            for r in records where r.table == t && !variants.contains(r.levels) { variants.append(r.levels) }
            print("  \(t): \(variants.joined(separator: " | "))")
        }
        print("")
        print("| table | n | Dice | median-label Dice | %negJ | min detJ | EPE mm | s (median) | peak MB (max over pairs; each pair's own peak RSS: loading, registering, scoring) |")
        print("|---|---|---|---|---|---|---|---|---|")
        for t in order {
            let rs = records.filter { $0.table == t }
            let d = rs.map(\.dice)
            let mean = d.reduce(0, +) / Double(d.count)
            let sd = (d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(d.count - 1, 1))).squareRoot()
            let epes = rs.compactMap(\.epe)
            print(String(format: "| %@ | %d | %.3f ± %.3f | %.3f | %.4f | %.2f | %@ | %.2f | %.0f |", t, rs.count, mean, sd,
                         rs.map(\.medianDice).reduce(0, +) / Double(rs.count), rs.map(\.negJ).reduce(0, +) / Double(rs.count),
                         rs.map(\.minJ).min() ?? .nan,
                         epes.isEmpty ? "–" : String(format: "%.2f", epes.reduce(0, +) / Double(epes.count)),
                         median(rs.map(\.seconds)), rs.map(\.peakMB).max() ?? .nan))
        }
        if let json {
            let data = try JSONSerialization.data(withJSONObject: records.map(\.json), options: [.prettyPrinted, .sortedKeys])
            do { try FileIO.writeAtomically(json, Array(data), exclusive: !force) } catch { throw ExitCodes.fail(WriteFailure(underlying: error)) }
        }
    }
}
