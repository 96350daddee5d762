import Testing
import ArgumentParser
import VoxtermModel
@testable import VoxtermCLI

/// `voxterm batch` command lines: the registration option group, SLURM options and their checks.
@Suite struct BatchParsingTests {
    @Test func batchRegisterTakesTheRegistrationOptionsAndReproducesThemForTasks() throws {
        let c = try Voxterm.parseAsRoot(["batch", "register", "c.csv", "--out", "d", "--fixed", "t.nii", "--preset", "fast",
                                         "--levels", "2x1", "--metric", "ncc", "--jobs", "3", "--slurm",
                                         "--slurm-args", "--partition=short --time=01:00:00", "--per-task", "4"])
        let b = try #require(c as? BatchRegister)
        #expect(b.registration.arguments == ["--preset", "fast", "--mode", "both", "--levels", "2x1", "--metric", "ncc"])
        #expect(try b.registration.plan.stages.last!.levels.map(\.shrink) == [2, 1])
        #expect(b.options.slurm && b.options.perTask == 4 && b.options.jobs == 3)
        #expect(b.options.slurmArgs == "--partition=short --time=01:00:00")
        // The task words parse back to the same options.
        let again = try #require(try Voxterm.parseAsRoot(["batch", "register"] + b.options.taskArguments + b.registration.arguments
                                                         + ["--subjects-file", "s", "--task-index", "0"]) as? BatchRegister)
        #expect(again.registration.arguments == b.registration.arguments && again.options.taskIndex == 0)
    }

    @Test func batchSegmentTakesPresetAndFusion() throws {
        let c = try Voxterm.parseAsRoot(["batch", "segment", "c.json", "--out", "d", "--support-set", "s.json", "--fusion", "majority"])
        let s = try #require(c as? BatchSegment)
        #expect(s.fusion == .majority && s.presetOption.preset == .default)
    }

    @Test(arguments: [["--dry-run"], ["--slurm-args", "--time=1"], ["--jobs", "0"], ["--per-task", "0"], ["--task-index", "1"],
                      ["--slurm", "--subjects-file", "s", "--task-index", "0"], ["--fusion", "vote"]])
    func badBatchOptionsAreUsageErrors(_ extra: [String]) {
        let args = ["batch", extra.contains("--fusion") ? "segment" : "register", "c.csv", "--out", "d"] + extra
        do { _ = try Voxterm.parseAsRoot(args); Issue.record("parsed: \(args)") } catch {
            #expect(Voxterm.exitCode(for: error) == .validationFailure, "\(args)")
        }
    }
}
