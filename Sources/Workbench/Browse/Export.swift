import Foundation
import VoxtermModel
import SliceRendering
import Terminal

/// `PNGCodec`, as `voxterm export` uses): native resolution, square pixels, orientation letters.
public enum WorkbenchExport {
    /// File name for the active view, e.g. `colin27_2mm_axial046.png` (`..._checkerboard.png` etc. with a second image).
    public static func fileName(_ state: WorkbenchState) -> String {
        let stem = FileIO.imageStem(state.document.imageName)
        let slice = state.slice(in: state.plane)
        let digits = String(state.mapping(state.plane).sliceCount - 1).count
        let n = String(slice)
        var variant = ""
        if state.hasCompare {
            switch state.compareMode {
            case .sideBySide: variant = "_side-by-side"
            case .checkerboard: variant = "_checkerboard"
            case .difference: variant = "_difference"
            case .flicker: variant = state.flickerShowsCompare ? "_second" : "_first"
            case .overlay: variant = "_overlay"
            }
        }
        return "\(stem)_\(state.plane.rawValue)\(String(repeating: "0", count: max(0, digits - n.count)) + n)\(variant).png"
    }

    /// The picture of the active view as on screen, at native resolution: the image (with labels
    /// and field), the checkerboard, difference or flicker phase of a second image, or both images
    /// side by side (4 black pixels apart) in side-by-side compare.
    public static func picture(_ state: WorkbenchState, cache: SliceCache) -> RGBAImage {
        let slice = state.slice(in: state.plane)
        func raster(_ v: RasterVariant) -> RGBAImage {
            cache.raster(state, plane: state.plane, slice: slice, variant: v, scale: 1, orientationLetters: true).image
        }
        guard state.hasCompare else { return raster(.main) }
        switch state.compareMode {
        case .checkerboard: return raster(.checkerboard)
        case .difference: return raster(.difference)
        case .flicker: return raster(state.flickerShowsCompare ? .compare : .main)
        case .overlay: return raster(.overlay)
        case .sideBySide:
            let a = raster(.main), b = raster(.compare)
            let gap = 4
            var out = RGBAImage(width: a.width + gap + b.width, height: max(a.height, b.height))
            for y in 0..<a.height { for x in 0..<a.width { out[x, y] = a[x, y] } }
            for y in 0..<b.height { for x in 0..<b.width { out[a.width + gap + x, y] = b[x, y] } }
            return out
        }
    }

    /// Provenance text chunks: the keys `voxterm export` writes (Software, Source, Plane, Slice,
    /// Window, Colormap, Convention, Orientation, Scale, Labels, LabelStyle, LUT, Truth, Field,
    /// FieldStyle, Command), plus Description, and Compare/CompareMode/Moving/Registration for a
    /// second image or a live registration.
    public static func provenance(_ state: WorkbenchState) -> [(key: String, value: String)] {
        let doc = state.document
        let m = state.mapping(state.plane)
        let slice = state.slice(in: state.plane)
        let e = m.edgeDirections
        func real(_ p: String) -> String { FileIO.realPath(p) ?? p }
        let w = state.cursorWorld
        var text: [(key: String, value: String)] = [
            ("Software", "voxterm view"),
            ("Source", real(doc.imagePath)),
            ("Plane", state.plane.rawValue),
            ("Slice", "\(slice)"),
            ("Window", state.window.description),
            ("Colormap", state.colorMap.rawValue),
            ("Convention", state.convention.rawValue),
            ("Orientation", "left=\(e.left.rawValue) right=\(e.right.rawValue) top=\(e.top.rawValue) bottom=\(e.bottom.rawValue)"),
            ("Scale", "1"),
            ("Description", "\(state.plane.rawValue) slice \(slice) of \(m.sliceCount), "
                + "\(state.convention.rawValue), window \(state.window), \(state.colorMap.rawValue), crosshair "
                + String(format: "%.1f,%.1f,%.1f mm", w.x, w.y, w.z)),
        ]
        // Labels and field are drawn on the image itself (alone, beside or under the checkerboard,
        // flicker's image phase), not on the difference, the overlay or the second image.
        var drawnOnImage = true
        if state.hasCompare {
            switch state.compareMode {
            case .sideBySide, .checkerboard: drawnOnImage = true
            case .flicker: drawnOnImage = !state.flickerShowsCompare
            case .difference, .overlay: drawnOnImage = false
            }
        }
        if doc.labels != nil && state.overlay.visible && drawnOnImage {
            let source = doc.labelsFollowMoving ? (doc.movingLabelsPath.map(real) ?? "moving labels") + " (warped onto Source)"
                : (doc.labelsPath.map(real) ?? "labels")
            text.append(("Labels", source))
            let hidden = state.overlay.hidden.sorted().map(String.init).joined(separator: ",")
            text.append(("LabelStyle", "opacity=\(state.overlay.opacity) outline=\(state.overlay.outline)"
                + (hidden.isEmpty ? "" : " hidden=\(hidden)")))
            if let lut = doc.labelTablePath { text.append(("LUT", real(lut))) }
        }
        let fieldShown = state.fieldMode != nil && doc.field != nil && drawnOnImage
        if fieldShown, let mode = state.fieldMode {
            let source = doc.moving != nil ? "live registration displacement A(x+u(x))-x (RAS mm)" : "field"
            text.append(("Field", source))
            text.append(("FieldStyle", "mode=\(mode.rawValue) step=8 gain=1"))
        }
        if state.hasCompare {
            text.append(("Compare", doc.comparePath.map(real) ?? "second image"))
            var mode = state.compareMode.rawValue
            if state.compareMode == .flicker { mode += state.flickerShowsCompare ? " (second image shown)" : " (image shown)" }
            if state.compareMode == .overlay { mode += ", " + overlayDescription(state) }
            text.append(("CompareMode", mode))
            if state.compareMode == .overlay { text.append(("CompareColormap", CompareOverlay.name(state.compareColorMap))) }
        }
        if let r = state.registration {
            if let mp = doc.movingPath { text.append(("Moving", real(mp))) }
            var status: String
            switch r.phase {
            case .ready: status = "not registered: the moving image is shown in world space"
            case .running, .cancelling: status = "running"
            case .cancelled: status = "cancelled"
            case .failed(let why): status = "failed: \(why)"
            case .finished: status = "finished"
            }
            if r.phase != .ready {
                status += ", \(r.preset.rawValue) preset"
                if let p = r.progress, r.phase != .finished {
                    status += ", shown: last preview (\(r.previews)) near \(p.stageName) level \(p.level + 1)/\(p.levelCount) iteration \(p.iteration)"
                }
                if let s = r.summary, r.phase == .finished { status += "; " + s.text }
            }
            text.append(("Registration", status))
        }
        text.append(("Command", CommandLine.arguments.joined(separator: " ")))
        return text
    }

    /// Renders and writes the active view as on screen into `directory`; returns the path written.
    public static func write(_ state: WorkbenchState, cache: SliceCache, directory: String) throws -> String {
        let png = try PNGCodec.encode(picture(state, cache: cache), text: provenance(state))
        // Never over an earlier export: the first free name of NAME.png, NAME-2.png, ... (created
        // exclusively, so two exports at once cannot pick the same one).
        let base = (directory as NSString).appendingPathComponent(fileName(state))
        for n in 1...10_000 {
            let path = n == 1 ? base : String(base.dropLast(4)) + "-\(n).png"
            do {
                try FileIO.writeAtomically(path, png, exclusive: true)
                return path
            } catch let e as FileError where e.reason == FileIO.alreadyExists {
                continue
            }
        }
        throw FileError(path: base, reason: "10000 exports of this view already exist; choose another folder")
    }

    /// Writes the active view as on screen to `path` (a typed `:save png PATH`); returns the message.
    public static func message(_ state: WorkbenchState, cache: SliceCache, path: String, force: Bool, inputs: [String]) -> String {
        if FileIO.exists(path) {
            if inputs.contains(where: { CurationIO.same($0, path) }) { return "error: save png: \(path) is an input; not overwritten" }
            if !force { return "error: save png: \(path) exists; :save! png PATH replaces it" }
        }
        do {
            let png = try PNGCodec.encode(picture(state, cache: cache), text: provenance(state))
            try FileIO.writeAtomically(path, png)
            return "exported \(path)"
        } catch {
            return "error: save png: \(error)"
        }
    }

    /// `write`, as a status-bar message.
    public static func message(_ state: WorkbenchState, cache: SliceCache, directory: String) -> String {
        do {
            let path = try write(state, cache: cache, directory: directory)
            return "exported \(path)"
        } catch {
            return "export failed: \(error)"
        }
    }
}
