import ArgumentParser
import Foundation
import VoxtermModel

/// `voxterm register FIXED MOVING --out DIR`: affine and/or diffeomorphic registration.
struct Register: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register MOVING to FIXED (affine, then diffeomorphic deformable) and write the results to DIR.",
        discussion: """
        DIR receives warped.nii.gz, warped_labels.nii.gz (with --moving-labels), field.nii.gz and
        inverse_field.nii.gz (5-D ITK/ANTs displacement fields, LPS vectors, applied before the affine),
        affine.txt (4x4, RAS mm) and affine_itk.tfm (ITK AffineTransform_double_3_3, LPS), jacobian.nii.gz
        and summary.json. With ANTs: antsApplyTransforms -t field.nii.gz -t affine_itk.tfm.
        --levels/--iterations/--smoothing override the last stage of the plan (the deformable one in mode both).
        """)

    @Argument(help: "Fixed image (NIfTI); outputs live on its grid.") var fixed: String
    @Argument(help: "Moving image (NIfTI).") var moving: String
    @Option(help: "Output folder (created if missing).") var out: String
    @Option(help: "Labels on the moving image's grid, carried to the fixed grid.") var movingLabels: String?
    @Option(help: "Labels on the fixed image's grid, to score the result (Dice).") var fixedLabels: String?
    @Option(help: "affine, deformable or both (affine then deformable).") var mode: String = "both"
    @Option(help: "fast, default or accurate.") var preset: String = "default"
    @Option(help: "Shrink factors per level, coarse to fine, e.g. 4x2x1.") var levels: String?
    @Option(help: "Iterations per level, e.g. 100x50x25.") var iterations: String?
    @Option(help: "Smoothing sigmas per level in voxels of the fixed grid, e.g. 2x1x0.") var smoothing: String?
    @Option(help: "Similarity: lncc, ncc, mse or mi (Mattes mutual information, for different modalities). Default: lncc, or mi when the two images' intensities do not follow one increasing relation.") var metric: String?
    @Option(help: "Deformable regularisation, e.g. update=2,field=0.75,diffusion=0 (Gaussian sigmas in voxels; penalty weight).")
    var regularisation: String?
    @Option(help: "Initial affine, an ITK/ANTs transform file (fixed -> moving, LPS, e.g. a previous affine_itk.tfm); replaces the centre-of-mass start.")
    var initialAffine: String?
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Flag(help: "No progress line.") var quiet = false

    var plan: RegistrationPlan {
        get throws {
            guard let p = RegistrationPlan.Preset(rawValue: preset) else {
                throw ValidationError("--preset '\(preset)': expected fast, default or accurate")
            }
            guard let m = RegistrationPlan.Mode(rawValue: mode) else {
                throw ValidationError("--mode '\(mode)': expected affine, deformable or both")
            }
            var plan = RegistrationPlan.preset(p, mode: m)
            let last = plan.stages.count - 1
            if levels != nil || iterations != nil || smoothing != nil {
                let cur = plan.stages[last].levels
                let shrinkText = levels ?? cur.map { "\($0.shrink)" }.joined(separator: "x")
                let count = shrinkText.split(separator: "x").count
                let itText = iterations ?? (count == cur.count ? cur.map { "\($0.iterations)" }.joined(separator: "x")
                                            : Array(repeating: "50", count: count).joined(separator: "x"))
                switch PyramidLevel.parse(shrink: shrinkText, iterations: itText, smoothing: smoothing) {
                case .success(let l): plan.stages[last].levels = l
                case .failure(let e): throw ValidationError(e.description)
                }
            }
            if let metric {
                guard let k = MetricKind(rawValue: metric) else {
                    throw ValidationError("--metric '\(metric)': expected lncc, ncc, mse or mi")
                }
                for s in plan.stages.indices { plan.stages[s].metric = k }
            }
            if let regularisation {
                for s in plan.stages.indices where plan.stages[s].kind == .deformable {
                    plan.stages[s].regularisation = try Register.parseRegularisation(regularisation,
                                                                                     base: plan.stages[s].regularisation)
                }
            }
            return plan
        }
    }

    static func parseRegularisation(_ text: String, base: Regularisation) throws -> Regularisation {
        var r = base
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, let v = Double(kv[1]), v >= 0, v.isFinite else {
                throw ValidationError("--regularisation '\(text)': expected key=value pairs such as update=2,field=0.75,diffusion=0")
            }
            switch kv[0] {
            case "update", "fluid": r.updateSigma = v
            case "field", "elastic": r.fieldSigma = v
            case "diffusion": r.diffusionWeight = v
            default: throw ValidationError("--regularisation: unknown key '\(kv[0])' (update, field, diffusion)")
            }
        }
        return r
    }

    func validate() throws {
        _ = try plan
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        if let threads { voxtermThreadCount = threads }
        var plan = try self.plan
        let fixedVolume: Volume, movingVolume: Volume
        var movingLabelVolume: LabelVolume?, fixedLabelVolume: LabelVolume?
        var initial: VolumeCore.AffineTransform?
        do {
            if let initialAffine { initial = try ITKTransformFile.read(initialAffine) }
            fixedVolume = try NIfTIReader.read(fixed).volume()
            movingVolume = try NIfTIReader.read(moving).volume()
            if let movingLabels {
                movingLabelVolume = try Register.readLabels(movingLabels, matching: movingVolume.geometry, imagePath: moving)
            }
            if let fixedLabels {
                fixedLabelVolume = try Register.readLabels(fixedLabels, matching: fixedVolume.geometry, imagePath: fixed)
            }
            try createOutputFolder(out)
        } catch {
            printError(error)
            throw ExitCode(ExitCodes.badInput)
        }

        // Ctrl-C (or SIGTERM) cancels the registration; nothing is written before it finishes.
        let signals = SignalCancellation()
        defer { signals.stop() }
        let token = signals.token

        if metric == nil, let reason = Registration.modalitiesDiffer(fixed: fixedVolume, moving: movingVolume) {
            for s in plan.stages.indices { plan.stages[s].metric = .mi }
            if !quiet { fputs("voxterm: \(reason): using mutual information (--metric mi)\n", stderr) }
        }
        let line = ProgressLine(enabled: !quiet, metrics: plan.stages.map(\.metric))
        let result: RegistrationResult
        do {
            result = try Registration.register(fixed: fixedVolume, moving: movingVolume, plan: plan,
                                               initialAffine: initial, token: token) { event in
                if case .iteration(let p) = event { line.show(p) }
            }
            line.finish()
        } catch RegistrationError.cancelled {
            line.finish()
            fputs("voxterm: interrupted; nothing was written to \(out)\n", stderr)
            throw ExitCode(ExitCodes.interrupted)
        } catch let e as RegistrationError {
            line.finish()
            switch e {
            case .unusableImage(let role, let reason):
                fputs("voxterm: error: \(role == "fixed" ? fixed : moving): \(reason)\n", stderr)
            default:
                fputs("voxterm: error: \(fixed), \(moving): \(e)\n", stderr)
            }
            throw ExitCode(ExitCodes.badInput)
        }

        let outputs = RegistrationOutputs(result: result, fixed: fixedVolume, moving: movingVolume,
                                          movingLabels: movingLabelVolume, fixedLabels: fixedLabelVolume,
                                          metric: plan.stages.last!.metric)
        // A signal during the final warps still means: write nothing. (Once writing starts it
        // finishes; each file is atomic.)
        if token.isCancelled {
            fputs("voxterm: interrupted; nothing was written to \(out)\n", stderr)
            throw ExitCode(ExitCodes.interrupted)
        }
        do {
            try outputs.write(to: out, sources: RegistrationSources(fixed: fixed, moving: moving, movingLabels: movingLabels,
                                                                    fixedLabels: fixedLabels, initialAffine: initialAffine))
        } catch {
            printError(error)
            throw ExitCode(ExitCodes.writeFailed)
        }
        if !quiet {
            var msg = "voxterm: registered in \(String(format: "%.2f", result.stages.reduce(0) { $0 + $1.seconds })) s"
            if let d = outputs.dice { msg += ", mean Dice \(String(format: "%.3f", meanDice(d)))" }
            msg += ", \(String(format: "%.4f", outputs.foldingPercent)) % Jacobian ≤ 0; results in \(out)"
            fputs(msg + "\n", stderr)
        }
    }

    /// Reads a label map and checks it lies on its image's grid.
    static func readLabels(_ path: String, matching g: VolumeGeometry, imagePath: String) throws -> LabelVolume {
        let labels = try NIfTIReader.read(path).labelVolume()
        let lg = labels.geometry
        guard lg.size == g.size, lg.affine.maxDifference(to: g.affine) < 1e-3 * max(1, g.spacing.max()) else {
            throw FileError(path: path, reason: "labels are on grid \(lg.size.x)x\(lg.size.y)x\(lg.size.z) (\(lg.orientation)) but \(imagePath) is on \(g.size.x)x\(g.size.y)x\(g.size.z) (\(g.orientation)) with a different affine; labels must share their image's grid")
        }
        return labels
    }
}

/// One self-overwriting progress line on stderr, at most ten updates a second.
final class ProgressLine: @unchecked Sendable {
    let enabled: Bool
    /// The metric of each stage, named on the line.
    let metrics: [MetricKind]
    var last = 0.0
    var shown = false

    init(enabled: Bool, metrics: [MetricKind] = []) { self.enabled = enabled; self.metrics = metrics }

    func show(_ p: RegistrationProgress) {
        guard enabled else { return }
        let t = now()
        guard t - last >= 0.1 else { return }
        last = t
        shown = true
        let metric = p.stage < metrics.count ? " \(metrics[p.stage].rawValue)" : ""
        let text = String(format: "\r%@%@ level %d/%d (shrink %d) iteration %d  value %.5f  %.1f s   ",
                          p.stageName, metric, p.level + 1, p.levelCount, p.shrink, p.iteration, p.value, p.elapsed)
        fputs(text, stderr)
    }

    func finish() { if shown { fputs("\n", stderr); shown = false } }
}
