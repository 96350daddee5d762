// swift-tools-version: 6.2
// voxterm: a terminal workbench for medical volumes. See ../shared/DESIGN.md for the
// dependency direction: arrows point only down this file's target list.
import PackageDescription

let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "voxterm",
    products: [
        // The model core, usable without any UI.
        .library(name: "VoxtermModel", targets: ["VoxtermModel"]),
        .executable(name: "voxterm", targets: ["voxterm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // MARK: C libraries (module maps only, no logic)
        .systemLibrary(name: "CZlib", path: "Sources/CZlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CNcursesw", path: "Sources/CNcursesw",
                       providers: [.apt(["libncursesw5-dev"])]),
        // libchafa's headers include glib's, which Debian's libchafa-dev does not pull in.
        .systemLibrary(name: "CChafa", path: "Sources/CChafa", pkgConfig: "chafa",
                       providers: [.apt(["libchafa-dev", "libglib2.0-dev"])]),

        // MARK: Model core
        .target(name: "VolumeCore", swiftSettings: strict),
        .target(name: "NIfTI", dependencies: ["VolumeCore", "CZlib"], swiftSettings: strict),
        .target(name: "Registration", dependencies: ["VolumeCore"], swiftSettings: strict),
        .target(name: "Segmentation", dependencies: ["VolumeCore", "NIfTI", "Registration"], swiftSettings: strict),
        .target(name: "VoxtermModel",
                dependencies: ["VolumeCore", "NIfTI", "Registration", "Segmentation"],
                swiftSettings: strict),

        // MARK: Presentation
        .target(name: "SliceRendering", dependencies: ["VolumeCore", "CPNG"], swiftSettings: strict),
        .target(name: "Terminal", dependencies: ["CNcursesw", "CChafa"], swiftSettings: strict),
        .target(name: "Workbench",
                dependencies: ["VoxtermModel", "SliceRendering", "Terminal"],
                swiftSettings: strict),

        // MARK: Command-line tool
        .executableTarget(name: "voxterm",
                          dependencies: ["Workbench",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: strict),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["VoxtermModel"], path: "Tests/TestSupport",
                swiftSettings: strict),
        .testTarget(name: "VolumeCoreTests", dependencies: ["VolumeCore", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "NIfTITests", dependencies: ["NIfTI", "TestSupport"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "RegistrationTests", dependencies: ["Registration", "NIfTI", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "SegmentationTests", dependencies: ["Segmentation", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "SliceRenderingTests", dependencies: ["SliceRendering", "NIfTI", "TestSupport"],
                    exclude: ["Golden"], swiftSettings: strict),
        .testTarget(name: "TerminalTests", dependencies: ["Terminal", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "WorkbenchTests", dependencies: ["Workbench", "TestSupport"], swiftSettings: strict),
        // Runs the built binary on real files and in tmux.
        // VoxtermModel and Workbench only as oracles (label maps, affines, the key table).
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "VoxtermModel", "Workbench"], swiftSettings: strict),
    ],
    // Swift 5 mode: hot loops hand unsafe buffers to worker threads (see docs/decisions.md).
    swiftLanguageModes: [.v5]
)
