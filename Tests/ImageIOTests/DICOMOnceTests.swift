import Foundation
import Testing
import TestSupport
@testable import ImageIO
import NIfTI

/// `voxterm view FOLDER` on a folder of several series used to run dcm2niix twice (the listing
/// was cached under FOLDER, the image under FOLDER@1); `DICOM.openFirst` lists and reads in one run.
@Suite("A DICOM folder of several series is converted once for viewing")
struct DICOMOnceTests {
    @Test func listingAndReadingTheFirstSeriesIsOneConversion() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/dcm2niix"), "dcm2niix is required (Scripts/install-deps.sh)")
        let python = try #require(pythonWithNibabel, "python3 with pydicom is required (Scripts/install-deps.sh --test)")
        let r0 = try runProcess(python, ["-c", "import pydicom, os; print(os.path.dirname(pydicom.__file__))"])
        try #require(r0.status == 0, "pydicom is required: \(r0.stderr)")
        let testFiles = r0.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "/data/test_files"
        let dir = TestPaths.temporaryDirectory("voxterm-dicom-once")
        defer { try? FileManager.default.removeItem(at: dir) }
        for f in ["CT_small.dcm", "MR_small.dcm"] {
            try FileManager.default.copyItem(atPath: testFiles + "/" + f, toPath: dir.appendingPathComponent(f).path)
        }
        let (shown, series) = try DICOM.openFirst(dir.path)
        #expect(shown == dir.path + "@1" && series.count == 2, "\(shown) \(series)")
        // What view does next: the header before the terminal is taken, the voxels behind the loading screen.
        let header = try ImageFile.readHeader(shown)
        let image = try ImageFile.read(shown)
        #expect(header.shape == image.header.shape)
        #expect(image.header.shape == series[0].shape, "\(image.header.shape) vs \(series[0].shape)")
        #expect(DICOM.conversions.withLock { $0[dir.path] } == 1)
        // The second series is its own conversion, as before.
        _ = try ImageFile.read(dir.path + "@2")
        #expect(DICOM.conversions.withLock { $0[dir.path] } == 2)
    }
}
