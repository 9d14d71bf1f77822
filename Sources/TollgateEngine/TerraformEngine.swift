import Foundation
import TollgateCore

/// The `Engine` port on the Terraform (or OpenTofu) command line.
///
/// Every run gets `TF_IN_AUTOMATION=1`, `-input=false`, `-no-color`, its workspace's own
/// `TF_DATA_DIR`, and tollgate's CLI config (plugin cache, provider mirror). Inherited `TF_CLI_ARGS*`,
/// `TF_VAR_*` and `TF_WORKSPACE` are dropped so only tollgate decides what reaches the engine.
public struct TerraformEngine: Engine {
    public let info: EngineInfo
    public let settings: EngineSettings
    public let runner: ProcessRunner
    let inherited: [String: String]
    /// One `init` at a time per engine: inits share the plugin cache, and two installing the same
    /// provider into it at once fail with "file exists" (plans of several stacks run side by side).
    let initGate = SerialGate()

    public init(info: EngineInfo, settings: EngineSettings, environment: [String: String], runner: ProcessRunner = ProcessRunner()) {
        self.info = info
        self.settings = settings
        self.runner = runner
        self.inherited = environment.filter { key, _ in
            !(key.hasPrefix("TF_CLI_ARGS") || key.hasPrefix("TF_VAR_") || key == "TF_WORKSPACE"
              || key == "TF_DATA_DIR" || key == "TF_CLI_CONFIG_FILE" || key == "TF_PLUGIN_CACHE_DIR")
        }
    }

    public func initialize(_ workspace: EngineWorkspace, backend: [(key: String, value: BackendValue)]) async throws {
        try FileManager.default.createDirectory(atPath: workspace.dataDirectory, withIntermediateDirectories: true)
        var arguments = ["init", "-input=false", "-no-color"]
        if !backend.isEmpty {
            let path = workspace.dataDirectory + "/backend.tfbackend"
            try Data(Self.backendConfigText(backend).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            arguments.append("-backend-config=\(path)")
        }
        await initGate.acquire()
        do {
            _ = try await run(arguments, in: workspace)
        } catch {
            await initGate.release()
            throw error
        }
        await initGate.release()
    }

    public func plan(_ workspace: EngineWorkspace, planFile: String, varFiles: [String], mode: PlanMode) async throws -> Bool {
        var arguments = ["plan", "-input=false", "-no-color", "-lock-timeout=60s", "-detailed-exitcode", "-out=\(planFile)"]
        switch mode {
        case .normal: break
        case .refreshOnly: arguments.append("-refresh-only")
        case .destroy: arguments.append("-destroy")
        }
        arguments += varFiles.map { "-var-file=\($0)" }
        // Machine-readable diagnostics where the engine has them: the human text wraps at 78
        // columns, which splits long resource addresses.
        let json = Self.plansAsJSON(info.version)
        if json { arguments.append("-json") }
        let output = try await run(arguments, in: workspace, acceptedStatuses: [0, 1, 2])
        guard output.status == 1 else { return output.status == 2 }
        let diagnostics = json ? EngineDiagnostic.parse(jsonLines: output.stdout) : []
        let protected = json ? EngineDiagnostic.preventDestroyAddresses(diagnostics)
            : RollbackAnalyzer.preventDestroyAddresses(inError: output.stderrText)
        if !protected.isEmpty { throw PreventDestroyError(addresses: protected) }
        let errors = diagnostics.filter { $0.severity == "error" }
        guard !errors.isEmpty else { throw failure(arguments, workspace, output) }
        // The JSON lines are no message for a person: report the errors in the engine's own words.
        let command = ([info.kind] + arguments).map(ProcessRunner.quote).joined(separator: " ")
        let text = (errors.map(\.text) + [output.stderrText.trimmingWhitespaceAndNewlines()].filter { !$0.isEmpty }).joined(separator: "\n\n")
        throw EngineError.processFailed(ProcessFailure(command: command, directory: workspace.directory, status: output.status, stderrTail: text.lastLines(20)))
    }

    /// `plan -json` (UI JSON lines with diagnostics) exists from Terraform 0.15.3 on.
    static func plansAsJSON(_ version: Version) -> Bool { version >= Version([0, 15, 3]) }

    public func outputs(_ workspace: EngineWorkspace) async throws -> [String: EngineOutput] {
        let output = try await run(["output", "-json", "-no-color"], in: workspace)
        do {
            return try JSONDecoder().decode([String: EngineOutput].self, from: output.stdout)
        } catch {
            throw EngineError.malformedOutput(command: "output -json", detail: "\(error)")
        }
    }

    public func showJSON(_ workspace: EngineWorkspace, planFile: String) async throws -> Data {
        try await run(["show", "-json", "-no-color", planFile], in: workspace).stdout
    }

    /// Applies a saved plan. The engine's refusal of a stale plan is a `StalePlanError`, so callers
    /// never match the engine's text themselves.
    public func apply(_ workspace: EngineWorkspace, planFile: String) async throws {
        let arguments = ["apply", "-input=false", "-no-color", "-lock-timeout=60s", planFile]
        let output = try await run(arguments, in: workspace, acceptedStatuses: [0, 1])
        guard output.status == 0 else {
            let text = output.stderrText + output.stdoutText
            if text.contains("Saved plan is stale") {
                throw StalePlanError(engineMessage: text.split(separator: "\n").first { $0.contains("Saved plan is stale") }
                    .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "│╷╵ ")) } ?? "Saved plan is stale")
            }
            throw failure(arguments, workspace, output)
        }
    }

    public func formatCheck(_ workspace: EngineWorkspace) async throws -> [String] {
        // Exit 3 means some files differ; their names are on stdout.
        let output = try await run(["fmt", "-check", "-list=true", "-recursive", "-no-color"], in: workspace, acceptedStatuses: [0, 3])
        return output.stdoutText.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    public func validate(_ workspace: EngineWorkspace) async throws -> EngineValidation {
        let output = try await run(["validate", "-json", "-no-color"], in: workspace, acceptedStatuses: [0, 1])
        struct Position: Decodable { var line: Int; var column: Int }
        struct Range: Decodable { var filename: String; var start: Position }
        struct Item: Decodable { var severity: String; var summary: String; var detail: String?; var range: Range? }
        struct Result: Decodable { var valid: Bool; var diagnostics: [Item] }
        guard let result = try? JSONDecoder().decode(Result.self, from: output.stdout) else {
            if output.status != 0 { throw failure(["validate", "-json"], workspace, output) }
            throw EngineError.malformedOutput(command: "\(info.kind) validate -json", detail: String(output.stdoutText.prefix(200)))
        }
        let diagnostics = result.diagnostics.map { item in
            Diagnostic(item.severity == "error" ? .error : .warning,
                       at: item.range.map { SourceLocation(file: $0.filename, line: $0.start.line, column: $0.start.column) },
                       item.summary + (item.detail.map { ": \($0)" } ?? ""))
        }
        return EngineValidation(valid: result.valid, diagnostics: diagnostics)
    }

    public func pullState(_ workspace: EngineWorkspace) async throws -> StateIdentity {
        let output = try await run(["state", "pull"], in: workspace)
        do {
            return try StateIdentity.parse(output.stdout)
        } catch {
            throw EngineError.malformedOutput(command: "\(info.kind) state pull", detail: "not state JSON")
        }
    }

    public func priorState(ofPlan planFile: Data) throws -> StateIdentity {
        let archive = try ZipArchive(data: planFile)
        // A plan made against no state at all has no tfstate member, or an empty one.
        guard archive.entry(named: "tfstate") != nil else { return .empty }
        return try StateIdentity.parse(try archive.contents(of: "tfstate"))
    }

    /// `-backend-config` file text: one `key = value` line per setting, typed as HCL.
    public static func backendConfigText(_ settings: [(key: String, value: BackendValue)]) -> String {
        settings.map { key, value in
            switch value {
            case .string(let text): "\(key) = \"\(EngineSettings.hclEscape(text))\""
            case .integer(let number): "\(key) = \(number)"
            case .bool(let flag): "\(key) = \(flag)"
            }
        }.joined(separator: "\n") + "\n"
    }

    /// The environment one run sees.
    public func environment(for workspace: EngineWorkspace) -> [String: String] {
        var env = inherited
        env["TF_IN_AUTOMATION"] = "1"
        env["TF_INPUT"] = "0"
        env["CHECKPOINT_DISABLE"] = "1"
        env["TF_DATA_DIR"] = workspace.dataDirectory
        env["TF_CLI_CONFIG_FILE"] = settings.cliConfigPath
        for (key, value) in workspace.variables { env[key] = value }
        return env
    }

    @discardableResult
    func run(_ arguments: [String], in workspace: EngineWorkspace, acceptedStatuses: Set<Int32> = [0]) async throws -> ProcessRunner.Output {
        try settings.prepare()
        let output = try await runner.run(info.path, arguments, directory: workspace.directory, environment: environment(for: workspace))
        guard acceptedStatuses.contains(output.status) else { throw failure(arguments, workspace, output) }
        return output
    }

    func failure(_ arguments: [String], _ workspace: EngineWorkspace, _ output: ProcessRunner.Output) -> EngineError {
        let command = ([info.kind] + arguments).map(ProcessRunner.quote).joined(separator: " ")
        let tail = (output.stderrText.isEmpty ? output.stdoutText : output.stderrText).lastLines(20)
        return .processFailed(ProcessFailure(command: command, directory: workspace.directory, status: output.status, stderrTail: tail))
    }
}
