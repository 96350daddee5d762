import Foundation

/// Locations tests need: the package root, the built binary, the bundled samples.
public enum TestPaths {
    /// The package root (the folder holding Package.swift).
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// `Samples/` in the package.
    public static var samples: URL { packageRoot.appendingPathComponent("Samples") }

    /// The `voxterm` executable built next to the running test bundle.
    public static var voxtermBinary: URL {
        let bundle = Bundle.main.bundleURL
        for dir in [bundle, bundle.deletingLastPathComponent()] {
            let candidate = dir.appendingPathComponent("voxterm")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return packageRoot.appendingPathComponent(".build/debug/voxterm")
    }

    /// A fresh temporary folder.
    public static func temporaryDirectory(_ name: String = "voxterm-test") -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Debian's mricron-data templates folder, when installed.
    public static let mricronTemplates = URL(fileURLWithPath: "/usr/share/mricron/templates")
}
