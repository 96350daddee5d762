import Foundation
import VoxtermModel
import SliceRendering

extension KeyTable {
    /// Support-set and prediction keys, active in normal mode after `normal` (listed in the help under their own section).
    public static let curation: [KeyBinding] = [
        KeyBinding([.character("u")], .curation(.togglePanel), "Support set & prediction", "support-set panel show / hide"),
        KeyBinding([.character("A")], .curation(.addSlice), "Support set & prediction", "add this slice (with its labels) as a support"),
        KeyBinding([.character("V")], .curation(.addVolume), "Support set & prediction", "add the whole volume as a support"),
        KeyBinding([.character("D"), .delete], .curation(.removeSelected), "Support set & prediction", "remove the selected support"),
        KeyBinding([.character("M")], .curation(.saveManifest), "Support set & prediction", "save the support-set manifest"),
        KeyBinding([.character("O")], .curation(.loadManifest), "Support set & prediction", "load the support-set manifest"),
        KeyBinding([.character("i")], .curation(.predict(.slice)), "Support set & prediction", "predict this slice from the supports"),
        KeyBinding([.character("I")], .curation(.predict(.volume)), "Support set & prediction", "predict the whole volume"),
        KeyBinding([.character("C")], .curation(.cycleDisplay), "Support set & prediction", "show prediction / vs truth / confidence / labels"),
        KeyBinding([.character("d")], .curation(.jumpToDisagreement), "Support set & prediction", "next slice where the supports disagree most"),
        KeyBinding([.character("E")], .curation(.savePrediction), "Support set & prediction", "save the prediction as NIfTI"),
    ]
}
