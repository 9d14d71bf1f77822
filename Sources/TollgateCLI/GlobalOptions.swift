import ArgumentParser
import Foundation
import TollgateKit

/// Flags every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Option(name: .long, help: "Path of the pipeline file (default: tollgate.yaml here or in a parent directory).")
    var config: String?

    @Flag(name: .long, help: "Never colour output. Only 'show' colours its text view, and only on a terminal without NO_COLOR or CI set.")
    var noColor = false

    @Flag(name: [.short, .long], help: "Print no progress lines on stderr (also off when TOLLGATE_QUIET is set).")
    var quiet = false

    /// The options of a command that declares its own `--format` (with formats beyond text and
    /// json), `--config` and `--quiet`: errors are reported as JSON only when the command prints JSON.
    static func with(config: String?, json: Bool, quiet: Bool = false) throws -> GlobalOptions {
        var options = try GlobalOptions.parse(config.map { ["--config", $0] } ?? [])
        options.format = json ? .json : .text
        options.quiet = quiet
        return options
    }

    /// Whether progress lines go to stderr: unless `--quiet`, or `TOLLGATE_QUIET` is set to anything but empty or `0`.
    func showsProgress(_ environment: [String: String]) -> Bool {
        guard !quiet else { return false }
        let setting = environment["TOLLGATE_QUIET"] ?? ""
        return setting.isEmpty || setting == "0"
    }

    /// The pipeline file to use: `--config`, else the nearest `tollgate.yaml` upwards from here.
    func pipelinePath() -> String {
        let manager = FileManager.default
        if let config { return PathResolution.absolute(config) }
        var directory = URL(fileURLWithPath: manager.currentDirectoryPath).standardizedFileURL
        while true {
            let candidate = directory.appendingPathComponent("tollgate.yaml").path
            if manager.fileExists(atPath: candidate) { return candidate }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { break }
            directory = parent
        }
        return manager.currentDirectoryPath + "/tollgate.yaml"
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

enum PathResolution {
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path).standardizedFileURL.path
    }

    /// Writes a file a command was asked to produce (`--out`, `--playbook`) in one step, so a reader
    /// never sees half of it; a failure says which of the usual causes it is and what to do.
    static func write(_ text: String, to path: String, option: String) throws {
        let absolute = absolute(path)
        let directory = (absolute as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw KitError.step("cannot write '\(path)': the directory '\(directory)' does not exist; create it or give \(option) another path")
        }
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: absolute), options: .atomic)
        } catch {
            var reason = ((error as NSError).localizedFailureReason ?? error.localizedDescription).trimmingCharacters(in: CharacterSet(charactersIn: ". "))
            reason = reason.prefix(1).lowercased() + reason.dropFirst()
            throw KitError.step("cannot write '\(path)': \(reason); check that '\(directory)' is writable and has room, or give \(option) another path")
        }
    }
}
