import Testing
import ArgumentParser
import VoxtermModel
import SliceRendering
import Registration
import VolumeCore
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

    /// The presets coarsen a large image's affine levels (`RegistrationStage.maxLevelVoxels`);
    /// levels given on the command line are run as given.
    @Test func explicitAffineLevelsAreNotCoarsened() throws {
        let oneMM = VolumeGeometry(size: [181, 217, 181], spacing: [1, 1, 1], origin: [-90, -126, -72])
        let preset = try #require(try (Voxterm.parseAsRoot(["register", "f.nii", "m.nii", "--out", "d", "--mode", "affine"])
            as? Register)?.plan.stages[0])
        #expect(preset.levels(on: oneMM).map(\.shrink) == [8, 4])
        let given = try #require(try (Voxterm.parseAsRoot(["register", "f.nii", "m.nii", "--out", "d", "--mode", "affine",
                                                           "--levels", "4x2", "--iterations", "100x50"]) as? Register)?.plan.stages[0])
        #expect(given.levels(on: oneMM).map(\.shrink) == [4, 2])
    }

    @Test func benchRegisterSharesTheRegistrationOptions() throws {
        let c = try Voxterm.parseAsRoot(["bench", "register", "manifest.json", "--preset", "accurate", "--mode", "affine"])
        let b = try #require(c as? BenchRegister)
        #expect(b.registration.preset == .accurate && b.registration.mode == .affine)
        #expect(try b.registration.plan.stages.count == 1)
    }

    /// `--regularisation` applies at every level with the stage's own step: the default preset's
    /// full-resolution step (0.5 voxel) and smoothing (2 / 0.5) are dropped together, never the
    /// smoothing alone (the larger step with the coarse levels' smoothing was never measured).
    @Test func regularisationReplacesTheFullResolutionStepAndSmoothingTogether() throws {
        func deformable(_ extra: [String]) throws -> RegistrationStage {
            let c = try Voxterm.parseAsRoot(["register", "f.nii", "m.nii", "--out", "d"] + extra)
            let r = try #require(c as? Register)
            return try #require(try r.registration.plan.stages.first { $0.kind == .deformable })
        }
        let preset = try deformable([])
        #expect(preset.fullResolutionLearningRate != nil && preset.fullResolutionRegularisation != nil)
        let given = try deformable(["--regularisation", "diffusion=0.1"])
        #expect(given.fullResolutionLearningRate == nil && given.fullResolutionRegularisation == nil)
        #expect(given.regularisation.diffusionWeight == 0.1)
    }

    /// Only `--levels` runs exactly the levels given; `--iterations` and `--smoothing` alone give
    /// values for the preset's levels as planned, and the preset's rules for the grid still apply
    /// (the affine level budget; on 2-D images, default preset, the level rule and the floor of 20
    /// full-resolution iterations). They used to drop both rules: giving a preset's own values
    /// changed what ran on a 1 mm brain (`--mode affine`) and on every 2-D image.
    @Test func presetRulesApplyUnlessLevelsAreGiven() throws {
        func plan(_ extra: [String]) throws -> RegistrationPlan {
            let c = try Voxterm.parseAsRoot(["register", "f.nii", "m.nii", "--out", "d"] + extra)
            return try #require(c as? Register).registration.plan
        }
        func asRun(_ p: RegistrationPlan, _ g: VolumeGeometry) -> [[PyramidLevel]] { p.stages.map { $0.levelsAsRun(on: g) } }
        func shrinkIterations(_ levels: [PyramidLevel]) -> [[Int]] { levels.map { [$0.shrink, $0.iterations] } }
        let oneMM = VolumeGeometry(size: [181, 217, 181], spacing: [1, 1, 1], origin: [-90, -126, -72])
        let twoMM = VolumeGeometry(size: [91, 109, 91], spacing: [2, 2, 2], origin: [-90, -126, -72])
        let slice2 = VolumeGeometry(size: [91, 109, 1], spacing: [2, 2, 2], origin: [0, 0, 0])
        let slice1 = VolumeGeometry(size: [181, 217, 1], spacing: [1, 1, 1], origin: [0, 0, 0])
        // Giving the preset's own values changes nothing, on any grid.
        for preset in RegistrationPlan.Preset.allCases {
            for mode in RegistrationPlan.Mode.allCases {
                let head = ["--preset", preset.rawValue, "--mode", mode.rawValue]
                let base = try plan(head)
                let own = base.stages.last!.levels
                let its = own.map { "\($0.iterations)" }.joined(separator: "x"), sigmas = own.map { "\($0.smoothingSigma)" }.joined(separator: "x")
                for extra in [["--iterations", its], ["--smoothing", sigmas], ["--iterations", its, "--smoothing", sigmas]] {
                    let given = try plan(head + extra)
                    for g in [oneMM, twoMM, slice2, slice1] {
                        #expect(asRun(given, g) == asRun(base, g), "\(head + extra) on \(g.size)")
                    }
                }
            }
        }
        // Affine budget: --iterations alone keeps it (a 1 mm brain runs 8 and 4), --levels drops it.
        let affine = try plan(["--mode", "affine", "--iterations", "20x10"]).stages[0]
        #expect(shrinkIterations(affine.levelsAsRun(on: oneMM)) == [[8, 20], [4, 10]])
        let exact = try plan(["--mode", "affine", "--levels", "4x2", "--iterations", "20x10"]).stages[0]
        #expect(shrinkIterations(exact.levelsAsRun(on: oneMM)) == [[4, 20], [2, 10]])
        // 2-D (a 2 mm slice: shrink 4 would be 23 × 27): the level rule and the iteration floor stay
        // with --iterations or --smoothing alone; --levels runs exactly what it says. All symmetric.
        let fewer = try plan(["--iterations", "60x40x10"]).stages[1].resolved(for: slice2)
        #expect(shrinkIterations(fewer.levels) == [[2, 40], [1, 20]] && fewer.symmetric)
        let more = try plan(["--iterations", "60x40x30"]).stages[1].resolved(for: slice2)
        #expect(shrinkIterations(more.levels) == [[2, 40], [1, 30]])
        let smoothed = try plan(["--smoothing", "1x1x0"]).stages[1].resolved(for: slice2)
        #expect(smoothed.levels == [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 30), PyramidLevel(shrink: 1, smoothingSigma: 0, iterations: 20)])
        let given = try plan(["--levels", "4x2x1", "--iterations", "60x40x10"]).stages[1].resolved(for: slice2)
        #expect(shrinkIterations(given.levels) == [[4, 60], [2, 40], [1, 10]] && given.symmetric)
        // Without --levels the counts are for the planned levels: another number of them is
        // refused with the levels they are for (the 2-D levels as run, 2x1, are not what it takes).
        do {
            _ = try plan(["--iterations", "30x20"])
            Issue.record("--iterations 30x20 accepted for three planned levels")
        } catch {
            #expect(Voxterm.exitCode(for: error) == .validationFailure)
            #expect(Voxterm.message(for: error).contains("one value per level of the preset's deformable stage as planned (3: shrink 4x2x1)"),
                    "\(Voxterm.message(for: error))")
        }
        // A malformed list (commas, a trailing x) is told about its syntax, not its count.
        for bad in [["--iterations", "100,50,25"], ["--iterations", "100x50x25x"], ["--smoothing", "2,1,0"]] {
            do {
                _ = try plan(bad)
                Issue.record("\(bad) accepted")
            } catch {
                #expect(Voxterm.exitCode(for: error) == .validationFailure)
                #expect(!Voxterm.message(for: error).contains("as planned"), "\(bad): \(Voxterm.message(for: error))")
            }
        }
        // 3-D is untouched by the 2-D rules either way.
        #expect(shrinkIterations(try plan(["--iterations", "60x40x10"]).stages[1].levelsAsRun(on: twoMM)) == [[4, 60], [2, 40], [1, 10]])
        // A 1 mm brain's full-resolution level (its field capped at 2 mm) runs at least 8 iterations
        // with --iterations alone, as planned with --levels (issue 15, h54); a 2 mm brain runs what is given.
        #expect(shrinkIterations(try plan([]).stages[1].levelsAsRun(on: oneMM)) == [[4, 50], [2, 30], [1, 8]])
        #expect(shrinkIterations(try plan([]).stages[1].levelsAsRun(on: twoMM)) == [[4, 50], [2, 30], [1, 5]])
        #expect(shrinkIterations(try plan(["--iterations", "50x30x5"]).stages[1].levelsAsRun(on: oneMM)) == [[4, 50], [2, 30], [1, 8]])
        #expect(shrinkIterations(try plan(["--iterations", "50x30x15"]).stages[1].levelsAsRun(on: oneMM)) == [[4, 50], [2, 30], [1, 15]])
        #expect(shrinkIterations(try plan(["--levels", "4x2x1", "--iterations", "50x30x5"]).stages[1].levelsAsRun(on: oneMM)) == [[4, 50], [2, 30], [1, 5]])
    }

    /// `--iterations` alone changes only the iterations: the preset's levels keep their smoothing
    /// (it used to fall back to (shrink - 1) / 2, so giving the preset's own iterations changed
    /// the result); with `--levels` the (shrink - 1) / 2 rule applies, and `--smoothing` wins.
    @Test func iterationsAloneKeepThePresetsSmoothing() throws {
        func deformable(_ extra: [String]) throws -> RegistrationStage {
            let c = try Voxterm.parseAsRoot(["register", "f.nii", "m.nii", "--out", "d"] + extra)
            let r = try #require(c as? Register)
            return try #require(try r.registration.plan.stages.first { $0.kind == .deformable })
        }
        let preset = try deformable([])
        let same = try deformable(["--iterations", preset.levels.map { "\($0.iterations)" }.joined(separator: "x")])
        #expect(same.levels == preset.levels)
        let more = try deformable(["--iterations", preset.levels.map { "\($0.iterations * 2)" }.joined(separator: "x")])
        #expect(more.levels.map(\.smoothingSigma) == preset.levels.map(\.smoothingSigma))
        #expect(more.levels.map(\.iterations) == preset.levels.map { $0.iterations * 2 })
        let levels = try deformable(["--levels", "4x2x1", "--iterations", "5x5x5"])
        #expect(levels.levels.map(\.smoothingSigma) == [1.5, 0.5, 0])
        let given = try deformable(["--iterations", "5x5x5", "--smoothing", "1x1x1"])
        #expect(given.levels.map(\.smoothingSigma) == [1, 1, 1])
    }

    @Test func unknownEnumValuesAreRejectedWhileParsing() {
        let lines: [[String]] = [
            ["register", "f.nii", "m.nii", "--out", "d", "--preset", "quick"],
            ["register", "f.nii", "m.nii", "--out", "d", "--mode", "rigid"],
            ["register", "f.nii", "m.nii", "--out", "d", "--metric", "cc"],
            ["register", "f.nii", "m.nii", "--out", "d", "--levels", "4x2", "--iterations", "1x2x3"],
            ["segment", "q.nii", "--support", "a:b", "--out", "p.nii", "--fusion", "staple"],
            ["view", "img.nii", "--plane", "oblique"],
            ["stats", "img.nii", "--labels", "l.nii", "--plane", "oblique"],
            ["stats", "img.nii", "--labels", "l.nii", "--json", "--csv"],
            ["batch", "report", "out", "--plane", "oblique"],
            ["bench", "tui", "--graphics", "ascii"],
            ["bench", "tui", "--cell-pixels", "1x1"],
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

    @Test func exportOptionsAreTypedAndCheckedWhileParsing() throws {
        let c = try Voxterm.parseAsRoot(["export", "img.nii", "-o", "o.png", "--plane", "Coronal", "--colormap", "HOT",
                                         "--field-mode", "jacobian", "--window", "-100,200", "--at", "1,2.5,-3",
                                         "--overlay", "stat.nii:viridis:0,5"])
        let e = try #require(c as? Export)
        #expect(e.plane == .coronal && e.colormap == .hot && e.fieldMode == .jacobian)
        #expect(e.window == IntensityWindow(low: -100, high: 200) && e.at == SIMD3(1, 2.5, -3))
        #expect(e.overlay.count == 1 && e.overlay[0].path == "stat.nii" && e.overlay[0].colorMap == .viridis)
        let m = try #require(try Voxterm.parseAsRoot(["export", "img.nii", "-o", "o.png", "--montage", "6X5"]) as? Export)
        #expect(m.montage == MontageGrid(rows: 6, columns: 5))
        // Each wrong value is a usage error (64) naming the option, found before any file is read.
        let bad: [([String], String)] = [
            (["--plane", "oblique"], "'axial', 'coronal' or 'sagittal'"),
            (["--colormap", "rainbow"], "'gray', 'hot'"),
            (["--field-mode", "quiver"], "'arrows', 'magnitude', 'jacobian' or 'grid'"),
            (["--window", "5,1"], "LOW (5) must be less than HIGH (1)"),
            (["--at", "1,2"], "expected X,Y,Z"),
            (["--montage", "30x30"], "at most 400 tiles"),
            (["--overlay", "s.nii:nosuch"], "expected FILE[:COLORMAP[:LOW,HIGH]]"),
            (["--scale", "0"], "--scale: 0 is not an integer in 1...32"),
            (["--slice", "3", "--at", "0,0,0"], "alternatives"),
            (["--truth", "t.nii"], "--truth needs --labels"),
            (["--overlay-opacity", "0.5"], "more values than --overlay layers"),
        ]
        for (extra, words) in bad {
            do {
                _ = try Voxterm.parseAsRoot(["export", "img.nii", "-o", "o.png"] + extra)
                Issue.record("accepted \(extra)")
            } catch {
                #expect(Voxterm.exitCode(for: error) == .validationFailure, "\(extra)")
                let line = Voxterm.usageLine(for: error)
                #expect(line.contains(words) && !line.contains("\n"), "\(extra): \(line)")
            }
        }
        do { _ = try Voxterm.parseAsRoot(["export", "img.nii", "-o", "o.jpg"]); Issue.record("accepted .jpg") } catch {
            #expect(Voxterm.usageLine(for: error).contains("o.jpg: output must end in .png"))
        }
    }

    @Test func benchSegmentOptionsAreTyped() throws {
        let c = try Voxterm.parseAsRoot(["bench", "segment", "p.json", "--out", "o", "--settings", "b", "--slice-path", "direct",
                                         "--slice-method", "fused,shape", "--slice-fusion", "majority,weighted",
                                         "--registration-weight", "0.4,0.6", "--slice-aligner", "engine"])
        let b = try #require(c as? BenchSegment)
        #expect(b.settings == .B && !b.settings.runsA && b.settings.runsB)
        #expect(b.slicePath == .direct && b.sliceMethod == [.fused, .shape] && b.sliceFusion == [.majority, .weighted])
        #expect(b.registrationWeight == [0.4, 0.6] && b.sliceAligner == .engine)
        let d = try #require(try Voxterm.parseAsRoot(["bench", "segment", "p.json", "--out", "o"]) as? BenchSegment)
        #expect(d.settings == .AB && d.slicePath == .chained && d.sliceMethod == [.fused] && d.registrationWeight.isEmpty)
        for extra in [["--settings", "C"], ["--slice-path", "zigzag"], ["--slice-method", "fused,magic"],
                      ["--slice-fusion", "staple"], ["--registration-weight", "1.5"], ["--slice-aligner", "ants"]] {
            do {
                _ = try Voxterm.parseAsRoot(["bench", "segment", "p.json", "--out", "o"] + extra)
                Issue.record("accepted \(extra)")
            } catch {
                #expect(Voxterm.exitCode(for: error) == .validationFailure, "\(extra)")
            }
        }
    }

    @Test func viewForceGoesWithMoving() throws {
        let v = try #require(try Voxterm.parseAsRoot(["view", "f.nii", "--moving", "m.nii", "--out", "R", "--force"]) as? View)
        #expect(v.force)
        #expect(throws: (any Error).self) { _ = try Voxterm.parseAsRoot(["view", "f.nii", "--force"]) }
    }

    @Test func segmentLabelNamesNeedATableButTheTableIsReadInRun() throws {
        // Names without --label-table: a usage error while parsing. With a table that does not
        // exist, parsing succeeds: the file is checked in run (exit 2), not in validate (64).
        #expect(throws: (any Error).self) {
            _ = try Voxterm.parseAsRoot(["segment", "q.nii", "--support", "a:b", "--out", "p.nii", "--labels", "Hippocampus_L"])
        }
        let s = try #require(try Voxterm.parseAsRoot(["segment", "q.nii", "--support", "a:b", "--out", "p.nii",
                                                      "--labels", "Hippocampus_L,17", "--label-table", "/nonexistent/t.txt"]) as? Segment)
        #expect(s.labelItems == ["Hippocampus_L", "17"])
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
