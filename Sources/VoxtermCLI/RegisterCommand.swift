import ArgumentParser
import Foundation
import VoxtermModel

/// `voxterm register FIXED MOVING --out DIR`: affine and/or diffeomorphic registration.
struct Register: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register MOVING to FIXED (affine, then diffeomorphic deformable) and write the results to DIR.",
        discussion: """
        DIR receives warped.nii.gz, warped_labels.nii.gz (with --moving-labels), field.nii.gz and \
        inverse_field.nii.gz (5-D ITK/ANTs displacement fields, LPS vectors, applied before the affine), \
        affine.txt (4x4, RAS mm) and affine_itk.tfm (ITK AffineTransform_double_3_3, LPS), jacobian.nii.gz \
        and summary.json. With ANTs: antsApplyTransforms -t field.nii.gz -t affine_itk.tfm.

        --levels/--iterations/--smoothing override the last stage of the plan (the deformable one in mode both). \
        --levels runs exactly the levels given, on every image. --iterations or --smoothing without --levels \
        give one value per level of the preset's stage as planned (default: deformable 4x2x1, affine 4x2), \
        and the preset's rules for the image still apply to them: affine levels coarsened on large images \
        (8x4 on a 1 mm brain) and, default preset on 2-D images, levels under 32 pixels across skipped and \
        at least 20 full-resolution iterations; default preset on a 1 mm brain (full-resolution field kept at 2 mm), \
        at least 8 full-resolution iterations. Giving the preset's own values changes nothing.
        """ + "\n\n" + dashNamesHelp)

    @Argument(help: "Fixed image (NIfTI); outputs live on its grid.") var fixed: String
    @Argument(help: "Moving image (NIfTI).") var moving: String
    @Option(help: "Output folder (created if missing).") var out: String
    @Option(help: "Labels on the moving image's grid, carried to the fixed grid.") var movingLabels: String?
    @Option(help: "Labels on the fixed image's grid, to score the result (Dice).") var fixedLabels: String?
    @OptionGroup var registration: RegistrationOptions
    @OptionGroup var labels: LabelInterpolationOption
    @Option(help: "Initial affine, an ITK/ANTs transform file (fixed -> moving, LPS, e.g. a previous affine_itk.tfm); replaces the centre-of-mass start.")
    var initialAffine: String?
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Flag(help: "No progress line.") var quiet = false
    @Flag(help: "Replace the files of an earlier run in DIR (all at once; DIR may hold nothing else).") var force = false
    @Flag(help: "Print where the time went, phase by phase (wall-clock and CPU seconds), to standard error.") var timings = false

    /// The input paths, as given.
    var sources: RegistrationSources {
        RegistrationSources(fixed: fixed, moving: moving, movingLabels: movingLabels, fixedLabels: fixedLabels,
                            initialAffine: initialAffine)
    }

    var plan: RegistrationPlan { get throws { try registration.plan } }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        if let threads { voxtermThreadCount = threads }
        let phases = timings ? PhaseTimes() : nil
        var plan = try self.plan
        // Ctrl-C (or SIGTERM) cancels the registration; while loading, the watchdog stops the
        // process within a second; nothing is written before the registration finishes.
        let signals = SignalCancellation()
        defer { signals.stop() }
        let token = signals.token
        let fixedVolume: Volume, movingVolume: Volume
        var movingLabelVolume: LabelVolume?, fixedLabelVolume: LabelVolume?
        var initial: VolumeCore.AffineTransform?
        do {
            let named: [(option: String, path: String)] = [("FIXED", fixed), ("MOVING", moving)]
                + [movingLabels.map { ("--moving-labels", $0) }, fixedLabels.map { ("--fixed-labels", $0) },
                   initialAffine.map { ("--initial-affine", $0) }].compactMap { $0 }
            try Preflight(inputs: named).check()
            if let initialAffine { initial = try ITKTransformFile.read(initialAffine) }
            phases?.lap("preflight")
            // The two images are read at once, one per thread; errors are reported in argument order.
            let images = Register.readConcurrently([fixed, moving]) { try ImageFile.read($0).volume() }
            fixedVolume = try images[0].get()
            movingVolume = try images[1].get()
            phases?.lap("read images")
            if let movingLabels {
                movingLabelVolume = try Register.readLabels(movingLabels, matching: movingVolume.geometry, imagePath: moving)
            }
            if let fixedLabels {
                fixedLabelVolume = try Register.readLabels(fixedLabels, matching: fixedVolume.geometry, imagePath: fixed)
            }
            phases?.lap("read labels")
        } catch {
            throw ExitCodes.fail(error)
        }
        do {
            // DIR is checked now and written at the end as one set (nothing of it exists before).
            try writingOutputs {
                let protected = NIfTIWriter.Options(protectedPaths: sources.paths, overwrite: true).protectingDataFiles()
                for name in RegistrationOutputs.fileNames {
                    try ImageFile.checkDestination((out as NSString).appendingPathComponent(name), options: protected)
                }
                try OutputFolder.check(out, overwrite: force, setNames: Set(RegistrationOutputs.fileNames))
            }
        } catch {
            throw ExitCodes.fail(error)
        }
        phases?.lap("check output folder")

        // The automatic metric's check and the registration share the rescaled images and the
        // coarse pyramid level (`PreparedPair`). Unusable images are left to the registration's error.
        var prepared: PreparedPair?
        if registration.metric == nil, (try? Registration.checkRegistrable(fixedVolume, path: fixed)) != nil,
           (try? Registration.checkRegistrable(movingVolume, path: moving)) != nil {
            let pair = PreparedPair(fixed: fixedVolume, moving: movingVolume)
            prepared = pair
            if let reason = Registration.modalitiesDiffer(pair, token: token) {
                for s in plan.stages.indices { plan.stages[s].metric = .mi }
                if !quiet { standardError.write("voxterm: \(reason): using mutual information (--metric mi)\n") }
            }
        }
        phases?.lap("modality check")
        let line = ProgressLine(enabled: !quiet, metrics: plan.stages.map(\.metric))
        let result: RegistrationResult
        do {
            result = try Registration.register(fixed: fixedVolume, moving: movingVolume, plan: plan,
                                               initialAffine: initial, prepared: prepared, token: token) { event in
                if case .iteration(let p) = event { line.show(p) }
            }
            line.finish()
            if let phases {
                phases.lap("registration")
                // Within it (wall only): the stages, and the rest of the call (set-up, final fields).
                var rest = phases.phases.last!.wall
                for s in result.stages {
                    phases.note("  stage \(s.name)", wall: s.seconds)
                    rest -= s.seconds
                }
                phases.note("  set-up and final fields", wall: rest)
            }
        } catch RegistrationError.cancelled {
            line.finish()
            standardError.write("voxterm: interrupted; nothing was written to \(out)\n")
            throw ExitCode(ExitCodes.interrupted)
        } catch let e as RegistrationError {
            line.finish()
            switch e {
            case .unusableImage(let role, let reason):
                standardError.write("voxterm: error: \(role == "fixed" ? fixed : moving): \(reason)\n")
            default:
                standardError.write("voxterm: error: \(fixed), \(moving): \(e)\n")
            }
            throw ExitCode(ExitCodes.badInput)
        }

        let outputs = RegistrationOutputs(result: result, fixed: fixedVolume, moving: movingVolume,
                                          movingLabels: movingLabelVolume, fixedLabels: fixedLabelVolume,
                                          metric: plan.stages.last!.metric,
                                          labelInterpolation: labels.labelInterpolation, timings: phases)
        // A signal during the final warps still means: write nothing. (Once writing starts it
        // finishes; each file is atomic.)
        if token.isCancelled {
            standardError.write("voxterm: interrupted; nothing was written to \(out)\n")
            throw ExitCode(ExitCodes.interrupted)
        }
        do {
            try signals.writing { try writingOutputs { _ = try outputs.write(to: out, sources: sources, overwrite: force, timings: phases) } }
        } catch {
            throw ExitCodes.fail(error)
        }
        if !quiet {
            var msg = "voxterm: registered in \(String(format: "%.2f", result.stages.reduce(0) { $0 + $1.seconds })) s"
            if let d = outputs.dice { msg += ", mean Dice \(String(format: "%.3f", meanDice(d)))" }
            msg += ", \(String(format: "%.4f", outputs.foldingPercent)) % Jacobian ≤ 0; results in \(out)"
            standardError.write(msg + "\n")
        }
        if let phases { standardError.write(Register.report(phases)) }
    }

    /// The `--timings` table: one line per phase (wall-clock and CPU seconds), then the total.
    static func report(_ t: PhaseTimes) -> String {
        let width = max(28, t.phases.map(\.name.count).max() ?? 0)
        func row(_ name: String, _ wall: Double, _ cpu: Double) -> String {
            name.padding(toLength: width, withPad: " ", startingAt: 0)
                + String(format: " %7.2f", wall) + (cpu.isNaN ? "" : String(format: " %7.2f", cpu)) + "\n"
        }
        var out = "voxterm: phases".padding(toLength: width, withPad: " ", startingAt: 0) + "  wall s   CPU s\n"
        for p in t.phases { out += row(p.name, p.wall, p.cpu) }
        let total = t.total
        return out + row("total (from the start of run)", total.wall, total.cpu)
    }

    /// `read` of every path, all at once, one thread each (in order with `--threads 1`); each
    /// read's own parallel loops get an equal share of the threads (`runSharingThreads`).
    static func readConcurrently<T>(_ paths: [String], _ read: (String) throws -> T) -> [Result<T, Error>] {
        var out = [Result<T, Error>?](repeating: nil, count: paths.count)
        out.withUnsafeMutableBufferPointer { o in
            runSharingThreads(paths.count) { i in o[i] = Result { try read(paths[i]) } }
        }
        return out.map { $0! }
    }

    /// Reads a label map and checks it lies on its image's grid.
    static func readLabels(_ path: String, matching g: VolumeGeometry, imagePath: String) throws -> LabelVolume {
        let labels = try ImageFile.read(path).labelVolume()
        let lg = labels.geometry
        guard lg.size == g.size, lg.affine.maxDifference(to: g.affine) < 1e-3 * max(1, g.spacing.max()) else {
            throw FileError(path: path, reason: "labels are on grid \(lg.size.x)x\(lg.size.y)x\(lg.size.z) (\(lg.orientation)) but \(imagePath) is on \(g.size.x)x\(g.size.y)x\(g.size.z) (\(g.orientation)) with a different affine; labels must share their image's grid")
        }
        return labels
    }
}
