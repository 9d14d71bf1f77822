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
    /// Whether the release commit is reachable from the main branch (nil when not checked).
    public var onMainBranch: Bool?
    public var mainBranch: String
    public var approvals: [VerifiedApproval]
    public var now: Date
    /// Drift of this (env, stack) that is neither acknowledged nor reconciled (`DriftStatus.open`).
    public var openDrift: DriftReport?
    /// The pipeline's `stateful_types`, added to the built-in catalog for the destroy guard.
    public var statefulTypes: Set<String>

    public init(environment: Environment, previousEnvironment: String?, release: Release, plan: PlanRecord, appliedToPrevious: Bool,
                onMainBranch: Bool?, mainBranch: String, approvals: [VerifiedApproval], now: Date, openDrift: DriftReport? = nil,
                statefulTypes: Set<String> = []) {
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
    }
}

/// The outcome of evaluating every gate of an environment on one plan.
public struct GateDecision: Sendable, Equatable, Codable {
    public struct Refusal: Sendable, Equatable, Codable, CustomStringConvertible {
        /// order, on-merge, approval, rejected, expired, status
        public var rule: String
        public var message: String

        public init(rule: String, message: String) {
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

    public init(refusals: [Refusal], approvedBy: [String], ignored: [String]) {
        self.refusals = refusals
        self.approvedBy = approvedBy
        self.ignored = ignored
    }

    public var allowed: Bool { refusals.isEmpty }
}

/// Gate and order rules as a pure function of facts.
public enum GateEvaluator {
    /// Order alone: may a release be planned or applied in this environment yet?
    public static func order(env: String, stack: String, previousEnvironment: String?, appliedToPrevious: Bool, release: String) -> GateDecision.Refusal? {
        guard let previous = previousEnvironment, !appliedToPrevious else { return nil }
        return GateDecision.Refusal(
            rule: "order",
            message: "release \(Digest.short(release)) has not been applied successfully to '\(previous)' for stack '\(stack)'; promote it to '\(previous)' first (tollgate promote \(release) --to \(previous))")
    }

    public static func evaluate(_ facts: GateFacts) -> GateDecision {
        var refusals: [GateDecision.Refusal] = []
        var approvedBy: [String] = []
        var ignored: [String] = []
        let env = facts.environment.name.value
        let stack = facts.plan.stack

        if facts.plan.status != .pending {
            refusals.append(.init(rule: "status", message: "plan '\(facts.plan.id)' is \(facts.plan.status.rawValue) and can never be applied; run 'tollgate plan \(facts.release.id) --env \(env) --stack \(stack)'"))
        }
        for check in facts.plan.checks where check.status == .fail {
            refusals.append(.init(rule: "check", message: "check '\(check.name)' failed on plan '\(facts.plan.id)': "
                + check.details.prefix(3).joined(separator: "; ") + "; fix it in the code and cut a new release"))
        }
        // A break-glass plan skips the lower environments on purpose (and is on the record as such).
        if facts.plan.breakGlass == nil, let order = order(env: env, stack: stack, previousEnvironment: facts.previousEnvironment,
                             appliedToPrevious: facts.appliedToPrevious, release: facts.release.id) {
            refusals.append(order)
        }

        switch facts.environment.gate.value {
        case .auto:
            break
        case .onMerge:
            if facts.onMainBranch != true {
                refusals.append(.init(rule: "on-merge", message: "environment '\(env)' only takes releases merged to '\(facts.mainBranch)', and commit \(facts.release.commit.prefix(12)) is not reachable from it; merge the change and cut a release from '\(facts.mainBranch)'"))
            }
        case .approval(let gate):
            if let drift = facts.openDrift { refusals.append(DriftStatus.refusal(drift)) }
            let age = facts.now.timeIntervalSince(facts.plan.createdAt)
            if age > Double(gate.maxPlanAge.seconds) {
                refusals.append(.init(rule: "expired", message: "plan '\(facts.plan.id)' is \(PlanAge(seconds: Int(age)).description) old, older than the \(gate.maxPlanAge) that environment '\(env)' allows; re-plan and ask for approval again"))
            }
            var counted: Set<String> = []
            var acknowledged: Set<String> = []
            for approval in facts.approvals.sorted(by: { $0.record.createdAt < $1.record.createdAt }) {
                let record = approval.record
                guard let principal = approval.verifiedPrincipal else {
                    ignored.append("\(record.id) (\(record.principal)): the signature does not verify against allowed_signers")
                    continue
                }
                guard let payload = ApprovalPayload.parse(record.payload),
                      payload.planDigest == facts.plan.digest, payload.releaseDigest == facts.release.id,
                      payload.env == env, payload.stack == stack, payload.decision == record.decision, payload.signer == principal else {
                    ignored.append("\(record.id) (\(principal)): it was signed for a different plan, release, environment or stack")
                    continue
                }
                if record.decision == .reject {
                    refusals.append(.init(rule: "rejected", message: "\(principal) rejected plan '\(facts.plan.id)'\(record.comment.map { ": \($0)" } ?? ""); address it and re-plan"))
                    continue
                }
                if !gate.approvers.contains(principal) {
                    ignored.append("\(record.id) (\(principal)): not an approver of '\(env)'")
                } else if principal == facts.release.author {
                    ignored.append("\(record.id) (\(principal)): the release author cannot approve their own change")
                } else if principal == facts.plan.planner {
                    ignored.append("\(record.id) (\(principal)): the planner cannot approve their own plan")
                } else {
                    acknowledged.formUnion(payload.acknowledgeDestroy)
                    if counted.insert(principal).inserted { approvedBy.append(principal) }
                }
            }
            // Destroying stateful resources needs the address acknowledged inside a counted, signed approval.
            let unacknowledged = StatefulCatalog.statefulDestroyed(facts.plan.summary, extra: facts.statefulTypes).filter { !acknowledged.contains($0) }
            if !unacknowledged.isEmpty {
                refusals.append(.init(rule: "destroy", message: "plan '\(facts.plan.id)' destroys stateful \(unacknowledged.joined(separator: ", ")); an approver must sign for it: "
                    + "tollgate approve \(facts.plan.id) --key KEY " + unacknowledged.map { "--acknowledge-destroy '\($0)'" }.joined(separator: " ")))
            }
            if counted.count < gate.required {
                let eligible = gate.approvers.filter { !counted.contains($0) && $0 != facts.release.author && $0 != facts.plan.planner }
                refusals.append(.init(rule: "approval", message: "plan '\(facts.plan.id)' has \(counted.count) of \(gate.required) required approvals for '\(env)'; "
                    + (eligible.isEmpty ? "no listed approver other than the author and planner remains, so add approvers to the gate"
                       : "ask \(eligible.joined(separator: " or ")) to run 'tollgate approve \(facts.plan.id) --key KEY'")))
            }
        }
        return GateDecision(refusals: refusals, approvedBy: approvedBy, ignored: ignored)
    }
}
