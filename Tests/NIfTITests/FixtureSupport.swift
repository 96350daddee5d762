import Foundation
import NIfTI
import TestSupport
import Testing
import VolumeCore

/// What nibabel read from one committed fixture (see Scripts/make_fixtures.py).
struct ExpectedFixture: Decodable, Sendable, CustomStringConvertible {
    struct Probe: Decodable, Sendable { var index: [Int]; var value: Double }
    var file: String
    var version: Int
    var byte_order: String
    var shape: [Int]
    var datatype: String
    var datatype_code: Int
    var intent_code: Int
    var pixdim: [Double]
    var vox_offset: Double
    var data_offset: Int
    var scl_slope: NumberOrText
    var scl_inter: NumberOrText
    var slope_inter: [Double]?
    var qform_code: Int
    var sform_code: Int
    var affine: [[Double]]
    var axcodes: String
    var min: Double
    var max: Double
    var mean: Double
    var probes: [Probe]
    var notes: String

    var description: String { file }
}

/// A JSON number, or "nan"/"inf"/"-inf" for values JSON cannot hold.
struct NumberOrText: Decodable, Sendable {
    var value: Double
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let d = try? c.decode(Double.self) { value = d; return }
        switch try c.decode(String.self) {
        case "nan": value = .nan
        case "inf": value = .infinity
        default: value = -.infinity
        }
    }
    /// Equal, counting NaN equal to NaN.
    func matches(_ v: Double) -> Bool { value.isNaN ? v.isNaN : value == v }
}

struct ExpectedFile: Decodable, Sendable {
    struct Unsupported: Decodable, Sendable { var file: String; var datatype_code: Int }
    var nibabel: String
    var fixtures: [ExpectedFixture]
    var unsupported: [Unsupported]
}

enum Fixtures {
    /// The copied `Fixtures` resource folder.
    static let folder: URL = {
        if let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) { return url }
        return TestPaths.packageRoot.appendingPathComponent("Tests/NIfTITests/Fixtures")
    }()

    /// Path of a fixture file.
    static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// expected.json, decoded (a broken file fails loudly at test discovery).
    static let expected: ExpectedFile = {
        do {
            let data = try Data(contentsOf: folder.appendingPathComponent("expected.json"))
            return try JSONDecoder().decode(ExpectedFile.self, from: data)
        } catch {
            fatalError("cannot read Fixtures/expected.json: \(error)")
        }
    }()

    /// Copies a fixture into a fresh temporary folder (for tests that corrupt or chmod it).
    static func copy(_ name: String, to dir: URL, as newName: String? = nil) throws -> String {
        let dest = dir.appendingPathComponent(newName ?? name)
        try? FileManager.default.removeItem(at: dest)
        try FileManager.default.copyItem(at: folder.appendingPathComponent(name), to: dest)
        return dest.path
    }
}

/// Float32 rounding tolerance for a value of magnitude `scale` (a few ulps, relative).
func float32Tolerance(_ scale: Double) -> Double { Swift.max(abs(scale), 1e-30) * 4e-7 }

/// Column-major flat index of a multi-index into `shape` (NIfTI file order).
func flatIndex(_ index: [Int], shape: [Int]) -> Int {
    var n = 0, stride = 1
    for (i, s) in zip(index, shape) { n += i * stride; stride *= s }
    return n
}

/// Runs a Python snippet with nibabel; records an issue (fails the test) when python3 or
/// nibabel is missing, rather than skipping.
func runNibabel(_ script: String, _ arguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> String? {
    guard let python = pythonWithNibabel else {
        Issue.record("python3 with nibabel is required for this test and was not found (pip install nibabel numpy)",
                     sourceLocation: sourceLocation)
        return nil
    }
    let r = try runProcess(python, ["-c", script] + arguments)
    guard r.status == 0 else {
        Issue.record("nibabel script failed (status \(r.status)): \(r.stderr)", sourceLocation: sourceLocation)
        return nil
    }
    return r.stdout
}

/// Decodes JSON printed by a nibabel script.
func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(text.utf8))
}
