import VoxtermModel
import SliceRendering
import Terminal

extension WorkbenchState {
    /// The label value selected in the panel.
    public var selectedLabel: Int32? {
        let l = document.presentLabels
        return l.isEmpty ? nil : l[min(max(labelSelection, 0), l.count - 1)]
    }

    /// Moves the crosshair by `delta` slices of `plane`, clamped to the volume.
    mutating func changeSlice(in plane: SlicePlane, by delta: Int) {
        let m = mapping(plane)
        let s = min(max(slice(in: plane) + delta, 0), m.sliceCount - 1)
        cursor[m.sliceAxis] = s
    }

    /// Keeps the pan of `plane` inside the image.
    mutating func clampPan(_ plane: SlicePlane) {
        guard var p = pan[plane] else { return }
        let m = mapping(plane)
        let half = SIMD2(Double(m.width), Double(m.height)) / 2
        p.x = min(max(p.x, -half.x), half.x)
        p.y = min(max(p.y, -half.y), half.y)
        pan[plane] = p
    }

    /// Pans `plane` when zoomed so the crosshair stays on screen (or centres it with `recentre`).
    mutating func keepCursorVisible(in plane: SlicePlane, recentre: Bool = false) {
        guard zoom > 1 else { return }
        let layout = ScreenLayout(self)
        guard let pane = layout.panes.first(where: { $0.plane == plane }) else { return }
        let m = mapping(plane)
        let d = m.display(ofVoxel: SIMD3<Double>(cursor))
        let imageCentre = SIMD2(Double(m.width - 1) / 2, Double(m.height - 1) / 2)
        if recentre {
            pan[plane] = SIMD2(d.column, d.row) - imageCentre
            clampPan(plane)
            return
        }
        let t = viewTransform(for: pane)
        let px = t.pixel(ofDisplay: SIMD2(d.column, d.row))
        let margin = 2.0
        var shift = SIMD2<Double>(0, 0)
        if px.x < margin { shift.x = px.x - Double(t.pixelWidth) / 2 }
        if px.x > Double(t.pixelWidth) - 1 - margin { shift.x = px.x - Double(t.pixelWidth) / 2 }
        if px.y < margin { shift.y = px.y - Double(t.pixelHeight) / 2 }
        if px.y > Double(t.pixelHeight) - 1 - margin { shift.y = px.y - Double(t.pixelHeight) / 2 }
        if shift != .zero {
            pan[plane] = (pan[plane] ?? .zero) + shift / t.magnification
            clampPan(plane)
        }
    }
}

/// The voxel of `label` nearest to the label's centre of mass, or nil when absent.
func nearestVoxelToCentroid(of label: Int32, in labels: LabelVolume) -> SIMD3<Int>? {
    let g = labels.geometry
    var sum = SIMD3<Double>(0, 0, 0), n = 0
    labels.labels.withUnsafeBufferPointer { l in
        for i in 0..<l.count where l[i] == label { sum += SIMD3<Double>(g.voxel(ofIndex: i)); n += 1 }
    }
    guard n > 0 else { return nil }
    let c = sum / Double(n)
    var best: SIMD3<Int>? = nil, bestD = Double.infinity
    labels.labels.withUnsafeBufferPointer { l in
        for i in 0..<l.count where l[i] == label {
            let v = g.voxel(ofIndex: i)
            let d = SIMD3<Double>(v) - c
            let dd = (d * d).sum()
            if dd < bestD { bestD = dd; best = v }
        }
    }
    return best
}
