import ArgumentParser
import Foundation
import VoxtermModel

/// `voxterm segment`: few-shot segmentation from a support set, or slice propagation in one volume.
struct Segment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Segment a query image from labelled support examples, or fill unlabelled slices of one volume.",
        discussion: """
        Across volumes:  voxterm segment QUERY --support IMG:LABELS [--support ...] --out pred.nii.gz
                         voxterm segment QUERY --support-set set.json --out pred.nii.gz
        Within a volume: voxterm segment VOLUME --labels PARTIAL.nii.gz --labelled-slices axial:20,30,40 --out pred.nii.gz
        Each support is registered to the query (affine + diffeomorphic) and its labels are fused.
        """ + "\n\n" + dashNamesHelp)

    @Argument(help: "The image to segment (NIfTI).") var query: String
    @Option(name: .customLong("support"), help: "A support example IMAGE:LABELS, split at the last ':' (repeatable).")
    var supports: [SupportArgument] = []
    @Option(name: .customLong("support-set"), help: "A support-set manifest (JSON).") var supportSet: String?
    @Option(help: "Where to write the predicted labels (.nii, .nii.gz; .mgz, .nrrd, .mha also work).") var out: String
    @Option(help: "Label fusion: majority or weighted (locally weighted vote; the default across volumes). Slice propagation defaults to majority.")
    var fusion: FusionMethod?
    @Option(help: "Structures to segment (comma-separated names or numbers from the label table); with --labelled-slices, the partial label map.")
    var labels: String?
    @Option(name: .customLong("label-table"), help: "Label names (AAL text, ITK-SNAP or FreeSurfer table) for --labels names.")
    var labelTable: String?
    @Option(name: .customLong("labelled-slices"), help: "Slice propagation: the labelled slices, e.g. axial:20,30,40.")
    var labelledSlices: String?
    @Option(name: .customLong("slice-path"), help: "Slice propagation: chained (register neighbouring slices and compose) or direct.")
    var slicePath: SlicePath = SlicePropagator.standard.path
    @Option(name: .customLong("slice-method"), help: "Slice propagation: fused (image and shape evidence), shape (signed-distance interpolation) or registration.")
    var sliceMethod: SliceFillMethod = SlicePropagator.standard.method
    @Flag(help: "Slice propagation: also fill slices before the first and after the last labelled slice (low confidence).")
    var extrapolate = false
    @Option(name: .customLong("registration-weight"),
            help: ArgumentHelp("Slice propagation, fused: share of the image (registered) evidence against the shape evidence, 0...1 (0 = the shape evidence alone, as --slice-method shape; default: automatic, \(SlicePropagator.automaticRegistrationWeightText)). Labels whose borders are intensity edges (tissue classes) do better near 1; parcels whose borders the image does not show, at the default."))
    var registrationWeight: Float?
    @Option(help: "Truth labels: print per-label and mean Dice.") var truth: String?
    @Option(help: "Also write the per-voxel confidence (agreement of the supports) here.") var confidence: String?
    @OptionGroup var presetOption: PresetOption
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Option(name: .customLong("save-support-set"), help: "Also save the support examples as a manifest (JSON) here.")
    var saveSupportSet: String?
    @Flag(help: "Replace existing output files.") var force = false
    @Flag(help: "No progress line on stderr.") var quiet = false

    func validate() throws {
        if labelledSlices != nil {
            guard labels != nil else { throw ValidationError("--labelled-slices needs --labels PARTIAL.nii.gz (the labels of those slices)") }
            guard supports.isEmpty && supportSet == nil else { throw ValidationError("--labelled-slices works within one volume: do not also give --support or --support-set") }
        } else {
            guard !supports.isEmpty || supportSet != nil else { throw ValidationError("give --support IMG:LABELS (one or more) or --support-set set.json") }
        }
        if extrapolate && labelledSlices == nil { throw ValidationError("--extrapolate fills slices outside the labelled range: it needs --labelled-slices") }
        if let w = registrationWeight {
            guard labelledSlices != nil else { throw ValidationError("--registration-weight weighs the slice filler's evidence: it needs --labelled-slices") }
            guard sliceMethod == .fused else { throw ValidationError("--registration-weight applies to --slice-method fused (the default) only") }
            guard SlicePropagator.registrationWeights.contains(w) else { throw ValidationError("--registration-weight \(w): expected a number in 0...1") }
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        // Label names need a table; the table itself is a file, read in run() (exit 2 when bad).
        if labelledSlices == nil, labelTable == nil, let item = labelItems.first(where: { Int32($0) == nil }) {
            throw ValidationError("--labels \(item): give label numbers, or names with --label-table")
        }
    }

    func run() throws {
        if let threads { voxtermThreadCount = threads }
        let cancel = SignalCancellation()
        defer { cancel.stop() }
        let progress = ProgressLine(enabled: !quiet)
        do {
            // Every named input and every destination is checked before any work (issue 13).
            var named: [(option: String, path: String)] = [("QUERY", query)]
            named += supports.flatMap { [("--support", $0.image), ("--support", $0.labels)] }
            if let supportSet { named.append(("--support-set", supportSet)) }
            if labelledSlices != nil, let labels { named.append(("--labels", labels)) }
            if let labelTable { named.append(("--label-table", labelTable)) }
            if let truth { named.append(("--truth", truth)) }
            let outputs: [(option: String, path: String)] = [("--out", out)]
                + [confidence.map { ("--confidence", $0) }, saveSupportSet.map { ("--save-support-set", $0) }].compactMap { $0 }
            try Preflight(inputs: named, outputs: outputs, force: force).check()
            let subset = try labelSubset()
            let queryImage = try ImageFile.read(query)
            let volume = try queryImage.volume()
            try Registration.checkRegistrable(volume, path: query)
            // Every named input is read before the work (the truth too), so a bad one never
            // costs a registration or comes up after the outputs were written.
            let truthLabels = try truth.map { try ImageFile.read($0).labelVolume() }
            if let truth, let t = truthLabels, t.geometry.size != volume.geometry.size {
                throw SegmentationError.invalidInput("\(truth): truth is not on the query's grid")
            }
            // (Preflight above refused outputs over a named input or an existing file without --force.)
            var inputs = [query]
            let prediction: Prediction
            var setToSave: (SupportSet, String)?
            let start = monotonicSeconds()
            var rangeNote: String?
            if let labelledSlices {
                let selection = try SliceSelection(parsing: labelledSlices)
                let partialPath = labels!
                inputs.append(partialPath)
                let partial = try ImageFile.read(partialPath).labelVolume()
                guard partial.geometry.size == volume.geometry.size else {
                    throw SegmentationError.invalidInput("\(partialPath): labels are \(partial.geometry.size), the image \(volume.geometry.size): not the same grid")
                }
                // The standard filler (the one the workbench uses and the bench measures), options applied.
                var propagator = SlicePropagator.standard
                propagator.path = slicePath; propagator.method = sliceMethod
                if let fusion { propagator.fusion = fusion }
                if extrapolate { propagator.extrapolate = true }
                if let registrationWeight { propagator.registrationWeight = registrationWeight }
                prediction = try propagator.predict(volume: volume, labels: partial, selection: selection,
                                                    progress: { progress.show($0) }, isCancelled: { cancel.isCancelled })
                let count = volume.geometry.size[selection.plane.axis]
                let labelled = selection.indices.filter { $0 < count }
                let outside = SlicePropagator.slicesOutsideRange(labelled: labelled, count: count)
                if !outside.isEmpty {
                    let range = "\(labelled.first!)..\(labelled.last!)"
                    let slices = "\(outside.count) \(selection.plane.rawValue) slice\(outside.count == 1 ? "" : "s")"
                    rangeNote = extrapolate
                        ? "\(slices) outside the labelled range \(range) extrapolated from the nearest labelled slice (confidence at most 0.5)"
                        : "\(slices) outside the labelled range \(range) left empty (--extrapolate fills them, with low confidence)"
                }
            } else {
                var set = SupportSet()
                if let supportSet { set = try SupportSet.load(supportSet); inputs.append(supportSet) }
                set.examples += supports.map { SupportExample(image: $0.image, labels: $0.labels) }
                guard !set.examples.isEmpty else {
                    throw SegmentationError.manifest(supportSet ?? "--support", "lists no examples; add at least one image with its labels")
                }
                try set.validate(manifestPath: supportSet ?? "--support")
                if let saveSupportSet {
                    // Checked now, written with the other outputs (so Ctrl-C leaves nothing behind).
                    try writingOutputs { try ImageFile.checkDestination(saveSupportSet, options: NIfTIWriter.Options(protectedPaths: [query] + set.examples.flatMap { [$0.image, $0.labels] } + [supportSet].compactMap { $0 }, overwrite: force)) }
                    setToSave = (set, saveSupportSet)
                }
                inputs += set.examples.flatMap { [$0.image, $0.labels] }
                let loaded = try set.loadedSupports()
                // NaN or constant support images are named before any registration.
                for (ex, l) in zip(set.examples, loaded) { try Registration.checkRegistrable(l.image, path: ex.image) }
                let predictor = RegistrationPropagationPredictor(
                    aligner: EngineAligner.volumes(presetOption.preset).cancelled(by: cancel.token),
                    fusion: FusionOptions(method: fusion ?? .weighted, labelSubset: subset), concurrentSupports: true)
                prediction = try predictor.predict(query: volume, supports: loaded, progress: { progress.show($0) },
                                                   isCancelled: { cancel.isCancelled })
            }
            progress.finish()
            // A signal that arrived after the last check still means: write nothing.
            if cancel.isCancelled { throw SegmentationError.cancelled }
            // All outputs appear together (an output set), or none: created exclusively without --force.
            let outputSet = OutputSet(overwrite: force)
            let options = NIfTIWriter.Options(protectedPaths: inputs + [truth].compactMap { $0 }, overwrite: force, set: outputSet).protectingDataFiles()
            try cancel.writing { try writingOutputs {
                try ImageFile.write(prediction.labels, to: out, options: options)
                if let confidence { try ImageFile.write(prediction.confidence, to: confidence, options: options) }
                if let (set, path) = setToSave { try set.save(path, in: outputSet) }
                if cancel.isCancelled { throw SegmentationError.cancelled }
                try outputSet.commit()
            } }
            print("wrote \(out) (\(prediction.labels.presentLabels.count) labels) in \(String(format: "%.1f", monotonicSeconds() - start)) s")
            if let rangeNote { print(rangeNote) }
            if let t = truthLabels {
                let scores = predictionDice(prediction.labels, truth: t,
                                            supportSlices: try labelledSlices.map { try SliceSelection(parsing: $0) },
                                            labelSubset: subset)
                for (l, d) in scores.sorted(by: { $0.key < $1.key }) { print("dice label \(l): \(String(format: "%.4f", d))") }
                print("mean dice: \(String(format: "%.4f", meanDice(scores))) over \(scores.count) labels")
            }
        } catch SegmentationError.cancelled {
            progress.finish()
            standardError.write("voxterm: interrupted; nothing was written\n")
            throw ExitCode(ExitCodes.interrupted)
        } catch let e as ValidationError {
            throw e
        } catch {
            progress.finish()
            throw ExitCodes.fail(error)
        }
    }

    /// The words of `--labels` (across volumes: label names or numbers).
    var labelItems: [String] {
        guard labelledSlices == nil, let labels else { return [] }
        return labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The label numbers `--labels` names, or nil for all; reads `--label-table` (once per run).
    func labelSubset() throws -> Set<Int32>? {
        guard labelledSlices == nil, labels != nil else { return nil }
        var out = Set<Int32>()
        let table = try labelTable.map { try LabelTable.read($0) }
        for item in labelItems {
            if let n = Int32(item) { out.insert(n); continue }
            guard let table else { throw ValidationError("--labels \(item): give label numbers, or names with --label-table") }
            let (values, unknown) = table.values(named: [item])
            guard unknown.isEmpty, !values.isEmpty else { throw ValidationError("--labels: no label named \(item) in \(labelTable!)") }
            out.formUnion(values)
        }
        return out
    }
}
