import Foundation

/// Everything a gate decision depends on, gathered by the caller from the ledger, git and the
/// signature verifier.
public struct GateFacts: Sendable {
    public var environment: Environment
    public var previousEnvironment: String?
    public var release: Release
    public var plan: PlanRecord
    /// Whether this release was applied successfully to the previous environment for this stack.
    public var appliedToPrevious: Bool
    /// Whether the release commit is reachable from the main branch (nil when not checked); read
    /// only when `mergeCheck` is nil.
    public var onMainBranch: Bool?
    /// What looking for the release on the main branch found: how it got there, or why not.
    public var mergeCheck: MergeCheck?
    public var mainBranch: String
    /// Approvals with their signatures checked against the signers file the effective gate names.
    public var approvals: [VerifiedApproval]
    public var now: Date
    /// Drift of this (env, stack) that is neither acknowledged nor reconciled (`DriftStatus.open`).
    public var openDrift: DriftReport?
    /// The pipeline's `stateful_types`, added to the built-in catalog for the destroy guard.
    public var statefulTypes: Set<String>
    /// The governance sealed in this environment's last-good release; nil on bootstrap.
    public var inForce: GovernanceInForce?
    /// The governance the release brings; by default read from `environment`.
    public var proposed: Governance
    /// Everyone who wrote the change: the authors and committers of every commit since the
    /// environment's last-good commit (or, with signed commits required, the signatures' principals).
    public var authors: [String]
    /// Whether `authors` come from verified commit signatures rather than what git was told.
    public var authorshipVerified: Bool
    /// Commits in the release's range without a signature the signers file in force verifies.
    public var unsignedCommits: [String]
    /// Who invoked the break-glass that let this plan skip the lower environments.
    public var breakGlassInvoker: String?
    /// Outputs of other stacks that this plan's stack reads, changed by an apply after the plan was made.
    public var changedUpstream: [UpstreamChange] = []

    public init(environment: Environment, previousEnvironment: String?, release: Release, plan: PlanRecord, appliedToPrevious: Bool,
                onMainBranch: Bool?, mainBranch: String, approvals: [VerifiedApproval], now: Date, openDrift: DriftReport? = nil,
                statefulTypes: Set<String> = [], inForce: GovernanceInForce? = nil, proposed: Governance? = nil,
                authors: [String]? = nil, authorshipVerified: Bool = false, unsignedCommits: [String] = [], breakGlassInvoker: String? = nil,
                mergeCheck: MergeCheck? = nil) {
        self.mergeCheck = mergeCheck
        self.openDrift = openDrift
        self.statefulTypes = statefulTypes
        self.environment = environment
        self.previousEnvironment = previousEnvironment
        self.release = release
        self.plan = plan
        self.appliedToPrevious = appliedToPrevious
        self.onMainBranch = onMainBranch
        self.mainBranch = mainBranch
        self.approvals = approvals
        self.now = now
        self.inForce = inForce
        var pipeline = Pipeline(file: "", baseDirectory: "", mainBranch: mainBranch, environments: [environment])
        pipeline.statefulTypes = statefulTypes.sorted()
        self.proposed = proposed ?? Governance(pipeline, env: environment.name.value, policies: "", signers: "")!
        self.authors = authors ?? [release.author]
        self.authorshipVerified = authorshipVerified
        self.unsignedCommits = unsignedCommits
        self.breakGlassInvoker = breakGlassInvoker
    }

    /// The gate these facts are judged by.
    public var effective: EffectiveGate { EffectiveGate.combine(inForce: inForce, proposed: proposed) }
}

/// An apply of another stack that changed outputs a plan's stack reads, after the plan was made.
public struct UpstreamChange: Sendable, Equatable, Codable {
    /// The stack whose outputs changed.
    public var stack: String
    /// The data source the reading stack reads them through.
    public var dataSource: String
    /// The outputs that changed and are read.
    public var outputs: [String]
    public var apply: String
    public var plan: String

    public init(stack: String, dataSource: String, outputs: [String], apply: String, plan: String) {
        self.stack = stack
        self.dataSource = dataSource
        self.outputs = outputs
        self.apply = apply
        self.plan = plan
    }
}

/// Why a gate or guard said no: data that other code can match on, never a string to compare.
public enum RefusalRule: String, Sendable, Codable, CaseIterable {
    case order
    case onMerge = "on-merge"
    case approval
    case rejected
    case expired
    case status
    case check
    case destroy
    case drift
    case clock
    case governance
    case unsignedCommit = "unsigned-commit"
    case lock
    case digest
    case engine
    case stale
    case lineage
    case identity
    case signer
    case approver
    case author
    case planner
    case acknowledge
    case secondApprover = "second-approver"
    case rollbackTarget = "rollback-target"
    case upstream
    /// The engine's own verdict: an errored, incomplete or unapplyable plan.
    case incomplete

    /// Rules a human can satisfy by signing, so `promote` waits rather than fails.
    public var waitsForApprover: Bool { self == .approval || self == .destroy || self == .governance }
}

/// The outcome of evaluating every gate of an environment on one plan.
public struct GateDecision: Sendable, Equatable, Codable {
    public struct Refusal: Sendable, Equatable, Codable, CustomStringConvertible {
        public var rule: RefusalRule
        public var message: String

        public init(rule: RefusalRule, message: String) {
            self.rule = rule
            self.message = message
        }

        public var description: String { message }
    }

    public var refusals: [Refusal]
    /// Principals whose approvals counted.
    public var approvedBy: [String]
    /// Approvals that did not count, with the reason.
    public var ignored: [String]
    /// What the release changes in the environment's governance in force.
    public var governanceChanges: [GovernanceChange]
    /// What judged the plan: the governance in force and where it was sealed, or trust on first use.
    public var judgedBy: String
    /// Approvers whose signature would still count: listed by the gate that judges the plan, not yet
    /// counted, and neither an author, the planner nor the break-glass invoker.
    public var eligibleApprovers: [String]
    /// Stateful addresses the plan destroys (by the catalog and every `stateful_types` in play).
    public var statefulDestroyed: [String]
    /// Who wrote the change, as the gate counted them.
    public var authors: [String] = []
    /// Whether the authors come from verified commit signatures, not from what git was told.
    public var authorshipVerified = false
    /// How the on-merge gate found the release on the main branch; nil when it was not asked or
    /// did not find it.
    public var mergedBy: MergeProof?

    public init(refusals: [Refusal], approvedBy: [String], ignored: [String], governanceChanges: [GovernanceChange] = [], judgedBy: String = "",
                eligibleApprovers: [String] = [], statefulDestroyed: [String] = []) {
        self.eligibleApprovers = eligibleApprovers
        self.statefulDestroyed = statefulDestroyed
        self.refusals = refusals
        self.approvedBy = approvedBy
        self.ignored = ignored
        self.governanceChanges = governanceChanges
        self.judgedBy = judgedBy
    }

    public var allowed: Bool { refusals.isEmpty }
}

/// Gate and order rules as a pure function of facts.
public enum GateEvaluator {
    /// Order alone: may a release be planned or applied in this environment yet?
    public static func order(env: String, stack: String, previousEnvironment: String?, appliedToPrevious: Bool, release: String) -> GateDecision.Refusal? {
        guard let previous = previousEnvironment, !appliedToPrevious else { return nil }
        return GateDecision.Refusal(
            rule: .order,
            message: "release \(Digest.short(release)) has not been applied successfully to '\(previous)' for stack '\(stack)'; promote it to '\(previous)' first (tollgate promote \(release) --to \(previous))")
    }

    public static func evaluate(_ facts: GateFacts) -> GateDecision {
        var refusals: [GateDecision.Refusal] = []
        let env = facts.environment.name.value
        let plan = facts.plan
        let effective = facts.effective

        if plan.status != .pending {
            refusals.append(.init(rule: .status, message: "plan '\(plan.id)' is \(plan.status.rawValue) and can never be applied; run 'tollgate plan \(facts.release.id) --env \(env) --stack \(plan.stack)'"))
        }
        for blocker in plan.summary.blockers {
            refusals.append(.init(rule: .incomplete, message: "plan '\(plan.id)' cannot be applied: \(blocker)"))
        }
        for change in facts.changedUpstream {
            let outputs = change.outputs.map { "'\($0)'" }.joined(separator: ", ")
            refusals.append(.init(rule: .upstream, message: "plan '\(plan.id)' was made before apply \(change.apply) of '\(env)/\(change.stack)' (plan \(change.plan)) changed \(change.outputs.count == 1 ? "output" : "outputs") \(outputs), which '\(plan.stack)' reads through data.terraform_remote_state.\(change.dataSource); the plan holds the old values, so re-run 'tollgate plan \(facts.release.id) --env \(env) --stack \(plan.stack)' and have the new plan approved"))
        }
        if plan.createdAt > facts.now {
            refusals.append(.init(rule: .clock, message: "plan '\(plan.id)' is dated \(Timestamp.text(plan.createdAt)), after now (\(Timestamp.text(facts.now))); a plan from the future cannot be judged, so re-plan on a machine with a correct clock"))
        }
        for check in plan.checks where check.status == .fail {
            refusals.append(.init(rule: .check, message: "check '\(check.name)' failed on plan '\(plan.id)': "
                + check.details.prefix(3).joined(separator: "; ") + "; fix it in the code and cut a new release"))
        }
        let ran = Set(plan.checks.map(\.name))
        let missing = effective.checks.map(\.rawValue).filter { !ran.contains($0) }.sorted()
        if !missing.isEmpty {
            refusals.append(.init(rule: .check, message: "plan '\(plan.id)' did not run \(missing.map { "'\($0)'" }.joined(separator: ", ")), which \(effective.judgedBy) requires for '\(env)'; re-plan so the checks run"))
        }
        // A break-glass plan skips the lower environments on purpose (and is on the record as such).
        if plan.breakGlass == nil, let order = order(env: env, stack: plan.stack, previousEnvironment: facts.previousEnvironment,
                                                    appliedToPrevious: facts.appliedToPrevious, release: facts.release.id) {
            refusals.append(order)
        }
        var mergedBy: MergeProof?
        if effective.requiresMerge {
            if let check = facts.mergeCheck {
                if let refusal = check.refusal(env: env, branch: effective.mainBranch, release: facts.release) { refusals.append(refusal) }
                mergedBy = check.proof
            } else if facts.onMainBranch != true {
                refusals.append(.init(rule: .onMerge, message: "environment '\(env)' only takes releases merged to '\(effective.mainBranch)', and commit \(facts.release.commit.prefix(12)) is not reachable from it; merge the change and cut a release from '\(effective.mainBranch)'"))
            }
        }
        if effective.requireSignedCommits, !facts.unsignedCommits.isEmpty {
            let shown = facts.unsignedCommits.prefix(5).map { String($0.prefix(12)) }.joined(separator: ", ")
            refusals.append(.init(rule: .unsignedCommit, message: "environment '\(env)' requires signed commits, and \(facts.unsignedCommits.count == 1 ? "commit" : "commits") \(shown)\(facts.unsignedCommits.count > 5 ? ", …" : "") \(facts.unsignedCommits.count == 1 ? "has" : "have") no SSH signature that the signers file in force verifies; sign them (git commit -S with gpg.format=ssh) with a key listed there and cut a new release"))
        }
        var approvedBy: [String] = []
        var ignored: [String] = []
        var eligible: [String] = []
        let destroyed = StatefulCatalog.statefulDestroyed(plan.summary, extra: effective.statefulTypes)
        if let gate = effective.approval {
            // A plan made after the drift run refreshed the real world itself: its review shows the
            // drift, and applying it reconciles it. One made before cannot have shown it.
            if let drift = facts.openDrift, plan.createdAt <= drift.detectedAt { refusals.append(DriftStatus.refusal(drift)) }
            let age = facts.now.timeIntervalSince(plan.createdAt)
            if age > Double(gate.maxPlanAge.seconds) {
                refusals.append(.init(rule: .expired, message: "plan '\(plan.id)' is \(PlanAge(seconds: Int(age)).description) old, older than the \(gate.maxPlanAge) that environment '\(env)' allows; re-plan and ask for approval again"))
            }
            let counted = countApprovals(facts, gate: gate, refusals: &refusals, ignored: &ignored)
            approvedBy = counted.principals
            // Destroying stateful resources needs the address acknowledged inside a counted, signed approval.
            let excluded = Set(facts.authors + [plan.planner] + [facts.breakGlassInvoker].compactMap { $0 })
            eligible = gate.approvers.filter { !approvedBy.contains($0) && !excluded.contains($0) }
            let unacknowledged = destroyed.filter { !counted.acknowledged.contains($0) }
            if !unacknowledged.isEmpty {
                refusals.append(.init(rule: .destroy, message: "plan '\(plan.id)' destroys stateful \(unacknowledged.joined(separator: ", ")); an approver must sign for it: "
                    + "tollgate approve \(plan.id) --key KEY " + unacknowledged.map { "--acknowledge-destroy '\($0)'" }.joined(separator: " ")))
            }
            if approvedBy.count < gate.required {
                let ask = eligible.isEmpty ? "no listed approver other than the authors, the planner and the break-glass invoker remains, so add approvers to the gate"
                    : "ask \(eligible.joined(separator: " or ")) to run 'tollgate approve \(plan.id) --key KEY'"
                if effective.changes.isEmpty {
                    refusals.append(.init(rule: .approval, message: "plan '\(plan.id)' has \(approvedBy.count) of \(gate.required) required approvals for '\(env)'; \(ask)"))
                } else {
                    refusals.append(.init(rule: .governance, message: "plan '\(plan.id)' changes the governance of '\(env)' (\(effective.changes.map(\.description).joined(separator: "; "))), so it is judged by \(effective.judgedBy): it has \(approvedBy.count) of \(gate.required) required approvals from the approvers in force (\(gate.approvers.joined(separator: ", "))); \(ask)"))
                }
            }
        }
        var decision = GateDecision(refusals: refusals, approvedBy: approvedBy, ignored: ignored, governanceChanges: effective.changes,
                                    judgedBy: effective.judgedBy, eligibleApprovers: eligible, statefulDestroyed: destroyed)
        decision.authors = facts.authors
        decision.authorshipVerified = facts.authorshipVerified
        decision.mergedBy = mergedBy
        return decision
    }

    /// The approvals that count under `gate`: verified, signed for this exact plan, by a listed
    /// approver who neither wrote, planned nor broke glass for the change, and dated within the plan's life.
    static func countApprovals(_ facts: GateFacts, gate: ApprovalGate, refusals: inout [GateDecision.Refusal],
                               ignored: inout [String]) -> (principals: [String], acknowledged: Set<String>) {
        let env = facts.environment.name.value
        let plan = facts.plan
        var principals: [String] = []
        var acknowledged: Set<String> = []
        for approval in facts.approvals.sorted(by: { $0.record.createdAt < $1.record.createdAt }) {
            let record = approval.record
            guard let principal = approval.verifiedPrincipal else {
                ignored.append("\(record.id) (\(record.principal)): the signature does not verify against the signers file \(facts.effective.signers == .inForce ? "in force" : "of the release")")
                continue
            }
            guard let payload = ApprovalPayload.parse(record.payload),
                  payload.planDigest == plan.digest, payload.releaseDigest == facts.release.id,
                  payload.env == env, payload.stack == plan.stack, payload.decision == record.decision, payload.signer == principal else {
                ignored.append("\(record.id) (\(principal)): it was signed for a different plan, release, environment or stack")
                continue
            }
            let signedAt = AuditChain.date(milliseconds: payload.time)
            if signedAt < plan.createdAt.addingTimeInterval(-0.001) {
                ignored.append("\(record.id) (\(principal)): it is dated \(Timestamp.text(signedAt)), before plan '\(plan.id)' was made (\(Timestamp.text(plan.createdAt)))")
                continue
            }
            if signedAt > facts.now {
                ignored.append("\(record.id) (\(principal)): it is dated \(Timestamp.text(signedAt)), after now (\(Timestamp.text(facts.now)))")
                continue
            }
            if record.decision == .reject {
                refusals.append(.init(rule: .rejected, message: "\(principal) rejected plan '\(plan.id)'\(record.comment.map { ": \($0)" } ?? ""); address it and re-plan"))
                continue
            }
            if !gate.approvers.contains(principal) {
                ignored.append("\(record.id) (\(principal)): not an approver of '\(env)'\(facts.effective.changes.isEmpty ? "" : " under the governance in force")")
            } else if facts.authors.contains(principal) {
                ignored.append("\(record.id) (\(principal)): " + (facts.authors == [facts.release.author] && !facts.authorshipVerified
                    ? "the release author cannot approve their own change" : "an author of this release (a commit since '\(env)'s last-good) cannot approve it"))
            } else if principal == plan.planner {
                ignored.append("\(record.id) (\(principal)): the planner cannot approve their own plan")
            } else if principal == facts.breakGlassInvoker {
                ignored.append("\(record.id) (\(principal)): the break-glass invoker cannot approve the plan they forced through")
            } else {
                acknowledged.formUnion(payload.acknowledgeDestroy)
                if !principals.contains(principal) { principals.append(principal) }
            }
        }
        return (principals, acknowledged)
    }
}

/// ISO 8601 text of a time, for messages.
public enum Timestamp {
    public static func text(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
