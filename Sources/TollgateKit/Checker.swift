import Foundation
import TollgateCore
import TollgateLint

/// Runs an environment's checks on a fresh plan, in the plan's own work dir.
///
/// `fmt` and `validate` ask the engine, `lint` runs tollgate's rules on the release's files for
/// this stack, and `destructive` lists what the plan destroys. Checks this version cannot run yet
/// fail with a message saying so, rather than passing silently.
struct Checker: Sendable {
    var context: Context
    /// The files sealed in the release: lint sees these, not what `init` added to the work dir.
    var releaseFiles: Set<String>

    func run(_ checks: [Check], stack: Stack, env: String, workspace: EngineWorkspace, sourceRoot: String, summary: PlanSummary) async -> [CheckResult] {
        var results: [CheckResult] = []
        var seen: Set<Check> = []
        for check in checks where seen.insert(check).inserted {
            results.append(await run(check, stack: stack, env: env, workspace: workspace, sourceRoot: sourceRoot, summary: summary))
        }
        return results
    }

    func run(_ check: Check, stack: Stack, env: String, workspace: EngineWorkspace, sourceRoot: String, summary: PlanSummary) async -> CheckResult {
        let name = check.rawValue
        switch check {
        case .fmt:
            do {
                let files = try await context.engine.formatCheck(workspace)
                return files.isEmpty ? CheckResult(name: name, status: .pass)
                    : CheckResult(name: name, status: .fail, details: files.map { "\(stack.path)/\($0) is not formatted (run terraform fmt)" })
            } catch {
                return CheckResult(name: name, status: .fail, details: ["the engine's fmt -check did not run: \(error)"])
            }
        case .validate:
            do {
                let validation = try await context.engine.validate(workspace)
                let problems = validation.diagnostics.filter { $0.severity == .error }.map(\.description)
                return validation.valid ? CheckResult(name: name, status: .pass, details: validation.diagnostics.map(\.description))
                    : CheckResult(name: name, status: .fail, details: problems)
            } catch {
                return CheckResult(name: name, status: .fail, details: ["the engine's validate did not run: \(error)"])
            }
        case .lint:
            return lint(stack: stack, env: env, sourceRoot: sourceRoot)
        case .destructive:
            let destroyed = summary.destructive
            return destroyed.isEmpty ? CheckResult(name: name, status: .pass)
                : CheckResult(name: name, status: .warn, details: destroyed.map { "destroys \($0)" })
        case .policy, .drift, .ephemeral:
            return CheckResult(name: name, status: .fail,
                               details: ["check '\(name)' is not available in this version of tollgate; remove it from the environment's checks until it is"])
        }
    }

    func lint(stack: Stack, env: String, sourceRoot: String) -> CheckResult {
        let pipeline = context.pipeline
        var files: [String: [UInt8]] = [:]
        // Only what this stack's findings can come from: its code, the modules and the config.
        for directory in [stack.path, "modules", "config"] {
            for relative in FileManager.default.subpaths(atPath: sourceRoot + "/" + directory) ?? []
            where relative.hasSuffix(".tf") || relative.hasSuffix(".tf.json") || relative.hasSuffix(".tfvars") || relative.hasSuffix(".terraform.lock.hcl") {
                guard releaseFiles.contains(directory + "/" + relative) else { continue }
                if let data = FileManager.default.contents(atPath: sourceRoot + "/" + directory + "/" + relative) {
                    files[directory + "/" + relative] = Array(data)
                }
            }
        }
        let input = LintInput(files: files, stacks: [.init(name: stack.name.value, path: stack.path)],
                              environments: pipeline.environments.map(\.name.value),
                              environmentInputs: pipeline.lint.envInputs ?? LintInput.defaultEnvironmentInputs,
                              expectedDifferences: pipeline.lint.expectedDifferences)
        // This stack's code, the modules, and this environment's config for it.
        let relevant = Linter(input: input).run().filter { finding in
            finding.file.hasPrefix(stack.path + "/") || finding.file.hasPrefix("modules/")
                || finding.file == "config/\(env)/\(stack.name.value).tfvars" || finding.file == "config/\(env)/common.tfvars"
        }
        let details = relevant.map { "\($0.location): [\($0.rule)] \($0.message)" }
        if relevant.contains(where: { $0.severity == .error }) { return CheckResult(name: "lint", status: .fail, details: details) }
        return CheckResult(name: "lint", status: relevant.isEmpty ? .pass : .warn, details: details)
    }
}
