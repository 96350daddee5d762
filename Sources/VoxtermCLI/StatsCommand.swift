import ArgumentParser
import Foundation
import SliceRendering
import VoxtermModel

/// `voxterm stats IMAGE --labels L`: voxels, volume, intensity and centroid of every label.
struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-label statistics: voxels, volume (mm³, ml), mean ± sd intensity, centroid (mm).",
        discussion: """
            The volume of a voxel is |det| of the affine's 3x3 part; intensities are scaled values \
            (scl_slope applied), non-finite ones left out; sd is the population one (divisor n, \
            numpy's default); centroids are the mean voxel index (0-based) and its world position \
            (RAS+ mm). --plane with --slice N restricts to one slice (N the 0-based voxel index \
            along the plane's axis, as everywhere in voxterm). --volume N takes volume N (0-based, \
            nibabel's data[..., N]) of a 4-D image, the volume the workbench shows as "vol N+1/T"; \
            without it a 4-D image gives the first volume's statistics and says so on stderr.
            """)

    @Argument(help: "Intensity image (NIfTI).") var image: String
    @Option(help: "Label map on the image's grid.") var labels: String
    @Option(name: .customLong("label-names"), help: "Label table (default: one found beside the label map).")
    var labelNames: String?
    @Option(help: "Plane of --slice: axial, coronal or sagittal.") var plane: SlicePlane = .axial
    @Option(help: "Only this slice (0-based voxel index along the plane's axis).") var slice: Int?
    @Option(parsing: .unconditional, help: "Volume of a 4-D image (0-based); the first by default.") var volume: Int?
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV (one row per label).") var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("--json and --csv are alternatives; give one") }
    }

    func run() throws {
        // Ctrl-C: exit within a second, with dcm2niix's temporary copy of a DICOM series removed.
        let signals = SignalCancellation()
        defer { signals.stop() }
        do {
            print(try report(), terminator: "")
        } catch {
            throw ExitCodes.fail(error)
        }
    }

    func report() throws -> String {
        let img = try ImageFile.read(image)
        if img.isVectorField { throw CommandFailure("\(image): is a vector field, not an intensity image") }
        if let v = self.volume, v < 0 || v >= img.frameCount {
            throw CommandFailure("--volume: \(v) is out of range 0...\(img.frameCount - 1) for \(image)")
        }
        let frame = self.volume ?? 0
        if img.frameCount > 1 && self.volume == nil {
            standardError.write("voxterm: warning: \(image) has \(img.frameCount) volumes; statistics of the first (--volume N)\n")
        }
        let volume = try img.volume(frame: frame)
        let labelMap = try ImageFile.read(labels).labelVolume()
        guard labelMap.geometry.size == volume.geometry.size else {
            let s = labelMap.geometry.size, t = volume.geometry.size
            throw CommandFailure("\(labels): grid \(s.x)x\(s.y)x\(s.z) differs from \(image) (\(t.x)x\(t.y)x\(t.z)); resample it onto the image first")
        }
        var table = LabelTable.palette
        var tablePath = labelNames
        if let p = labelNames { table = try LabelTable.read(p) }
        else if let sidecar = try LabelTable.readSidecar(forLabels: labels) { (table, tablePath) = (sidecar.table, sidecar.path) }

        var region = StatisticsRegion.volume
        var sliceInfo: [String: Any] = [:]
        if let slice {
            let m = SliceMapping(geometry: volume.geometry, plane: plane)
            guard slice >= 0 && slice < m.sliceCount else {
                throw CommandFailure("--slice: \(slice) is out of range 0...\(m.sliceCount - 1) for the \(plane.rawValue) plane of \(image)")
            }
            region = .slice(axis: m.sliceAxis, index: slice)
            sliceInfo = ["plane": plane.rawValue, "slice": slice, "voxel_axis": m.sliceAxis]
        }
        let stats = labelStatistics(labels: labelMap, image: volume, region: region)
        let voxelVolume = voxelVolumeMM3(volume.geometry)

        func num(_ v: Double) -> Any { v.isFinite ? v : NSNull() }
        if json {
            var out: [String: Any] = [
                "image": image, "labels": labels, "voxel_volume_mm3": voxelVolume,
                "region": slice == nil ? "volume" : "slice",
                "label_table": tablePath ?? NSNull(),
                "statistics": stats.map { s -> [String: Any] in
                    ["label": Int(s.label), "name": table.name(of: s.label), "voxels": s.voxelCount,
                     "volume_mm3": s.volumeMM3, "volume_ml": s.volumeML,
                     "mean": num(s.meanIntensity), "sd": num(s.sdIntensity),
                     "centroid_voxel": [s.centroidVoxel.x, s.centroidVoxel.y, s.centroidVoxel.z],
                     "centroid_mm": [s.centroidMM.x, s.centroidMM.y, s.centroidMM.z]]
                },
            ]
            if !sliceInfo.isEmpty { out["slice"] = sliceInfo }
            if img.frameCount > 1 { out["volume"] = frame; out["volume_count"] = img.frameCount }
            let data = try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys])
            return String(decoding: data, as: UTF8.self) + "\n"
        }
        func g(_ v: Double, _ digits: Int = 6) -> String {
            v.isFinite ? String(format: "%.\(digits)g", v) : "nan"
        }
        if csv {
            var lines = ["label,name,voxels,volume_mm3,volume_ml,mean,sd,centroid_x_mm,centroid_y_mm,centroid_z_mm"]
            for s in stats {
                let name = table.name(of: s.label)
                let quoted = name.contains(",") || name.contains("\"") ? "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : name
                lines.append([String(s.label), quoted, String(s.voxelCount), g(s.volumeMM3, 10), g(s.volumeML, 10),
                              g(s.meanIntensity, 10), g(s.sdIntensity, 10),
                              g(s.centroidMM.x, 10), g(s.centroidMM.y, 10), g(s.centroidMM.z, 10)].joined(separator: ","))
            }
            return lines.joined(separator: "\n") + "\n"
        }
        var scope = slice.map { "\(plane.rawValue) slice \($0)" } ?? "whole volume"
        if img.frameCount > 1 { scope += " · volume \(frame) of \(img.frameCount)" }
        var lines = ["\(image) · labels \(labels) · \(scope) · voxel \(g(voxelVolume)) mm³"]
        let nameWidth = min(28, max(4, stats.map { table.name(of: $0.label).count }.max() ?? 4))
        func pad(_ s: String, _ w: Int, left: Bool = false) -> String {
            s.count >= w ? s : (left ? s + String(repeating: " ", count: w - s.count) : String(repeating: " ", count: w - s.count) + s)
        }
        lines.append(pad("label", 6) + "  " + pad("name", nameWidth, left: true) + pad("voxels", 9) + pad("mm³", 11)
                     + pad("ml", 9) + pad("mean ± sd", 22) + "  centroid mm (x, y, z)")
        for s in stats {
            let name = String(table.name(of: s.label).prefix(nameWidth))
            let c = s.centroidMM
            lines.append(pad(String(s.label), 6) + "  " + pad(name, nameWidth, left: true) + pad(String(s.voxelCount), 9)
                         + pad(String(format: "%.1f", s.volumeMM3), 11) + pad(String(format: "%.3f", s.volumeML), 9)
                         + pad("\(g(s.meanIntensity, 5)) ± \(g(s.sdIntensity, 4))", 22)
                         + String(format: "  %.1f, %.1f, %.1f", c.x, c.y, c.z))
        }
        if stats.isEmpty { lines.append("(no labelled voxels)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
