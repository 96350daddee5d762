import ArgumentParser
import Foundation
import SliceRendering
import VoxtermModel

/// `voxterm batch report DIR`: the summary table worst first, and QC pictures in DIR/qc/.
struct BatchReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print a batch's summary worst first and write QC pictures (DIR/qc/<subject>.png, DIR/qc/index.png).",
        discussion: """
        Register: the warped image with the warped labels' outlines; segment: the image with the prediction's
        outlines (TP/FP/FN colours when the row has truth). index.png holds one middle slice per subject,
        worst first, captioned with the subject and its mean Dice (or similarity); more than 100 subjects
        continue in index-2.png, index-3.png, ... Rewrites summary.csv/json from the status records.
        """)

    @Argument(help: "The batch output folder.") var dir: String
    @Option(help: "Plane of the pictures: axial, coronal or sagittal.") var plane: SlicePlane = .axial
    @Option(help: "Rows of the per-subject montage (x4 columns).") var rows = 3
    @Flag(name: .customLong("no-qc"), help: "Only print the table.") var noQC = false
    @Option(help: "Print only the worst N rows.") var limit: Int?

    func validate() throws {
        guard rows >= 1 && rows <= 10 else { throw ValidationError("--rows must be in 1...10") }
    }

    func run() throws {
        let (folder, manifest) = try readBatchFolder(dir)
        let summary: BatchSummary
        do { summary = try BatchSummary.refresh(folder, manifest: manifest) } catch {
            printError(error)
            throw ExitCode(ExitCodes.writeFailed)
        }
        print(summary.table(limit: limit), terminator: "")
        guard !noQC else { return }
        do {
            // Pictures replace only pictures an earlier report wrote.
            let pages = max(1, (summary.worstFirst.count + 99) / 100)
            let names = manifest.subjects.map { $0.subject + ".png" } + (0..<pages).map(QCPicture.indexName)
            for name in names { try QCPicture.checkReplaceable((folder.qcFolder as NSString).appendingPathComponent(name)) }
            try FileIO.createFolders(folder.qcFolder, for: folder.qcFolder)
        } catch {
            printError(error)
            throw ExitCode(ExitCodes.writeFailed)
        }
        let rowsBySubject = Dictionary(uniqueKeysWithValues: manifest.subjects.map { ($0.subject, $0) })
        var tiles: [(String, RGBAImage)] = []
        var written = 0
        for status in summary.worstFirst {
            let qc = QCPicture(folder: folder, settings: manifest.settings, row: rowsBySubject[status.subject]!, status: status, plane: plane)
            let tile: RGBAImage
            do {
                guard let scene = try qc.scene() else {
                    tiles.append((status.subject, qc.placeholder()))
                    continue
                }
                // Small images (4 mm, crops) are upscaled so tiles are at least 96 pixels wide.
                let m = scene.mapping(plane)
                let k = max(1, Int((96.0 / Double(max(1, scene.outputScale(m, options: RenderOptions()).width))).rounded(.up)))
                let (montage, slices) = scene.renderMontage(plane: plane, rows: rows, columns: 4, options: RenderOptions(scale: k))
                try qc.write(montage, slices: slices)
                written += 1
                tile = qc.captioned(scene.render(plane: plane, slice: slices[slices.count / 2],
                                                 options: RenderOptions(scale: k, orientationLetters: false)))
            } catch {
                printError(error)
                tile = qc.placeholder(note: "unreadable")
            }
            tiles.append((status.subject, tile))
        }
        let pages = try QCPicture.writeIndex(tiles, folder: folder)
        standardError.write("voxterm batch report: \(written) QC pictures and \(pages.joined(separator: ", ")) in \(folder.qcFolder)\n")
    }
}

/// One subject's QC picture.
struct QCPicture {
    let folder: BatchFolder
    let settings: BatchSettings
    let row: CohortSubject
    let status: SubjectStatus
    let plane: SlicePlane

    var path: String { (folder.qcFolder as NSString).appendingPathComponent(row.subject + ".png") }

    /// The headline score as the pictures write it ("DICE 0.712", "SIM -0.412"), or nil.
    var score: String? {
        switch status.headline {
        case .dice(let d)?: return String(format: "DICE %.3f", d)
        case .similarity(let v)?: return String(format: "SIM %.3f", v)
        case nil: return nil
        }
    }

    /// Subject name and its headline score.
    var caption: String {
        var c = row.subject
        if let h = score { c += " " + h }
        if status.state != .done { c += " " + status.state.rawValue }
        return c
    }

    /// The scene of a finished subject (nil when it has no outputs): register, the warped image
    /// with the warped labels' outlines; segment, the image with the prediction's outlines
    /// (against truth when there is one).
    func scene() throws -> SliceScene? {
        // The files the workbench's view --cohort shows too (SubjectView).
        let view = SubjectView(folder: folder, settings: settings, row: row, status: status)
        guard view.hasOutputs else { return nil }
        let style = LabelStyle(opacity: 0.9, outline: true)
        switch settings.task {
        case .register:
            let image = try ImageFile.read(view.image).volume()
            let labels = try view.labels.map { try ImageFile.read($0).labelVolume() }
            return SliceScene(image: image, labels: labels.map { LabelOverlay(labels: $0, style: style) })
        case .segment:
            let image = try ImageFile.read(view.image).volume()
            let labels = try ImageFile.read(view.labels!).labelVolume()
            let truth = try view.truth.map { try ImageFile.read($0).labelVolume() }.flatMap { $0.geometry.size == labels.geometry.size ? $0 : nil }
            return SliceScene(image: image, labels: LabelOverlay(labels: labels, truth: truth, style: truth == nil ? style : LabelStyle(opacity: 0.6)))
        }
    }

    /// Writes the montage PNG with provenance text chunks.
    func write(_ picture: RGBAImage, slices: [Int]) throws {
        let text: [(key: String, value: String)] = [
            ("Software", "voxterm batch report"), ("Subject", row.subject), ("Status", status.state.rawValue),
            ("Source", folder.subjectFolder(row.subject)), ("Plane", plane.rawValue),
            ("Slices", slices.map(String.init).joined(separator: ",")), ("Caption", caption),
        ]
        let bytes: [UInt8]
        do { bytes = try PNGCodec.encode(picture, text: text) } catch { throw FileError(path: path, reason: "\(error)") }
        try FileIO.writeAtomically(path, bytes)
    }

    /// `image` above a two-line caption strip: the subject, then its state or headline score.
    func captioned(_ image: RGBAImage) -> RGBAImage {
        var out = RGBAImage(width: max(image.width, 96), height: image.height + 20)
        out.paste(image, x: 0, y: 0)
        out.drawText(String(row.subject.prefix(max(1, out.width / 6))), x: 1, y: image.height + 2, color: RGBA8(255, 255, 255), outline: nil)
        out.drawText(score ?? status.state.rawValue, x: 1, y: image.height + 11, color: RGBA8(255, 255, 0), outline: nil)
        return out
    }

    /// A dark tile naming a subject without pictures (failed, interrupted, pending).
    func placeholder(note: String? = nil) -> RGBAImage {
        var img = RGBAImage(width: 96, height: 112, fill: RGBA8(40, 0, 0))
        img.drawText(String(row.subject.prefix(15)), x: 3, y: 3, color: RGBA8(255, 255, 255))
        img.drawText((note ?? status.state.rawValue), x: 3, y: 14, color: RGBA8(255, 80, 80))
        let reason = Array((status.reason ?? "").uppercased())
        for line in 0..<8 {
            let part = reason.dropFirst(line * 15).prefix(15)
            if part.isEmpty { break }
            img.drawText(String(part), x: 3, y: 28 + line * 9, color: RGBA8(220, 220, 220))
        }
        return img
    }

    /// The file name of index page `k` (0-based): index.png, index-2.png, index-3.png, ...
    static func indexName(_ k: Int) -> String { k == 0 ? "index.png" : "index-\(k + 1).png" }

    /// Refuses a file at `path` that an earlier `batch report` did not write (no PNG text
    /// `Software: voxterm batch report`), so a report never replaces the user's own picture.
    static func checkReplaceable(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        let ours = (st.st_mode & S_IFMT) == S_IFREG
            && ((try? PNGCodec.readText(FileIO.readAll(path, limit: 256 << 20)))?.contains { $0.key == "Software" && $0.value == "voxterm batch report" } ?? false)
        guard ours else {
            throw FileError(path: path, reason: "exists and was not written by voxterm batch report; voxterm never replaces a file it did not write: move it away and run the report again")
        }
    }

    /// Writes the index montage(s): tiles in order, rows of ten, 100 per page. Returns file names.
    static func writeIndex(_ tiles: [(String, RGBAImage)], folder: BatchFolder) throws -> [String] {
        let perPage = 100, columns = 10, gap = 2
        var names: [String] = []
        for page in stride(from: 0, to: max(1, tiles.count), by: perPage) {
            let part = Array(tiles[page..<min(tiles.count, page + perPage)])
            let w = part.map(\.1.width).max() ?? 1, h = part.map(\.1.height).max() ?? 1
            let cols = min(columns, max(1, part.count)), rowsN = max(1, (part.count + cols - 1) / cols)
            var out = RGBAImage(width: cols * w + (cols - 1) * gap, height: rowsN * h + (rowsN - 1) * gap)
            for (i, t) in part.enumerated() { out.paste(t.1, x: (i % cols) * (w + gap), y: (i / cols) * (h + gap)) }
            let name = indexName(page / perPage)
            let text: [(key: String, value: String)] = [("Software", "voxterm batch report"),
                                                        ("Subjects", part.map(\.0).joined(separator: ",")),
                                                        ("Order", "worst first")]
            let path = (folder.qcFolder as NSString).appendingPathComponent(name)
            let bytes: [UInt8]
            do { bytes = try PNGCodec.encode(out, text: text) } catch { throw FileError(path: path, reason: "\(error)") }
            try FileIO.writeAtomically(path, bytes)
            names.append(name)
        }
        return names
    }
}
