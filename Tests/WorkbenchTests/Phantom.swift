import Foundation
import VoxtermModel
import SliceRendering
import Terminal
@testable import Workbench

/// A 20x30x10 RAS phantom (1x1x2 mm): intensity 1000 in the subject's left half (i < 10), else a
/// ramp over j; labels 1 "Left half" and 2 "Right half" in a central block.
func phantomDocument(compare: Bool = false, field: Bool = false) -> WorkbenchDocument {
    let g = VolumeGeometry(size: [20, 30, 10], spacing: [1, 1, 2], origin: [-10, -15, -10])
    var v = Volume(geometry: g)
    var l = LabelVolume(geometry: g)
    for k in 0..<10 { for j in 0..<30 { for i in 0..<20 {
        v[i, j, k] = i < 10 ? 1000 : Float(j * 10)
        if j >= 5 && j < 25 && k >= 2 && k < 8 { l[i, j, k] = i < 10 ? 1 : 2 }
    } } }
    let table = LabelTable(entries: [1: LabelEntry(value: 1, name: "Left half", color: RGBA8(255, 0, 0)),
                                     2: LabelEntry(value: 2, name: "Right half", color: RGBA8(0, 0, 255))], format: .indexName)
    var c: Volume? = nil
    if compare {
        var cv = v
        for i in 0..<cv.voxels.count { cv.voxels[i] = 1000 - cv.voxels[i] }
        c = cv
    }
    var f: VectorField? = nil
    if field {
        var vf = VectorField(zeroOn: g)
        for n in 0..<g.voxelCount { vf.setVector([2, 0, 0], at: n) }
        f = vf
    }
    return WorkbenchDocument(imagePath: "/data/phantom.nii.gz", image: v, labels: l, labelsPath: "/data/phantom_labels.nii.gz",
                             labelTable: table, labelTablePath: "/data/phantom.txt", field: f, compare: c,
                             comparePath: compare ? "/data/other.nii.gz" : nil)
}

/// Two smooth blobs (labels 1 and 2 where each is above half its peak) with a texture everywhere
/// (so the background registers too), moved `shift` mm along x.
func twoBlobScene(shift: Double) -> (Volume, LabelVolume) {
    let g = VolumeGeometry(size: [28, 28, 20], spacing: [2, 2, 2], origin: [-28, -28, -20])
    var v = Volume(geometry: g), l = LabelVolume(geometry: g)
    for k in 0..<20 { for j in 0..<28 { for i in 0..<28 {
        let x = g.world(ofVoxel: SIMD3(Double(i), Double(j), Double(k))) - SIMD3(shift, 0, 0)
        let a = exp(-((x - SIMD3(-8, 0, 0)) * (x - SIMD3(-8, 0, 0))).sum() / 72)
        let b = exp(-((x - SIMD3(10, 4, 2)) * (x - SIMD3(10, 4, 2))).sum() / 50)
        let texture = 150 * (2 + sin(x.x / 5) + cos(x.y / 6 + x.z / 7))
        v[i, j, k] = Float(1000 * a + 700 * b + texture)
        l[i, j, k] = a > 0.5 ? 1 : (b > 0.5 ? 2 : 0)
    } } }
    return (v, l)
}

let trueColour = TerminalCapabilities(colorDepth: .trueColor, unicode: true)

/// Runs the workbench loop on a recording terminal fed with `events` (then `.closed`).
@discardableResult
func runRecorded(_ state: inout WorkbenchState, _ events: [InputEvent], size: TerminalSize = TerminalSize(columns: 120, rows: 40),
                 capabilities: TerminalCapabilities = trueColour, cache: SliceCache = SliceCache()) -> RecordingTerminal {
    let t = RecordingTerminal(size: size, capabilities: capabilities, events: events)
    WorkbenchApp.run(&state, terminal: t, cache: cache) { s, c in "export \(WorkbenchExport.fileName(s))" }
    return t
}

func keys(_ s: String) -> [InputEvent] { s.map { .key(.character($0)) } }

extension CellGrid {
    /// Rows containing `needle`.
    func rows(containing needle: String) -> [Int] { (0..<height).filter { text(row: $0).contains(needle) } }
}
