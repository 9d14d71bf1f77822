import ArgumentParser
import Foundation
import TollgateKit

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Scaffold a tollgate repository: pipeline file, stacks, modules, config and policies."
    )

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Add two runnable stacks (network, app) on the null provider and three environments.")
    var example = false

    @Flag(help: "Overwrite files that already exist.")
    var force = false

    @Option(help: "Directory to scaffold (default: the current directory).")
    var dir: String?

    func run() async throws {
        let directory = PathResolution.absolute(dir ?? FileManager.default.currentDirectoryPath)
        do {
            let written = try Scaffold.write(to: directory, example: example, force: force)
            if options.format == .json {
                struct Result: Encodable {
                    var directory: String
                    var files: [String]
                }
                Output.json(Result(directory: directory, files: written))
            } else {
                Output.line("initialised \(directory)\(example ? " with the example stacks" : "")")
                for file in written { Output.line("  \(file)") }
                Output.line("next: tollgate validate && tollgate doctor")
            }
        } catch {
            throw Output.fail(error, format: options.format)
        }
    }
}
