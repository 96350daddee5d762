import Testing
import SliceRendering
import VolumeCore

/// Display orientation comes from the affine, whatever the on-disk axis order.
@Suite struct OrientationPropertyTests {
    static let orders: [[AnatomicalDirection]] = [
        [.right, .anterior, .superior], [.left, .anterior, .superior], [.left, .posterior, .inferior],
        [.posterior, .superior, .right], [.inferior, .left, .anterior], [.anterior, .right, .inferior],
    ]

    @Test(arguments: orders)
    func sameDataInAnyAxisOrderGivesTheSamePicture(order: [AnatomicalDirection]) {
        let ras = Phantom.ras()
        let other = Phantom.reoriented(ras, axes: order)
        #expect(other.geometry.orientation.directions == order)
        let labels = Phantom.labels(on: ras.geometry)
        let otherLabels = Phantom.reoriented(labels, axes: order)
        let w = IntensityWindow(low: 0, high: 150)!
        let a = SliceScene(image: ras, window: w, labels: LabelOverlay(labels: labels, style: LabelStyle(outline: true)))
        let b = SliceScene(image: other, window: w, labels: LabelOverlay(labels: otherLabels, style: LabelStyle(outline: true)))
        for plane in SlicePlane.allCases {
            for conv in DisplayConvention.allCases {
                let ma = a.mapping(plane, convention: conv), mb = b.mapping(plane, convention: conv)
                #expect(ma.edgeDirections.left == mb.edgeDirections.left)
                #expect(ma.edgeDirections.top == mb.edgeDirections.top)
                for s in [0, ma.middleSlice, ma.sliceCount - 1] {
                    // The same world slice: slice index counts along the plane normal in voxel order.
                    let world = ma.world(column: 0, row: 0, slice: Double(s))
                    let sb = mb.slice(ofWorld: world)!
                    let ia = a.render(ma, slice: s), ib = b.render(mb, slice: sb)
                    #expect(ia == ib, "\(order) \(plane) \(conv) slice \(s)")
                }
            }
        }
    }

    /// A bright voxel at a known world position lands on the expected side in every plane.
    @Test(arguments: orders)
    func markerLandsOnTheExpectedSide(order: [AnatomicalDirection]) {
        var ras = Volume(geometry: VolumeGeometry(size: [21, 25, 17], spacing: [1, 1.5, 2], origin: [-10, -18, -16]))
        // Subject's right (+x), anterior (+y), superior (+z) of centre.
        let marker = SIMD3<Double>(6, 9, 8)
        let mv = ras.geometry.voxel(ofWorld: marker)
        ras[Int(mv.x.rounded()), Int(mv.y.rounded()), Int(mv.z.rounded())] = 100
        let vol = Phantom.reoriented(ras, axes: order)
        let scene = SliceScene(image: vol, window: IntensityWindow(low: 0, high: 100)!)
        for plane in SlicePlane.allCases {
            for conv in DisplayConvention.allCases {
                let m = scene.mapping(plane, convention: conv)
                let slice = m.slice(ofWorld: marker)!
                let img = scene.render(m, slice: slice, options: RenderOptions(scale: 1, squarePixels: false, orientationLetters: false))
                let hits = img.pixels { $0.r > 200 && $0.g > 200 && $0.b > 200 }
                #expect(hits.count == 1, "\(order) \(plane) \(conv)")
                guard let p = hits.first else { continue }
                let rightHalf = Double(p.x) > Double(img.width - 1) / 2, topHalf = Double(p.y) < Double(img.height - 1) / 2
                switch plane {
                case .axial: // right of centre; anterior at the top
                    #expect(rightHalf == (conv == .neurological)); #expect(topHalf)
                case .coronal: // right of centre; superior at the top
                    #expect(rightHalf == (conv == .neurological)); #expect(topHalf)
                case .sagittal: // anterior on the left; superior at the top
                    #expect(!rightHalf); #expect(topHalf)
                }
                // The display <-> world mapping agrees with where the pixel is.
                let d = m.display(ofWorld: marker)
                #expect(Int(d.column.rounded()) == p.x && Int(d.row.rounded()) == p.y)
            }
        }
    }

    @Test func edgeLettersFollowTheConvention() {
        let g = VolumeGeometry(size: [4, 5, 6])
        let ax = SliceMapping(geometry: g, plane: .axial)
        #expect(String([ax.edgeDirections.left, ax.edgeDirections.right, ax.edgeDirections.top, ax.edgeDirections.bottom].map(\.rawValue)) == "LRAP")
        let axr = SliceMapping(geometry: g, plane: .axial, convention: .radiological)
        #expect(String([axr.edgeDirections.left, axr.edgeDirections.right].map(\.rawValue)) == "RL")
        let co = SliceMapping(geometry: g, plane: .coronal)
        #expect(String([co.edgeDirections.left, co.edgeDirections.right, co.edgeDirections.top, co.edgeDirections.bottom].map(\.rawValue)) == "LRSI")
        let sa = SliceMapping(geometry: g, plane: .sagittal)
        #expect(String([sa.edgeDirections.left, sa.edgeDirections.right, sa.edgeDirections.top, sa.edgeDirections.bottom].map(\.rawValue)) == "APSI")
        #expect(ax.width == 4 && ax.height == 5 && ax.sliceCount == 6)
        #expect(sa.width == 5 && sa.height == 6 && sa.sliceCount == 4)
    }

    @Test func anisotropicVoxelsKeepTheirPhysicalAspect() {
        let scene = SliceScene(image: Phantom.ras(size: [20, 24, 16], spacing: [1, 1.5, 3]))
        let cor = scene.render(plane: .coronal)
        // 20 mm wide, 48 mm tall: square pixels make the picture 20 x 48 (1 mm per pixel).
        #expect(cor.width == 20 && cor.height == 48)
        let ax = scene.render(plane: .axial, options: RenderOptions(scale: 2))
        #expect(ax.width == 40 && ax.height == 72)
        let native = scene.render(plane: .axial, options: .native)
        #expect(native.width == 20 && native.height == 24)
    }

    @Test func obliqueAffineShowsTheNearestAxisAlignedView() {
        let c = 10.0 * Double.pi / 180
        let aff = AffineTransform(linear: [[cos(c), -sin(c), 0], [sin(c), cos(c), 0], [0, 0, 1]], translation: [-10, -10, -5])
        let g = VolumeGeometry(size: [20, 20, 10], affine: aff)
        let m = SliceMapping(geometry: g, plane: .axial)
        #expect(m.isOblique)
        #expect(m.columnAxis == 0 && m.rowAxis == 1 && !m.columnFlipped && m.rowFlipped)
        #expect(!SliceMapping(geometry: VolumeGeometry(size: [2, 2, 2]), plane: .axial).isOblique)
    }
}

import Foundation
