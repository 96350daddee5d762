import ArgumentParser
import Foundation
import SliceRendering
import VoxtermModel

/// `voxterm bench render`: in-process time to render and encode slices (file loading excluded).
struct BenchRender: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Time rendering + PNG encoding of one axial slice (labels, outline, arrows) and of a 6x5 montage.",
        discussion: "Defaults to the 1 mm Colin27 sample with its AAL labels (run from the repository root); without --field a smooth synthetic field on the image grid is used.")

    @Argument(help: "Image (NIfTI).") var image = "Samples/colin27_1mm.nii.gz"
    @Option(help: "Label map on or overlapping the image.") var labels = "Samples/colin27_1mm_aal.nii.gz"
    @Option(help: "Displacement field (NIfTI vector image); synthetic when omitted.") var field: String?
    @Option(help: "Integer upscaling of the single slice.") var scale = 3
    @Option(help: "Number of timed repeats.") var repeats = 15

    func run() throws {
        let volume = try ImageFile.read(image).volume()
        let g = volume.geometry
        let (lv, _) = try OverlayAlignment.align(try ImageFile.read(labels).labelVolume(), to: g, name: labels)
        let f: VectorField
        if let field {
            f = try OverlayAlignment.align(try ImageFile.read(field).vectorField(), to: g, name: field).0
        } else {
            f = BenchRender.swirl(on: g)
        }

        var t0 = monotonicSeconds()
        let window = IntensityWindow.automatic(volume)
        let windowTime = monotonicSeconds() - t0
        t0 = monotonicSeconds()
        let scene = SliceScene(image: volume, window: window,
                               labels: LabelOverlay(labels: lv, style: LabelStyle(opacity: 0.5, outline: true)),
                               field: FieldOverlay(field: f, style: FieldStyle(mode: .arrows, step: 6, gain: 2)))
        let prepare = monotonicSeconds() - t0
        let mapping = scene.mapping(.axial)
        let slice = mapping.middleSlice

        var native: [Double] = [], scaled: [Double] = [], encode: [Double] = [], montage: [Double] = []
        var sizes = (0, 0, 0, 0)
        for _ in 0..<max(1, repeats) {
            t0 = monotonicSeconds()
            let a = try PNGCodec.encode(scene.render(mapping, slice: slice, options: RenderOptions(scale: 1)))
            native.append(monotonicSeconds() - t0)
            t0 = monotonicSeconds()
            let img = scene.render(mapping, slice: slice, options: RenderOptions(scale: scale))
            let t1 = monotonicSeconds()
            let b = try PNGCodec.encode(img)
            encode.append(monotonicSeconds() - t1)
            scaled.append(monotonicSeconds() - t0)
            t0 = monotonicSeconds()
            let m = scene.renderMontage(plane: .axial, rows: 6, columns: 5).image
            let c = try PNGCodec.encode(m)
            montage.append(monotonicSeconds() - t0)
            sizes = (a.count, b.count, c.count, m.width * m.height)
        }
        func ms(_ x: [Double]) -> String { String(format: "%.2f ms", median(x) * 1000) }
        print("voxterm bench render \(image) (\(g.size.x)x\(g.size.y)x\(g.size.z)), labels \(labels), \(field ?? "synthetic field"); \(voxtermThreadCount) threads, \(repeats) repeats, medians:")
        print("  automatic window (0.5-99.5 percentiles): \(String(format: "%.1f ms", windowTime * 1000)) once")
        print("  prepare overlays (label palette, field magnitude): \(String(format: "%.1f ms", prepare * 1000)) once")
        print("  axial slice \(slice), labels+outline+arrows, render+encode at scale 1: \(ms(native)) (\(sizes.0) bytes)")
        print("  same at scale \(scale) (\(mapping.width * scale)x\(mapping.height * scale)): \(ms(scaled)), of which PNG encode \(ms(encode)) (\(sizes.1) bytes)")
        print("  6x5 axial montage, render+encode: \(ms(montage)) (\(sizes.3) pixels, \(sizes.2) bytes)")
    }

    /// A smooth swirl plus expansion, up to about 4 mm, on `g` (RAS mm).
    static func swirl(on g: VolumeGeometry) -> VectorField {
        var f = VectorField(zeroOn: g)
        let c = g.centre, n = g.voxelCount
        f.data.withUnsafeMutableBufferPointer { d in
            parallelFor(g.size.z) { k in
                for j in 0..<g.size.y {
                    for i in 0..<g.size.x {
                        let p = g.world(ofVoxel: SIMD3(Double(i), Double(j), Double(k))) - c
                        let w = exp(-(p * p).sum() / (2 * 30 * 30))
                        let idx = g.index(i, j, k)
                        d[idx] = Float(-p.y * 0.2 * w + p.x * 0.05 * w)
                        d[n + idx] = Float(p.x * 0.2 * w + p.y * 0.05 * w)
                        d[2 * n + idx] = Float(p.z * 0.05 * w)
                    }
                }
            }
        }
        return f
    }
}
