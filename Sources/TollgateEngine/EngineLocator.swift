import Foundation
import TollgateCore

/// Finds the engine binary the pipeline asks for and checks its version.
///
/// Candidates in order: `TOLLGATE_ENGINE` (an explicit path), the pipeline's `engine.path`, the
/// binary's name on PATH, then engines installed by tollgate's setup script under
/// `$TOLLGATE_TOOLS/terraform-*/`. The first whose version satisfies the constraint wins.
public struct EngineLocator: Sendable {
    public var environment: [String: String]
    public var runner: ProcessRunner
    /// Versions already read; nil reads every candidate's version afresh (as `doctor` does).
    public var versionCache: EngineVersionCache?

    public init(environment: [String: String], runner: ProcessRunner = ProcessRunner(), versionCache: EngineVersionCache? = nil) {
        self.environment = environment
        self.runner = runner
        self.versionCache = versionCache
    }

    public func candidates(for spec: EngineSpec, baseDirectory: String) -> [String] {
        var paths: [String] = []
        if let explicit = environment["TOLLGATE_ENGINE"], !explicit.isEmpty {
            return [PathText.absolute(explicit, base: baseDirectory)]
        }
        if let path = spec.path { paths.append(PathText.absolute(path, base: baseDirectory)) }
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(directory)/\(spec.binary.rawValue)"
            if FileManager.default.isExecutableFile(atPath: path), !paths.contains(path) { paths.append(path) }
        }
        if let tools = environment["TOLLGATE_TOOLS"] {
            let root = PathText.absolute(tools, base: baseDirectory)
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            // Newest version first: compare the versions in the folder names, not their text.
            let installed = entries.filter { $0.hasPrefix(spec.binary.rawValue + "-") }
                .sorted { (Version(parsing: String($0.dropFirst(spec.binary.rawValue.count + 1))) ?? Version([0]))
                    > (Version(parsing: String($1.dropFirst(spec.binary.rawValue.count + 1))) ?? Version([0])) }
            for entry in installed {
                let path = "\(root)/\(entry)/\(spec.binary.rawValue)"
                if FileManager.default.isExecutableFile(atPath: path) { paths.append(path) }
            }
        }
        return paths
    }

    /// The first candidate that runs and satisfies the version constraint.
    public func locate(_ spec: EngineSpec, baseDirectory: String) async throws -> EngineInfo {
        let paths = candidates(for: spec, baseDirectory: baseDirectory)
        guard !paths.isEmpty else {
            var searched = ["PATH"]
            if environment["TOLLGATE_TOOLS"] != nil { searched.append("$TOLLGATE_TOOLS") }
            throw EngineError.notFound(binary: spec.binary.rawValue, searched: searched)
        }
        var found: [String] = []
        for path in paths {
            do {
                let version: Version
                if let known = versionCache?.version(of: path) {
                    version = known
                } else {
                    version = try await self.version(of: path)
                    versionCache?.remember(version, of: path)
                }
                if spec.version.value.isSatisfied(by: version) {
                    return EngineInfo(kind: spec.binary.rawValue, path: path, version: version)
                }
                found.append("\(path) is \(version)")
            } catch let error as EngineError {
                if paths.count == 1 { throw error }
                found.append("\(path) did not run")
            }
        }
        throw EngineError.unsatisfiedVersion(constraint: spec.version.value.description, found: found)
    }

    /// Reads `version -json` (both Terraform ≥ 0.13 and OpenTofu print `terraform_version`).
    public func version(of path: String) async throws -> Version {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw EngineError.launchFailed(command: path, reason: "no executable file at that path")
        }
        var env = environment
        env["CHECKPOINT_DISABLE"] = "1"
        env["TF_CLI_CONFIG_FILE"] = "/dev/null"
        let output = try await runner.run(path, ["version", "-json"], environment: env)
        struct VersionJSON: Decodable {
            var terraform_version: String
        }
        if output.status == 0, let decoded = try? JSONDecoder().decode(VersionJSON.self, from: output.stdout),
           let version = Version(parsing: decoded.terraform_version) {
            return version
        }
        throw EngineError.unreadableVersion(path: path, output: output.stdoutText + output.stderrText)
    }
}
