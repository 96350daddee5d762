import Foundation
import Testing
import TestSupport
import VoxtermModel
import Terminal
@testable import NIfTI
@testable import Workbench

/// `:save labels` writes through `ImageFile`, which protects the inputs' data files itself.
@Suite("Workbench saves protect the inputs' data files")
struct WorkbenchSaveProtectionTests {
    @Test(":save! labels over the data file of the open .nhdr image is refused and the data stays")
    func saveLabelsOverAnInputsDataFile() throws {
        let dir = try OneSittingTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let doc = phantomDocument()
        // The header names its voxels' file d.nii (any name is allowed).
        let (nhdr, data) = try nhdrWithRenamedDataFile(in: dir) { try ImageFile.write(doc.image, to: $0) }
        let before = try Data(contentsOf: URL(fileURLWithPath: data))
        var state = WorkbenchState(document: try WorkbenchDocument.load(image: nhdr), size: TerminalSize(columns: 120, rows: 40))
        state.document.labels = doc.labels
        let effects = ReviewRound3Tests.type(&state, "save! labels \(data)")
        guard case .command(let save)? = effects.first else { Issue.record("no save: \(effects)"); return }
        for a in CommandIO.perform(save) { _ = reduce(&state, a) }
        #expect(state.message == "error: save labels: \(data): refusing to overwrite an input file; choose another output path")
        #expect(try Data(contentsOf: URL(fileURLWithPath: data)) == before)
    }
}
