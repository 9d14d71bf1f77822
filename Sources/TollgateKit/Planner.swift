import Foundation
import TollgateCore

/// Plans a release for one environment: every stack in dependency order, each in a fresh work dir
/// unpacked from the release, with the identity, order and lineage guards first.
public struct Planner: Sendable {
    public var context: Context

    public init(context: Context) { self.context = context }

    /// Plans a release for an environment. With `breakGlass` (a reason), the order rule is skipped:
    /// an emergency release goes straight to this environment, on the record as a break-glass event
    /// that needs a post-hoc review; its gates still apply.
    public func plan(release reference: String, env name: String, stacks only: [String] = [], breakGlass: String? = nil) async throws -> [PlanRecord] {
        try await planned(release: reference, env: name, stacks: only, breakGlass: breakGlass).map(\.record)
    }

    /// Plans with the engine's plan JSON of each (what `show -json` printed, before redaction).
    func planned(release reference: String, env name: String, stacks only: [String] = [], breakGlass reason: String? = nil) async throws -> [(record: PlanRecord, json: Data)] {
        let release = try await self.context.release(reference)
        let context = try await self.context.sealed(release)
        let environment = try context.environment(name)
        let stacks = try context.stacks(only: only)
        let previous = context.pipeline.environment(before: name)?.name.value
        var refusals: [GateDecision.Refusal] = []
        for stack in stacks {
            let applied = try await context.orderSatisfied(release: release.id, env: name, stack: stack.name.value, previous: previous)
            if let refusal = GateEvaluator.order(env: name, stack: stack.name.value, previousEnvironment: previous,
                                                 appliedToPrevious: applied, release: release.id) {
                refusals.append(refusal)
            }
        }
        if let reason, reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw KitError.step("--break-glass needs a reason for the record; say why this release cannot go through the lower environments")
        }
        if !refusals.isEmpty, reason == nil { throw await context.refuse(refusals, subjects: ["release": release.id, "env": name]) }
        try await context.checkIdentity(environment, subjects: ["release": release.id, "env": name])
        var breakGlass: String?
        if let reason {
            let record = BreakGlassRecord(id: "bg-" + context.effects.newID(), releaseID: release.id, env: name, reason: reason,
                                          actor: context.actor, createdAt: context.effects.now())
            try await context.ledger.recordBreakGlass(record, event: AuditEntry(
                actor: context.actor, kind: "breakglass.invoked", subjects: ["break_glass": record.id, "release": release.id, "env": name],
                payload: ["reason": .string(reason), "skipped": .array(refusals.map { .string($0.message) })]))
            breakGlass = record.id
        }
        let variables = try await context.secretVariables(environment)
        // Planning changes no state, so the stacks are planned side by side (a dependent stack sees
        // the same state as it would after its dependency's plan): at most one per processor core.
        // Every stack runs to its end; the first failure in stack order is the one reported. The
        // `ephemeral` check brings up one copy per release and environment, which the first stack
        // does and the later ones reuse, so with it the stacks are planned one at a time.
        typealias Outcome = Result<(record: PlanRecord, json: Data), any Error>
        let planner = Planner(context: context)
        let breakGlassID = breakGlass
        let oneAtATime = environment.checks.contains { $0.value == .ephemeral }
        let width = min(stacks.count, oneAtATime ? 1 : max(2, ProcessInfo.processInfo.activeProcessorCount))
        let operation = { @Sendable (index: Int) async -> (Int, Outcome) in
            do {
                return (index, .success(try await planner.plan(stacks[index], release: release, environment: environment,
                                                                variables: variables, breakGlass: breakGlassID)))
            } catch {
                return (index, .failure(error))
            }
        }
        let outcomes = await withTaskGroup(of: (Int, Outcome).self, returning: [Int: Outcome].self) { group in
            var outcomes: [Int: Outcome] = [:]
            for index in stacks.indices {
                // Past the width, a stack starts only when another finished.
                if index >= width, let (done, outcome) = await group.next() { outcomes[done] = outcome }
                group.addTask { await operation(index) }
            }
            for await (done, outcome) in group { outcomes[done] = outcome }
            return outcomes
        }
        return try stacks.indices.map { index in
            guard let outcome = outcomes[index] else { throw CancellationError() }
            return try outcome.get()
        }
    }

    func plan(_ stack: Stack, release: Release, environment: Environment, variables: [String: String],
              breakGlass: String? = nil) async throws -> (record: PlanRecord, json: Data) {
        let env = environment.name.value
        let made = try await make(stack, release: release, environment: environment, variables: variables, purpose: "plan")
        let digest = try await context.artifacts.put(made.bytes)
        // Byte-identical plan files happen (same state, same config, same second): the plan already on
        // record is that plan.
        if let same = try await context.ledger.plans(env: env, stack: stack.name.value).first(where: { $0.digest == digest }),
           same.releaseID == release.id, same.status == .pending, same.breakGlass == breakGlass {
            return (same, made.json)
        }
        // The engine writes variable values (secrets included) into plan JSON: store it masked and redacted.
        let jsonID = try await context.artifacts.put(CanonicalJSON.data(made.display))
        let prior = made.prior
        let record = made.record(id: "p-" + context.effects.newID(), release: release, env: env, stack: stack.name.value, breakGlass: breakGlass)
        try await context.ledger.recordPlan(record, event: AuditEntry(
            actor: context.actor, kind: "plan.created",
            subjects: ["plan": record.id, "release": release.id, "env": env, "stack": stack.name.value],
            payload: ["digest": .string(digest), "json": .string(jsonID), "counts": .string(record.summary.counts),
                      "prior_serial": .number(Double(prior.serial)), "prior_lineage": .string(prior.lineage),
                      "engine": .string("\(record.engineKind) \(record.engineVersion)"),
                      "checks": .object(Dictionary(record.checks.map { ($0.name, JSONValue.string($0.status.rawValue)) }, uniquingKeysWith: { a, _ in a })),
                      "break_glass": JSONValue(breakGlass)]))
        return (record, made.json)
    }

    /// What one stack's plan run made, before anything is stored: the plan file's bytes, its JSON
    /// (as the engine printed it, and as tollgate shows it: sensitive values masked, secrets
    /// redacted), the summary with its attribute diffs and the check results (redacted).
    struct Made: Sendable {
        var bytes: Data
        var json: Data
        var display: JSONValue
        var summary: PlanSummary
        var hasChanges: Bool
        var checks: [CheckResult]
        var prior: StateIdentity
        var planner: String
        var engine: EngineInfo
        var at: Date

        /// The plan record this run would be, under `id`.
        func record(id: String, release: Release, env: String, stack: String, breakGlass: String?) -> PlanRecord {
            PlanRecord(
                id: id, releaseID: release.id, env: env, stack: stack, digest: Digest.id(bytes),
                summary: summary, hasChanges: hasChanges, priorSerial: prior.serial, priorLineage: prior.lineage,
                planner: planner, engineKind: engine.kind, engineVersion: engine.version.description,
                createdAt: at, checks: checks, breakGlass: breakGlass)
        }
    }

    /// Runs one stack's plan in a fresh work dir under the context's work root: init against the
    /// environment's backend, plan, show, the checks, then the lineage guards. Stores nothing.
    func make(_ stack: Stack, release: Release, environment: Environment, variables: [String: String], purpose: String) async throws -> Made {
        let env = environment.name.value
        let redactor = Redactor(variables.values)
        let dirs = try await context.workDirectory(release: release, env: env, stack: stack, purpose: purpose)
        let workspace = EngineWorkspace(directory: dirs.workspace, dataDirectory: dirs.data, variables: variables)
        let planFile = dirs.root + "/plan.tfplan"
        let json: Data
        let display: JSONValue
        var detailRedactor = Redactor(variables.values)
        var summary: PlanSummary
        let changes: Bool
        let checks: [CheckResult]
        do {
            let name = stack.name.value
            try await context.step("init", env: env, stack: name) {
                try await context.engine.initialize(workspace, backend: context.backendSettings(environment, stack: name))
            }
            // The checks that only read the work dir run beside plan; the others that need no plan
            // (an ephemeral copy) start once the plan succeeded, beside show -json.
            // The checks the release asks for, and every check the governance in force requires:
            // a release cannot drop a check by leaving it out of its own pipeline file.
            var requested = environment.checks.map(\.value)
            if let inForce = try await GovernanceResolver(context: context).inForce(env: env, stack: stack.name.value) {
                requested += inForce.inForce.governance.checks.filter { !requested.contains($0) }
            }
            let wanted = requested
            let checker = Checker(context: context, releaseFiles: Set(release.files), release: release)
            async let early = checker.run(wanted.filter { Checker.besidePlan.contains($0) }, stack: stack, env: env, workspace: workspace,
                                          sourceRoot: dirs.root + "/src", plan: Checker.Plan())
            changes = try await context.step("plan", env: env, stack: name) {
                try await context.engine.plan(workspace, planFile: planFile, varFiles: context.varFiles(root: dirs.root, env: env, stack: stack))
            }
            async let middle = checker.run(wanted.filter { !Checker.besidePlan.contains($0) && !Checker.readsPlan.contains($0) }, stack: stack, env: env,
                                           workspace: workspace, sourceRoot: dirs.root + "/src", plan: Checker.Plan())
            json = try await context.step("show", env: env, stack: name) { try await context.engine.showJSON(workspace, planFile: planFile) }
            // The scanner reads only what the summary needs, and refuses what is not a plan as the decoder does.
            do {
                summary = try PlanSummary(scanning: json)
            } catch let error as PlanInputError {
                throw KitError.step("the output of 'terraform show -json' for '\(env)/\(stack.name.value)' \(error)")
            }
            // What reviewers see of the change: masked where the engine marks values sensitive,
            // redacted where a configured secret (or a derived form of it) appears.
            let decoded = try JSONDecoder().decode(JSONValue.self, from: json)
            let masked = SensitiveMask.plan(decoded)
            display = redactor.redact(masked)
            // Check details (a policy's deny message) may quote what the engine marked sensitive.
            detailRedactor = Redactor(Array(variables.values) + SensitiveMask.hiddenValues(decoded, masked: masked))
            summary.diffs = ResourceDiff.all(in: display)
            let policyContext: [String: JSONValue] = [
                "env": .string(env), "stack": .string(stack.name.value), "release": .string(release.id), "commit": .string(release.commit),
                "author": .string(release.author), "planner": .string(context.actor), "pr": release.pr.map { .number(Double($0)) } ?? .null,
            ]
            let readingPlan = wanted.filter { Checker.readsPlan.contains($0) }
            let plan = Checker.Plan(summary: summary, json: json, context: policyContext)
            let late = readingPlan.isEmpty ? [] : try await context.step("checks", env: env, stack: name) {
                await checker.run(readingPlan, stack: stack, env: env, workspace: workspace, sourceRoot: dirs.root + "/src", plan: plan)
            }
            // Report in the order the environment lists them.
            let order = Dictionary(wanted.enumerated().map { ($1.rawValue, $0) }, uniquingKeysWith: min)
            checks = (await early + middle + late).sorted { order[$0.name, default: 0] < order[$1.name, default: 0] }
        } catch let error as CancellationError {
            throw error
        } catch let error as PreventDestroyError {
            throw KitError.preventDestroy(env: env, stack: stack.name.value, addresses: error.addresses)
        } catch {
            throw KitError.step(redactor.redact("\(error)"))
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: planFile))
        let prior = try context.engine.priorState(ofPlan: bytes)
        // Lineage guard: after the first apply, every plan must be made against the pinned state.
        if let pinned = try await context.ledger.pinnedLineage(env: env, stack: stack.name.value), pinned != prior.lineage {
            let found = prior.isEmpty ? "an empty backend" : "state lineage '\(prior.lineage)'"
            throw await context.refuse([GateDecision.Refusal(
                rule: .lineage,
                message: "the backend of '\(env)/\(stack.name.value)' holds \(found), but '\(env)' is pinned to lineage '\(pinned)' since its first apply; "
                    + "point the backend back at '\(env)'s own state (another environment's state must never be planned as '\(env)')")],
                subjects: ["env": env, "stack": stack.name.value, "release": release.id])
        }
        // A first plan must not be made against state another (env, stack) owns (a symlinked path, a shared bucket).
        if try await context.ledger.pinnedLineage(env: env, stack: stack.name.value) == nil, !prior.isEmpty,
           let owner = try await context.ledger.lineageOwners(prior.lineage).first(where: { $0.env != env || $0.stack != stack.name.value }) {
            throw await context.refuse([GateDecision.Refusal(
                rule: .lineage,
                message: "the backend of '\(env)/\(stack.name.value)' holds state lineage '\(prior.lineage)', which is pinned to '\(owner.env)/\(owner.stack)'; "
                    + "a first plan must never adopt another environment's state, so give '\(env)' a backend of its own (check for symlinks and shared buckets)")],
                subjects: ["env": env, "stack": stack.name.value, "release": release.id])
        }
        return Made(bytes: bytes, json: json, display: display, summary: summary, hasChanges: changes,
                    checks: checks.map { result in
                        CheckResult(name: result.name, status: result.status, details: result.details.map(detailRedactor.redact))
                    },
                    prior: prior, planner: context.actor, engine: context.engine.info, at: context.effects.now())
    }
}
