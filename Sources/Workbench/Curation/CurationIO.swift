import Foundation
import VoxtermModel

/// The file I/O of curation effects, run off the UI thread by `JobRunner.runFileWork`.
public enum CurationIO {
    /// Writes the manifest; returns the status message and whether it was written. Never over
    /// one of `inputs` (the session's files, the supports) or an image; over another existing
    /// file only with `replace` (the session's own manifest, or `:save! support`), else it is
    /// created exclusively.
    public static func saveManifest(_ set: SupportSet, to path: String, inputs: [String] = [], replace: Bool = false) -> (message: String, saved: Bool) {
        let lower = path.lowercased()
        guard ![".nii", ".nii.gz", ".hdr", ".img", ".mgz", ".mgh", ".nrrd", ".nhdr", ".mha", ".mhd"].contains(where: lower.hasSuffix) else {
            return ("\(path): a manifest must not be written over an image (.json expected)", false)
        }
        let protected = inputs + set.examples.flatMap { [$0.image, $0.labels] }
        if protected.contains(where: { same($0, path) }) {
            return ("\(path): is an input of this session; not overwritten (choose another path)", false)
        }
        if !replace && FileIO.exists(path) {
            return ("\(path): already exists and is not this session's manifest; :save! support \(path) replaces it", false)
        }
        do {
            try set.save(path, exclusive: !replace)
            return ("saved \(set.examples.count) support example\(set.examples.count == 1 ? "" : "s") to \(path)", true)
        } catch {
            let text = "\(error)".replacingOccurrences(of: "pass --force to replace it", with: ":save! support PATH replaces it")
            return ("saving the support set failed: \(text)", false)
        }
    }

    /// Reads a manifest and its volumes; the open image and label map are reused, not re-read.
    public static func loadManifest(_ path: String, document doc: WorkbenchDocument) -> Action {
        do {
            let set = try SupportSet.load(path)
            let read = try set.readVolumes { ex in
                let open = same(ex.image, doc.imagePath)
                var labels: LabelVolume? = nil
                if open, let l = doc.labels, let lp = doc.labelsPath, same(ex.labels, lp) { labels = l }
                return (open ? doc.image : nil, labels)
            }
            var entries: [SupportEntry] = []
            for r in read {
                guard r.labels.geometry.size == r.image.geometry.size else {
                    throw WorkbenchError(path: r.example.labels, reason: "labels are not on the grid of \(r.example.image)")
                }
                entries.append(SupportEntry(example: r.example, image: r.image, labels: r.labels,
                                            isOpenImage: same(r.example.image, doc.imagePath)))
            }
            return .curation(.manifestLoaded(path: path, entries: entries))
        } catch {
            return .showMessage("loading the support set failed: \(error)")
        }
    }

    /// Writes `<stem>_pred.nii.gz` and `<stem>_pred_confidence.nii.gz` into `directory` (adding -2,
    /// -3, ... rather than replacing a file; never over an input); returns the status message.
    public static func writePrediction(_ o: PredictionOutcome, directory: String, stem: String, inputs: [String]) -> String {
        let fm = FileManager.default
        var n = 1
        func name(_ suffix: String) -> String {
            (directory as NSString).appendingPathComponent("\(stem)_pred\(n == 1 ? "" : "-\(n)")\(suffix).nii.gz")
        }
        while fm.fileExists(atPath: name("")) || fm.fileExists(atPath: name("_confidence")) { n += 1 }
        let labelsPath = name(""), confidencePath = name("_confidence")
        // Both files in one output set: they appear together or not at all.
        let set = OutputSet(overwrite: false)
        let options = NIfTIWriter.Options(protectedPaths: inputs, overwrite: false,
                                          description: "voxterm prediction: \(o.method)", set: set).protectingDataFiles()
        do {
            try ImageFile.checkDestination(labelsPath, options: options)
            try ImageFile.checkDestination(confidencePath, options: options)
            try ImageFile.write(o.prediction.labels, to: labelsPath, options: options)
            try ImageFile.write(o.prediction.confidence, to: confidencePath, options: options)
            try set.commit()
            return "wrote \(labelsPath) and \(confidencePath)"
        } catch {
            return "saving the prediction failed: \(error)"
        }
    }

    /// Whether two paths name the same file (`FileIO.sameFile`: device and inode when both exist).
    static func same(_ a: String, _ b: String) -> Bool { FileIO.sameFile(a, b) }
}

extension CurationIO {
    /// Runs a curation effect (on any thread) and returns the actions that report its result.
    public static func perform(_ effect: CurationEffect, state: WorkbenchState) -> [Action] {
        switch effect {
        case .saveManifest(let path, let set, let inputs, let replace):
            let (message, saved) = saveManifest(set, to: path, inputs: inputs, replace: replace)
            return [saved ? .curation(.manifestSaved(path: path, message: message)) : .showMessage(message)]
        case .loadManifest(let path):
            return [loadManifest(path, document: state.document)]
        case .writePrediction(let o, let directory, let stem, let inputs):
            return [.showMessage(writePrediction(o, directory: directory, stem: stem, inputs: inputs))]
        }
    }
}
