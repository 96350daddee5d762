import ArgumentParser
import Foundation
import VoxtermModel
import SliceRendering
import Terminal
import Workbench

/// `voxterm view [IMAGE] ...`: the terminal workbench (the default subcommand).
struct View: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Browse a volume in the terminal, with labels, a displacement field or a second image.",
        discussion: """
        With no IMAGE, opens the bundled sample (Colin27 at 2 mm with the AAL atlas). The sample folder \
        is looked up in this order: $VOXTERM_SAMPLES, ./Samples, then Samples/ in each folder above the \
        voxterm executable (so a built package finds its own). Press ? inside for the keys, q to quit.

        Colours: 24-bit when COLORTERM is truecolor/24bit or terminfo has RGB, else the terminal's \
        palette with dithering; --color or $VOXTERM_COLOR (truecolor, 256, 16, mono) overrides. \
        --ascii or VOXTERM_ASCII=1 avoids Unicode block characters.

        Live registration: with --moving MOVING (any grid; shown in world space), G registers MOVING to \
        IMAGE in the background (affine, then deformable; P cycles the preset) while the view keeps \
        answering: the warped image against IMAGE (b: checkerboard, difference, flicker, side by side), \
        the displacement (f: arrows, magnitude, Jacobian, grid), a progress bar and the objective curve. \
        Esc cancels. When done, the summary shows and S writes the files of `voxterm register` to --out.
        """ + "\n\n" + dashNamesHelp)

    @Argument(help: "Image (NIfTI, MGH/MGZ, NRRD, MetaImage, a DICOM folder or FOLDER@N). Default: the bundled sample.")
    var image: String?

    @Option(help: "A batch folder (voxterm batch ... --out DIR): page through its subjects worst first (Ctrl-N next, Ctrl-P previous, Home the worst), each with its warped image or prediction and labels.")
    var cohort: String?

    @Option(help: "Label map to overlay (integer NIfTI).")
    var labels: String?

    @Option(name: .customLong("label-names"),
            help: "Label names/colours (ITK-SNAP, FreeSurfer, 'index name', mricron .lut). Default: a .txt/.lut beside --labels.")
    var labelNames: String?

    @Option(help: "Reference labels: the overlay then shows prediction vs truth (TP/FP/FN).")
    var truth: String?

    @Option(help: "Displacement field (X x Y x Z x 1 x 3 NIfTI, ITK/ANTs convention).")
    var field: String?

    @Option(help: "Second image for registration QA: side by side, checkerboard, difference, flicker, overlay (b cycles).")
    var compare: String?

    @Option(name: .customLong("compare-colormap"),
            help: "Start in overlay compare mode with the second image in this colour map over IMAGE (50 % opaque, values at or below its window's low end transparent), or green-magenta for the fusion view (^ cycles).")
    var compareColormap: String?

    @Option(help: "Image to register to IMAGE live (G key): shown warped against IMAGE while it registers.")
    var moving: String?

    @Option(name: .customLong("moving-labels"), help: "Labels of --moving (on its grid): carried along; Dice against --labels.")
    var movingLabels: String?

    @Option(help: "Folder the S key saves registration outputs to (default: ./voxterm-registration-<image stem>).")
    var out: String?

    @Flag(help: "Let S replace an earlier run's files in --out (only voxterm's registration files; the set is swapped in whole, as register --force does).")
    var force = false

    /// The preset the G key starts with (P cycles).
    @OptionGroup var presetOption: PresetOption

    @Option(help: "Threads of background work such as registration (default: cores - 1, so the view keeps a core).")
    var threads: Int?

    @Option(help: "Plane to start in: axial, coronal or sagittal.")
    var plane: SlicePlane = .axial

    @Flag(help: "Start with the three orthogonal views.")
    var ortho = false

    @Flag(help: "Radiological convention (subject's left on the right).")
    var radiological = false

    @Option(help: "Colour depth: truecolor, 256, 16 or mono (default: detected).")
    var color: ColorDepth?

    @Flag(help: "No Unicode: shade with ASCII characters and colours only.")
    var ascii = false

    @Option(help: "Pictures as real pixels: auto (ask the terminal; never inside tmux), kitty, sixel; or in cells: blocks (half blocks) or symbols (libchafa's block symbols).")
    var graphics: GraphicsRequest = .auto

    @Option(parsing: .unconditionalSingleValue,
            help: "Image layer over IMAGE: FILE[:COLORMAP[:LOW,HIGH]] (repeatable; resampled in world space; # selects, ! shows/hides, $/% threshold, & colour map, ~ opacity; :open overlay adds one later).",
            transform: OverlayArgument.parse)
    var overlay: [OverlayArgument] = []

    @Option(help: "Volume of a 4-D image to start at (0-based; ' and \" step).")
    var volume: Int?

    @Option(name: .customLong("export-dir"), help: "Folder for PNGs written by the e key (default: current folder).")
    var exportDir: String = "."

    @Option(name: .customLong("support-set"),
            help: "Support-set manifest that M saves and O loads (loaded at start when it exists). Default: <image stem>_support.json in --export-dir.")
    var supportSet: String?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if movingLabels != nil && moving == nil { throw ValidationError("--moving-labels needs --moving") }
        if out != nil && moving == nil { throw ValidationError("--out is where registration outputs go; it needs --moving") }
        if force && moving == nil { throw ValidationError("--force lets S replace an earlier registration in --out; it needs --moving") }
        if moving != nil && compare != nil { throw ValidationError("--moving and --compare both set the second image; pass one") }
        if let c = compareColormap {
            guard CompareOverlay.parseColorMap(c).ok else {
                throw ValidationError("--compare-colormap: unknown '\(c)'; use \(CompareOverlay.fusionName), \(ColorMap.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if compare == nil { throw ValidationError("--compare-colormap needs --compare") }
        }
        if cohort != nil && (image != nil || labels != nil || truth != nil || field != nil || compare != nil || moving != nil) {
            throw ValidationError("--cohort DIR shows each subject's own files; it takes no IMAGE, --labels, --truth, --field, --compare or --moving")
        }
    }

    func run() throws {
        var imagePath = image, labelsPath = labels, namesPath = labelNames
        // A cohort: the batch folder's records are read before the terminal is taken, and the
        // first (worst) subject that can be opened is shown.
        var cohortState: CohortState?
        if let cohort {
            do { cohortState = try CohortState.read(cohort) } catch {
                printError(error)
                throw ExitCode(ExitCodes.badInput)
            }
            imagePath = cohortState!.entries[0].image
        } else if imagePath == nil {
            guard let dir = SampleLocator.find() else {
                printError(WorkbenchError(path: "Samples/colin27_2mm.nii.gz",
                                          reason: "no IMAGE given and the bundled sample was not found ($VOXTERM_SAMPLES, ./Samples, or beside the executable); run voxterm view IMAGE"))
                throw ExitCode(ExitCodes.badInput)
            }
            imagePath = dir + "/colin27_2mm.nii.gz"
            if labelsPath == nil { labelsPath = dir + "/colin27_2mm_aal.nii.gz" }
            if namesPath == nil && FileManager.default.fileExists(atPath: dir + "/aal.txt") { namesPath = dir + "/aal.txt" }
        }
        // A DICOM folder of several series: the first is shown and the status line lists them;
        // `:open image FOLDER@N` opens another (as FOLDER@N on the command line does).
        var seriesNote: String?
        if cohortState == nil, let p = imagePath, !DICOM.isSeriesSelector(p), (try? FormatDetection.format(of: p)) == .dicom {
            do {
                // One dcm2niix run lists the series and reads the first, kept for the reads that follow.
                let (shown, series) = try DICOM.openFirst(p)
                if !series.isEmpty {
                    imagePath = shown
                    seriesNote = "DICOM folder with \(series.count) series, showing 1; :open image \(DICOM.seriesPath(p, 1).dropLast())N opens another · "
                        + series.map(\.summary).joined(separator: " · ")
                }
            } catch {
                printError(error)
                throw ExitCode(ExitCodes.badInput)
            }
        }
        // Headers and the label table first: a missing or malformed file is reported before the
        // terminal is taken over. The voxel data is read after, behind a loading screen.
        do {
            for path in [cohortState == nil ? imagePath : nil, labelsPath, truth, field, compare, moving, movingLabels].compactMap({ $0 })
                        + overlay.map(\.path) {
                _ = try ImageFile.readHeader(path)
            }
            if let namesPath { _ = try LabelTable.read(namesPath) }
        } catch {
            printError(error)
            throw ExitCode(ExitCodes.badInput)
        }
        let exportDir = self.exportDir
        let stem = FileIO.imageStem((imagePath! as NSString).lastPathComponent)
        let manifestPath = supportSet ?? (exportDir as NSString).appendingPathComponent("\(stem)_support.json")
        let files = [imagePath, labelsPath, truth, field, compare, moving, movingLabels].compactMap { $0 }
        let interrupted: Bool
        do {
            interrupted = try withCursesTerminal(colorDepth: color, ascii: ascii, graphics: graphics) { terminal in
                terminal.present(LoadingView.render(size: terminal.size, files: files))
                // dcm2niix warnings of images opened from now on (`:open image FOLDER@N`) would garble the screen.
                DICOM.quiet.withLock { $0 = true }
                defer { DICOM.quiet.withLock { $0 = false } }
                // An error here (e.g. a file whose data ends early) leaves through withCursesTerminal,
                // which restores the terminal before the message is printed below.
                var document: WorkbenchDocument
                var firstSubject = 0
                if var c = cohortState {
                    (document, firstSubject) = try Self.firstViewable(c)
                    c.index = firstSubject
                    c.shown = firstSubject
                    cohortState = c
                } else {
                    document = try WorkbenchDocument.load(image: imagePath!, labels: labelsPath, labelNames: namesPath,
                                                          truth: truth, field: field, compare: compare, moving: moving,
                                                          movingLabels: movingLabels)
                }
                var state = WorkbenchState(document: document, size: terminal.size, capabilities: terminal.capabilities)
                if let seriesNote { state.message = seriesNote }
                if let c = cohortState {
                    state.cohort = c
                    let e = c.entries[firstSubject]
                    state.message = "subject \(firstSubject + 1)/\(c.entries.count): \(e.caption) · Ctrl-N next, Ctrl-P previous"
                }
                if let v = volume {
                    guard let s = state.document.series, v >= 0, v < s.frames.count else {
                        throw WorkbenchError(path: imagePath!, reason: "--volume \(v) is out of range 0...\((state.document.series?.frames.count ?? 1) - 1)")
                    }
                    _ = reduce(&state, .stepVolume(v))
                }
                for p in overlay {
                    state.document.layers.append(try ImageLayer.read(p.path, onto: state.document.image.geometry,
                                                                     colorMap: p.colorMap, window: p.window))
                    state.document.otherInputPaths.append(p.path)
                }
                if let note = terminal.capabilities.graphicsNote { state.message = [note, state.message].compactMap { $0 }.joined(separator: " · ") }
                state.plane = plane
                state.layout = ortho ? .ortho : .single
                if let c = compareColormap {
                    state.compareColorMap = CompareOverlay.parseColorMap(c).map
                    state.compareMode = .overlay
                }
                state.convention = radiological ? .radiological : .neurological
                state.curation.outputDirectory = exportDir
                state.curation.manifestPath = manifestPath
                // A manifest named with --support-set is the session's own (M rewrites it); the
                // default name is, once loaded or saved here.
                // An existing file given there is the session's only once it loads as a manifest.
                state.curation.manifestOwned = supportSet != nil && !FileManager.default.fileExists(atPath: manifestPath)
                if supportSet != nil && FileManager.default.fileExists(atPath: manifestPath) {
                    for a in CurationIO.perform(.loadManifest(path: manifestPath), state: state) { _ = reduce(&state, a) }
                }
                if let out { state.registration?.outputDirectory = out }
                state.registration?.replacesOutputs = force
                state.registration?.preset = presetOption.preset
                WorkbenchApp.run(&state, terminal: terminal, cache: SliceCache(), jobs: JobRunner(jobThreads: threads)) { s, cache in
                    WorkbenchExport.message(s, cache: cache, directory: exportDir)
                }
                return state.interrupted
            }
        } catch let error as TerminalError {
            printError(error)
            throw ExitCode.failure
        } catch {
            printError(error)
            throw ExitCode(ExitCodes.badInput)
        }
        // Ctrl-C (a key in raw mode) ends like SIGINT would.
        if interrupted { throw ExitCode(ExitCodes.interrupted) }
    }

    /// The first subject of `cohort` (worst first) whose files open, and its document; the
    /// error of the first one when none does.
    static func firstViewable(_ cohort: CohortState) throws -> (WorkbenchDocument, Int) {
        var firstError: Error?
        for (i, e) in cohort.entries.enumerated() {
            do { return (try CohortState.load(e), i) } catch { if firstError == nil { firstError = error } }
        }
        throw WorkbenchError(path: cohort.folder, reason: "no subject of the batch folder can be opened (the first: \(firstError.map { "\($0)" } ?? "?"))")
    }
}

/// Finds the bundled `Samples/` folder.
enum SampleLocator {
    static let marker = "colin27_2mm.nii.gz"

    /// `$VOXTERM_SAMPLES`, `./Samples`, or `Samples/` in a folder above the executable.
    static func find() -> String? {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["VOXTERM_SAMPLES"], !env.isEmpty {
            return fm.fileExists(atPath: env + "/" + marker) ? env : nil
        }
        if fm.fileExists(atPath: "Samples/" + marker) { return "Samples" }
        var dir = URL(fileURLWithPath: (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
            .deletingLastPathComponent()
        while dir.path != "/" && !dir.path.isEmpty {
            let candidate = dir.appendingPathComponent("Samples")
            if fm.fileExists(atPath: candidate.appendingPathComponent(marker).path) { return candidate.path }
            dir.deleteLastPathComponent()
        }
        return nil
    }
}
