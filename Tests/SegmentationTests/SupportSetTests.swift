import Foundation
import Testing
import NIfTI
import VolumeCore
import TestSupport
import Pipelines
@testable import Segmentation

@Suite struct SupportSetTests {
    let dir = TestPaths.temporaryDirectory("supportset")

    func writePair(_ name: String, size: SIMD3<Int> = [4, 4, 4]) throws -> (String, String) {
        let g = VolumeGeometry(size: size, spacing: [2, 2, 2])
        let img = dir.appendingPathComponent("\(name).nii.gz").path
        let lab = dir.appendingPathComponent("\(name)_labels.nii.gz").path
        try NIfTIWriter.write(Volume(geometry: g, repeating: 1), to: img)
        try NIfTIWriter.write(LabelVolume(geometry: g), to: lab)
        return (img, lab)
    }

    @Test func roundTripWithRelativePaths() throws {
        let (i1, l1) = try writePair("a"), (i2, l2) = try writePair("b")
        let set = SupportSet(examples: [SupportExample(image: i1, labels: l1),
                                        SupportExample(image: i2, labels: l2, slices: try SliceSelection(parsing: "axial:3,1"))])
        let manifest = dir.appendingPathComponent("set.json").path
        try set.save(manifest)
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        #expect(text.contains("\"image\" : \"a.nii.gz\""))
        #expect(!text.contains(dir.path))
        let back = try SupportSet.load(manifest)
        #expect(back.examples.count == 2)
        #expect(back.examples[1].slices == SliceSelection(plane: .axial, indices: [1, 3]))
        #expect(FileManager.default.fileExists(atPath: back.examples[0].image))
    }

    @Test func validationErrorsAreClear() throws {
        let (i1, l1) = try writePair("c")
        let (_, l2) = try writePair("d", size: [5, 4, 4])
        let manifest = dir.appendingPathComponent("bad.json").path
        func expectError(_ set: SupportSet, _ fragment: String) throws {
            try set.save(manifest)
            do { _ = try SupportSet.load(manifest); Issue.record("no error for \(fragment)") } catch {
                #expect("\(error)".contains(fragment), "\(error)")
                #expect(!"\(error)".contains("\n"))
            }
        }
        try expectError(SupportSet(examples: [SupportExample(image: i1, labels: l1), SupportExample(image: i1, labels: l1)]), "repeats")
        try expectError(SupportSet(examples: [SupportExample(image: i1, labels: l2)]), "not on the grid")
        try expectError(SupportSet(examples: [SupportExample(image: i1, labels: dir.appendingPathComponent("missing.nii").path)]), "no such file")
        try expectError(SupportSet(examples: [SupportExample(image: i1, labels: l1, slices: SliceSelection(plane: .axial, indices: [9]))]), "outside")
        try "{\"format\": \"x\"}".write(toFile: manifest, atomically: true, encoding: .utf8)
        #expect(throws: SegmentationError.self) { _ = try SupportSet.load(manifest) }
    }

    @Test func sliceSelectionParsing() throws {
        #expect(try SliceSelection(parsing: "coronal:5,2,5").indices == [2, 5])
        #expect(throws: SegmentationError.self) { _ = try SliceSelection(parsing: "oblique:3") }
        #expect(throws: SegmentationError.self) { _ = try SliceSelection(parsing: "axial:x") }
    }

    /// Manifest bytes parse (without touching the files they name) to the expected one-line error.
    static let badManifests: [(String, String)] = [
        ("", "not a voxterm support-set manifest (invalid JSON)"),
        ("[1, 2]", "not a voxterm support-set manifest"),
        ("{\"format\": \"x\"}", "missing field \"version\""),
        ("{\"format\": \"x\", \"version\": 1, \"examples\": []}", "format is \"x\", expected \"voxterm-support-set\""),
        ("{\"format\": \"voxterm-support-set\", \"version\": 2, \"examples\": []}", "version 2 is not supported"),
        ("{\"format\": \"voxterm-support-set\", \"version\": 1, \"examples\": [{\"image\": 3, \"labels\": \"l\"}]}", "wrong type at examples.Index 0.image"),
        ("{\"format\": \"voxterm-support-set\", \"version\": 1, \"examples\": [{\"image\": \"\", \"labels\": \"l\"}]}", "example 1: image path is empty"),
        ("{\"format\": \"voxterm-support-set\", \"version\": 1, \"examples\": [{\"image\": \"a\\u0000b\", \"labels\": \"l\"}]}", "contains a NUL byte"),
        ("{\"format\": \"voxterm-support-set\", \"version\": 1, \"examples\": [{\"image\": \"i\", \"labels\": \"l\", \"slices\": {\"plane\": \"axial\", \"indices\": [3, -1]}}]}", "example 1: axial slice -1 is negative"),
        ("{\"format\": \"voxterm-support-set\", \"version\": 1, \"examples\": [{\"image\": \"i\", \"labels\": \"l\", \"slices\": {\"plane\": \"axial\", \"indices\": []}}]}", "slices lists no axial slices"),
        ("{\"format\": \"voxterm-support-set\", \"version\": 1, \"examples\": [{\"image\": \"i\", \"labels\": \"l\", \"slices\": {\"plane\": \"oblique\", \"indices\": [1]}}]}", "invalid value at examples.Index 0.slices.plane"),
    ]

    @Test(arguments: badManifests.indices) func parseRefusesBadManifests(_ i: Int) {
        let (text, expected) = Self.badManifests[i]
        do {
            _ = try SupportSet.parse(Array(text.utf8), path: "m.json")
            Issue.record("no error for \(text)")
        } catch {
            #expect("\(error)".hasPrefix("m.json: "), "\(error)")
            #expect("\(error)".contains(expected), "\(error)")
            #expect(!"\(error)".contains("\n"))
        }
    }

    @Test func parseResolvesPathsAndNormalisesSlices() throws {
        let text = #"{"format": "voxterm-support-set", "version": 1, "examples": [{"image": "a.nii", "labels": "/abs/l.nii", "slices": {"plane": "coronal", "indices": [7, 2, 7]}}]}"#
        let set = try SupportSet.parse(Array(text.utf8), path: "m.json", folder: "/data/sets")
        #expect(set.examples == [SupportExample(image: "/data/sets/a.nii", labels: "/abs/l.nii",
                                                slices: SliceSelection(plane: .coronal, indices: [2, 7]))])
        #expect(set.examples[0].slices?.indices == [2, 7])
    }
}
