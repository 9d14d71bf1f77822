import ArgumentParser
import Foundation
import TollgateKit

/// The output formats a command offers: text and json always, and the command's own beyond them
/// (markdown, junit, sarif). Declared once as an enum per command; `CommandOptions` reads it.
protocol CommandFormat: ExpressibleByArgument, CaseIterable, Equatable, Sendable {
    static var text: Self { get }
    static var json: Self { get }
    /// The `--format` help: what each format beyond text and json is for.
    static var help: String { get }
}

extension CommandFormat {
    static var help: String {
        let formats = allValueStrings
        return "Output format: " + formats.dropLast().joined(separator: ", ") + (formats.count > 1 ? " or " : "") + (formats.last ?? "") + "."
    }
}

/// The options every command takes, declared in one place: `--format` (text, json and the
/// command's own formats), `--config`, `--no-color` and `--quiet`.
struct CommandOptions<Format: CommandFormat>: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(Format.help))
    var format: Format = .text

    @Option(name: .long, help: "Path of the pipeline file (default: tollgate.yaml here or in a parent directory).")
    var config: String?

    @Flag(name: .long, help: "Never colour output. Only 'show' colours its text view, and only on a terminal without NO_COLOR or CI set.")
    var noColor = false

    @Flag(name: [.short, .long], help: "Print no progress lines on stderr (also off when TOLLGATE_QUIET is set).")
    var quiet = false

    /// How errors are reported: as JSON when the command prints JSON, else as text.
    var errorFormat: OutputFormat { format == .json ? .json : .text }

    /// The same options as the text-or-json group the composition takes.
    func global() throws -> GlobalOptions {
        if let options = self as? GlobalOptions { return options }
        var arguments = ["--format", format == .json ? "json" : "text"]
        if let config { arguments += ["--config", config] }
        if noColor { arguments.append("--no-color") }
        if quiet { arguments.append("--quiet") }
        return try GlobalOptions.parse(arguments)
    }
}

/// The options of a command whose formats are text and json.
typealias GlobalOptions = CommandOptions<OutputFormat>

extension CommandOptions {
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

enum OutputFormat: String, CommandFormat {
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

/// What a command needs of the composition: the engine (plan, apply) or not, and whether it only
/// reads the ledger (a fresh clone then reads as an empty ledger and nothing is created).
struct CompositionNeeds: Sendable {
    var engine = true
    var readOnly = false
    var reads = false

    static let engine = CompositionNeeds()
    static let ledger = CompositionNeeds(engine: false)
    static let reading = CompositionNeeds(engine: false, reads: true)
}

/// The shape of every command that works on the pipeline's record: it declares its options group
/// and what it needs; the protocol loads the pipeline, builds the context, runs the command in it,
/// anchors the audit head, and maps failures to exit codes (JSON on stderr when the command prints
/// JSON), so no command repeats that wiring.
protocol ContextCommand: AsyncParsableCommand {
    associatedtype Format: CommandFormat
    var options: CommandOptions<Format> { get }
    static var needs: CompositionNeeds { get }
    func run(_ context: Context) async throws
}

extension ContextCommand {
    static var needs: CompositionNeeds { .engine }

    func run() async throws {
        let needs = Self.needs
        try await Composition.run(try options.global(), needsEngine: needs.engine, readOnly: needs.readOnly, reads: needs.reads) { context in
            try await run(context)
        }
    }
}
