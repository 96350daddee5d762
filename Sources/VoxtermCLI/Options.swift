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
extension SlicePlane: ExpressibleByArgument {
    /// Case-insensitive (`Axial` works).
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}
extension ColorMap: ExpressibleByArgument {
    /// Case-insensitive.
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}
extension FieldDisplayMode: ExpressibleByArgument {
    /// Case-insensitive.
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}
extension ColorDepth: ExpressibleByArgument {
    /// Case-insensitive: `TrueColor` and `MONO` work as the environment variable always did.
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}
extension GraphicsRequest: ExpressibleByArgument {
    /// Case-insensitive.
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
    @Option(help: "Shrink factors per level of the last stage, coarse to fine, e.g. 4x2x1; that stage runs them exactly as given on every image (no level budget, no 2-D level rule or iteration floor).") var levels: String?
    @Option(help: "Iterations per level, e.g. 100x50x25 (with --levels: the preset's if it lists as many levels, else 50 each). Without --levels: one per level of the preset's stage as planned, and the preset's rules for the image still apply.") var iterations: String?
    @Option(help: "Smoothing sigmas per level in voxels of the fixed grid, e.g. 2x1x0 (default: the preset's for its own levels, (shrink - 1) / 2 for levels given with --levels). Without --levels the preset's rules still apply.") var smoothing: String?
    @Option(help: "Similarity: lncc, ncc, mse or mi (Mattes mutual information, for two modalities). Default: lncc; register picks mi (and says so) when the two images' intensities do not follow one increasing relation (two modalities).") var metric: MetricKind?
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
                if levels == nil {
                    // One value per planned level: say which levels those are.
                    // Only a well-formed list gets this message: a malformed one (commas, a
                    // trailing x) gets PyramidLevel.parse's message about the syntax below.
                    for (name, text) in [("--iterations", iterations), ("--smoothing", smoothing)] {
                        guard let text else { continue }
                        let parts = text.split(separator: "x", omittingEmptySubsequences: false)
                        guard parts.count != cur.count, parts.allSatisfy({ Double($0) != nil }) else { continue }
                        let planned = cur.map { "\($0.shrink)" }.joined(separator: "x")
                        throw ValidationError("\(name) '\(text)' lists \(parts.count) level\(parts.count == 1 ? "" : "s"); without --levels it gives one value per level of the preset's \(plan.stages[last].name) stage as planned (\(cur.count): shrink \(planned)); give --levels to run other levels")
                    }
                }
                let shrinkText = levels ?? cur.map { "\($0.shrink)" }.joined(separator: "x")
                let count = shrinkText.split(separator: "x").count
                let itText = iterations ?? (count == cur.count ? cur.map { "\($0.iterations)" }.joined(separator: "x")
                                            : Array(repeating: "50", count: count).joined(separator: "x"))
                // Without --levels the preset's levels stay, and so does their smoothing: only
                // what is given changes (--iterations alone used to reset the smoothing to the
                // (shrink - 1) / 2 rule, e.g. 2x1x0 became 1.5x0.5x0).
                let smoothingText = smoothing ?? (levels == nil ? cur.map { "\($0.smoothingSigma)" }.joined(separator: "x") : nil)
                switch PyramidLevel.parse(shrink: shrinkText, iterations: itText, smoothing: smoothingText) {
                case .success(let l):
                    plan.stages[last].levels = l
                    if levels != nil {
                        // --levels: exactly these levels, on every grid (as ANTs' shrink factors
                        // and Greedy's -n): no affine level budget, no 1 mm iteration floor, and on
                        // 2-D images no level rule and no full-resolution iteration floor (the
                        // symmetric mode stays).
                        plan.stages[last].maxLevelVoxels = nil
                        plan.stages[last].minimumCoarseFieldIterations = nil
                        plan.stages[last].singleSlice?.minimumFullResolutionIterations = nil
                        plan.stages[last].singleSlice?.minimumLevelPixels = 0
                    }
                    // --iterations / --smoothing alone give values for the preset's own levels (as
                    // planned, coarse to fine), and the preset's rules for the grid apply to them
                    // as to its own values: the affine level budget, and on 2-D images the level
                    // rule and the iteration floor. Giving the preset's own values changes nothing.
                case .failure(let e): throw ValidationError(e.description)
                }
            }
            if let metric {
                for s in plan.stages.indices { plan.stages[s].metric = metric }
            }
            if let regularisation {
                for s in plan.stages.indices where plan.stages[s].kind == .deformable {
                    plan.stages[s].regularisation = try Self.parseRegularisation(regularisation, base: plan.stages[s].regularisation)
                    // What the user gives applies at every level, with the stage's own step: the
                    // default preset's full-resolution step (0.5 voxel) was measured only with its
                    // smoother full-resolution setting, so both are dropped together.
                    plan.stages[s].fullResolutionRegularisation = nil
                    plan.stages[s].fullResolutionLearningRate = nil
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

/// Typed values of options written as small lists of numbers. Each parser throws a
/// `ValidationError` saying what was expected, which swift-argument-parser reports with the option
/// (`The value 'abc' is invalid for '--window <window>': expected LOW,HIGH ...`), exit 64.
enum NumberListArgument {
    /// `LOW,HIGH`: an intensity window, LOW < HIGH.
    static func window(_ text: String) throws -> IntensityWindow {
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo.isFinite, hi.isFinite else {
            throw ValidationError("expected LOW,HIGH (two numbers)")
        }
        guard let w = IntensityWindow(low: lo, high: hi) else {
            throw ValidationError("LOW (\(shortNumber(lo))) must be less than HIGH (\(shortNumber(hi)))")
        }
        return w
    }

    /// `X,Y,Z`: a world position in mm (RAS).
    static func point(_ text: String) throws -> SIMD3<Double> {
        let p = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard p.count == 3, let x = p[0], let y = p[1], let z = p[2], x.isFinite, y.isFinite, z.isFinite else {
            throw ValidationError("expected X,Y,Z in mm (three numbers)")
        }
        return SIMD3(x, y, z)
    }

    /// `ROWSxCOLS`: a montage grid of at most 400 tiles.
    static func grid(_ text: String) throws -> MontageGrid {
        let p = text.lowercased().split(separator: "x").map { Int($0) }
        guard p.count == 2, let r = p[0], let c = p[1], r >= 1, c >= 1, r * c <= 400 else {
            throw ValidationError("expected ROWSxCOLS such as 6x5 (at most 400 tiles)")
        }
        return MontageGrid(rows: r, columns: c)
    }
}

/// `--montage ROWSxCOLS`.
struct MontageGrid: Equatable, Sendable {
    var rows: Int
    var columns: Int
}

/// `--overlay FILE[:COLORMAP[:LOW,HIGH]]` (export and view), parsed once.
struct OverlayArgument: ExpressibleByArgument, Sendable {
    var path: String
    var colorMap: ColorMap?
    var window: IntensityWindow?

    init?(argument: String) {
        guard let p = ImageLayer.parseSpec(argument) else { return nil }
        (path, colorMap, window) = p
    }

    /// Shown by swift-argument-parser after "invalid value".
    static var allValueStrings: [String] { [] }
    static var defaultCompletionKind: CompletionKind { .file() }

    /// Parses `text`, saying what is wrong.
    static func parse(_ text: String) throws -> OverlayArgument {
        guard let o = OverlayArgument(argument: text) else {
            throw ValidationError("expected FILE[:COLORMAP[:LOW,HIGH]] (colour maps: \(ColorMap.allCases.map(\.rawValue).joined(separator: ", ")); LOW < HIGH)")
        }
        return o
    }
}

/// A comma-separated list of one option's values (`--slice-method fused,shape`), each checked.
func commaSeparated<T: ExpressibleByArgument>(_ text: String) throws -> [T] {
    let words = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    var values: [T] = []
    for w in words {
        guard let v = T(argument: w) else {
            throw ValidationError("'\(w)' is not one of \(T.allValueStrings.joined(separator: ", ")) (comma-separated)")
        }
        values.append(v)
    }
    guard !values.isEmpty else { throw ValidationError("expected one or more of \(T.allValueStrings.joined(separator: ", ")), comma-separated") }
    return values
}

/// Compact number for messages: 100 rather than 100.0.
func shortNumber(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)" }
