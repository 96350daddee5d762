import ArgumentParser

/// The `voxterm` command tree; one file per subcommand.
@main
struct Voxterm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voxterm",
        abstract: "A terminal workbench for medical volumes (NIfTI).",
        subcommands: [View.self, Info.self, Convert.self, Export.self, Register.self, Segment.self, Stats.self, Bench.self],
        defaultSubcommand: View.self)

    /// Runs the command line, with a failed write to standard output reported as an error.
    static func main() {
        checkStandardOutputAtExit()
        main(nil)
    }
}
