import ArgumentParser
import VoxtermModel
import SliceRendering
import Terminal

// Shared option groups and typed arguments (swift-argument-parser's `@OptionGroup` and
// `ExpressibleByArgument`): a value is checked once, when the command line is parsed.

extension RegistrationPlan.Preset: ExpressibleByArgument {}
extension RegistrationPlan.Mode: ExpressibleByArgument {}
extension MetricKind: ExpressibleByArgument {}
extension FusionMethod: ExpressibleByArgument {}
extension SlicePath: ExpressibleByArgument {}
extension SliceFillMethod: ExpressibleByArgument {}
extension SlicePlane: ExpressibleByArgument {}
extension ColorDepth: ExpressibleByArgument {
    /// Case-insensitive: `TrueColor` and `MONO` work as the environment variable always did.
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

/// `--preset`: the registration preset (register, bench register, segment, view, bench tui).
struct PresetOption: ParsableArguments {
    @Option(help: "Registration preset: fast, default or accurate.")
    var preset: RegistrationPlan.Preset = .default
}

/// The registration plan options of `register` and `bench register`: a preset and mode, with the
/// last stage's levels, iterations and smoothing, the metric and the regularisation overridable.
struct RegistrationOptions: ParsableArguments {
    @OptionGroup var presetOption: PresetOption
    @Option(help: "affine, deformable or both (affine then deformable).") var mode: RegistrationPlan.Mode = .both
    @Option(help: "Shrink factors per level, coarse to fine, e.g. 4x2x1.") var levels: String?
    @Option(help: "Iterations per level, e.g. 100x50x25.") var iterations: String?
    @Option(help: "Smoothing sigmas per level in voxels of the fixed grid, e.g. 2x1x0.") var smoothing: String?
    @Option(help: "Similarity: lncc, ncc, mse or mi (Mattes mutual information, for two modalities). Default: lncc; register picks mi when the two images' intensities correlate negatively.") var metric: MetricKind?
    @Option(help: "Deformable regularisation, e.g. update=1.5,field=0.35,diffusion=0 (Gaussian sigmas in voxels of the finest axis; penalty weight).")
    var regularisation: String?

    var preset: RegistrationPlan.Preset { presetOption.preset }

    func validate() throws { _ = try plan }

    /// The plan: the preset's stages, the last one's levels replaced by --levels/--iterations/--smoothing.
    var plan: RegistrationPlan {
        get throws {
            var plan = RegistrationPlan.preset(preset, mode: mode)
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
                for s in plan.stages.indices { plan.stages[s].metric = metric }
            }
            if let regularisation {
                for s in plan.stages.indices where plan.stages[s].kind == .deformable {
                    plan.stages[s].regularisation = try Self.parseRegularisation(regularisation, base: plan.stages[s].regularisation)
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
}

/// `--support IMAGE:LABELS`, parsed once. The text is split at its LAST ':' so an image path may
/// contain ':' (a label path may not); both halves must be non-empty.
struct SupportArgument: ExpressibleByArgument, Equatable {
    var image: String
    var labels: String

    init(image: String, labels: String) { self.image = image; self.labels = labels }

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), colon != argument.startIndex,
              argument.index(after: colon) != argument.endIndex else { return nil }
        image = String(argument[..<colon])
        labels = String(argument[argument.index(after: colon)...])
    }

    static var defaultCompletionKind: CompletionKind { .file() }
}
