import Foundation
import TollgateCore
import TollgateLint

/// Runs an environment's checks on a fresh plan, in the plan's own work dir.
///
/// `fmt` and `validate` ask the engine, `lint` runs tollgate's rules on the release's files for
/// this stack, `destructive` lists what the plan destroys, `policy` runs the release's Rego
/// policies on the plan JSON, `drift` looks for unacknowledged drift, and `ephemeral` brings the
/// release up as a throw-away copy and tests it. A check that cannot run fails with the reason,
/// rather than passing silently.
struct Checker: Sendable {
    var context: Context
    /// The files sealed in the release: lint sees these, not what `init` added to the work dir.
    var releaseFiles: Set<String>
    /// The release being planned (the `ephemeral` check brings it up as a copy).
    var release: Release

    /// What the checks that read the plan see; the others run before it exists.
    struct Plan {
        var summary = PlanSummary()
        /// Exactly what `show -json` printed: the policies' `input`.
        var json = Data()
        /// `data.tollgate` for the policies.
        var context: [String: JSONValue] = [:]
    }

    /// Checks that need the plan's JSON; they run once `show -json` printed it.
    static let readsPlan: Set<Check> = [.destructive, .policy, .drift]

    /// Checks that only read the work dir (never the state), so they run beside `plan` itself.
    /// The rest (an ephemeral copy) start only once the plan succeeded.
    static let besidePlan: Set<Check> = [.fmt, .validate, .lint]

    func run(_ checks: [Check], stack: Stack, env: String, workspace: EngineWorkspace, sourceRoot: String, plan: Plan) async -> [CheckResult] {
        var results: [CheckResult] = []
        var seen: Set<Check> = []
        for check in checks where seen.insert(check).inserted {
            results.append(await run(check, stack: stack, env: env, workspace: workspace, sourceRoot: sourceRoot, plan: plan))
        }
        return results
    }

    func run(_ check: Check, stack: Stack, env: String, workspace: EngineWorkspace, sourceRoot: String, plan: Plan) async -> CheckResult {
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
            let destroyed = plan.summary.destructive
            return destroyed.isEmpty ? CheckResult(name: name, status: .pass)
                : CheckResult(name: name, status: .warn, details: destroyed.map { "destroys \($0)" })
        case .policy:
            return await policy(sourceRoot: sourceRoot, plan: plan)
        case .drift:
            return await drift(stack: stack.name.value, env: env, plan: plan)
        case .ephemeral:
            return await EphemeralManager(context: context).check(release: release, env: env)
        }
    }

    /// The release's policies on the plan JSON: any deny fails, warnings only warn. No engine, no
    /// policies or a policy that does not compile fail too: a policy check never passes by default.
    func policy(sourceRoot: String, plan: Plan) async -> CheckResult {
        let settings = context.pipeline.policies ?? PolicySettings()
        do {
            let modules = try PolicySources.modules(in: sourceRoot + "/" + settings.path, prefix: settings.path, only: releaseFiles)
            guard modules.contains(where: { !$0.isTest }) else {
                return CheckResult(name: "policy", status: .fail,
                                   details: ["the release has no .rego files under '\(settings.path)/'; add policies there or remove 'policy' from the environment's checks"])
            }
            // Policies written for another input (.tf files) would find nothing here: that is no pass.
            let members: Set<String> = if case .object(let top)? = try? JSONDecoder().decode(JSONValue.self, from: plan.json) { Set(top.keys) } else { [] }
            if let refusal = RegoQueries.unread(input: members, file: "the plan JSON", read: RegoQueries.inputMembers(readBy: modules.filter { !$0.isTest })) {
                return CheckResult(name: "policy", status: .fail, details: [refusal])
            }
            let engine = try context.policyEngine(settings.engine)
            let report = try await engine.check(PolicyRequest(modules: modules, namespaces: settings.namespaces, context: plan.context, input: plan.json))
            return CheckResult(name: "policy", status: report.status,
                               details: report.messages.map { "\($0.level.rawValue) \($0.rule): \($0.message)" }
                                   + report.exceptions.map { "exception \($0.rule): exempted by an exception rule\($0.messages.isEmpty ? "" : " (\($0.messages.joined(separator: "; ")))")" }
                                   + ["engine: \(report.engine)"])
        } catch {
            return CheckResult(name: "policy", status: .fail, details: ["\(error)"])
        }
    }

    /// Fails while the (env, stack) has drift nobody acknowledged, where no one reviews the plan
    /// (no approval gate); in an approval environment the approver of this plan, made after the
    /// drift run, sees the drift, so it warns. Warns too when the plan itself saw drift, since
    /// applying it overwrites those outside changes.
    func drift(stack: String, env: String, plan: Plan) async -> CheckResult {
        do {
            if let open = try await DriftDetector(context: context).openDrift(env: env, stack: stack) {
                let reviewed = if case .approval? = (try? context.environment(env))?.gate.value { true } else { false }
                if !reviewed {
                    return CheckResult(name: "drift", status: .fail, details: [DriftStatus.refusal(open, replanning: false).message + ", and plan again"])
                }
                return CheckResult(name: "drift", status: .warn, details: ["drift run '\(open.id)' found \(open.resources.map(\.address).joined(separator: ", ")) changed outside tollgate; approving this plan accepts overwriting that"]
                    + plan.summary.drifted.map { "\($0) changed outside tollgate; this plan overwrites that change" })
            }
        } catch {
            return CheckResult(name: "drift", status: .fail, details: ["cannot read the drift record: \(error)"])
        }
        return plan.summary.drifted.isEmpty ? CheckResult(name: "drift", status: .pass)
            : CheckResult(name: "drift", status: .warn, details: plan.summary.drifted.map { "\($0) changed outside tollgate; this plan overwrites that change" })
    }

    func lint(stack: Stack, env: String, sourceRoot: String) -> CheckResult {
        let pipeline = context.pipeline
        // Only what this stack's findings can come from: its code, the modules and the config.
        let files = RepositoryFiles.read(root: sourceRoot, directories: [stack.path, "modules", "config"]).filter { releaseFiles.contains($0.key) }
        let input = LintInput(pipeline: pipeline, files: files, stacks: [stack])
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
