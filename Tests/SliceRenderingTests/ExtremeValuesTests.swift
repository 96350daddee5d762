import Testing
import SliceRendering
import VolumeCore

/// Found by the NIfTI fuzz target once it rendered decoded volumes (issue 13): values and voxel
/// sizes at the edges of the number range must render or be refused with a reason, never trap.
@Suite struct ExtremeValuesTests {
    /// A flat image of 3e38 (float32's top): the window could not be widened by 1 and trapped.
    @Test func flatHugeImageGetsAWindow() throws {
        for v: Float in [3e38, -3e38, 1e30, 0, .greatestFiniteMagnitude] {
            let volume = Volume(geometry: VolumeGeometry(size: [4, 4, 2]), repeating: v)
            let w = IntensityWindow.automatic(volume)
            #expect(w.low < w.high && w.low.isFinite && w.high.isFinite, "\(v): \(w)")
            _ = SliceScene(image: volume).render(plane: .axial)
        }
        let top = IntensityWindow.widened(Double.greatestFiniteMagnitude, Double.greatestFiniteMagnitude)
        #expect(top.low < top.high)
    }

    /// A scalar overlay under a window whose float32 bounds overflow to infinity: (v - inf) * 0
    /// is NaN, whose colour index trapped.
    @Test func scalarsUnderAnOverflowingWindowDoNotTrap() throws {
        var img = RGBAImage(width: 3, height: 1)
        let values: [Float] = [1, -1, .infinity]
        let window = try #require(IntensityWindow(low: -1e300, high: 1e300))
        values.withUnsafeBufferPointer { img.drawScalars($0, window: window, colors: ColorMap.hot.table) }
    }

    /// Voxels 100,000 times longer one way than the other: the picture would be 4,000,000 pixels
    /// high; the reason names the voxel sizes (export's message), and rendering never traps.
    @Test func extremeAspectIsNamed() throws {
        let volume = Volume(geometry: VolumeGeometry(size: [40, 40, 5], spacing: [0.001, 100, 1]), repeating: 1)
        let scene = SliceScene(image: volume)
        let m = scene.mapping(.axial)
        let problem = try #require(scene.outputSizeProblem(m, options: RenderOptions()))
        #expect(problem.contains("voxel sizes 0.001 x 100 mm") && problem.contains("40 x 4000000 pixels") && problem.contains("65535"), "\(problem)")
        #expect(scene.outputSizeProblem(m, options: RenderOptions(squarePixels: false)) == nil)
        let size = scene.outputScale(m, options: RenderOptions())
        #expect(size.height == SliceScene.maximumSide)
    }
}
