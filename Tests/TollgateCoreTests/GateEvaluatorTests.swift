import Foundation
import Testing
import TollgateCore

/// Gate rules as a pure function: approvals, authors, planners, expiry, checks and the destroy guard.
@Suite struct GateEvaluatorTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)
    let release = Release(id: "sha256:" + String(repeating: "r", count: 64), commit: "c0ffee", branch: "main", pr: 1,
                          author: "author@x", createdAt: now, files: [])

    func environment(required: Int = 1) -> Environment {
        Environment(name: Located("prod"), account: Located("1"), identity: Located("echo 1"), backend: Backend(type: Located("local")),
                    gate: Located(.approval(ApprovalGate(required: required, approvers: ["alice@x", "bob@x", "author@x"], maxPlanAge: PlanAge(seconds: 3600)))))
    }

    func plan(destroying: [String] = [], checks: [CheckResult] = []) -> PlanRecord {
        var summary = PlanSummary()
        summary.delete = destroying
        return PlanRecord(id: "p-1", releaseID: release.id, env: "prod", stack: "db", digest: "sha256:" + String(repeating: "d", count: 64),
                          summary: summary, hasChanges: true, priorSerial: 1, priorLineage: "l", planner: "ci@x", engineKind: "terraform",
                          engineVersion: "1.11.4", createdAt: Self.now, checks: checks)
    }

    func approval(_ principal: String, _ plan: PlanRecord, valid: Bool = true, acknowledge: [String] = [], decision: ApprovalRecord.Decision = .approve) -> VerifiedApproval {
        let payload = ApprovalPayload(decision: decision, env: "prod", stack: "db", planDigest: plan.digest, releaseDigest: release.id,
                                      signer: principal, time: Self.now, acknowledgeDestroy: acknowledge)
        return VerifiedApproval(record: ApprovalRecord(id: "a-\(principal)", planID: plan.id, decision: decision, principal: principal,
                                                       payload: payload.canonical, signature: "sig", comment: nil, createdAt: Self.now),
                                verifiedPrincipal: valid ? principal : nil)
    }

    func decide(_ plan: PlanRecord, _ approvals: [VerifiedApproval], at time: Date = now, required: Int = 1) -> GateDecision {
        GateEvaluator.evaluate(GateFacts(environment: environment(required: required), previousEnvironment: nil, release: release, plan: plan,
                                         appliedToPrevious: true, onMainBranch: nil, mainBranch: "main", approvals: approvals, now: time))
    }

    @Test func distinctEligibleApproversCount() {
        let plan = plan()
        #expect(decide(plan, [approval("alice@x", plan)]).allowed)
        let twice = decide(plan, [approval("alice@x", plan), approval("alice@x", plan)], required: 2)
        #expect(!twice.allowed)
        #expect(twice.approvedBy == ["alice@x"])
        #expect(decide(plan, [approval("alice@x", plan), approval("bob@x", plan)], required: 2).allowed)
    }

    @Test func authorPlannerInvalidAndRejectionsDoNotPass() {
        let plan = plan()
        let author = decide(plan, [approval("author@x", plan)])
        #expect(!author.allowed)
        #expect(author.ignored == ["a-author@x (author@x): the release author cannot approve their own change"])
        #expect(!decide(plan, [approval("alice@x", plan, valid: false)]).allowed)
        let rejected = decide(plan, [approval("alice@x", plan), approval("bob@x", plan, decision: .reject)])
        #expect(rejected.refusals.map(\.rule) == [.rejected])
    }

    /// A plan the engine itself calls errored or incomplete never passes, however many approve it;
    /// a plan with nothing to do is not applyable, and that alone refuses nothing.
    @Test func theEngineVerdictOnAPlanIsAGate() {
        var broken = plan()
        (broken.summary.errored, broken.summary.applyable, broken.summary.complete) = (true, false, false)
        let decision = decide(broken, [approval("alice@x", broken)])
        #expect(decision.refusals.map(\.rule) == [.incomplete, .incomplete])
        #expect(decision.refusals.map(\.message) == [
            "plan 'p-1' cannot be applied: the engine reported errors while planning (errored: true); fix them and plan again",
            "plan 'p-1' cannot be applied: the plan is incomplete (complete: false): it was planned with -target, or leaves changes out; plan again without -target so that every change is in the plan",
        ])
        var noChanges = PlanRecord(id: "p-2", releaseID: release.id, env: "prod", stack: "db", digest: broken.digest, summary: PlanSummary(), hasChanges: false,
                                   priorSerial: 1, priorLineage: "l", planner: "ci@x", engineKind: "terraform", engineVersion: "1.11.4", createdAt: Self.now, checks: [])
        (noChanges.summary.errored, noChanges.summary.applyable, noChanges.summary.complete) = (false, false, true)
        #expect(decide(noChanges, [approval("alice@x", noChanges)]).allowed)
        var unapplyable = plan(destroying: ["null_resource.x"])
        (unapplyable.summary.errored, unapplyable.summary.applyable, unapplyable.summary.complete) = (false, false, true)
        #expect(decide(unapplyable, [approval("alice@x", unapplyable, acknowledge: [])]).refusals.map(\.rule).contains(.incomplete))
    }

    @Test func expiredPlansAndFailedChecksAreRefused() {
        let plan = plan(checks: [CheckResult(name: "fmt", status: .fail, details: ["main.tf is not formatted"])])
        let decision = decide(plan, [approval("alice@x", plan)], at: Self.now.addingTimeInterval(3601))
        #expect(decision.refusals.map(\.rule) == [.check, .expired])
        #expect(decision.refusals[0].message.hasPrefix("check 'fmt' failed on plan 'p-1': main.tf is not formatted"))
    }

    @Test func destroyingStatefulResourcesNeedsASignedAcknowledgement() {
        let plan = plan(destroying: ["module.data.aws_db_instance.main[0]", "null_resource.scratch"])
        let unacknowledged = decide(plan, [approval("alice@x", plan)])
        #expect(unacknowledged.refusals.map(\.rule) == [.destroy])
        #expect(unacknowledged.refusals[0].message.contains("destroys stateful module.data.aws_db_instance.main[0]"))
        #expect(unacknowledged.refusals[0].message.contains("--acknowledge-destroy 'module.data.aws_db_instance.main[0]'"))
        #expect(decide(plan, [approval("alice@x", plan, acknowledge: ["module.data.aws_db_instance.main[0]"])]).allowed)
        // An acknowledgement in an approval that does not count (the author's) does not either.
        #expect(!decide(plan, [approval("alice@x", plan), approval("author@x", plan, acknowledge: ["module.data.aws_db_instance.main[0]"])]).allowed)
    }

    @Test func openDriftBlocksAnApprovalEnvironment() {
        let plan = plan()
        let drift = DriftReport(id: "d-9", env: "prod", stack: "db", releaseID: release.id, actor: "ci", detectedAt: Self.now,
                                resources: [DriftedResource(address: "aws_db_instance.main", kind: .deleted, attributes: [])])
        let facts = GateFacts(environment: environment(), previousEnvironment: nil, release: release, plan: plan, appliedToPrevious: true,
                              onMainBranch: nil, mainBranch: "main", approvals: [approval("alice@x", plan)], now: Self.now, openDrift: drift)
        let decision = GateEvaluator.evaluate(facts)
        #expect(decision.refusals.map(\.rule) == [.drift])
        #expect(decision.refusals.first?.message.contains("tollgate drift ack prod db --key KEY --comment TEXT") == true)
        var noDrift = facts
        noDrift.openDrift = nil
        #expect(GateEvaluator.evaluate(noDrift).allowed)
        // A plan made after the drift run saw the drift itself: its review covers it.
        var later = facts
        later.openDrift?.detectedAt = Self.now.addingTimeInterval(-1)
        #expect(GateEvaluator.evaluate(later).allowed)
    }

    @Test func aPlanReadingOutputsChangedSinceIsRefused() {
        let plan = plan()
        var facts = GateFacts(environment: environment(), previousEnvironment: nil, release: release, plan: plan, appliedToPrevious: true,
                              onMainBranch: nil, mainBranch: "main", approvals: [approval("alice@x", plan)], now: Self.now)
        #expect(GateEvaluator.evaluate(facts).allowed)
        facts.changedUpstream = [UpstreamChange(stack: "network", dataSource: "net", outputs: ["subnet_ids", "vpc_id"], apply: "x-7", plan: "p-6")]
        let decision = GateEvaluator.evaluate(facts)
        #expect(decision.refusals.map(\.rule) == [.upstream])
        #expect(decision.refusals.first?.message == "plan 'p-1' was made before apply x-7 of 'prod/network' (plan p-6) changed outputs 'subnet_ids', 'vpc_id', which 'db' reads through data.terraform_remote_state.net; the plan holds the old values, so re-run 'tollgate plan \(release.id) --env prod --stack db' and have the new plan approved")
    }

    @Test func addressesMapToTypes() {
        #expect(StatefulCatalog.type(ofAddress: "aws_s3_bucket.logs") == "aws_s3_bucket")
        #expect(StatefulCatalog.type(ofAddress: "module.a.module.b.google_sql_database_instance.db[\"x.y\"]") == "google_sql_database_instance")
        #expect(StatefulCatalog.type(ofAddress: "data.aws_ami.base") == nil)
        #expect(StatefulCatalog.types.count >= 60)
    }

    @Test func acknowledgementsAreSignedAndRoundTrip() throws {
        let payload = ApprovalPayload(decision: .approve, env: "prod", stack: "db", planDigest: "sha256:d", releaseDigest: "sha256:r",
                                      signer: "alice@x", time: Self.now, acknowledgeDestroy: ["b", "a", "a"])
        #expect(payload.canonical.contains("\"acknowledge_destroy\":[\"a\",\"b\"]"))
        #expect(ApprovalPayload.parse(payload.canonical) == payload)
        let plain = ApprovalPayload(decision: .approve, env: "prod", stack: "db", planDigest: "sha256:d", releaseDigest: "sha256:r", signer: "alice@x", time: Self.now)
        #expect(!plain.canonical.contains("acknowledge"))
    }
}
