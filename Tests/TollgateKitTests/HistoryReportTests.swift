import Foundation
import TestSupport
import Testing
import TollgateConfig
import TollgateCore
import TollgateKit
import TollgateStore

/// History from a real SQLite ledger, and recovery from tags when that ledger is empty.
@Suite struct HistoryReportTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)
    static let commit = String(repeating: "c", count: 40)

    struct Setup {
        let directory: TemporaryDirectory
        let context: Context
        let ledger: SQLiteLedger
    }

    func setup(tags: [GitTag]) throws -> Setup {
        let directory = try TemporaryDirectory("tollgate-history")
        try Scaffold.write(to: directory.path + "/repo", example: true, force: false)
        let result = PipelineLoader.load(path: directory.path + "/repo/tollgate.yaml")
        let pipeline = try #require(result.validPipeline, "\(result.diagnostics)")
        let effects = fixedEffects(now: Self.now)
        let ledger = try SQLiteLedger(path: directory.path + "/ledger.sqlite", effects: effects)
        let context = Context(pipeline: pipeline, engine: FakeEngine(planJSON: Data()), ledger: ledger,
                              artifacts: FileArtifactStore(root: directory.path + "/artifacts"), git: UnusedGit(tagged: tags),
                              signatures: UnusedSignatures(), shell: FakeShell.echoing(), effects: effects, workRoot: directory.path + "/work",
                              actor: "ci@example.com", host: "test", pid: 1, processEnvironment: [:], parsePipeline: { [pipeline] _ in pipeline })
        return Setup(directory: directory, context: context, ledger: ledger)
    }

    func marker(stack: String, sequence: Int, release: String, at offset: TimeInterval, plan: String? = nil) -> ReleaseTag {
        ReleaseTag(env: "dev", stack: stack, sequence: sequence, release: release, plan: plan ?? "p-\(stack)\(sequence)",
                   planDigest: "sha256:" + String(repeating: "d", count: 64), commit: Self.commit, pr: 7, apply: "x-\(stack)\(sequence)",
                   approvers: [], appliedAt: Self.now.addingTimeInterval(offset))
    }

    @Test func emptyLedgerRecoversFromTagsSkippingAMalformedOneAndWritesNothing() async throws {
        let first = marker(stack: "network", sequence: 1, release: "sha256:" + String(repeating: "1", count: 64), at: 0)
        let second = marker(stack: "network", sequence: 2, release: "sha256:" + String(repeating: "2", count: 64), at: 60)
        let app = marker(stack: "app", sequence: 1, release: "sha256:" + String(repeating: "1", count: 64), at: 30)
        let tags = [second, first, app].map { GitTag(name: $0.name, commit: Self.commit, annotated: true, message: $0.message) }
            + [GitTag(name: "tollgate/dev/app/2", commit: Self.commit, annotated: false, message: ""),
               GitTag(name: "tollgate/stage/app/1", commit: Self.commit, annotated: true, message: app.message)]
        let setup = try setup(tags: tags)
        defer { setup.directory.remove() }
        let report = try await HistoryReport.build(setup.context, env: "dev")
        #expect(report.source == .tags)
        #expect(report.entries.map(\.tag) == ["tollgate/dev/network/1", "tollgate/dev/app/1", "tollgate/dev/network/2"])
        #expect(report.entries.map(\.lastGood) == [false, true, true])
        #expect(report.entries.map(\.release) == [first.release, app.release, second.release])
        #expect(report.entries.allSatisfy { $0.outcome == "success" && $0.planDigest == first.planDigest && $0.pr == 7 })
        #expect(report.warnings.count == 2)
        #expect(report.warnings.first?.hasPrefix("skipped tag 'tollgate/dev/app/2': it is a lightweight tag") == true)
        // None of the tags carries a signature the signers file verifies: said once, naming them.
        #expect(report.warnings.last == "the tags are not signed (tollgate/dev/network/1, tollgate/dev/app/1, tollgate/dev/network/2), so anyone who could push a tag could have written them; set TOLLGATE_TAG_SIGNING_KEY where tollgate applies so its tags are signed")
        // Recovery only reads.
        #expect(try await setup.ledger.events().isEmpty)
        #expect(try await setup.ledger.applies(env: "dev", stack: nil).isEmpty)

        let onlyApp = try await HistoryReport.build(setup.context, env: "dev", stack: "app")
        #expect(onlyApp.entries.map(\.tag) == ["tollgate/dev/app/1"])
    }

    @Test func ledgerListsEveryAttemptWithTheTagOfEachSuccessAndTheLastGood() async throws {
        let release = Release(id: "sha256:" + String(repeating: "e", count: 64), commit: Self.commit, branch: "main", pr: 9,
                              author: "author@example.com", createdAt: Self.now, files: [])
        // Tag 1 records the first success's plan; tag 2 was made by another ledger for another plan.
        let tags = [marker(stack: "network", sequence: 1, release: release.id, at: 0),
                    marker(stack: "network", sequence: 2, release: release.id, at: 60, plan: "p-elsewhere")]
        let setup = try setup(tags: tags.map { GitTag(name: $0.name, commit: Self.commit, annotated: true, message: $0.message) })
        defer { setup.directory.remove() }
        let ledger = setup.ledger
        try await ledger.recordRelease(release, event: AuditEntry(actor: "t", kind: "release.created"))
        let outcomes: [ApplyRecord.Outcome] = [.failed, .success, .success]
        for (index, outcome) in outcomes.enumerated() {
            let plan = PlanRecord(id: "p-network\(index)", releaseID: release.id, env: "dev", stack: "network",
                                  digest: "sha256:" + String(repeating: "\(index)", count: 64), summary: PlanSummary(), hasChanges: true,
                                  priorSerial: index, priorLineage: "l", planner: "ci@example.com", engineKind: "terraform",
                                  engineVersion: "1.11.4", createdAt: Self.now)
            try await ledger.recordPlan(plan, event: AuditEntry(actor: "t", kind: "plan.created"))
            let time = Self.now.addingTimeInterval(Double(index) * 60)
            let apply = ApplyRecord(id: "x-\(index)", planID: plan.id, env: "dev", stack: "network", actor: "t", startedAt: time)
            _ = try await ledger.beginApply(apply, lock: LockRecord(env: "dev", stack: "network", applyID: apply.id, holder: "t",
                                                                    host: "test", pid: 1, acquiredAt: time),
                                            event: AuditEntry(actor: "t", kind: "apply.started"))
            _ = try await ledger.finishApply(id: apply.id, outcome: outcome, planStatus: outcome == .success ? .applied : .failed,
                                             detail: outcome == .failed ? "boom" : nil, at: time.addingTimeInterval(5), lineage: "l",
                                             event: AuditEntry(actor: "t", kind: "apply.finished"))
        }
        let report = try await HistoryReport.build(setup.context, env: "dev")
        #expect(report.source == .ledger)
        #expect(report.entries.map(\.outcome) == ["failed", "success", "success"])
        #expect(report.entries.map(\.plan) == ["p-network0", "p-network1", "p-network2"])
        #expect(report.entries.map(\.planDigest) == (0..<3).map { "sha256:" + String(repeating: "\($0)", count: 64) })
        #expect(report.entries.map(\.time) == [5, 65, 125].map { Self.now.addingTimeInterval($0) })
        #expect(report.entries.map(\.lastGood) == [false, false, true])
        #expect(report.entries.map(\.detail) == ["boom", nil, nil])
        #expect(report.entries.allSatisfy { $0.commit == Self.commit && $0.pr == 9 && $0.release == release.id })
        #expect(report.entries.map(\.tag) == [nil, "tollgate/dev/network/1", nil])
        #expect(report.warnings == ["tag 'tollgate/dev/network/2' records plan 'p-elsewhere', but the ledger's apply x-2 applied plan 'p-network2'; the tag was made by another ledger, so check which one is this repository's record"])
    }
}
