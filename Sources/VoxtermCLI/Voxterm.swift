import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// The `voxterm` command tree; one file per subcommand. The executable's `main.swift` only calls
/// `Voxterm.main()`; tests parse command lines with `Voxterm.parseAsRoot`.
public struct Voxterm: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "voxterm",
        abstract: "A terminal workbench for medical volumes (NIfTI).",
        discussion: dashNamesHelp,
        subcommands: [View.self, Info.self, Convert.self, Export.self, Register.self, Segment.self, Batch.self, Stats.self, Bench.self],
        defaultSubcommand: View.self)

    /// Runs the command line, with a failed write to standard output reported as an error.
    public static func main() {
        checkStandardOutputAtExit()
        // Names that look like options and non-finite numbers are refused before parsing (exit 64).
        if let problem = CommandLineScreen.problem(Array(CommandLine.arguments.dropFirst())) {
            fputs("voxterm: error: \(problem)\n", stderr)
            Glibc.exit(ExitCodes.usage)
        }
        main(nil)
    }
}

/// How to pass a file whose name starts with "-" (every command's help ends with it).
let dashNamesHelp = "A file name that starts with \"-\" is read as options: put such names after -- (which ends the options of every command: voxterm info -- -h.nii.gz) or write them as ./-h.nii.gz."
