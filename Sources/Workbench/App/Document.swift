import Foundation
import VoxtermModel
import SliceRendering

/// The volumes a workbench session shows, loaded once and put on the image's grid.
public struct WorkbenchDocument: Sendable {
    /// Path of the anatomical image (as given).
    public var imagePath: String
    /// The anatomical image.
    public var image: Volume
    /// Label map on the image grid, if any.
    public var labels: LabelVolume?
    /// Path of the label map (as given).
    public var labelsPath: String?
    /// Names and colours of labels (the built-in palette when no table was found).
    public var labelTable: LabelTable
    /// Where the label names came from, or nil for the built-in palette.
    public var labelTablePath: String?
    /// Non-zero labels present in `labels`, ascending.
    public var presentLabels: [Int32]
    /// Reference labels on the image grid (prediction-vs-truth display), if any.
    public var truth: LabelVolume?
    /// Displacement field on the image grid (RAS+ mm), if any.
    public var field: VectorField?
    /// Second image for registration QA, resampled onto the image grid when needed.
    public var compare: Volume?
    /// Images drawn over the image, resampled onto its grid (`voxterm view --overlay`).
    public var layers: [ImageLayer] = []
    /// Path of the second image (as given).
    public var comparePath: String?
    /// Human-readable notes from loading (e.g. "labels resampled onto the image grid").
    public var notes: [String]
    /// Image to register to `image` (live registration), on its own grid; `compare` shows it on the
    /// image grid (world space) until a registration replaces that with the warped image.
    public var moving: Volume?
    /// Path of the moving image (as given).
    public var movingPath: String?
    /// Labels of the moving image, on the moving grid.
    public var movingLabels: LabelVolume?
    /// Path of the moving labels (as given).
    public var movingLabelsPath: String?
    /// Other files this session read for the document: the truth (`--truth`, `:open truth`), the
    /// field (`--field`) and the image layers (`--overlay`, `:open overlay`), as given. Saves never
    /// write over them (`inputPaths`).
    public var otherInputPaths: [String] = []
    /// True when `labels` shows the moving labels carried onto the image grid (no fixed labels given).
    public var labelsFollowMoving = false
    /// Bumped whenever `labels`, `field` or `compare` change after loading (the slice cache redraws).
    public var revision = 0
    /// All volumes of a 4-D image and which one `image` is (nil for 3-D images).
    public var series: VolumeSeries?
    /// `field` prepared for display (magnitude and Jacobian computed off the UI thread), when a
    /// live registration supplied it; the slice cache uses it instead of preparing its own.
    public var preparedFieldOverlay: FieldOverlay?
    /// The automatic window of `image` (`IntensityWindow.automatic`), computed where the file is
    /// read (`load`) so that opening a document costs the UI thread no pass over it; nil for
    /// documents made in memory (the state computes it then).
    public var automaticWindow: IntensityWindow?

    /// Wraps volumes already in memory; others are resampled onto `image`'s grid.
    public init(imagePath: String, image: Volume, labels: LabelVolume? = nil, labelsPath: String? = nil,
                labelTable: LabelTable = .palette, labelTablePath: String? = nil, truth: LabelVolume? = nil,
                field: VectorField? = nil, compare: Volume? = nil, comparePath: String? = nil) {
        self.imagePath = imagePath
        self.image = image
        self.labelsPath = labelsPath
        self.labelTable = labelTable
        self.labelTablePath = labelTablePath
        self.comparePath = comparePath
        var notes: [String] = []
        let g = image.geometry
        if let l = labels, l.geometry != g {
            notes.append("labels resampled (nearest) onto the image grid")
            self.labels = l.resampled(to: g)
        } else {
            self.labels = labels
        }
        if let t = truth, t.geometry != g {
            notes.append("truth resampled (nearest) onto the image grid")
            self.truth = t.resampled(to: g)
        } else {
            self.truth = truth
        }
        if let f = field, f.geometry != g {
            notes.append("field resampled (linear) onto the image grid")
            self.field = f.resampled(to: g)
        } else {
            self.field = field
        }
        if let c = compare, c.geometry != g {
            notes.append("compare image resampled (linear) onto the image grid")
            self.compare = c.resampled(to: g)
        } else {
            self.compare = compare
        }
        presentLabels = self.labels?.presentLabels ?? []
        self.notes = notes
    }

    /// Adds a moving image (and its labels, on the moving grid) for live registration: `compare`
    /// shows it resampled (linear, world space) onto the image grid; without fixed labels, `labels`
    /// shows the moving labels the same way.
    public mutating func setMoving(_ moving: Volume, path: String, labels movingLabels: LabelVolume? = nil,
                                   labelsPath: String? = nil) {
        setMoving(MovingImage(moving, labels: movingLabels, onto: image.geometry), path: path, labelsPath: labelsPath)
    }

    /// Adds a moving image already prepared for display on this image's grid (`MovingImage`,
    /// made where the files were read): no resampling and no pass over the labels here.
    mutating func setMoving(_ m: MovingImage, path: String, labelsPath: String?) {
        moving = m.moving
        movingPath = path
        movingLabels = m.labels
        movingLabelsPath = labelsPath
        compare = m.compare
        comparePath = path
        if m.moving.geometry != image.geometry { notes.append("moving image shown resampled (linear) onto the image grid") }
        if labels == nil, let shown = m.labelsOnGrid {
            labels = shown
            presentLabels = m.presentLabels
            labelsFollowMoving = true
        }
        revision += 1
    }

    /// Every file the document was read from, as given: the image, labels, label names, second
    /// image, moving image and labels, truth, field and layers. The workbench's saves refuse them
    /// (even `:save!`), as the CLI refuses its inputs.
    public var inputPaths: [String] {
        [imagePath, labelsPath, labelTablePath, comparePath, movingPath, movingLabelsPath].compactMap { $0 } + otherInputPaths
    }

    /// The fixed image's own labels (not the moving labels shown in their place), for scoring.
    public var fixedLabels: LabelVolume? { labelsFollowMoving ? nil : labels }

    /// Reads the files of a `voxterm view` command. Errors name the file and the problem.
    public static func load(image: String, labels: String? = nil, labelNames: String? = nil, truth: String? = nil,
                            field: String? = nil, compare: String? = nil, moving: String? = nil,
                            movingLabels: String? = nil) throws -> WorkbenchDocument {
        let img = try ImageFile.read(image)
        if img.isVectorField {
            throw WorkbenchError(path: image, reason: "is a vector field, not an image; pass it with --field")
        }
        let volume = try img.volume()
        let labelVolume = try labels.map { try ImageFile.read($0).labelVolume() }
        var tablePath = labelNames
        var table = try labelNames.map { try LabelTable.read($0) } ?? .palette
        if labelNames == nil, let sidecar = try LabelTable.readSidecar(forLabels: labels) { (table, tablePath) = (sidecar.table, sidecar.path) }
        let truthVolume = try truth.map { try ImageFile.read($0).labelVolume() }
        let fieldVolume = try field.map { try ImageFile.read($0).vectorField() }
        let compareImage = try compare.map { path -> Volume in
            let c = try ImageFile.read(path)
            if c.isVectorField { throw WorkbenchError(path: path, reason: "is a vector field, not an image") }
            return try c.volume()
        }
        if compare != nil && moving != nil {
            throw WorkbenchError(path: compare!, reason: "--compare and --moving both set the second image; pass one")
        }
        if movingLabels != nil && moving == nil {
            throw WorkbenchError(path: movingLabels!, reason: "--moving-labels needs --moving (the image they belong to)")
        }
        var doc = WorkbenchDocument(imagePath: image, image: volume, labels: labelVolume, labelsPath: labels,
                                    labelTable: table, labelTablePath: tablePath, truth: truthVolume, field: fieldVolume,
                                    compare: compareImage, comparePath: compare)
        doc.otherInputPaths = [truth, field].compactMap { $0 }
        if img.frameCount > 1 {
            // 4-D: every volume is kept; ' and " step through them (the first is shown). Each
            // volume's automatic window is computed here, not when the key steps to it.
            let frames = try (0..<img.frameCount).map { try $0 == 0 ? volume : img.volume(frame: $0) }
            let windows = frames.map { IntensityWindow.automatic($0) }
            doc.automaticWindow = windows[0]
            doc.series = VolumeSeries(frames: frames, step: Double(img.header.pixdim[4]), unit: img.header.temporalUnits,
                                      windows: windows)
            doc.notes.append("\(img.frameCount) volumes: ' and \" step through them")
        } else {
            doc.automaticWindow = IntensityWindow.automatic(volume)
        }
        if let moving {
            let (mv, ml) = try readMoving(moving, labels: movingLabels)
            if labelNames == nil, doc.labelTablePath == nil, let (table, sidecar) = try LabelTable.readSidecar(forLabels: movingLabels) {
                doc.labelTable = table
                doc.labelTablePath = sidecar
            }
            doc.setMoving(mv, path: moving, labels: ml, labelsPath: movingLabels)
            doc.revision = 0
        }
        return doc
    }

    /// Reads a moving image and its labels (which must share its grid), for `--moving` and `:open moving`.
    public static func readMoving(_ moving: String, labels movingLabels: String?) throws -> (Volume, LabelVolume?) {
        let m = try ImageFile.read(moving)
        if m.isVectorField { throw WorkbenchError(path: moving, reason: "is a vector field, not an image") }
        let mv = try m.volume()
        let ml = try movingLabels.map { path -> LabelVolume in
            let l = try ImageFile.read(path).labelVolume()
            let g = mv.geometry, lg = l.geometry
            guard lg.size == g.size, lg.affine.maxDifference(to: g.affine) < 1e-3 * max(1, g.spacing.max()) else {
                throw WorkbenchError(path: path, reason: "labels are on grid \(lg.size.x)x\(lg.size.y)x\(lg.size.z) but \(moving) is on \(g.size.x)x\(g.size.y)x\(g.size.z) (or another affine); moving labels must share the moving image's grid")
            }
            return l
        }
        return (mv, ml)
    }


    /// The file name of the image without folders.
    public var imageName: String { (imagePath as NSString).lastPathComponent }

    /// Intensity at a voxel of the image.
    public func intensity(at v: SIMD3<Int>) -> Float? { image.geometry.contains(v) ? image[v.x, v.y, v.z] : nil }

    /// Label at a voxel, if labels are loaded.
    public func label(at v: SIMD3<Int>) -> Int32? {
        guard let labels, labels.geometry.contains(v) else { return nil }
        return labels[v.x, v.y, v.z]
    }
}

/// A moving image with what showing it on the fixed image's grid needs, made off the UI thread
/// (`WorkbenchDocument.load`, `CommandIO` for `:open moving`).
public struct MovingImage: Sendable {
    /// The moving image and its labels, on the moving grid.
    public var moving: Volume
    public var labels: LabelVolume?
    /// The moving image on the fixed grid (linear, world space).
    public var compare: Volume
    /// The moving labels on the fixed grid (nearest), and the labels present in them.
    public var labelsOnGrid: LabelVolume?
    public var presentLabels: [Int32]

    /// Resamples `moving` (and `labels`) onto `grid`.
    public init(_ moving: Volume, labels: LabelVolume?, onto grid: VolumeGeometry) {
        self.moving = moving
        self.labels = labels
        compare = moving.geometry == grid ? moving : moving.resampled(to: grid)
        labelsOnGrid = labels.map { $0.geometry == grid ? $0 : $0.resampled(to: grid) }
        presentLabels = labelsOnGrid?.presentLabels ?? []
    }
}

/// A problem with a workbench input, naming the file.
public struct WorkbenchError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): \(reason)" }
}
