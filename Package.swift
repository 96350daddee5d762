// swift-tools-version: 6.2
// voxterm: a terminal workbench for medical volumes. See docs/architecture.md for the module map
// and the dependency direction (arrows point only down this file's target list; Scripts/check-deps.sh checks it).
import PackageDescription

let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]
// Swift 6 language mode where threads share mutable state (jobs, signal handlers, the terminal);
// the model core stays in Swift 5 mode (see docs/decisions.md).
let strict6: [SwiftSetting] = strict + [.swiftLanguageMode(.v6)]

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
        .systemLibrary(name: "CDeflate", path: "Sources/CDeflate",
                       providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CNcursesw", path: "Sources/CNcursesw",
                       providers: [.apt(["libncursesw5-dev"])]),
        // glibc's malloc.h (mallopt), part of libc6-dev.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        // libchafa's headers include glib's, which Debian's libchafa-dev does not pull in.
        .systemLibrary(name: "CChafa", path: "Sources/CChafa", pkgConfig: "chafa",
                       providers: [.apt(["libchafa-dev", "libglib2.0-dev"])]),

        // MARK: Model core
        .target(name: "VolumeCore", swiftSettings: strict),
        .target(name: "NIfTI", dependencies: ["VolumeCore", "CZlib", "CDeflate"], swiftSettings: strict),
        // MGH/MGZ, NRRD, MetaImage in Swift, DICOM through dcm2niix; one entry that recognises a file by its bytes.
        .target(name: "ImageIO", dependencies: ["VolumeCore", "NIfTI"], swiftSettings: strict),
        .target(name: "Registration", dependencies: ["VolumeCore"], swiftSettings: strict),
        .target(name: "Segmentation", dependencies: ["VolumeCore", "Registration"], swiftSettings: strict),
        // What both front ends run: registration outputs, support sets from files, prediction scoring,
        // batch over a cohort (local worker pool, SLURM arrays).
        .target(name: "Pipelines", dependencies: ["VolumeCore", "NIfTI", "ImageIO", "Registration", "Segmentation"],
                swiftSettings: strict),
        // Re-exports the model core (no logic of its own).
        .target(name: "VoxtermModel",
                dependencies: ["VolumeCore", "NIfTI", "ImageIO", "Registration", "Segmentation", "Pipelines"],
                swiftSettings: strict),

        // MARK: Presentation
        .target(name: "SliceRendering", dependencies: ["VolumeCore", "CPNG"], swiftSettings: strict),
        .target(name: "Terminal", dependencies: ["CNcursesw", "CChafa"], swiftSettings: strict6),
        .target(name: "Workbench",
                dependencies: ["VoxtermModel", "SliceRendering", "Terminal"],
                swiftSettings: strict6),

        // MARK: Command-line tool
        // The commands, as a library so tests can parse command lines; the executable only calls main.
        .target(name: "VoxtermCLI",
                dependencies: ["Workbench", "VoxtermModel", "SliceRendering", "Terminal",
                               .product(name: "ArgumentParser", package: "swift-argument-parser")],
                swiftSettings: strict6),
        .executableTarget(name: "voxterm", dependencies: ["VoxtermCLI", "CMalloc"], swiftSettings: strict6),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["VoxtermModel"], path: "Tests/TestSupport",
                swiftSettings: strict),
        .testTarget(name: "VolumeCoreTests", dependencies: ["VolumeCore", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "NIfTITests", dependencies: ["NIfTI", "TestSupport"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "ImageIOTests", dependencies: ["ImageIO", "TestSupport"], exclude: ["make_fixtures.py"],
                    swiftSettings: strict),
        .testTarget(name: "RegistrationTests", dependencies: ["Registration", "NIfTI", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "SegmentationTests", dependencies: ["Segmentation", "Pipelines", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "SliceRenderingTests", dependencies: ["SliceRendering", "NIfTI", "TestSupport"],
                    exclude: ["Golden"], swiftSettings: strict),
        .testTarget(name: "TerminalTests", dependencies: ["Terminal", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "PipelinesTests", dependencies: ["Pipelines", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "WorkbenchTests", dependencies: ["Workbench", "TestSupport"], swiftSettings: strict),
        // Parses command lines with the real command tree (no binary).
        .testTarget(name: "VoxtermCLITests", dependencies: ["VoxtermCLI",
                                                            .product(name: "ArgumentParser", package: "swift-argument-parser")],
                    swiftSettings: strict),
        // Runs the built binary on real files and in tmux.
        // VoxtermModel and Workbench only as oracles (label maps, affines, the key table).
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "VoxtermModel", "Workbench"], swiftSettings: strict),
    ],
    // Swift 5 mode for the model core and rendering; Terminal, Workbench and the CLI opt into 6 above.
    swiftLanguageModes: [.v5]
)
