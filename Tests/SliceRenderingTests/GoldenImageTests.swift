import Foundation
import Testing
import SliceRendering
import VolumeCore

/// Renders fixed scenes of the synthetic phantoms and compares them with committed PNGs in
/// `Golden/`. Regenerate after an intended change with
/// `VOXTERM_UPDATE_GOLDEN=1 swift test --filter GoldenImageTests` and look at the new files.
@Suite struct GoldenImageTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func scene(field: FieldStyle? = nil, labels: LabelStyle? = nil, truth: Bool = false, colorMap: ColorMap = .gray,
                      spacing: SIMD3<Double> = [1, 1.5, 2]) -> SliceScene {
        let image = Phantom.ras(size: [20, 24, 16], spacing: spacing)
        let g = image.geometry
        var overlay: LabelOverlay?
        if let labels {
            var truthMap: LabelVolume?
            var pred = Phantom.labels(on: g)
            if truth {
                truthMap = pred
                // The prediction misses a slab of label 1 and spills label 2 one voxel further.
                for k in 0..<16 { for j in 0..<24 { for i in 0..<20 {
                    if pred[i, j, k] == 1 && j < 12 { pred[i, j, k] = 0 }
                    if i > 0 && truthMap![i - 1, j, k] == 2 && pred[i, j, k] == 0 { pred[i, j, k] = 2 }
                } } }
            }
            overlay = LabelOverlay(labels: pred, truth: truthMap, style: labels)
        }
        var f: FieldOverlay?
        if let field {
            let u = Phantom.radialField(on: g, factor: 0.15)
            f = FieldOverlay(field: u, style: field)
        }
        return SliceScene(image: image, window: IntensityWindow(low: 0, high: 140)!, colorMap: colorMap, labels: overlay, field: f)
    }

    static let cases: [(name: String, render: () -> RGBAImage)] = [
        ("axial-labels-fill", { scene(labels: LabelStyle(opacity: 0.5)).render(plane: .axial, options: RenderOptions(scale: 4)) }),
        ("coronal-radiological-outline-hot", {
            scene(labels: LabelStyle(outline: true), colorMap: .hot).render(plane: .coronal, convention: .radiological,
                                                                           options: RenderOptions(scale: 3))
        }),
        ("sagittal-viridis-arrows", {
            scene(field: FieldStyle(mode: .arrows, step: 4, gain: 2), colorMap: .viridis).render(plane: .sagittal, options: RenderOptions(scale: 6))
        }),
        ("axial-truth-comparison", {
            scene(labels: LabelStyle(opacity: 0.8), truth: true).render(plane: .axial, slice: 7, options: RenderOptions(scale: 4))
        }),
        ("axial-jacobian", { scene(field: FieldStyle(mode: .jacobian, opacity: 0.8)).render(plane: .axial, options: RenderOptions(scale: 4)) }),
        ("coronal-grid", { scene(field: FieldStyle(mode: .grid, step: 3, gain: 1.5)).render(plane: .coronal, options: RenderOptions(scale: 5)) }),
        ("montage-2x3", {
            scene(labels: LabelStyle(opacity: 0.6, visibleLabels: [1, 3])).renderMontage(plane: .axial, rows: 2, columns: 3,
                                                                                         options: RenderOptions(scale: 3)).image
        }),
    ]

    @Test(arguments: cases.map(\.name))
    func matchesGolden(name: String) throws {
        let image = GoldenImageTests.cases.first { $0.name == name }!.render()
        let url = GoldenImageTests.goldenDirectory.appendingPathComponent("\(name).png")
        if ProcessInfo.processInfo.environment["VOXTERM_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: GoldenImageTests.goldenDirectory, withIntermediateDirectories: true)
            try PNGCodec.write(image, to: url.path, text: [(key: "Software", value: "voxterm GoldenImageTests \(name)")])
            return
        }
        let golden = try PNGCodec.decode(FileIO.readAll(url.path))
        #expect(golden.width == image.width && golden.height == image.height, "\(name): size changed")
        guard golden.width == image.width && golden.height == image.height else { return }
        // Tolerance: at most 0.5 % of pixels may differ, each by at most 3 per channel (FP rounding).
        var differing = 0, worst = 0
        for i in stride(from: 0, to: golden.pixels.count, by: 4) {
            var d = 0
            for c in 0..<4 { d = max(d, abs(Int(golden.pixels[i + c]) - Int(image.pixels[i + c]))) }
            if d > 0 { differing += 1 }
            worst = max(worst, d)
        }
        let total = golden.width * golden.height
        #expect(differing * 200 <= total && worst <= 3, "\(name): \(differing) of \(total) pixels differ, worst by \(worst)")
    }
}
