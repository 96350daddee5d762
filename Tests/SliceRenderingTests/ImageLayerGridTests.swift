import Foundation
import SliceRendering
import Testing
import VolumeCore

/// `ImageLayer.onGrid`: a layer's values on the base image's grid, through both affines.
@Suite("image layers on another grid")
struct ImageLayerGridTests {
    /// A source grid (1.5 x 2 x 2.5 mm, shifted) and an oblique target grid (rotated about two axes,
    /// other spacing and size), overlapping only in part.
    static let source = VolumeGeometry(size: [17, 13, 11], spacing: [1.5, 2, 2.5], origin: [-12, -11, -9])
    static let oblique: VolumeGeometry = {
        let c = cos(0.3), s = sin(0.3), c2 = cos(0.17), s2 = sin(0.17)
        let rotation = AffineTransform(linear: [[c, -s * c2, s * s2], [s, c * c2, -c * s2], [0, s2, c2]], translation: [2.3, -4.1, 1.7])
        return VolumeGeometry(size: [23, 19, 15], affine: rotation.composed(after: .scaling([1.3, 1.1, 1.7], origin: [-14, -10, -12])))
    }()

    /// Values that are a linear function of the voxel index: trilinear interpolation gives the
    /// function itself anywhere inside the grid.
    static func linear(_ p: SIMD3<Double>) -> Double { 3 + 0.7 * p.x - 1.3 * p.y + 2.1 * p.z }

    @Test("on an oblique grid: the linear function at each target voxel's source position, NaN beyond half a voxel outside")
    func obliqueGridValues() throws {
        let g = Self.source
        let volume = Volume(geometry: g, voxels: (0..<g.voxelCount).map { Float(Self.linear(SIMD3<Double>(g.voxel(ofIndex: $0)))) })
        let out = ImageLayer.onGrid(volume, Self.oblique)
        #expect(out.geometry == Self.oblique)
        let toSource = try #require(g.affine.inverse).composed(after: Self.oblique.affine)
        var inside = 0, outside = 0, worst = 0.0
        for n in 0..<Self.oblique.voxelCount {
            let p = toSource.apply(SIMD3<Double>(Self.oblique.voxel(ofIndex: n)))
            let lo = SIMD3<Double>(repeating: -0.5), hi = SIMD3<Double>(g.size) - 0.5
            if any(p .< lo - 1e-6) || any(p .> hi + 1e-6) {
                #expect(out.voxels[n].isNaN, "voxel \(n) maps to \(p), outside the source grid")
                outside += 1
            } else if all(p .> lo + 1e-6) && all(p .< hi - 1e-6) {
                // Clamped to the edge within half a voxel of the border: the function at the clamped position.
                let q = SIMD3<Double>(min(max(p.x, 0), Double(g.size.x - 1)), min(max(p.y, 0), Double(g.size.y - 1)),
                                      min(max(p.z, 0), Double(g.size.z - 1)))
                worst = max(worst, abs(Double(out.voxels[n]) - Self.linear(q)))
                inside += 1
            }
        }
        // Both parts are sizeable, so the check covers the oblique overlap and its border.
        #expect(inside > 1000 && outside > 1000, "inside \(inside), outside \(outside)")
        #expect(worst < 1e-4, "largest difference from the linear function \(worst)")
    }

    @Test("agrees with Volume.resampled (trilinear, NaN outside) to float rounding on an oblique grid")
    func agreesWithVolumeResampling() {
        let g = Self.source
        // Rough values (a hash of the index), 0 ..< 1000.
        let volume = Volume(geometry: g, voxels: (0..<g.voxelCount).map { Float(($0 * 7919 + 13) % 1000) })
        let a = ImageLayer.onGrid(volume, Self.oblique)
        let b = volume.resampled(to: Self.oblique, interpolation: .linear, outside: .nan)
        var differentNaN = 0, worst: Float = 0
        for n in a.voxels.indices {
            if a.voxels[n].isNaN != b.voxels[n].isNaN { differentNaN += 1; continue }
            if !a.voxels[n].isNaN { worst = max(worst, abs(a.voxels[n] - b.voxels[n])) }
        }
        // The two differ only in rounding (a(1-f)+bf against a+(b-a)f) and exactly on the border
        // (|p| = half a voxel outside: NaN here, the edge value there), which no voxel hits here.
        #expect(differentNaN == 0)
        #expect(worst < 1e-3, "largest difference \(worst) on values up to 1000")
    }

    @Test("the same grid gives the volume back; a singular source affine gives NaN everywhere")
    func sameGridAndSingularAffine() {
        let g = Self.source
        let volume = Volume(geometry: g, voxels: (0..<g.voxelCount).map { Float($0) })
        #expect(ImageLayer.onGrid(volume, g).voxels == volume.voxels)
        let flat = Volume(geometry: VolumeGeometry(size: [4, 5, 6], affine: AffineTransform(linear: [[1, 0, 0], [0, 1, 0], [0, 0, 0]], translation: .zero)),
                          voxels: (0..<120).map { Float($0) })
        let out = ImageLayer.onGrid(flat, Self.source)
        #expect(out.geometry == Self.source && out.voxels.allSatisfy(\.isNaN))
    }
}
