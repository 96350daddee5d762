import ArgumentParser
import Foundation
import VoxtermModel

/// `voxterm info FILE...`: header, geometry and value statistics of images of any supported format.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print dimensions, voxel size, datatype, scaling, orientation, affine and value statistics.",
        discussion: "An ITK/ANTs transform file (.tfm, or .txt starting #Insight Transform File) prints its affine in RAS." + "\n\n" + dashNamesHelp)

    @Argument(help: "Images (NIfTI, MGH/MGZ, NRRD, MetaImage, a DICOM folder or FOLDER@N) or ITK transform files (.tfm).")
    var files: [String]

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        // Ctrl-C: exit within a second, with dcm2niix's temporary copy of a DICOM series removed.
        let signals = SignalCancellation()
        defer { signals.stop() }
        var reports: [[String: Any]] = []
        var failed = false
        for file in files {
            if signals.isCancelled { break }   // Ctrl-C: the watchdog ends the process; report no more files
            do {
                if TransformReport.isTransformFile(file) {
                    let report = TransformReport(path: file, affine: try ITKTransformFile.read(file))
                    if json { reports.append(report.json) } else { print(report.text, terminator: "\n\n") }
                    continue
                }
                // A DICOM folder of several series: their list, and how to open one.
                if !DICOM.isSeriesSelector(file), (try? FormatDetection.format(of: file)) == .dicom,
                   case .several(let series) = try DICOM.open(file, limits: Self.limits) {
                    if json {
                        reports.append(["file": file, "format": "DICOM", "series": series.map { s -> [String: Any] in
                            ["index": s.index, "series_number": s.seriesNumber.map { $0 as Any } ?? NSNull(), "description": s.description,
                             "modality": s.modality, "shape": s.shape, "open_as": DICOM.seriesPath(file, s.index)]
                        }])
                    } else {
                        print("\(file): DICOM folder with \(series.count) series (open one as \(DICOM.seriesPath(file, 1).dropLast())N, or convert --series N)")
                        for s in series { print("  \(s.summary)") }
                        print()
                    }
                    continue
                }
                // Shown even when its geometry is unusable (every other command refuses it).
                let image = try ImageFile.read(file, limits: Self.limits)
                let report = ImageReport(image)
                if json { reports.append(report.json) } else { print(report.text, terminator: "\n\n") }
            } catch {
                failed = true
                printError(error)
                if json { reports.append(["file": file, "error": "\(error)"]) }
            }
        }
        if json {
            let value: Any = files.count == 1 && !failed ? reports[0] : reports
            let data = try JSONSerialization.data(withJSONObject: jsonSafe(value),
                                                  options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
        if failed { throw ExitCode(ExitCodes.badInput) }
    }
}

extension Info {
    /// The usual limits, with unusable geometry allowed (reported instead).
    static var limits: NIfTIReadLimits {
        var l = NIfTIReadLimits.standard
        l.requireUsableGeometry = false
        return l
    }
}

/// `value` with every non-finite number replaced by JSON null (JSON has no NaN or infinity).
func jsonSafe(_ value: Any) -> Any {
    switch value {
    case let d as Double: return d.isFinite ? d : NSNull()
    case let f as Float: return f.isFinite ? Double(f) : NSNull()
    case let a as [Any]: return a.map(jsonSafe)
    case let o as [String: Any]: return o.mapValues(jsonSafe)
    default: return value
    }
}

/// What `info` reports about one image.
struct ImageReport {
    let image: NIfTIImage
    let stats: IntensityStatistics
    let labelCount: Int?

    init(_ image: NIfTIImage) {
        self.image = image
        let values = image.floatValues()
        stats = IntensityStatistics(values)
        labelCount = ImageReport.countLabels(image, values)
    }

    /// Number of distinct non-zero values of an integer-valued image with few of them (≤ 1000).
    static func countLabels(_ image: NIfTIImage, _ values: [Float]) -> Int? {
        guard image.header.datatype?.isInteger == true, image.scaling == nil, !image.isVectorField else { return nil }
        var seen = Set<Float>()
        for v in values where v != 0 {
            seen.insert(v)
            if seen.count > 1000 { return nil }
        }
        return seen.count
    }

    /// The 4th dimension of a 4-D (or more) image that is not a vector field: volume count, step
    /// (`pixdim[4]`, the TR for time series) and its unit from `xyzt_units`.
    var fourthDimension: (count: Int, step: Double, units: String)? {
        guard !image.isVectorField, image.shape.count >= 4, image.shape[3] > 1 else { return nil }
        return (image.shape[3], Double(image.header.pixdim[4]), image.header.temporalUnits)
    }

    var json: [String: Any] {
        let h = image.header
        let (affine, source) = image.affine
        var out: [String: Any] = [
            "file": image.path,
            "format": image.storage.isNIfTI ? "NIfTI-\(h.version)" : image.storage.formatName,
            "storage": image.storage.rawValue,
            "byte_order": h.isByteSwapped ? "big-endian" : "little-endian",
            "shape": image.shape,
            "voxel_size": Array(h.pixdim[1...max(1, min(h.rank, 7))]),
            "spatial_units": h.spatialUnits,
            "datatype": h.datatype.map { "\($0)" } ?? "\(h.datatypeCode)",
            "scl_slope": h.sclSlope,
            "scl_inter": h.sclInter,
            "scaling_applied": image.scaling != nil,
            "orientation": h.geometryProblem == nil ? image.geometry.orientation.description : NSNull(),
            "geometry_usable": h.geometryProblem == nil,
            "affine": affine.matrix4x4,
            "affine_source": source.rawValue,
            "qform_code": h.qformCode,
            "sform_code": h.sformCode,
            "intent_code": h.intentCode,
            "min": stats.minimum,
            "max": stats.maximum,
            "mean": stats.mean,
            "warnings": image.warnings.map(\.description),
        ]
        if let labelCount { out["labels"] = labelCount }
        if image.isVectorField { out["vector_field"] = true }
        if let p = h.geometryProblem { out["geometry_problem"] = p }
        if let t = fourthDimension {
            out["volumes"] = t.count
            out["volume_step"] = t.step
            out["time_units"] = t.units
        }
        return out
    }

    var text: String {
        let h = image.header
        let (affine, source) = image.affine
        var lines: [String] = []
        func row(_ k: String, _ v: String) { lines.append(k.padding(toLength: 14, withPad: " ", startingAt: 0) + v) }
        lines.append(image.path)
        row("format", image.storage.isNIfTI ? "NIfTI-\(h.version) (\(image.storage.rawValue), \(h.isByteSwapped ? "big" : "little")-endian)"
            : "\(image.storage.formatName) (\(image.storage.rawValue), \(h.isByteSwapped ? "big" : "little")-endian)")
        row("dimensions", image.shape.map(String.init).joined(separator: " x ") + (image.isVectorField ? "  (vector field)" : ""))
        row("voxel size", h.pixdim[1...max(1, min(h.rank, 3))].map { fmt($0) }.joined(separator: " x ") + " \(h.spatialUnits)")
        if let t = fourthDimension {
            let time = ["s", "ms", "us"].contains(t.units)
            row("volumes", "\(t.count) along the 4th dimension, step \(fmt(t.step)) \(t.units)" + (time ? " (TR)" : ""))
        }
        row("datatype", h.datatype.map { "\($0)" } ?? "\(h.datatypeCode)")
        row("scaling", image.scaling.map { "slope \(fmt($0.slope)), intercept \(fmt($0.intercept))" }
            ?? "none (scl_slope \(fmt(h.sclSlope)), scl_inter \(fmt(h.sclInter)))")
        if let problem = h.geometryProblem {
            row("geometry", "UNUSABLE: \(problem); other voxterm commands refuse this file")
        } else {
            row("orientation", image.geometry.orientation.description)
        }
        row("affine", "from \(source.rawValue) (qform_code \(h.qformCode), sform_code \(h.sformCode))")
        for r in affine.matrix4x4 { lines.append(String(repeating: " ", count: 14) + r.map { fmt($0).leftPadded(11) }.joined(separator: " ")) }
        row("values", "min \(fmt(stats.minimum)), max \(fmt(stats.maximum)), mean \(fmt(stats.mean))")
        if let labelCount { row("labels", "\(labelCount) distinct non-zero values") }
        for w in image.warnings { row("warning", w.description) }
        return lines.joined(separator: "\n")
    }
}

/// What `info` reports about an ITK/ANTs transform file.
struct TransformReport {
    let path: String
    /// Fixed world → moving world, RAS mm.
    let affine: VolumeCore.AffineTransform

    /// `.tfm`, or a `.txt` that starts like an ITK transform file.
    static func isTransformFile(_ path: String) -> Bool {
        let lower = path.lowercased()
        if lower.hasSuffix(".tfm") { return true }
        guard lower.hasSuffix(".txt"), let head = try? FileIO.readAll(path, limit: ITKTransformFile.maxFileBytes) else { return false }
        return head.starts(with: Array("#Insight Transform File".utf8))
    }

    var json: [String: Any] {
        ["file": path, "format": "ITK transform", "affine_ras": affine.matrix4x4, "determinant": affine.determinant]
    }

    var text: String {
        var lines = [path, "format        ITK transform (affine)",
                     "affine        fixed world -> moving world, RAS mm (voxterm's convention)"]
        for r in affine.matrix4x4 { lines.append(String(repeating: " ", count: 14) + r.map { fmt($0).leftPadded(11) }.joined(separator: " ")) }
        lines.append("determinant   \(fmt(affine.determinant))")
        return lines.joined(separator: "\n")
    }
}

/// Compact number formatting: up to 6 significant digits.
func fmt(_ v: Double) -> String {
    if !v.isFinite { return "\(v)" }
    if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
    return String(format: "%.6g", v)
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
