import ArgumentParser
import Foundation
import VoxtermModel

/// `voxterm info FILE...`: header, geometry and value statistics of NIfTI files.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print dimensions, voxel size, datatype, scaling, orientation, affine and value statistics.",
        discussion: "An ITK/ANTs transform file (.tfm, or .txt starting #Insight Transform File) prints its affine in RAS.")

    @Argument(help: "NIfTI files (.nii, .nii.gz, .hdr/.img) or ITK transform files (.tfm).")
    var files: [String]

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        var reports: [[String: Any]] = []
        var failed = false
        for file in files {
            do {
                if TransformReport.isTransformFile(file) {
                    let report = TransformReport(path: file, affine: try ITKTransformFile.read(file))
                    if json { reports.append(report.json) } else { print(report.text, terminator: "\n\n") }
                    continue
                }
                let image = try ImageFile.read(file)
                let report = ImageReport(image)
                if json { reports.append(report.json) } else { print(report.text, terminator: "\n\n") }
            } catch {
                failed = true
                printError(error)
                if json { reports.append(["file": file, "error": "\(error)"]) }
            }
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: files.count == 1 && !failed ? reports[0] : reports,
                                                  options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
        if failed { throw ExitCode(ExitCodes.badInput) }
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
            "scl_slope": h.sclSlope.isFinite ? h.sclSlope : "\(h.sclSlope)",
            "scl_inter": h.sclInter.isFinite ? h.sclInter : "\(h.sclInter)",
            "scaling_applied": image.scaling != nil,
            "orientation": image.geometry.orientation.description,
            "affine": affine.matrix4x4,
            "affine_source": source.rawValue,
            "qform_code": h.qformCode,
            "sform_code": h.sformCode,
            "intent_code": h.intentCode,
            "min": stats.minimum.isFinite ? stats.minimum : "nan",
            "max": stats.maximum.isFinite ? stats.maximum : "nan",
            "mean": stats.mean.isFinite ? stats.mean : "nan",
            "warnings": image.warnings.map(\.description),
        ]
        if let labelCount { out["labels"] = labelCount }
        if image.isVectorField { out["vector_field"] = true }
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
        row("datatype", h.datatype.map { "\($0)" } ?? "\(h.datatypeCode)")
        row("scaling", image.scaling.map { "slope \(fmt($0.slope)), intercept \(fmt($0.intercept))" }
            ?? "none (scl_slope \(fmt(h.sclSlope)), scl_inter \(fmt(h.sclInter)))")
        row("orientation", image.geometry.orientation.description)
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
