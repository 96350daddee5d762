import Foundation
import Synchronization
import NIfTI
import VolumeCore
#if canImport(Glibc)
import Glibc
#endif

/// DICOM series through dcm2niix, as MRIcroGL and FSLeyes do: dcm2niix converts the folder
/// into a private temporary folder, voxterm reads its NIfTI and JSON sidecar and removes the
/// folder; nothing is ever written next to the user's files. Multi-frame, mosaic, gantry tilt
/// and non-uniform spacing are dcm2niix's job; its warnings are passed on.
public enum DICOM {
    /// One series dcm2niix found.
    public struct Series: Sendable {
        /// 1-based position in the listing (what `FOLDER@N` selects).
        public var index: Int
        /// `SeriesNumber`, `SeriesDescription` (or `ProtocolName`), `Modality` from the sidecar.
        public var seriesNumber: Int?
        public var description: String
        public var modality: String
        /// Image shape.
        public var shape: [Int]
        /// The converted NIfTI (inside the temporary folder; gone once `read` returns).
        var niftiPath: String

        /// One line for the listing: "2: series 3, T1 MPRAGE, MR, 256x256x176".
        public var summary: String {
            "\(index): series \(seriesNumber.map(String.init) ?? "?"), \(description.isEmpty ? "(no description)" : description), \(modality.isEmpty ? "?" : modality), \(shapeText(shape))"
        }
    }

    /// The folder and series a path names: `FOLDER`, `FOLDER@N`, a file of the series, or `FILE@N`.
    static func target(_ path: String) -> (folder: String, series: Int?) {
        var p = path
        var series: Int?
        if !FileIO.exists(path), let at = path.lastIndex(of: "@"), let n = Int(path[path.index(after: at)...]), n >= 1 {
            p = String(path[..<at]); series = n
        }
        var st = stat()
        if stat(p, &st) == 0 && st.st_mode & S_IFMT != S_IFDIR { p = FileIO.directoryName(p) }
        return (p, series)
    }

    /// True when `path` ends in `@N` and the part before names a folder or a DICOM file.
    public static func isSeriesSelector(_ path: String) -> Bool {
        guard !FileIO.exists(path), let at = path.lastIndex(of: "@"), Int(path[path.index(after: at)...]) != nil else { return false }
        return FileIO.exists(String(path[..<at]))
    }

    /// What a DICOM path holds: one image (the only series, or the one `@N` chose), or the list
    /// of series when there are several and none was chosen.
    public enum Opened: Sendable {
        case image(NIfTIImage)
        case several([Series])
    }

    /// The folder `path` names and the path that opens its N-th series (`FOLDER@N`).
    public static func seriesPath(_ path: String, _ n: Int) -> String { "\(target(path).folder)@\(n)" }

    /// Reads the series `path` names (see `target`): the only one, or the N-th of `FOLDER@N`;
    /// several series and no choice give their list (dcm2niix runs once either way).
    public static func open(_ path: String, limits: NIfTIReadLimits = .standard) throws -> Opened {
        let key = cacheKey(path)
        cacheLock.lock()
        let listed = listCache.flatMap { $0.key == key ? $0.series : nil }
        cacheLock.unlock()
        if let listed { return .several(listed) }
        do {
            return .image(try readChosen(path, limits: limits))
        } catch let e as SeveralSeries {
            cacheLock.lock()
            listCache = (key, e.series)
            cacheLock.unlock()
            return .several(e.series)
        }
    }

    /// Opens `path` for a viewer that shows the first series of a folder holding several
    /// (`voxterm view FOLDER`): one dcm2niix run lists the series and reads the one shown, which
    /// is kept for the read that follows under the path returned (`FOLDER@1`, or `path` itself
    /// for a single series or an `@N` choice). `series` is the list when there are several.
    public static func openFirst(_ path: String, limits: NIfTIReadLimits = .standard) throws -> (path: String, series: [Series]) {
        if isSeriesSelector(path) { _ = try readChosen(path, limits: limits); return (path, []) }
        let (image, series) = try convertAndRead(path, folder: target(path).folder, limits: limits) { series in
            (series[0], series.count > 1 ? seriesPath(path, 1) : path)
        }
        return (image.path, series.count > 1 ? series : [])
    }

    /// Thrown inside `read` when a folder holds several series and none was chosen.
    struct SeveralSeries: Error { var series: [Series]; var error: NIfTIError }
    nonisolated(unsafe) private static var listCache: (key: String, series: [Series])?

    /// Reads the series `path` names (see `target`): the only one, or the N-th of `FOLDER@N`.
    /// Several series and no choice is an error listing them.
    public static func read(_ path: String, limits: NIfTIReadLimits = .standard) throws -> NIfTIImage {
        do { return try readChosen(path, limits: limits) } catch let e as SeveralSeries { throw e.error }
    }

    private static func readChosen(_ path: String, limits: NIfTIReadLimits) throws -> NIfTIImage {
        // The workbench reads an image twice (header check before it takes the terminal, then
        // the voxels behind the loading screen): the last series read is kept, so dcm2niix runs
        // once and its warnings are printed before the terminal is taken.
        let key = cacheKey(path)
        cacheLock.lock()
        let hit = cache.flatMap { $0.key == key ? $0.image : nil }
        cacheLock.unlock()
        if let hit {
            try checkLimit(hit.rawData.bytes.count, path: path, limits: limits)
            return hit
        }
        let (folder, choice) = target(path)
        return try convertAndRead(path, folder: folder, limits: limits) { series in
            if let choice {
                guard choice <= series.count else {
                    throw NIfTIError(path, "series \(choice) requested, the folder holds \(series.count): \(series.map(\.summary).joined(separator: "; "))")
                }
                return (series[choice - 1], path)
            }
            guard series.count == 1 else {
                throw SeveralSeries(series: series, error: NIfTIError(path, "holds \(series.count) DICOM series; open one as \(folder)@N: \(series.map(\.summary).joined(separator: "; "))"))
            }
            return (series[0], path)
        }.image
    }

    /// Converts `folder` (one dcm2niix run), reads the series `choose` picks under the name it
    /// gives, prints dcm2niix's warnings (gantry tilt, uneven spacing, ...) once the read
    /// succeeded, so an error stays one line, and keeps the image as the last series read (the
    /// workbench reads an image twice: the header check before it takes the terminal, then the
    /// voxels behind the loading screen). Returns the image and every series of the folder.
    private static func convertAndRead(_ path: String, folder: String, limits: NIfTIReadLimits,
                                       choose: ([Series]) throws -> (series: Series, name: String)) throws -> (image: NIfTIImage, series: [Series]) {
        let (image, series) = try withConverted(folder, displayPath: path) { series, warnings in
            guard !series.isEmpty else { throw NIfTIError(path, "no DICOM images found (dcm2niix converted nothing)") }
            let (chosen, name) = try choose(series)
            let image = try NIfTIReader.read(chosen.niftiPath, limits: limits).renamed(name, storage: .dicom)
            if !quiet.withLock({ $0 }) { for w in warnings { fputs("voxterm: dcm2niix: \(w)\n", stderr) } }
            return (image, series)
        }
        cacheLock.lock()
        cache = (cacheKey(image.path), image)
        cacheLock.unlock()
        return (image, series)
    }

    nonisolated(unsafe) private static var cache: (key: String, image: NIfTIImage)?

    /// When true, dcm2niix's warnings are not printed (the workbench sets it while it owns the
    /// terminal: text on stderr would garble the screen).
    public static let quiet = Mutex(false)
    private static let cacheLock = NSLock()

    /// The path with the folder's modification time and size, so a changed folder is converted again.
    private static func cacheKey(_ path: String) -> String {
        let (folder, _) = target(path)
        var st = stat()
        guard stat(folder, &st) == 0 else { return path }
        return "\(path)|\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)|\(st.st_ino)"
    }

    /// The series dcm2niix finds in `folder` (converted, listed, then removed).
    public static func list(_ path: String) throws -> [Series] {
        let (folder, _) = target(path)
        return try withConverted(folder, displayPath: path) { series, _ in series }
    }

    /// Runs dcm2niix on `folder` into a private temporary folder, hands the series to `body`,
    /// with dcm2niix's warning lines, and removes the temporary folder whatever happens.
    static func withConverted<T>(_ folder: String, displayPath: String, _ body: ([Series], [String]) throws -> T) throws -> T {
        var template = Array("\(tmpRoot())/voxterm-dicom.XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw NIfTIError(displayPath, "cannot create a temporary folder for dcm2niix: \(FileIO.errnoReason(errno))")
        }
        let tmp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        // Removed however this ends: by the defer, or on an early exit (Ctrl-C) by ExitCleanup.
        ExitCleanup.addFolder(tmp)
        defer { try? FileManager.default.removeItem(atPath: tmp); ExitCleanup.removeFolder(tmp) }
        let log = tmp + "/dcm2niix.log"
        conversions.withLock { $0[folder, default: 0] += 1 }
        let status = try spawn(["dcm2niix", "-z", "n", "-b", "y", "-ba", "y", "-f", "%s", "-o", tmp, folder],
                               output: log, displayPath: displayPath)
        let logText = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let warnings = logText.split(separator: "\n").filter { $0.hasPrefix("Warning") }.map(String.init)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []).filter { $0.hasSuffix(".nii") }.sorted()
        // Killed by a signal (128 + n: the user's Ctrl-C reaches it too): its output is partial, whatever is there.
        if (files.isEmpty && status != 0) || status > 128 {
            let why = logText.split(separator: "\n").last(where: { $0.hasPrefix("Error") }).map(String.init) ?? "exit status \(status)"
            throw NIfTIError(displayPath, "dcm2niix could not convert this folder (\(why))")
        }
        var series: [Series] = []
        for f in files {
            let nii = tmp + "/" + f
            let json = tmp + "/" + String(f.dropLast(4)) + ".json"
            var meta: [String: Any] = [:]
            if let d = FileManager.default.contents(atPath: json),
               let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any] { meta = o }
            let shape = (try? NIfTIReader.readHeader(nii).shape) ?? []
            series.append(Series(index: 0, seriesNumber: meta["SeriesNumber"] as? Int,
                                 description: (meta["SeriesDescription"] as? String) ?? (meta["ProtocolName"] as? String) ?? "",
                                 modality: (meta["Modality"] as? String) ?? "", shape: shape, niftiPath: nii))
        }
        series.sort { ($0.seriesNumber ?? Int.max, $0.niftiPath) < ($1.seriesNumber ?? Int.max, $1.niftiPath) }
        for i in series.indices { series[i].index = i + 1 }
        return try body(series, warnings)
    }

    /// dcm2niix runs so far, per folder (tests count them).
    static let conversions = Mutex<[String: Int]>([:])

    static func tmpRoot() -> String {
        if let t = getenv("TMPDIR"), t.pointee != 0 { return String(cString: t) }
        return "/tmp"
    }

    /// Runs `args` (looked up on PATH) with stdout and stderr into `output`, stdin from
    /// /dev/null, a clean signal mask and default dispositions; returns the exit status.
    static func spawn(_ args: [String], output: String, displayPath: String) throws -> Int32 {
        do {
            return try Subprocess.run(args[0], Array(args.dropFirst()), searchPath: true,
                                      standardOutput: .file(output), standardError: .sameAsStandardOutput).status
        } catch let e as Subprocess.LaunchError where e.code == ENOENT {
            throw NIfTIError(displayPath, "reading DICOM needs dcm2niix, which is not installed: apt-get install dcm2niix")
        } catch let e as Subprocess.LaunchError {
            throw NIfTIError(displayPath, "cannot run dcm2niix: \(FileIO.errnoReason(e.code))")
        }
    }
}
