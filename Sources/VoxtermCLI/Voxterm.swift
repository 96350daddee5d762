import ArgumentParser
import Foundation
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
            standardError.write("voxterm: error: \(problem)\n")
            Glibc.exit(ExitCodes.usage)
        }
        do {
            var command = try parseAsRoot(nil)
            try command.run()
        } catch {
            // A malformed command line is one line, as every other error (README: exit 64); the
            // help (`--help`, `voxterm help X`) and everything else as swift-argument-parser prints it.
            // An `ExitCode` is a status whose message the command has already printed (a refusal
            // with status 64, e.g. `convert --series` on a file): nothing more is said.
            if !(error is ExitCode), exitCode(for: error) == .validationFailure {
                standardError.write("voxterm: error: \(usageLine(for: error))\n")
                Glibc.exit(ExitCodes.usage)
            }
            exit(withError: error)
        }
    }

    /// swift-argument-parser's message for a command-line error on one line, with where to look
    /// (`The value 'x' is invalid for '--plane <plane>'. Please provide one of 'axial', ... (voxterm help export lists the options)`).
    static func usageLine(for error: Error) -> String {
        var text = message(for: error)
        if text.hasPrefix("Error: ") { text.removeFirst("Error: ".count) }
        // Its list of allowed values ("one of the following:" then "- gray", "- hot", ...) as 'gray', 'hot', ...
        var parts: [String] = [], items: [String] = []
        for line in text.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) where !line.isEmpty {
            if line.hasPrefix("- ") { items.append("'\(line.dropFirst(2))'"); continue }
            if !items.isEmpty { parts.append(items.joined(separator: ", ")); items = [] }
            parts.append(line)
        }
        if !items.isEmpty { parts.append(items.joined(separator: ", ")) }
        text = parts.joined(separator: " ")
        let words = CommandLine.arguments.dropFirst()
        let name = words.first { w in configuration.subcommands.contains { $0._commandName == w } } ?? "view"
        return text + " (voxterm help \(name) lists the options)"
    }
}

/// How to pass a file whose name starts with "-" (every command's help ends with it).
let dashNamesHelp = "A file name that starts with \"-\" is read as options: put such names after -- (which ends the options of every command: voxterm info -- -h.nii.gz) or write them as ./-h.nii.gz."
