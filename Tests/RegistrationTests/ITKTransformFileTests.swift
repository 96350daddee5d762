import Foundation
import Registration
import Testing
import TestSupport
import VolumeCore

/// ITK / ANTs transform text files: the reader against the writer, against ANTs itself, and
/// every malformed file it refuses.
@Suite struct ITKTransformFileTests {
    /// A random, well-conditioned affine (fixed world → moving world, RAS mm).
    static func randomAffine(_ rng: inout some RandomNumberGenerator) -> VolumeCore.AffineTransform {
        var a = VolumeCore.AffineTransform.identity
        for r in 0..<3 {
            for c in 0..<3 { a[r, c] = (r == c ? 1 : 0) + Double.random(in: -0.2...0.2, using: &rng) }
            a[r, 3] = Double.random(in: -30...30, using: &rng)
        }
        return a
    }

    @Test func readsBackWhatItWritesExactly() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let a = Self.randomAffine(&rng)
            let text = ITKTransformFile.text(for: a)
            #expect(text.hasPrefix("#Insight Transform File V1.0\n"))
            #expect(try ITKTransformFile.parse(Array(text.utf8), path: "a.tfm") == a)
        }
    }

    @Test func centreAndLPSConventions() throws {
        // ITK: y = M (x - c) + c + T on LPS points. Checked here by hand for one point.
        let text = """
            #Insight Transform File V1.0
            #Transform 0
            Transform: MatrixOffsetTransformBase_double_3_3
            Parameters: 0 -1 0 1 0 0 0 0 2 5 -3 1
            FixedParameters: 10 20 30
            """
        let a = try ITKTransformFile.parse(Array(text.utf8), path: "m.txt")
        let xLPS = SIMD3<Double>(1, 2, 3)
        let c = SIMD3<Double>(10, 20, 30)
        let d = xLPS - c
        let yLPS = SIMD3(-d.y, d.x, 2 * d.z) + c + SIMD3(5, -3, 1)
        let flip = SIMD3<Double>(-1, -1, 1)
        let yRAS = a.apply(xLPS * flip)
        #expect(((yRAS - yLPS * flip) * (yRAS - yLPS * flip)).sum() < 1e-20)
    }

    @Test func acceptsFloatCRLFCompositeAndTranslation() throws {
        let float = "#Insight Transform File V1.0\r\n#Transform 0\r\nTransform: AffineTransform_float_3_3\r\nParameters: 1 0 0 0 1 0 0 0 1 10 -5 2\r\nFixedParameters: 1 2 3\r\n"
        #expect(try ITKTransformFile.parse(Array(float.utf8)).translation == SIMD3(-10, 5, 2))
        let composite = "#Insight Transform File V1.0\n#Transform 0\nTransform: CompositeTransform_double_3_3\n#Transform 1\nTransform: AffineTransform_double_3_3\nParameters: 2 0 0 0 2 0 0 0 2 0 0 0\nFixedParameters: 0 0 0\n"
        #expect(try ITKTransformFile.parse(Array(composite.utf8)).determinant == 8)
        let translation = "#Insight Transform File V1.0\nTransform: TranslationTransform_double_3\nParameters: 1 2 3\nFixedParameters:\n"
        #expect(try ITKTransformFile.parse(Array(translation.utf8)).translation == SIMD3(-1, -2, 3))
    }

    /// Each malformed file and the words its one-line error must contain.
    static let badFiles: [(String, String)] = [
        ("", "not an ITK transform file"),
        ("hello\n", "the first line must be \"#Insight Transform File V1.0\""),
        ("\u{0}MATLAB 5.0 MAT-file", "ConvertTransformFile"),
        ("#Insight Transform File V1.0\n", "no Transform line"),
        ("#Insight Transform File V1.0\nParameters: 1 2 3\n", "line 2: Parameters before any Transform line"),
        ("#Insight Transform File V1.0\nTransform: BSplineTransform_double_3_3\n", "is not supported"),
        ("#Insight Transform File V1.0\nTransform: AffineTransform_double_2_2\nParameters: 1 0 0 1 0 0\n", "not a 3-D"),
        ("#Insight Transform File V1.0\nTransform: AffineTransform_double_3_3\nParameters: 1 0 0\n", "needs 12 Parameters (9 matrix, 3 translation), the file gives 3"),
        ("#Insight Transform File V1.0\nTransform: AffineTransform_double_3_3\n", "the file gives none"),
        ("#Insight Transform File V1.0\nTransform: AffineTransform_double_3_3\nParameters: 1 0 0 0 1 0 0 0 1 0 0 nan\n", "\"nan\" is not a finite number"),
        ("#Insight Transform File V1.0\nTransform: AffineTransform_double_3_3\nParameters: 1 0 0 0 1 0 0 0 1 0 0 1e400\n", "is not a finite number"),
        ("#Insight Transform File V1.0\nTransform: AffineTransform_double_3_3\nParameters: 1 0 0 0 1 0 0 0 0 0 0 0\n", "singular"),
        ("#Insight Transform File V1.0\nTransform: AffineTransform_double_3_3\nParameters: 1 0 0 0 1 0 0 0 1 0 0 0\nFixedParameters: 1 2\n", "needs 3 FixedParameters"),
        ("#Insight Transform File V1.0\nTransform: AffineTransform_double_3_3\nParameters: 1 0 0 0 1 0 0 0 1 0 0 0\nParameters: 1 0 0 0 1 0 0 0 1 0 0 0\n", "Parameters given twice"),
        ("#Insight Transform File V1.0\nTransform: AffineTransform_double_3_3\nSpline order 3\n", "line 3: expected \"Key: values\""),
        ("#Insight Transform File V1.0\nColour: red\n", "unknown key \"Colour\""),
        ("#Insight Transform File V1.0\nTransform: AffineTransform_double_3_3\nParameters: 1 0 0 0 1 0 0 0 1 0 0 0\nTransform: AffineTransform_double_3_3\nParameters: 1 0 0 0 1 0 0 0 1 0 0 0\n", "holds 2 transforms"),
    ]

    @Test(arguments: badFiles.indices) func refusesMalformedFiles(_ i: Int) {
        let (text, expected) = Self.badFiles[i]
        do {
            _ = try ITKTransformFile.parse(Array(text.utf8), path: "bad.tfm")
            Issue.record("no error for \(text.debugDescription)")
        } catch {
            let message = "\(error)"
            #expect(message.hasPrefix("bad.tfm: "), "\(message)")
            #expect(message.contains(expected), "\(message)")
            #expect(!message.contains("\n"))
        }
    }

    @Test func refusesMissingAndDirectoryPaths() {
        #expect(throws: FileError(path: "/nonexistent/a.tfm", reason: "no such file or directory")) {
            _ = try ITKTransformFile.read("/nonexistent/a.tfm")
        }
        #expect(throws: FileError(path: "/tmp", reason: "is a directory, not a file")) { _ = try ITKTransformFile.read("/tmp") }
    }

    @Test func initialAffineIsWhereTheAffineStarts() throws {
        let grid = VolumeGeometry(size: [20, 18, 16], spacing: [2, 2, 2], origin: [-19, -17, -15])
        let fixed = Phantom.image(grid), moving = Phantom.image(grid, centre: grid.centre + SIMD3(2, -1, 1))
        var stage = RegistrationPlan.affineStage(.fast)
        stage.levels = [PyramidLevel(shrink: 2, smoothingSigma: 1, iterations: 0)]
        let plan = RegistrationPlan(stages: [stage])
        var initial = Phantom.rotationZ(4)
        initial.translation = SIMD3(3, -2, 1.5)
        let result = try Registration.register(fixed: fixed, moving: moving, plan: plan, initialAffine: initial)
        #expect(result.affine.maxDifference(to: initial) < 1e-12)
        // Without it, zero iterations leave the centre-of-mass start.
        let plain = try Registration.register(fixed: fixed, moving: moving, plan: plan)
        #expect(plain.affine.maxDifference(to: initial) > 1)
    }

    /// python3 that can `import ants` (antspyx), or nil.
    static let pythonWithANTs: String? = {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/python3" }
        for py in path + ["/usr/bin/python3", "/usr/local/bin/python3"] where FileManager.default.isExecutableFile(atPath: py) {
            if let r = try? runProcess(py, ["-c", "import ants"]), r.status == 0 { return py }
        }
        return nil
    }()

    @Test(.enabled(if: pythonWithANTs != nil, "antspyx is not installed"))
    func agreesWithANTs() throws {
        let dir = TestPaths.temporaryDirectory("itk-ants")
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SystemRandomNumberGenerator()
        let ours = Self.randomAffine(&rng)
        let oursPath = dir.appendingPathComponent("voxterm.tfm").path
        try FileIO.writeAtomically(oursPath, Array(ITKTransformFile.text(for: ours).utf8))
        let points: [SIMD3<Double>] = [[1, 2, 3], [-40, 25, 10], [0, 0, 0], [17.5, -80, 33]]
        // ANTs writes an affine with a centre (as antsRegistration does), maps the points through it
        // (LPS) and maps the same points through the file voxterm wrote. ANTs maps points in float32,
        // hence the 1e-4 mm tolerance.
        let script = """
            import ants, numpy as np, sys
            rng = np.random.default_rng(\(UInt32.random(in: 0...UInt32.max, using: &rng)))
            m = np.eye(3) + rng.uniform(-0.2, 0.2, (3, 3))
            tx = ants.create_ants_transform(transform_type="AffineTransform", precision="double", dimension=3,
                                            matrix=m, translation=list(rng.uniform(-20, 20, 3)), center=list(rng.uniform(-50, 50, 3)))
            ants.write_transform(tx, sys.argv[1] + "/ants.tfm")
            ours = ants.read_transform(sys.argv[1] + "/voxterm.tfm")
            for p in \(points.map { [$0.x, $0.y, $0.z] }):
                print(*ants.apply_ants_transform_to_point(tx, p), *ants.apply_ants_transform_to_point(ours, p))
            """
        let r = try runProcess(Self.pythonWithANTs!, ["-c", script, dir.path])
        try #require(r.status == 0, "\(r.stderr)")
        let theirs = try ITKTransformFile.read(dir.appendingPathComponent("ants.tfm").path)
        let rows = r.stdout.split(separator: "\n").map { $0.split(separator: " ").compactMap { Double($0) } }
        try #require(rows.count == points.count && rows.allSatisfy { $0.count == 6 })
        let flip = SIMD3<Double>(-1, -1, 1)
        for (p, row) in zip(points, rows) {
            let antsTheirs = SIMD3(row[0], row[1], row[2]) * flip, antsOurs = SIMD3(row[3], row[4], row[5]) * flip
            let x = p * flip
            #expect(abs(theirs.apply(x) - antsTheirs).max() < 1e-4, "ANTs file: \(theirs.apply(x)) vs ANTs \(antsTheirs)")
            #expect(abs(ours.apply(x) - antsOurs).max() < 1e-4, "voxterm file: \(ours.apply(x)) vs ANTs \(antsOurs)")
        }
    }
}

private func abs(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(Swift.abs(v.x), Swift.abs(v.y), Swift.abs(v.z)) }
