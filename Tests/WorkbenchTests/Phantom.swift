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
