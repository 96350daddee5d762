import Testing
import ArgumentParser
import VoxtermModel
import SliceRendering
@testable import VoxtermCLI

/// Parses command lines with the real command tree (no binary, no files): typed options, shared
/// option groups and `--support` splitting.
@Suite struct CommandParsingTests {
    @Test func supportSplitsAtTheLastColonSoImagePathsMayContainColons() throws {
        let c = try Voxterm.parseAsRoot(["segment", "q.nii.gz", "--support", "scan:2024/img.nii.gz:labels.nii.gz",
                                         "--support", "b.nii:b_labels.nii", "--out", "p.nii.gz"])
        let s = try #require(c as? Segment)
        #expect(s.supports == [SupportArgument(image: "scan:2024/img.nii.gz", labels: "labels.nii.gz"),
                               SupportArgument(image: "b.nii", labels: "b_labels.nii")])
        #expect(s.presetOption.preset == .default)
        #expect(s.fusion == nil && s.slicePath == .chained)
    }

    @Test func malformedSupportIsAUsageError() {
        for bad in ["img.nii.gz", ":labels.nii", "img.nii:"] {
            #expect(throws: (any Error).self, "\(bad)") {
                _ = try Voxterm.parseAsRoot(["segment", "q.nii", "--support", bad, "--out", "p.nii"])
            }
            do { _ = try Voxterm.parseAsRoot(["segment", "q.nii", "--support", bad, "--out", "p.nii"]) } catch {
                #expect(Voxterm.exitCode(for: error) == .validationFailure, "\(bad)")
            }
        }
    }

    @Test func registrationOptionsAreTypedAndBuildThePlan() throws {
        let c = try Voxterm.parseAsRoot(["register", "f.nii", "m.nii", "--out", "d", "--preset", "fast",
                                         "--mode", "deformable", "--metric", "ncc", "--levels", "2x1", "--iterations", "7x3"])
        let r = try #require(c as? Register)
        let plan = try r.plan
        #expect(plan.stages.count == 1 && plan.stages[0].kind == .deformable)
        #expect(plan.stages[0].metric == .ncc)
        #expect(plan.stages[0].levels.map(\.shrink) == [2, 1] && plan.stages[0].levels.map(\.iterations) == [7, 3])
        #expect(r.registration.preset == .fast)
    }

    @Test func benchRegisterSharesTheRegistrationOptions() throws {
        let c = try Voxterm.parseAsRoot(["bench", "register", "manifest.json", "--preset", "accurate", "--mode", "affine"])
        let b = try #require(c as? BenchRegister)
        #expect(b.registration.preset == .accurate && b.registration.mode == .affine)
        #expect(try b.registration.plan.stages.count == 1)
    }

    @Test func unknownEnumValuesAreRejectedWhileParsing() {
        let lines: [[String]] = [
            ["register", "f.nii", "m.nii", "--out", "d", "--preset", "quick"],
            ["register", "f.nii", "m.nii", "--out", "d", "--mode", "rigid"],
            ["register", "f.nii", "m.nii", "--out", "d", "--metric", "cc"],
            ["register", "f.nii", "m.nii", "--out", "d", "--levels", "4x2", "--iterations", "1x2x3"],
            ["segment", "q.nii", "--support", "a:b", "--out", "p.nii", "--fusion", "staple"],
            ["view", "img.nii", "--plane", "oblique"],
        ]
        for line in lines {
            do {
                _ = try Voxterm.parseAsRoot(line)
                Issue.record("accepted \(line)")
            } catch {
                #expect(Voxterm.exitCode(for: error) == .validationFailure, "\(line)")
            }
        }
    }

    @Test func viewIsTheDefaultSubcommandWithTypedPlaneAndPreset() throws {
        let c = try Voxterm.parseAsRoot(["img.nii.gz", "--plane", "coronal", "--preset", "fast"])
        let v = try #require(c as? View)
        #expect(v.plane == .coronal && v.presetOption.preset == .fast)
    }

    @Test func viewHelpKeepsItsParagraphs() {
        let help = View.helpMessage(columns: 100)
        #expect(!help.contains("         IMAGE"), "line continuations lost")
        #expect(help.contains("Live registration"))
    }
}
