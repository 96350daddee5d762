import Foundation
import VolumeCore
import NIfTI
import Registration
import Segmentation

/// One row of a cohort: a subject and its files (paths resolved against the cohort file's folder).
public struct CohortSubject: Sendable, Equatable, Codable {
    /// The subject's name; also the name of its output folder `DIR/<subject>/`.
    public var subject: String
    /// The subject's image: the moving image of `batch register`, the query of `batch segment`.
    public var image: String
    /// Labels on `image`'s grid (register: carried to the fixed grid with the image).
    public var labels: String?
    /// Reference labels to score against: register, labels on the fixed image's grid;
    /// segment, true labels on `image`'s grid.
    public var truth: String?
    /// The fixed image of this row (register), instead of `--fixed`.
    public var fixed: String?
    /// The support-set manifest of this row (segment), instead of `--support-set`.
    public var supportSet: String?

    public init(subject: String, image: String, labels: String? = nil, truth: String? = nil, fixed: String? = nil,
                supportSet: String? = nil) {
        self.subject = subject; self.image = image; self.labels = labels; self.truth = truth
        self.fixed = fixed; self.supportSet = supportSet
    }

    enum CodingKeys: String, CodingKey {
        case subject, image, labels, truth, fixed
        case supportSet = "support_set"
    }
}

/// A cohort problem: one line naming the file (and row) and what is wrong.
public struct CohortError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A list of subjects read from a CSV (header `subject,image` plus optional `labels`, `truth`,
/// `fixed`, `support_set`) or a JSON file with the same fields; relative paths are relative to
/// the cohort file's folder.
public struct Cohort: Sendable, Equatable {
    /// The cohort file as given.
    public var path: String
    /// Subjects in file order (names unique).
    public var subjects: [CohortSubject]

    public init(path: String, subjects: [CohortSubject]) { self.path = path; self.subjects = subjects }

    /// Columns a cohort may have; `subject` and `image` are required.
    public static let columns = ["subject", "image", "labels", "truth", "fixed", "support_set"]
    /// Names a subject may not have: they are the batch folder's own entries, or the QC index
    /// montage's name in `DIR/qc/` (`index`; `index-N` too, see `isReserved`).
    public static let reservedNames: Set<String> = ["status", "qc", "slurm", "summary.csv", "summary.json", "batch.json", "index"]

    /// Whether `name` is reserved: one of `reservedNames`, or `index-N` (N digits), the further
    /// pages of `batch report`'s index montage (`DIR/qc/index-2.png`).
    public static func isReserved(_ name: String) -> Bool {
        if reservedNames.contains(name) { return true }
        guard name.hasPrefix("index-") else { return false }
        let n = name.dropFirst(6)
        return !n.isEmpty && n.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Reads a cohort file (row paths come out absolute): JSON when it starts with `[` or `{` (an array of rows, or
    /// `{"subjects": [...]}`), CSV otherwise. Files are not opened here: a missing image is a
    /// failure of that subject, not of the cohort.
    public static func load(_ path: String) throws -> Cohort {
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(path, limit: 64 << 20) } catch let e as FileError {
            throw CohortError("\(path): \(e.reason)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CohortError("\(path): not UTF-8 text; a cohort is a CSV or JSON file")
        }
        // Rows resolve against the file's folder made absolute, so they stay valid from any folder
        // (SLURM tasks); errors name the cohort file as given.
        let folder = FileIO.directoryName(path.hasPrefix("/") ? path
                                          : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path))
        let trimmed = text.drop(while: { $0.isWhitespace || $0 == "\u{FEFF}" })
        let rows: [CohortSubject]
        if trimmed.first == "[" || trimmed.first == "{" {
            rows = try parseJSON(Data(trimmed.utf8), path: path)
        } else {
            rows = try parseCSV(String(trimmed), path: path)
        }
        guard !rows.isEmpty else { throw CohortError("\(path): lists no subjects") }
        var seen = Set<String>()
        for r in rows {
            try checkName(r.subject, path: path)
            guard seen.insert(r.subject).inserted else { throw CohortError("\(path): subject \(r.subject) is listed twice") }
        }
        return Cohort(path: path, subjects: rows.map { r in
            var r = r
            r.image = resolve(r.image, against: folder)
            r.labels = r.labels.map { resolve($0, against: folder) }
            r.truth = r.truth.map { resolve($0, against: folder) }
            r.fixed = r.fixed.map { resolve($0, against: folder) }
            r.supportSet = r.supportSet.map { resolve($0, against: folder) }
            return r
        })
    }

    /// A subject name must be usable as one folder name.
    static func checkName(_ name: String, path: String) throws {
        let bad = name.isEmpty || name == "." || name == ".." || name.hasPrefix(".") || name.contains("/")
            || name.contains("\0") || name.unicodeScalars.contains(where: { $0.value < 32 }) || name.utf8.count > 200
        if bad { throw CohortError("\(path): subject name '\(name)' cannot be a folder name (no '/', no leading '.', at most 200 bytes)") }
        if isReserved(name) { throw CohortError("\(path): subject name '\(name)' is reserved for the batch folder's own files (status, qc, slurm, summary.csv, summary.json, batch.json, and index, index-N of the QC pictures)") }
    }

    static func parseJSON(_ data: Data, path: String) throws -> [CohortSubject] {
        struct Wrapped: Decodable { var subjects: [CohortSubject] }
        do {
            if let first = data.first(where: { !($0 == 32 || $0 == 9 || $0 == 10 || $0 == 13) }), first == UInt8(ascii: "{") {
                return try JSONDecoder().decode(Wrapped.self, from: data).subjects
            }
            return try JSONDecoder().decode([CohortSubject].self, from: data)
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw CohortError("\(path): row \(rowNumber(ctx) ?? 0): missing \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw CohortError("\(path): row \(rowNumber(ctx) ?? 0): \(ctx.codingPath.last?.stringValue ?? "value") must be a string")
        } catch {
            throw CohortError("\(path): not a cohort JSON file (an array of {\"subject\", \"image\", ...} rows)")
        }
    }

    private static func rowNumber(_ ctx: DecodingError.Context) -> Int? {
        ctx.codingPath.compactMap { $0.intValue }.first.map { $0 + 1 }
    }

    static func parseCSV(_ text: String, path: String) throws -> [CohortSubject] {
        var lines = try csvRecords(text, path: path)
        lines.removeAll { r in r.fields.allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty } || r.fields.first?.hasPrefix("#") == true }
        guard let header = lines.first else { throw CohortError("\(path): empty; expected a header line subject,image[,labels,truth,fixed,support_set]") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        for n in names where !columns.contains(n) {
            throw CohortError("\(path): line \(header.line): unknown column '\(n)' (columns: \(columns.joined(separator: ", ")))")
        }
        guard names.contains("subject"), names.contains("image") else {
            throw CohortError("\(path): line \(header.line): the header needs the columns subject and image")
        }
        if let dup = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
            throw CohortError("\(path): line \(header.line): column '\(dup)' appears twice")
        }
        var rows: [CohortSubject] = []
        for rec in lines.dropFirst() {
            guard rec.fields.count == names.count else {
                throw CohortError("\(path): line \(rec.line): \(rec.fields.count) fields, the header has \(names.count)")
            }
            var values: [String: String] = [:]
            for (n, v) in zip(names, rec.fields) {
                let t = v.trimmingCharacters(in: .whitespaces)
                if !t.isEmpty { values[n] = t }
            }
            guard let s = values["subject"] else { throw CohortError("\(path): line \(rec.line): subject is empty") }
            guard let image = values["image"] else { throw CohortError("\(path): line \(rec.line): image is empty") }
            rows.append(CohortSubject(subject: s, image: image, labels: values["labels"], truth: values["truth"],
                                      fixed: values["fixed"], supportSet: values["support_set"]))
        }
        return rows
    }

    /// RFC 4180 records: comma-separated, double-quoted fields may hold commas, quotes (doubled)
    /// and line breaks; CRLF or LF line ends.
    static func csvRecords(_ text: String, path: String) throws -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = [], field = "", inQuotes = false, line = 1, recordLine = 1, afterQuote = false
        var it = Array(text.unicodeScalars)[...]
        func endRecord() { fields.append(field); records.append((recordLine, fields)); fields = []; field = "" }
        while let c = it.popFirst() {
            if inQuotes {
                if c == "\"" {
                    if it.first == "\"" { it.removeFirst(); field.unicodeScalars.append("\"") } else { inQuotes = false; afterQuote = true }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case ",": fields.append(field); field = ""; afterQuote = false
            case "\r" where it.first == "\n": break
            case "\n": endRecord(); line += 1; recordLine = line; afterQuote = false
            case "\"":
                guard field.trimmingCharacters(in: .whitespaces).isEmpty, !afterQuote else {
                    throw CohortError("\(path): line \(line): a quote inside an unquoted field")
                }
                field = ""; inQuotes = true
            default:
                if afterQuote && c != " " { throw CohortError("\(path): line \(line): text after a closing quote") }
                field.unicodeScalars.append(c)
            }
        }
        if inQuotes { throw CohortError("\(path): line \(recordLine): a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}

/// `p` unchanged when absolute, else joined to `folder`.
func resolve(_ p: String, against folder: String) -> String {
    p.hasPrefix("/") || folder == "." || folder.isEmpty ? p : (folder as NSString).appendingPathComponent(p)
}
