import Foundation
import TestSupport
import Testing
import VoxtermModel

/// One layer loading for `view --overlay`, `export --overlay` and `:open overlay`
/// (`ImageLayer.read`): a displacement field given as a layer is refused in one line, as
/// `:open overlay` always did (export used to draw its x component as intensities).
@Suite("Review round 3 through the binary")
struct ReviewRound3CLITests {
    @Test func vectorFieldAsAnOverlayIsRefused() throws {
        let dir = TestPaths.temporaryDirectory("review3-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = TestPaths.samples.appendingPathComponent("colin27_2mm.nii.gz").path
        let volume = try ImageFile.read(image).volume()
        let field = dir.appendingPathComponent("field.nii.gz").path
        try NIfTIWriter.write(VectorField(zeroOn: volume.geometry), to: field)
        let png = dir.appendingPathComponent("x.png").path
        let r = try runVoxterm(["export", image, "-o", png, "--overlay", field])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr == "voxterm: error: \(field): is a vector field, not an image (voxterm view --field shows fields)\n")
        #expect(!FileManager.default.fileExists(atPath: png))
        // An image layer still draws.
        let ok = try runVoxterm(["export", image, "-o", png, "--overlay", image + ":hot"])
        #expect(ok.status == 0, "\(ok.stderr)")
    }
}
