import ArgumentParser
import Foundation
import SliceRendering
import VoxtermModel

/// `voxterm export IMAGE -o out.png`: one slice (or a montage) with overlays, as a PNG with provenance.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a slice or a montage, with labels and deformation fields, to a PNG.",
        discussion: """
            The display orientation comes from the affine (nearest axis-aligned view for oblique \
            images): neurological by default (subject's left on the image's left), anisotropic \
            voxels shown with their physical aspect ratio, orientation letters on the edges. The PNG \
            carries text chunks recording the sources, plane, slice, window and overlays.
            """ + "\n\n" + dashNamesHelp)

    @Argument(help: "The image (NIfTI).") var image: String
    @Option(name: .shortAndLong, help: "Output PNG path.") var output: String

    @Option(help: "Plane: axial, coronal or sagittal.") var plane: SlicePlane = .axial
    @Option(parsing: .unconditional, help: "Slice index (voxel index along the plane's axis, from 0); the middle slice by default.") var slice: Int?
    @Option(parsing: .unconditional, help: "Volume of a 4-D image (0-based); the first by default.") var volume: Int?
    @Option(parsing: .unconditional, help: "World position X,Y,Z (mm, RAS) whose slice to show.", transform: NumberListArgument.point)
    var at: SIMD3<Double>?
    @Flag(help: "Radiological convention (subject's left on the image's right).") var radiological = false

    @Option(parsing: .unconditional, help: "Intensity window LOW,HIGH; default the 2-99.5 percentiles of the foreground.",
            transform: NumberListArgument.window)
    var window: IntensityWindow?
    @Option(help: "Colour map: \(ColorMap.allCases.map(\.rawValue).joined(separator: ", ")).") var colormap: ColorMap = .gray

    @Option(help: "Label map (NIfTI) to overlay.") var labels: String?
    @Option(help: "Label table: AAL-style `index name [code]`, ITK-SNAP, FreeSurfer LUT or mricron .lut (default: X.txt, X.nii.txt, X.lut, X.label or X.ctbl beside the label map X.nii[.gz]).") var lut: String?
    @Option(help: "Label opacity, 0...1.") var opacity = 0.5
    @Flag(help: "Draw label boundaries only.") var outline = false
    @Option(help: "Comma-separated label names or values to show (others hidden).") var only: String?
    @Option(help: "Reference labels: show --labels as a prediction (TP green, FP red, FN blue).") var truth: String?

    @Option(help: "Displacement field (NIfTI X,Y,Z,1,3; ITK/ANTs LPS vectors, as voxterm writes).") var field: String?
    @Option(name: .customLong("field-mode"), help: "Field display: arrows, magnitude, jacobian or grid.") var fieldMode: FieldDisplayMode = .arrows
    @Option(help: "Arrow and grid spacing, in voxels.") var step = 8
    @Option(help: "Multiplier on arrow length and grid displacement (1: true size); default: arrows of the 95th-percentile displacement 0.9 spacings long (a key in the corner states the scale).") var gain: Double?
    @Flag(help: "Add colour bars with their numbers: the image's colour map and, in magnitude/jacobian field modes, the field's.") var colorbar = false

    @Option(parsing: .unconditionalSingleValue, help: "Image layer over IMAGE, FILE[:COLORMAP[:LOW,HIGH]] (repeatable; resampled in world space; default hot, automatic window).",
            transform: OverlayArgument.parse)
    var overlay: [OverlayArgument] = []
    @Option(name: .customLong("overlay-threshold"), parsing: .unconditionalSingleValue, help: "Per --overlay, in order: values below are transparent.") var overlayThreshold: [Double] = []
    @Option(name: .customLong("overlay-opacity"), help: "Per --overlay, in order: opacity 0...1 (default 1).") var overlayOpacity: [Double] = []
    @Option(help: "Second image drawn over IMAGE as the workbench's overlay compare mode (resampled in world space): green/magenta fusion, or through --compare-colormap.") var compare: String?
    @Option(name: .customLong("compare-colormap"), help: "Colour map of --compare, drawn 50 % opaque over IMAGE's colours with values at or below its window's low end transparent; green-magenta (default) for the fusion.") var compareColormap = CompareOverlay.fusionName
    @Option(help: "Montage ROWSxCOLS of evenly spaced slices, e.g. 6x5.", transform: NumberListArgument.grid) var montage: MontageGrid?
    @Option(help: "Integer upscaling factor.") var scale = 1
    @Flag(help: "Print a JSON summary on stdout.") var json = false
    @Flag(help: "Replace an existing output file.") var force = false

    /// The option values that need each other or a range (64 when wrong, as swift-argument-parser's
    /// own errors): checked while parsing, before any file is touched.
    func validate() throws {
        guard scale >= 1 && scale <= 32 else { throw ValidationError("--scale: \(scale) is not an integer in 1...32") }
        guard step >= 1 else { throw ValidationError("--step: \(step) must be at least 1") }
        if let gain { guard gain.isFinite else { throw ValidationError("--gain: must be finite") } }
        guard opacity >= 0 && opacity <= 1 else { throw ValidationError("--opacity: \(opacity) is outside 0...1") }
        if slice != nil && at != nil { throw ValidationError("--slice and --at are alternatives; give one") }
        if truth != nil && labels == nil { throw ValidationError("--truth needs --labels (the prediction to compare)") }
        if montage != nil && (slice != nil || at != nil) { throw ValidationError("--montage shows evenly spaced slices; drop --slice/--at") }
        guard overlayThreshold.count <= overlay.count, overlayOpacity.count <= overlay.count else {
            throw ValidationError("--overlay-threshold/--overlay-opacity: more values than --overlay layers")
        }
        for o in overlayOpacity where !(o >= 0 && o <= 1) { throw ValidationError("--overlay-opacity: \(o) is outside 0...1") }
        guard output.lowercased().hasSuffix(".png") else { throw ValidationError("\(output): output must end in .png") }
        guard CompareOverlay.parseColorMap(compareColormap).ok else {
            throw ValidationError("--compare-colormap: unknown '\(compareColormap)'; use \(CompareOverlay.fusionName), \(ColorMap.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let signals = SignalCancellation() // Ctrl-C: exit within a second, never half way through the write
        defer { signals.stop() }
        do {
            // Files (exit 2 for an input, 3 for the output) before any work, as every command.
            try Preflight(inputs: [("IMAGE", image), ("--labels", labels ?? ""), ("--truth", truth ?? ""), ("--field", field ?? ""),
                                   ("--lut", lut ?? ""), ("--compare", compare ?? "")].filter { !$0.1.isEmpty } + overlay.map { ("--overlay", $0.path) },
                          outputs: [("-o", output)], force: force).check()
            let r = try render()
            let summary = try signals.writing { try write(r) }
            if json {
                let data = try JSONSerialization.data(withJSONObject: jsonSafe(summary), options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
        } catch {
            throw ExitCodes.fail(error)
        }
    }

    /// What was rendered, with what the provenance and the JSON summary describe.
    struct Rendered {
        var picture: RGBAImage
        var slices: [Int]
        var scene: SliceScene
        var mapping: SliceMapping
        var convention: DisplayConvention
        var overlay: LabelOverlay?
        var fieldOverlay: FieldOverlay?
        var table: LabelTable
        var lut: String?
        var labelInfo: [String: Any]
        var notes: [String]
        /// Volumes in the image (4-D) and the image layers' summaries.
        var frameCount: Int
        var layerInfo: [[String: Any]]
    }

    /// Loads the image and overlays and renders the slice or montage.
    func render() throws -> Rendered {
        let cmap = colormap, mode = fieldMode, grid = montage
        // Load.
        let img = try ImageFile.read(image)
        if img.isVectorField { throw CommandFailure("\(image): is a vector field; pass it with --field over an anatomical image") }
        if let v = self.volume, v < 0 || v >= img.frameCount {
            throw CommandFailure("--volume: \(v) is out of range 0...\(img.frameCount - 1) for \(image)")
        }
        let volume = try img.volume(frame: self.volume ?? 0)
        let geometry = volume.geometry
        var notes: [String] = []
        if img.frameCount > 1 && self.volume == nil { notes.append("\(image) has \(img.frameCount) volumes; showing the first (--volume N)") }

        var table = LabelTable.palette
        // As FSLeyes and MRIcron: a label-name file beside the label map is used when --lut is not given.
        var lut = self.lut
        if let lut { table = try LabelTable.read(lut) }
        else {
            do { if let sidecar = try LabelTable.readSidecar(forLabels: labels) { (table, lut) = (sidecar.table, sidecar.path) } }
            catch { notes.append("label names beside the label map not used: \(error)") }
        }
        var visible: Set<Int32>?
        if let only {
            let (vals, unknown) = table.values(named: only.split(separator: ",").map(String.init))
            if !unknown.isEmpty {
                throw CommandFailure("--only: unknown label name\(unknown.count > 1 ? "s" : "") \(unknown.joined(separator: ", "))\(lut == nil ? " (no --lut given: use label values)" : " in \(lut!)")")
            }
            visible = vals
        }
        var overlay: LabelOverlay?
        var labelInfo: [String: Any] = [:]
        if let labels {
            let (lv, rs) = try OverlayAlignment.align(try ImageFile.read(labels).labelVolume(), to: geometry, name: labels)
            if rs { notes.append("\(labels) resampled onto the image grid (nearest neighbour)") }
            var truthVol: LabelVolume?
            if let truth {
                let (tv, trs) = try OverlayAlignment.align(try ImageFile.read(truth).labelVolume(), to: geometry, name: truth)
                if trs { notes.append("\(truth) resampled onto the image grid (nearest neighbour)") }
                truthVol = tv
            }
            overlay = LabelOverlay(labels: lv, truth: truthVol, table: table,
                                   style: LabelStyle(opacity: opacity, outline: outline, visibleLabels: visible))
            labelInfo = ["file": labels, "table": lut ?? "default palette", "table_format": table.format.rawValue,
                         "labels_present": lv.presentLabels.count, "outline": outline, "opacity": opacity]
            if let visible { labelInfo["only"] = visible.sorted().map { Int($0) } }
            if let truth { labelInfo["truth"] = truth }
        }
        var fieldOverlay: FieldOverlay?
        if let field {
            let (fv, rs) = try OverlayAlignment.align(try ImageFile.read(field).vectorField(), to: geometry, name: field)
            if rs { notes.append("\(field) resampled onto the image grid (trilinear)") }
            var f = FieldOverlay(field: fv, style: FieldStyle(mode: mode, step: step, gain: gain ?? 1), image: volume)
            if gain == nil { f.style.gain = f.automaticGain(step: step, spacing: geometry.spacing.min()) }
            fieldOverlay = f
        }

        var scene = SliceScene(image: volume, window: window, colorMap: cmap, labels: overlay, field: fieldOverlay)
        var layerInfo: [[String: Any]] = []
        for (i, p) in self.overlay.enumerated() {
            let layer = try ImageLayer.read(p.path, onto: geometry, colorMap: p.colorMap, window: p.window,
                                            threshold: i < overlayThreshold.count ? overlayThreshold[i] : nil,
                                            opacity: i < overlayOpacity.count ? overlayOpacity[i] : 1)
            scene.layers.append(layer)
            layerInfo.append(["file": p.path, "colormap": layer.colorMap.rawValue, "window": [layer.window.low, layer.window.high],
                              "threshold": layer.threshold.map { $0 as Any } ?? NSNull(), "opacity": layer.opacity])
        }
        if let compare {
            let second = try ImageFile.read(compare)
            if second.isVectorField { throw CommandFailure("\(compare): is a vector field; --compare takes an image") }
            let values = ImageLayer.onGrid(try second.volume(frame: 0), geometry)
            scene.compare = CompareOverlay(values: values, colorMap: CompareOverlay.parseColorMap(compareColormap).map)
            if values.geometry != second.geometry { notes.append("\(compare) resampled onto the image grid (trilinear, world space)") }
        }
        let convention: DisplayConvention = radiological ? .radiological : .neurological
        let mapping = scene.mapping(plane, convention: convention)
        if mapping.isOblique { notes.append("oblique affine: showing the nearest axis-aligned \(plane.rawValue) view") }
        let options = RenderOptions(scale: scale)

        // Refuse absurd outputs before allocating them (an RGBA pixel is 4 bytes).
        if let problem = scene.outputSizeProblem(mapping, options: RenderOptions(scale: 1)) {
            throw CommandFailure("\(image): \(problem)")
        }
        if scene.outputSizeProblem(mapping, options: options) != nil {
            throw CommandFailure("--scale \(scale): the picture would be more than \(SliceScene.maximumSide) pixels wide or high, the longest side voxterm draws")
        }
        let tile = scene.outputScale(mapping, options: options)
        let tiles = grid.map { $0.rows * $0.columns } ?? 1
        if tile.width * tile.height * tiles > 1 << 28 {
            throw CommandFailure("--scale/--montage: the picture would have \(tile.width * tile.height * tiles) pixels, more than the limit of \(1 << 28)")
        }
        var picture: RGBAImage
        var slices: [Int]
        if let grid {
            (picture, slices) = scene.renderMontage(plane: plane, rows: grid.rows, columns: grid.columns,
                                                    convention: convention, options: options)
        } else {
            var s = mapping.middleSlice
            if let slice {
                guard slice >= 0 && slice < mapping.sliceCount else {
                    throw CommandFailure("--slice: \(slice) is out of range 0...\(mapping.sliceCount - 1) for the \(plane.rawValue) plane of \(image)")
                }
                s = slice
            } else if let at {
                guard let ws = mapping.slice(ofWorld: at) else {
                    throw CommandFailure("--at: \(shortNumber(at.x)),\(shortNumber(at.y)),\(shortNumber(at.z)) mm is outside \(image) along the \(plane.rawValue) axis (slices 0...\(mapping.sliceCount - 1))")
                }
                s = ws
            }
            picture = scene.render(mapping, slice: s, options: options)
            slices = [s]
        }
        return Rendered(picture: picture, slices: slices, scene: scene, mapping: mapping, convention: convention,
                        overlay: overlay, fieldOverlay: fieldOverlay, table: table, lut: lut, labelInfo: labelInfo,
                        notes: notes, frameCount: img.frameCount, layerInfo: layerInfo)
    }

    /// Writes the PNG (with provenance text chunks) atomically and returns the JSON summary.
    func write(_ r: Rendered) throws -> [String: Any] {
        let cmap = colormap, mode = fieldMode, grid = montage
        var picture = r.picture
        let slices = r.slices, scene = r.scene, mapping = r.mapping, convention = r.convention
        let overlay = r.overlay, fieldOverlay = r.fieldOverlay, table = r.table, lut = r.lut, notes = r.notes
        var labelInfo = r.labelInfo
        let frameCount = r.frameCount, layerInfo = r.layerInfo
        var bars: [ColorBar] = []
        var strips: [(x: Int, y: Int, width: Int, height: Int)] = []
        if colorbar {
            bars.append(ColorBar(table: cmap.table, window: scene.window, title: "IMAGE"))
            if let cm = scene.compare, let map = cm.colorMap { bars.append(ColorBar(table: map.table, window: cm.window, title: "COMPARE")) }
            for l in scene.layers { bars.append(ColorBar(table: l.colorMap.table, window: l.window, title: "LAYER")) }
            if let b = fieldOverlay?.colorBar { bars.append(b) }
            let withBars = picture.appendingColorBars(bars)
            picture = withBars.image
            strips = withBars.strips
        }
        // Provenance text chunks.
        let e = mapping.edgeDirections
        let orientation = "left=\(e.left.rawValue) right=\(e.right.rawValue) top=\(e.top.rawValue) bottom=\(e.bottom.rawValue)"
        var text: [(key: String, value: String)] = [
            ("Software", "voxterm export"),
            ("Source", FileIO.realPath(image) ?? image),
            ("Plane", plane.rawValue),
            (grid == nil ? "Slice" : "Slices", slices.map(String.init).joined(separator: ",")),
            ("Window", scene.window.description + (window == nil ? " (auto: foreground 2-99.5 percentiles)" : "")),
            ("Colormap", cmap.rawValue),
            ("Convention", convention.rawValue),
            ("Orientation", orientation),
            ("Scale", "\(scale)"),
        ]
        if let labels {
            text.append(("Labels", FileIO.realPath(labels) ?? labels))
            text.append(("LabelStyle", "opacity=\(opacity) outline=\(outline)" + (only.map { " only=\($0)" } ?? "")))
            if let lut { text.append(("LUT", FileIO.realPath(lut) ?? lut)) }
            if let truth { text.append(("Truth", FileIO.realPath(truth) ?? truth)) }
        }
        if let field {
            text.append(("Field", FileIO.realPath(field) ?? field))
            let g = fieldOverlay!.style.gain
            text.append(("FieldStyle", "mode=\(mode.rawValue) step=\(step) gain=\(g)\(gain == nil ? " (auto)" : "")"))
        }
        if let grid { text.append(("Montage", "\(grid.rows)x\(grid.columns)")) }
        if frameCount > 1 { text.append(("Volume", "\(self.volume ?? 0) of \(frameCount)")) }
        for l in scene.layers {
            text.append(("Overlay", "\(l.name) colormap=\(l.colorMap.rawValue) window=\(l.window)"
                + (l.threshold.map { " threshold=\($0)" } ?? "") + " opacity=\(l.opacity)"))
        }
        if let compare, let cm = scene.compare {
            text.append(("Compare", FileIO.realPath(compare) ?? compare))
            text.append(("CompareColormap", CompareOverlay.name(cm.colorMap) + " window=\(cm.window)"
                + (cm.colorMap == nil ? "" : " opacity=\(cm.opacity)")))
        }
        text.append(("Command", CommandLine.arguments.map(shellQuoted).joined(separator: " ")))

        let bytes: [UInt8]
        do { bytes = try PNGCodec.encode(picture, text: text) } catch {
            throw CommandFailure("\(output): \(error)", status: ExitCodes.writeFailed)
        }
        do { try FileIO.writeAtomically(output, bytes, exclusive: !force) } catch {
            throw CommandFailure("\(error)", status: ExitCodes.writeFailed)
        }

        var summary: [String: Any] = [
            "output": output, "image": image, "plane": plane.rawValue, "convention": convention.rawValue,
            "width": picture.width, "height": picture.height, "bytes": bytes.count, "scale": scale,
            "window": [scene.window.low, scene.window.high], "window_source": window == nil ? "auto" : "given",
            "colormap": cmap.rawValue, "orientation": ["left": String(e.left.rawValue), "right": String(e.right.rawValue),
                                                       "top": String(e.top.rawValue), "bottom": String(e.bottom.rawValue)],
            "oblique": mapping.isOblique, "slice_count": mapping.sliceCount,
            "pixel_spacing_mm": [mapping.pixelSpacing.column, mapping.pixelSpacing.row],
            "notes": notes,
        ]
        if frameCount > 1 { summary["volume"] = self.volume ?? 0; summary["volume_count"] = frameCount }
        if !layerInfo.isEmpty { summary["overlays"] = layerInfo }
        if let compare, let cm = scene.compare {
            summary["compare"] = ["file": compare, "colormap": CompareOverlay.name(cm.colorMap), "window": [cm.window.low, cm.window.high],
                                  "opacity": cm.colorMap == nil ? 1 : cm.opacity] as [String: Any]
        }
        if let grid {
            summary["montage"] = ["rows": grid.rows, "columns": grid.columns]
            summary["slices"] = slices
        } else {
            summary["slice"] = slices[0]
            let c = mapping.world(column: Double(mapping.width - 1) / 2, row: Double(mapping.height - 1) / 2, slice: Double(slices[0]))
            summary["slice_centre_mm"] = [c.x, c.y, c.z]
        }
        if let o = overlay, grid == nil {
            // Which labels the picture shows, with names and voxel counts in this slice.
            var counts: [Int32: Int] = [:]
            for l in mapping.extract(o.labels.labels, slice: slices[0]) where l != 0 && o.palette.isVisible(l) { counts[l, default: 0] += 1 }
            labelInfo["in_slice"] = counts.keys.sorted().prefix(500).map { l -> [String: Any] in
                ["value": Int(l), "name": table.name(of: l), "voxels": counts[l]!, "color": table.color(of: l).hex]
            }
        }
        if overlay != nil {
            if let o = overlay, o.truth != nil, grid == nil {
                var counts = ComparisonCounts()
                let p = mapping.extract(o.labels.labels, slice: slices[0]), t = mapping.extract(o.truth!.labels, slice: slices[0])
                var scratch = RGBAImage(width: mapping.width, height: mapping.height)
                p.withUnsafeBufferPointer { pb in t.withUnsafeBufferPointer { tb in
                    counts = scratch.compositeComparison(prediction: pb, truth: tb, palette: o.palette, style: o.style)
                } }
                labelInfo["slice_voxels"] = ["true_positive": counts.truePositive, "false_positive": counts.falsePositive,
                                             "false_negative": counts.falseNegative]
            }
            summary["labels"] = labelInfo
        }
        if let f = fieldOverlay {
            var info: [String: Any] = ["file": field!, "mode": mode.rawValue, "step": step, "gain": f.style.gain,
                                       "gain_source": gain == nil ? "auto" : "given",
                                       "max_displacement_mm": f.maximumMagnitude]
            if mode == .arrows { info["arrow_key_mm"] = f.arrowKeyLength(mapping) }
            if let j = f.jacobian {
                let s = j.statistics
                info["jacobian"] = ["min": s.minimum, "max": s.maximum, "folding_fraction": foldingFraction(j)]
            }
            summary["field"] = info
        }
        if !bars.isEmpty {
            summary["colorbars"] = zip(bars, strips).map { b, r -> [String: Any] in
                ["title": b.title, "low": b.window.low, "high": b.window.high, "ticks": b.ticks,
                 "strip": ["x": r.x, "y": r.y, "width": r.width, "height": r.height]]
            }
        }
        return summary
    }
}

/// An export problem: a one-line message and the exit code it maps to.


/// A shell word that reproduces `s` (single-quoted when it has special characters).
func shellQuoted(_ s: String) -> String {
    let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./,=:+")
    if !s.isEmpty && s.allSatisfy({ safe.contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
