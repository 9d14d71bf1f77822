import Foundation
import TollgateCore

/// Finds drift (changes made outside tollgate) by refreshing the environment's last-good release,
/// records every result, and takes signed acknowledgements of it.
public struct DriftDetector: Sendable {
    public var context: Context

    public init(context: Context) { self.context = context }

    /// How drift is looked for.
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// A refresh-only plan: what the real world changed under the recorded state. Cheap and
        /// safe, but blind to the state itself having changed (an apply of other code, a state edit).
        case refresh
        /// A normal plan of the last-good release: any change it would make is drift, whatever
        /// moved (the real world, the state, or both). Catches out-of-band applies and state edits.
        case full
    }

    /// One stack's drift run: a recorded report, or why there was nothing to check.
    public struct Run: Sendable, Encodable {
        public var stack: String
        public var report: DriftReport?
        /// Set when the stack was skipped (never applied to the environment).
        public var skipped: String?
        public var mode: Mode = .refresh
        /// Whether the drift found still stands in the way (false when an acknowledgement of the same
        /// drift covers it); nil without drift.
        public var open: Bool?
    }

    /// Plans of the env's last-good release (refresh-only, or full), stack by stack, each in a fresh work dir.
    public func detect(env name: String, stacks only: [String] = [], mode: Mode = .refresh) async throws -> [Run] {
        let environment = try context.environment(name)
        var runs: [Run] = []
        for stack in try context.stacks(only: only) {
            guard let lastGood = try await context.ledger.lastGood(env: name, stack: stack.name.value),
                  let release = try await context.ledger.release(id: lastGood.releaseID) else {
                runs.append(Run(stack: stack.name.value, skipped: "nothing has been applied to '\(name)/\(stack.name.value)' yet"))
                continue
            }
            let report = try await detect(stack, release: release, environment: environment, mode: mode)
            let open = report.hasDrift ? try await openDrift(env: name, stack: stack.name.value) != nil : nil
            runs.append(Run(stack: stack.name.value, report: report, mode: mode, open: open))
        }
        return runs
    }

    func detect(_ stack: Stack, release: Release, environment: Environment, mode: Mode) async throws -> DriftReport {
        let context = try await self.context.sealed(release)
        let env = environment.name.value
        let subjects = ["env": env, "stack": stack.name.value, "release": release.id]
        try await context.checkIdentity(environment, subjects: subjects)
        let variables = try await context.secretVariables(environment)
        let redactor = Redactor(variables.values)
        let dirs = try await context.workDirectory(release: release, env: env, stack: stack, purpose: "drift")
        let workspace = EngineWorkspace(directory: dirs.workspace, dataDirectory: dirs.data, variables: variables)
        let planFile = dirs.root + "/drift.tfplan"
        let resources: [DriftedResource]
        do {
            let name = stack.name.value
            try await context.step("init", env: env, stack: name) {
                try await context.engine.initialize(workspace, backend: context.backendSettings(environment, stack: name))
            }
            _ = try await context.step("plan", env: env, stack: name) {
                try await context.engine.plan(workspace, planFile: planFile, varFiles: context.varFiles(root: dirs.root, env: env, stack: stack),
                                              mode: mode == .full ? .normal : .refreshOnly)
            }
            let plan = try PlanJSON.decode(try await context.step("show", env: env, stack: name) { try await context.engine.showJSON(workspace, planFile: planFile) })
            resources = (mode == .full ? DriftedResource.all(inFullPlan: plan) : DriftedResource.all(in: plan)).map { resource in
                var copy = resource
                copy.attributes = resource.attributes.map {
                    DriftedAttribute(path: $0.path, recorded: $0.recorded.map(redactor.redact), actual: $0.actual.map(redactor.redact))
                }
                return copy
            }
        } catch let error as CancellationError {
            throw error
        } catch {
            throw KitError.step(redactor.redact("\(error)"))
        }
        let report = DriftReport(id: "d-" + context.effects.newID(), env: env, stack: stack.name.value, releaseID: release.id,
                                 actor: context.actor, detectedAt: context.effects.now(), resources: resources)
        try await context.ledger.recordDrift(report, event: AuditEntry(
            actor: context.actor, kind: "drift.checked", subjects: subjects.merging(["drift": report.id]) { a, _ in a },
            payload: ["drifted": .array(resources.map { .string($0.address) }), "mode": .string(mode.rawValue)]))
        return report
    }

    /// The drift of (env, stack) that still stands in the way: the latest result, unless a verified
    /// acknowledgement or a later successful apply has settled it.
    public func openDrift(env: String, stack: String) async throws -> DriftReport? {
        let reports = try await context.ledger.drifts(env: env, stack: stack)
        guard let latest = reports.last, latest.hasDrift else { return nil }
        var acknowledged: Set<String> = []
        let byID = Dictionary(reports.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for acknowledgement in try await context.ledger.driftAcknowledgements(env: env, stack: stack) where byID[acknowledgement.driftID] != nil {
            let valid = await context.verifiesInForce(acknowledgement.payload, signature: acknowledgement.signature,
                                                      principal: acknowledgement.principal, env: env, release: nil)
            // The signed bytes must name this drift, (env, stack) and signer: the row's columns alone prove nothing.
            let signed = try? JSONDecoder().decode(JSONValue.self, from: Data(acknowledgement.payload.utf8))
            let matches = signed?["drift"]?.stringValue == acknowledgement.driftID && signed?["env"]?.stringValue == env
                && signed?["stack"]?.stringValue == stack && signed?["signer"]?.stringValue == acknowledgement.principal
            if valid, matches, try await mayAcknowledge(acknowledgement.principal, env: env) { acknowledged.insert(acknowledgement.driftID) }
        }
        return DriftStatus.open(reports: reports, acknowledgedDrifts: acknowledged, applies: try await context.ledger.applies(env: env, stack: stack))
    }

    /// In an approval environment only its approvers in force may accept drift; elsewhere any listed signer.
    func mayAcknowledge(_ principal: String, env: String) async throws -> Bool {
        guard let approvers = try await GovernanceResolver(context: context).approversInForce(env: env, fallback: nil) else { return true }
        return approvers.contains(principal)
    }

    /// Signs an acknowledgement of the open drift of (env, stack).
    public func acknowledge(env: String, stack: String, keyPath: String, comment: String) async throws -> DriftAcknowledgement {
        _ = try context.environment(env)
        _ = try context.stacks(only: [stack])
        let subjects = ["env": env, "stack": stack]
        guard let drift = try await openDrift(env: env, stack: stack) else {
            throw KitError.step("'\(env)/\(stack)' has no open drift to acknowledge; run 'tollgate drift --env \(env) --stack \(stack)' to check it")
        }
        let principal = try await context.signer(forKey: keyPath, env: env, release: nil, subjects: subjects)
        guard try await mayAcknowledge(principal, env: env) else {
            throw await context.refuse([.init(rule: .approver, message: "\(principal) is not an approver of '\(env)', so cannot accept its drift; ask one of its approvers")],
                                       subjects: subjects.merging(["principal": principal]) { a, _ in a })
        }
        let now = context.effects.now()
        let payload = DriftAcknowledgement.payload(drift: drift, signer: principal, comment: comment, time: now)
        let signature = try await context.sign(payload, keyPath: keyPath)
        let acknowledgement = DriftAcknowledgement(id: "k-" + context.effects.newID(), driftID: drift.id, env: env, stack: stack,
                                                   principal: principal, payload: payload, signature: signature, comment: comment, createdAt: now)
        try await context.ledger.recordDriftAcknowledgement(acknowledgement, event: AuditEntry(
            actor: principal, kind: "drift.acknowledged", subjects: subjects.merging(["drift": drift.id, "acknowledgement": acknowledgement.id]) { a, _ in a },
            payload: ["addresses": .array(drift.resources.map { .string($0.address) }), "comment": .string(comment)]))
        return acknowledgement
    }
}
