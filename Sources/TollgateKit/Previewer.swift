import Foundation
import TollgateCore

/// Plans the release a commit would seal for one environment as a preview: the same bundle and id
/// `tollgate release` would record, the environment's checks and the engine's plan against its
/// real backend, and the gates the real promotion will face, while writing nothing anywhere.
///
/// A preview can never be applied: it reads the ledger through a `ReadOnlyLedger`, holds the bundle
/// in memory, plans in a work root of its own that is deleted when it ends, and gives no plan an id
/// `approve` or `apply` could take. So the order rule and the approval gate do not stop it; they
/// are reported as what the promotion still has to meet.
public struct Previewer: Sendable {
    public var context: Context

    public init(context: Context) { self.context = context }

    /// One stack's preview: what the plan would change, its checks, and the gates still to meet.
    public struct Stack: Sendable, Encodable {
        public var stack: String
        /// A plan record that was never stored: its id is ``Previewer/planID``, which no command takes.
        public var plan: PlanRecord
        public var gates: GateDecision

        enum CodingKeys: String, CodingKey { case stack, hasChanges, summary, checks, priorSerial, priorLineage, planner, engine, gates }

        /// The plan's facts without an id or a status: there is nothing to approve, apply or supersede.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(stack, forKey: .stack)
            try container.encode(plan.hasChanges, forKey: .hasChanges)
            try container.encode(plan.summary, forKey: .summary)
            try container.encode(plan.checks, forKey: .checks)
            try container.encode(plan.priorSerial, forKey: .priorSerial)
            try container.encode(plan.priorLineage, forKey: .priorLineage)
            try container.encode(plan.planner, forKey: .planner)
            try container.encode("\(plan.engineKind) \(plan.engineVersion)", forKey: .engine)
            try container.encode(gates, forKey: .gates)
        }
    }

    /// The preview of one environment.
    public struct Result: Sendable, Encodable {
        /// Always true: the marker scripts read to tell a preview from a plan.
        public var preview = true
        public var release: Release
        public var env: String
        public var stacks: [Stack]

        enum CodingKeys: String, CodingKey { case preview, release, env, stacks }
    }

    /// What a preview's plans are called instead of an id: the placeholder the gate messages show
    /// for the plan the real promotion will make (`tollgate approve PLAN`); no plan has it, so
    /// `approve` and `apply` find nothing under it.
    public static let planID = "PLAN"

    /// Seals `commit` in memory and plans it for `env` (every stack, or those in `only`).
    public func preview(commit revision: String, env name: String, stacks only: [String] = [], pr: Int? = nil) async throws -> Result {
        var base = context
        if !(base.ledger is ReadOnlyLedger) { base.ledger = ReadOnlyLedger(base.ledger) }
        let (release, archive) = try await Releaser(context: base).seal(commit: revision, pr: pr)
        base.artifacts = PreviewArtifactStore(base: base.artifacts, sealed: [release.id: archive])
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-preview-\(base.effects.newID())").path
        base.workRoot = root
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = try await base.sealed(release)
        let environment = try context.environment(name)
        let stacks = try context.stacks(only: only)
        try await context.checkIdentity(environment, subjects: ["release": release.id, "env": name])
        let variables = try await context.secretVariables(environment)
        let planner = Planner(context: context)
        let applier = Applier(context: context)
        var previews: [Stack] = []
        for stack in stacks {
            let made = try await planner.make(stack, release: release, environment: environment, variables: variables, purpose: "preview")
            let plan = made.record(id: Self.planID, release: release, env: name, stack: stack.name.value, breakGlass: nil)
            previews.append(Stack(stack: stack.name.value, plan: plan, gates: try await applier.gates(plan, release: release)))
        }
        return Result(release: release, env: name, stacks: previews)
    }
}
