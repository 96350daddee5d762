import Foundation

/// A detached NRRD input whose data file has another name than its header's stem: writes
/// `a.nhdr` (and its data file `a.raw`) in `dir` with `write`, renames the data file to
/// `dataName` (NIfTI-looking by default: a header may name any file) and points the header's
/// `data file:` line at it. Returns the header's and the data file's paths.
public func nhdrWithRenamedDataFile(in dir: URL, dataName: String = "d.nii",
                                    write: (String) throws -> Void) throws -> (header: String, data: String) {
    let nhdr = dir.appendingPathComponent("a.nhdr").path
    try write(nhdr)
    let data = dir.appendingPathComponent(dataName).path
    try FileManager.default.moveItem(atPath: dir.appendingPathComponent("a.raw").path, toPath: data)
    let text = try String(contentsOfFile: nhdr, encoding: .utf8).replacingOccurrences(of: "data file: a.raw", with: "data file: \(dataName)")
    try text.write(toFile: nhdr, atomically: true, encoding: .utf8)
    return (nhdr, data)
}
