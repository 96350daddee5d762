import Foundation
import Testing
import TestSupport
import Workbench

/// At 80x24 the help screen scrolls instead of cutting keys off, and status messages are never cut mid-word.
@Suite(.serialized, .enabled(if: TmuxSession.executable != nil, "tmux is not installed"))
struct HelpScrollTmuxTests {
    @Test func helpScrollsToEveryKeyAt80x24() throws {
        let t = try TmuxSession(Workbench.viewCommand(), width: 80, height: 24, environment: Workbench.utf8)
        _ = try t.waitForStatus()
        try t.send("?")
        var seen = try t.waitForSettled { $0.contains("voxterm keys") }
        #expect(seen.contains("scroll · rows 1-"), "no scroll hint at 80x24:\n\(seen)")
        var last = ""
        for _ in 0..<200 {   // stops at the bottom (107 rows at 80x24 with the cohort and ^ keys)
            try t.send("j")
            let s = try t.waitForSettled { _ in true }
            seen += "\n" + s
            if s == last { break }   // the bottom: further scrolling changes nothing
            last = s
        }
        // Every binding's help text, from the key table itself, was on screen at some point.
        for b in KeyTable.table(for: .normal) + KeyTable.supportPanel {
            let words = String(b.help.prefix(24))
            #expect(seen.contains(words), "never shown: \(b.help)")
        }
        #expect(seen.contains("set the crosshair"))   // the mouse section, last
        try t.send("Escape")
        try t.send("q")
        #expect(try t.exitStatus() == 0)
    }

    @Test func longStatusMessagesEndAtAWord() {
        let msg = "predicted axial slice 5 in 22.7 s: mean Dice 0.925 over 2 labels vs phantom_labels.nii.gz"
        let short = WorkbenchView.shortenedForTests(msg, width: 60)
        #expect(short.count <= 60 && short.hasSuffix("…"))
        let kept = String(short.dropLast())
        #expect(msg.hasPrefix(kept) && (msg.dropFirst(kept.count).first == " "), "cut mid-word: \(short)")
        // A path keeps its end, the file name.
        let path = WorkbenchView.shortenedForTests("wrote /some/quite/long/folder/name/colin27_2mm_axial_slice_46.png", width: 40)
        #expect(path.count <= 40 && path.hasPrefix("wrote …") && path.hasSuffix("colin27_2mm_axial_slice_46.png"), "\(path)")
    }
}
