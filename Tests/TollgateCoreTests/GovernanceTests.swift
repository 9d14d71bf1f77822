import Foundation
import Testing
import TollgateCore

/// The effective gate as a pure function of the governance in force and the governance a release
/// brings: never looser than what is in force.
@Suite struct GovernanceTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)
    static let release = Release(id: "sha256:" + String(repeating: "r", count: 64), commit: "c0ffee", branch: "main", pr: 1,
                                 author: "author@x", createdAt: now, files: [])
    static let inForceRelease = "sha256:" + String(repeating: "f", count: 64)

    static func approval(_ approvers: [String], required: Int = 1, age: Int = 3600) -> Gate {
        .approval(ApprovalGate(required: required, approvers: approvers, maxPlanAge: PlanAge(seconds: age)))
    }

    static func governance(_ gate: Gate, checks: [Check] = [.fmt], signers: String = "sha256:s1", account: String = "1",
                           stateful: [String] = [], signed: Bool = false, main: String = "main") -> Governance {
        Governance(env: "prod", gate: GateSpec(gate), mainBranch: main, checks: checks, account: account, identity: "echo 1",
                   backend: "local path=../state/prod/{stack}.tfstate", statefulTypes: stateful, policies: "sha256:p1",
                   signersFile: ".tollgate/allowed_signers", signers: signers, requireSignedCommits: signed)
    }

    static func inForce(_ governance: Governance) -> GovernanceInForce {
        GovernanceInForce(governance: governance, release: inForceRelease, stack: "db", sequence: 3)
    }

    struct Pair: Sendable, CustomTestStringConvertible {
        var name: String
        var old: Governance
        var new: Governance
        /// Expected: requires merge, approvers (nil: no approval), required, max age, signer source.
        var merge: Bool
        var approvers: [String]?
        var required: Int
        var age: Int
        var signers: SignerSource
        var changed: [GovernanceChange.Field]
        var testDescription: String { name }
    }

    static let pairs: [Pair] = [
        Pair(name: "unchanged approval", old: governance(approval(["a"])), new: governance(approval(["a"])),
             merge: false, approvers: ["a"], required: 1, age: 3600, signers: .inForce, changed: []),
        Pair(name: "approval loosened to auto", old: governance(approval(["a"])), new: governance(.auto),
             merge: false, approvers: ["a"], required: 1, age: 3600, signers: .inForce, changed: [.gate, .approvers, .required, .maxPlanAge]),
        Pair(name: "approval loosened to on-merge", old: governance(approval(["a"])), new: governance(.onMerge),
             merge: true, approvers: ["a"], required: 1, age: 3600, signers: .inForce, changed: [.gate, .approvers, .required, .maxPlanAge]),
        Pair(name: "new approver added", old: governance(approval(["a"])), new: governance(approval(["a", "m"])),
             merge: false, approvers: ["a"], required: 1, age: 3600, signers: .inForce, changed: [.approvers]),
        Pair(name: "approvers replaced", old: governance(approval(["a"])), new: governance(approval(["m"])),
             merge: false, approvers: ["a"], required: 1, age: 3600, signers: .inForce, changed: [.approvers]),
        Pair(name: "fewer approvals required", old: governance(approval(["a", "b"], required: 2)), new: governance(approval(["a", "b"], required: 1)),
             merge: false, approvers: ["a", "b"], required: 2, age: 3600, signers: .inForce, changed: [.required]),
        Pair(name: "more approvals required", old: governance(approval(["a", "b"], required: 1)), new: governance(approval(["a", "b"], required: 2)),
             merge: false, approvers: ["a", "b"], required: 2, age: 3600, signers: .inForce, changed: [.required]),
        Pair(name: "longer plan age", old: governance(approval(["a"], age: 3600)), new: governance(approval(["a"], age: 86_400)),
             merge: false, approvers: ["a"], required: 1, age: 3600, signers: .inForce, changed: [.maxPlanAge]),
        Pair(name: "shorter plan age", old: governance(approval(["a"], age: 86_400)), new: governance(approval(["a"], age: 600)),
             merge: false, approvers: ["a"], required: 1, age: 600, signers: .inForce, changed: [.maxPlanAge]),
        Pair(name: "new signers file", old: governance(approval(["a"])), new: governance(approval(["a"]), signers: "sha256:s2"),
             merge: false, approvers: ["a"], required: 1, age: 3600, signers: .inForce, changed: [.signers]),
        Pair(name: "on-merge tightened to approval", old: governance(.onMerge), new: governance(approval(["m"])),
             merge: true, approvers: ["m"], required: 1, age: 3600, signers: .release, changed: [.gate, .approvers, .required, .maxPlanAge]),
        Pair(name: "on-merge loosened to auto", old: governance(.onMerge), new: governance(.auto),
             merge: true, approvers: nil, required: 0, age: 0, signers: .inForce, changed: [.gate]),
        Pair(name: "auto tightened to on-merge", old: governance(.auto), new: governance(.onMerge),
             merge: true, approvers: nil, required: 0, age: 0, signers: .inForce, changed: [.gate]),
        Pair(name: "account moved", old: governance(approval(["a"])), new: governance(approval(["a"]), account: "2"),
             merge: false, approvers: ["a"], required: 1, age: 3600, signers: .inForce, changed: [.account]),
        Pair(name: "main branch renamed", old: governance(.onMerge), new: governance(.onMerge, main: "anything"),
             merge: true, approvers: nil, required: 0, age: 0, signers: .inForce, changed: [.mainBranch]),
    ]

    @Test(arguments: pairs) func theEffectiveGateIsNeverLooserThanTheOneInForce(pair: Pair) {
        let effective = EffectiveGate.combine(inForce: Self.inForce(pair.old), proposed: pair.new)
        #expect(effective.requiresMerge == pair.merge)
        #expect(effective.approval?.approvers == pair.approvers)
        #expect((effective.approval?.required ?? 0) == pair.required)
        #expect((effective.approval?.maxPlanAge.seconds ?? 0) == pair.age)
        #expect(effective.signers == pair.signers)
        #expect(effective.changes.map(\.field) == pair.changed)
        #expect(effective.mainBranch == pair.old.mainBranch)
    }

    @Test func checksAndTypesAreUnionsAndSignedCommitsComeFromTheRuleInForce() {
        let old = Self.governance(.auto, checks: [.fmt, .policy], stateful: ["aws_db_instance"], signed: true)
        let new = Self.governance(.auto, checks: [.validate], stateful: ["null_resource"], signed: false)
        let effective = EffectiveGate.combine(inForce: Self.inForce(old), proposed: new)
        #expect(effective.checks == [.fmt, .policy, .validate])
        #expect(effective.statefulTypes == ["aws_db_instance", "null_resource"])
        #expect(effective.requireSignedCommits)
        #expect(!EffectiveGate.combine(inForce: Self.inForce(new), proposed: old).requireSignedCommits)
        #expect(effective.changes.map(\.description) == ["checks: fmt, policy → validate", "stateful_types: aws_db_instance → null_resource",
                                                          "require_signed_commits: true → false"])
    }

    @Test func bootstrapIsTheReleasesOwnGovernanceOnFirstUse() {
        let effective = EffectiveGate.combine(inForce: nil, proposed: Self.governance(.auto))
        #expect(effective.approval == nil)
        #expect(!effective.requiresMerge)
        #expect(effective.signers == .release)
        #expect(effective.changes.isEmpty)
        #expect(effective.judgedBy == "the release's own governance: trust on first use, since nothing was applied to this environment yet")
    }

    func plan(at created: Date = now) -> PlanRecord {
        PlanRecord(id: "p-1", releaseID: Self.release.id, env: "prod", stack: "db", digest: "sha256:" + String(repeating: "d", count: 64),
                   summary: PlanSummary(), hasChanges: false, priorSerial: 1, priorLineage: "l", planner: "ci@x", engineKind: "terraform",
                   engineVersion: "1.11.4", createdAt: created, checks: [CheckResult(name: "fmt", status: .pass)])
    }

    func signed(_ principal: String, _ plan: PlanRecord, at time: Date = now) -> VerifiedApproval {
        let payload = ApprovalPayload(decision: .approve, env: "prod", stack: "db", planDigest: plan.digest, releaseDigest: Self.release.id,
                                      signer: principal, time: time)
        return VerifiedApproval(record: ApprovalRecord(id: "a-\(principal)", planID: plan.id, decision: .approve, principal: principal,
                                                       payload: payload.canonical, signature: "sig", comment: nil, createdAt: time),
                                verifiedPrincipal: principal)
    }

    func decide(old: Governance?, new: Governance, plan: PlanRecord, approvals: [VerifiedApproval], authors: [String] = ["author@x"],
                invoker: String? = nil, unsigned: [String] = []) -> GateDecision {
        var environment = Environment(name: Located("prod"), account: Located("1"), identity: Located("echo 1"), backend: Backend(type: Located("local")))
        environment.gate = Located(.auto)
        return GateEvaluator.evaluate(GateFacts(
            environment: environment, previousEnvironment: nil, release: Self.release, plan: plan, appliedToPrevious: true, onMainBranch: true,
            mainBranch: "main", approvals: approvals, now: Self.now, inForce: old.map(Self.inForce), proposed: new, authors: authors,
            unsignedCommits: unsigned, breakGlassInvoker: invoker))
    }

    @Test func aLooseningIsRefusedUntilTheApproversInForceSign() {
        let old = Self.governance(Self.approval(["a@x"]))
        let new = Self.governance(.auto)
        let plan = plan()
        let held = decide(old: old, new: new, plan: plan, approvals: [])
        #expect(held.refusals == [GateDecision.Refusal(rule: .governance, message: "plan 'p-1' changes the governance of 'prod' (gate: approval → auto; approvers: a@x → none; required: 1 → -; max_plan_age: 1h → -), so it is judged by the governance in force, sealed in release sha256:ffffffffffff…, last-good of prod/db (tag tollgate/prod/db/3): it has 0 of 1 required approvals from the approvers in force (a@x); ask a@x to run 'tollgate approve p-1 --key KEY'")])
        #expect(decide(old: old, new: new, plan: plan, approvals: [signed("a@x", plan)]).allowed)
        // Without governance in force (bootstrap), the release's own auto gate applies.
        #expect(decide(old: nil, new: new, plan: plan, approvals: []).allowed)
    }

    @Test func authorsPlannerAndInvokerNeverCount() {
        let gate = Self.governance(Self.approval(["a@x", "b@x", "ci@x", "g@x"]))
        let plan = plan()
        let approvals = [signed("a@x", plan), signed("b@x", plan), signed("ci@x", plan), signed("g@x", plan)]
        let decision = decide(old: gate, new: gate, plan: plan, approvals: approvals, authors: ["author@x", "a@x"], invoker: "g@x")
        #expect(decision.approvedBy == ["b@x"])
        #expect(decision.ignored == [
            "a-a@x (a@x): an author of this release (a commit since 'prod's last-good) cannot approve it",
            "a-ci@x (ci@x): the planner cannot approve their own plan",
            "a-g@x (g@x): the break-glass invoker cannot approve the plan they forced through",
        ])
    }

    @Test func theClockIsChecked() {
        let gate = Self.governance(Self.approval(["a@x"]))
        let future = plan(at: Self.now.addingTimeInterval(60))
        let refused = decide(old: gate, new: gate, plan: future, approvals: [signed("a@x", future, at: Self.now.addingTimeInterval(61))])
        #expect(refused.refusals.map(\.rule) == [.clock, .approval])
        #expect(refused.refusals[0].message == "plan 'p-1' is dated 2026-09-21T14:14:20Z, after now (2026-09-21T14:13:20Z); a plan from the future cannot be judged, so re-plan on a machine with a correct clock")
        #expect(refused.ignored == ["a-a@x (a@x): it is dated 2026-09-21T14:14:21Z, after now (2026-09-21T14:13:20Z)"])
        let plan = plan()
        let early = decide(old: gate, new: gate, plan: plan, approvals: [signed("a@x", plan, at: Self.now.addingTimeInterval(-5))])
        #expect(early.ignored == ["a-a@x (a@x): it is dated 2026-09-21T14:13:15Z, before plan 'p-1' was made (2026-09-21T14:13:20Z)"])
        #expect(!early.allowed)
    }

    @Test func aCheckInForceThatDidNotRunRefuses() {
        let old = Self.governance(.auto, checks: [.fmt, .policy])
        let new = Self.governance(.auto, checks: [.fmt])
        let decision = decide(old: old, new: new, plan: plan(), approvals: [])
        #expect(decision.refusals == [GateDecision.Refusal(rule: .check, message: "plan 'p-1' did not run 'policy', which the governance in force, sealed in release sha256:ffffffffffff…, last-good of prod/db (tag tollgate/prod/db/3) requires for 'prod'; re-plan so the checks run")])
    }

    @Test func unsignedCommitsAreRefusedWhenRequired() {
        let gate = Self.governance(.auto, signed: true)
        let decision = decide(old: gate, new: gate, plan: plan(), approvals: [], unsigned: [String(repeating: "a", count: 40)])
        #expect(decision.refusals.map(\.rule) == [.unsignedCommit])
        #expect(decide(old: gate, new: Self.governance(.auto), plan: plan(), approvals: [], unsigned: []).refusals.isEmpty)
    }
}
