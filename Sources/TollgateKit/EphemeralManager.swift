import Foundation
import TollgateCore

/// Throw-away copies of an environment: a release applied with that environment's config and
/// secrets into state templated by `{ephemeral}`, tested, then destroyed.
///
/// The record is written before any resource is made and updated at each step, so a failure or a
/// crash leaves the copy listed (`failed`, `creating`, `destroy-failed`) for `down` or `gc`.
public struct EphemeralManager: Sendable {
    public var context: Context

    public init(context: Context) { self.context = context }

    func settings() throws -> EphemeralSettings {
        guard let settings = context.pipeline.ephemeral else {
            throw KitError.step("\(context.pipeline.file) has no 'ephemeral' section; add one with a backend whose state location uses {ephemeral} (see docs/pipeline.md)")
        }
        return settings
    }

    static func validName(_ name: String) -> Bool {
        guard let first = name.first, first.isLowercase, first.isASCII, name.count <= 40 else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    public func list() async throws -> [EphemeralRecord] { try await context.ledger.ephemerals() }

    func record(_ name: String) async throws -> EphemeralRecord {
        guard let record = try await context.ledger.ephemeral(name: name) else {
            throw KitError.step("no ephemeral environment '\(name)'; 'tollgate ephemeral list' shows them, 'tollgate ephemeral up' makes one")
        }
        return record
    }

    func save(_ record: EphemeralRecord, _ kind: String, _ payload: [String: JSONValue] = [:]) async throws {
        try await context.ledger.saveEphemeral(record, event: AuditEntry(
            actor: context.actor, kind: kind, subjects: ["ephemeral": record.name, "env": record.like, "release": record.releaseID],
            payload: .object(payload.merging(["status": .string(record.status.rawValue)]) { a, _ in a })))
    }

    /// Applies every stack of the release, in dependency order, as a copy of `like`.
    public func up(name: String, like: String, release reference: String) async throws -> EphemeralRecord {
        guard Self.validName(name) else {
            throw KitError.step("'\(name)' is not a valid ephemeral name; start with a lowercase letter and use only a-z, 0-9, '-' and '_' (at most 40)")
        }
        let release = try await self.context.release(reference)
        let context = try await self.context.sealed(release)
        let settings = try EphemeralManager(context: context).settings()
        let environment = try context.environment(like)
        if let existing = try await context.ledger.ephemeral(name: name), existing.status == .up || existing.status == .creating {
            throw KitError.step("ephemeral environment '\(name)' is already \(existing.status.rawValue) (release \(Digest.short(existing.releaseID))); "
                + "run 'tollgate ephemeral down \(name)' first")
        }
        let now = context.effects.now()
        var record = EphemeralRecord(name: name, like: like, releaseID: release.id, status: .creating, actor: context.actor, createdAt: now,
                                     expiresAt: now.addingTimeInterval(TimeInterval(settings.ttl.seconds)))
        // A copy shares its model's account, tfvars and secrets; state names in those tfvars point at the model's own state.
        let shared = try await EphemeralManager(context: context).modelStateReferences(release: release, like: environment)
        for line in shared {
            context.notice("warning: \(line) names where '\(like)' keeps its own state; in copy '\(name)' a terraform_remote_state fed from it reads '\(like)'s real state, not the copy's (build the location from var.\(Self.nameVariable) instead)")
        }
        try await save(record, "ephemeral.creating", shared.isEmpty ? [:] : ["model_state_references": .array(shared.map(JSONValue.string))])
        do {
            try await context.checkIdentity(environment, subjects: ["ephemeral": name, "env": like])
            let variables = try await context.secretVariables(environment)
            for stack in try context.stacks(only: []) {
                try await EphemeralManager(context: context).run(stack, of: record, settings: settings, environment: environment,
                                                                 variables: variables, mode: .normal)
            }
        } catch {
            record.status = .failed
            record.detail = "\(error)"
            try await save(record, "ephemeral.failed", ["detail": .string(record.detail!)])
            throw KitError.step("ephemeral environment '\(name)' failed to come up and is listed for cleanup ('tollgate ephemeral down \(name)'): \(error)")
        }
        record.status = .up
        record.detail = nil
        try await save(record, "ephemeral.up")
        return record
    }

    /// Runs the `tests` commands with every stack's outputs as `TOLLGATE_OUTPUT_<STACK>_<NAME>`, and
    /// records each command's exit status and the end of its output.
    public func test(name: String) async throws -> EphemeralRecord {
        var record = try await record(name)
        guard record.status == .up else {
            throw KitError.step("ephemeral environment '\(name)' is \(record.status.rawValue), not up; run 'tollgate ephemeral up' first")
        }
        let release = try await self.context.release(record.releaseID)
        let context = try await self.context.sealed(release)
        let settings = try EphemeralManager(context: context).settings()
        guard !settings.tests.isEmpty else {
            throw KitError.step("'ephemeral.tests' in \(context.pipeline.file) lists no tests; add '- name: …' / 'run: …' items")
        }
        let environment = try context.environment(record.like)
        let variables = try await context.secretVariables(environment)
        let redactor = Redactor(variables.values)
        var outputs: [String: String] = ["TOLLGATE_EPHEMERAL": name, "TOLLGATE_ENV": record.like, "TOLLGATE_RELEASE": release.id]
        var sensitive: [String] = []
        for stack in try context.stacks(only: []) {
            let values = try await EphemeralManager(context: context).outputs(stack, of: record, settings: settings, environment: environment,
                                                                               variables: variables)
            for (output, value) in values {
                let text = EphemeralRecord.outputText(value.value)
                outputs[EphemeralRecord.outputVariable(stack: stack.name.value, output: output)] = text
                if value.sensitive { sensitive.append(text) }
            }
        }
        // Sensitive outputs reach the tests but never the record.
        let masked = Redactor(sensitive)
        var results: [EphemeralTestResult] = []
        for test in settings.tests {
            let result = try await context.shell.run(test.run, directory: context.pipeline.baseDirectory, environment: outputs)
            let text = (result.stdout + result.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
            results.append(EphemeralTestResult(name: test.name, command: test.run, exitStatus: result.status,
                                               output: masked.redact(redactor.redact(String(text.suffix(2000))))))
        }
        record.tests = results
        try await save(record, "ephemeral.tested", ["passed": .number(Double(results.filter(\.passed).count)),
                                                    "failed": .array(results.filter { !$0.passed }.map { .string($0.name) })])
        return record
    }

    /// Destroys every stack, dependents first; the record stays, as `down` or `destroy-failed`.
    public func down(name: String) async throws -> EphemeralRecord {
        var record = try await record(name)
        guard record.status.mayHoldResources else { return record }
        let release = try await self.context.release(record.releaseID)
        let context = try await self.context.sealed(release)
        let settings = try EphemeralManager(context: context).settings()
        record.status = .destroying
        try await save(record, "ephemeral.destroying")
        do {
            let environment = try context.environment(record.like)
            let variables = try await context.secretVariables(environment)
            for stack in try context.stacks(only: []).reversed() {
                try await EphemeralManager(context: context).run(stack, of: record, settings: settings, environment: environment,
                                                                 variables: variables, mode: .destroy)
            }
        } catch {
            record.status = .destroyFailed
            record.detail = "\(error)"
            try await save(record, "ephemeral.destroy-failed", ["detail": .string(record.detail!)])
            throw KitError.step("ephemeral environment '\(name)' could not be destroyed and stays listed for cleanup: \(error)")
        }
        record.status = .down
        record.detail = nil
        try await save(record, "ephemeral.down")
        return record
    }

    /// Destroys every copy past its TTL; one that cannot be destroyed stays listed and is reported.
    public func gc() async throws -> [EphemeralRecord] {
        let now = context.effects.now()
        var results: [EphemeralRecord] = []
        for record in try await context.ledger.ephemerals() where record.isExpired(at: now) {
            do {
                results.append(try await down(name: record.name))
            } catch let error as CancellationError {
                throw error
            } catch {
                results.append(try await self.record(record.name))
            }
        }
        return results
    }

    /// One stack of a copy: plan in the given mode and apply that plan, in a fresh work dir.
    func run(_ stack: Stack, of record: EphemeralRecord, settings: EphemeralSettings, environment: Environment,
             variables: [String: String], mode: PlanMode) async throws {
        let (dirs, workspace) = try await initialized(stack, of: record, settings: settings, variables: variables,
                                                      purpose: mode == .destroy ? "ephemeral-down" : "ephemeral-up")
        let planFile = dirs.root + "/ephemeral.tfplan"
        let redactor = Redactor(variables.values)
        // The work dir holds a plan file, with the copy's secrets in it: it goes when the run ends.
        defer { Self.removeRun(dirs.root) }
        do {
            // A copy is reported under its own name, where its stacks' state is.
            _ = try await context.step(mode == .destroy ? "plan destroy" : "plan", env: record.name, stack: stack.name.value) {
                try await context.engine.plan(workspace, planFile: planFile, varFiles: context.varFiles(root: dirs.root, env: environment.name.value, stack: stack),
                                              mode: mode)
            }
            try await context.step(mode == .destroy ? "destroy" : "apply", env: record.name, stack: stack.name.value) {
                try await context.engine.apply(workspace, planFile: planFile)
            }
        } catch let error as CancellationError {
            throw error
        } catch {
            throw KitError.step("stack '\(stack.name.value)': " + redactor.redact("\(error)"))
        }
    }

    func outputs(_ stack: Stack, of record: EphemeralRecord, settings: EphemeralSettings, environment: Environment,
                 variables: [String: String]) async throws -> [String: EngineOutput] {
        let (dirs, workspace) = try await initialized(stack, of: record, settings: settings, variables: variables, purpose: "ephemeral-test")
        defer { Self.removeRun(dirs.root) }
        return try await context.engine.outputs(workspace)
    }

    /// Removes one run's work dir (`WORK/RUN/ENV/STACK`, from `Context.workDirectory`) with its run directory.
    static func removeRun(_ root: String) {
        let run = ((root as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        try? FileManager.default.removeItem(atPath: run)
    }

    /// Lines of the model's tfvars that name where the model keeps its own state (a state path or
    /// key its backend resolves to): a `terraform_remote_state` fed from them would read the real
    /// environment's state, not the copy's.
    func modelStateReferences(release: Release, like environment: Environment) async throws -> [String] {
        let files = try await context.files(ofRelease: release.id)
        var locations: Set<String> = []
        for stack in context.pipeline.stacks {
            for (key, value) in context.backendSettings(environment, stack: stack.name.value) where ["path", "key", "prefix"].contains(key) {
                guard case .string(let text) = value, text.count >= 4 else { continue }
                locations.insert(text)
                let written = environment.backend.resolved(env: environment.name.value, stack: stack.name.value).first { $0.key == key }?.value.text
                if let written, written.count >= 4 { locations.insert(written) }
            }
        }
        var found: [String] = []
        for path in files.keys.sorted() where path.hasPrefix("config/\(environment.name.value)/") && path.hasSuffix(".tfvars") {
            let lines = String(decoding: files[path] ?? [], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            for (number, line) in lines.enumerated() where locations.contains(where: { line.contains($0) }) {
                found.append("\(path):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        return found
    }

    /// The input variable that tells the code it runs as a copy, and under which name: declare
    /// `variable "tollgate_ephemeral" { type = string, default = "" }` and put it into every
    /// fixed name (buckets, roles, DNS names), so the copy does not collide with its model.
    public static let nameVariable = "tollgate_ephemeral"

    func initialized(_ stack: Stack, of record: EphemeralRecord, settings: EphemeralSettings, variables: [String: String],
                     purpose: String) async throws -> (dirs: (root: String, workspace: String, data: String), workspace: EngineWorkspace) {
        let release = try await context.release(record.releaseID)
        let dirs = try await context.workDirectory(release: release, env: record.like, stack: stack, purpose: purpose)
        var variables = variables
        variables["TF_VAR_" + Self.nameVariable] = record.name
        let workspace = EngineWorkspace(directory: dirs.workspace, dataDirectory: dirs.data, variables: variables)
        let backend = context.backendSettings(settings.backend, values: ["ephemeral": record.name, "env": record.like, "stack": stack.name.value])
        try await context.step("init", env: record.name, stack: stack.name.value) { try await context.engine.initialize(workspace, backend: backend) }
        return (dirs, workspace)
    }

    /// The `ephemeral` check: up → test → down for this release as a copy of the environment that
    /// requires it (or `ephemeral.like`). A pass is kept, so the other stacks' plans reuse it.
    func check(release: Release, env: String) async -> CheckResult {
        let like = context.pipeline.ephemeral?.like ?? env
        let name = "check-\(release.id.dropFirst("sha256:".count).prefix(10))-\(env)"
        do {
            if let earlier = try await context.ledger.ephemeral(name: name), earlier.releaseID == release.id, earlier.status == .down,
               !earlier.tests.isEmpty, earlier.tests.allSatisfy(\.passed) {
                return CheckResult(name: "ephemeral", status: .pass, details: ["passed earlier as '\(name)': " + earlier.tests.map(\.name).joined(separator: ", ")])
            }
            do {
                _ = try await up(name: name, like: like, release: release.id)
            } catch {
                // Whatever came up goes again; if that fails too, the copy stays listed for gc.
                _ = try? await down(name: name)
                throw error
            }
            let tested: EphemeralRecord
            do {
                tested = try await test(name: name)
            } catch {
                _ = try? await down(name: name)
                throw error
            }
            _ = try await down(name: name)
            let failed = tested.tests.filter { !$0.passed }
            guard failed.isEmpty else {
                return CheckResult(name: "ephemeral", status: .fail, details: failed.map {
                    "test '\($0.name)' exited \($0.exitStatus) on '\(name)': \($0.output.split(separator: "\n").suffix(3).joined(separator: " / "))"
                })
            }
            return CheckResult(name: "ephemeral", status: .pass, details: tested.tests.map { "test '\($0.name)' passed on '\(name)' (copy of \(like))" })
        } catch {
            return CheckResult(name: "ephemeral", status: .fail, details: ["\(error)"])
        }
    }
}
