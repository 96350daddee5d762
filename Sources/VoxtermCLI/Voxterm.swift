import ArgumentParser

/// The `voxterm` command tree; one file per subcommand. The executable's `main.swift` only calls
/// `Voxterm.main()`; tests parse command lines with `Voxterm.parseAsRoot`.
public struct Voxterm: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "voxterm",
        abstract: "A terminal workbench for medical volumes (NIfTI).",
        subcommands: [View.self, Info.self, Convert.self, Export.self, Register.self, Segment.self, Batch.self, Stats.self, Bench.self],
        defaultSubcommand: View.self)

    /// Runs the command line, with a failed write to standard output reported as an error.
    public static func main() {
        checkStandardOutputAtExit()
        main(nil)
    }
}
