import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateKit

/// The pull-request comment: exact text against a golden file, and a huge plan within the limit.
///
/// Regenerate the golden file after an intended change with
/// `TOLLGATE_UPDATE_GOLDEN=1 swift test --filter ReviewMarkdownTests`, then read its diff.
@Suite struct ReviewMarkdownTests {
    static let date = Date(timeIntervalSince1970: 1_790_000_000)

    static let release = Release(id: "sha256:4f2a9c1e0b7d3a5f6e8c9b0a1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6", commit: "9c1e77b0c0ffee1234567890abcdef0123456789",
                                 branch: "main", pr: 42, author: "author@example.com", createdAt: date, files: [])

    static func plan(_ id: String, stack: String, summary: PlanSummary, checks: [CheckResult]) -> PlanRecord {
        PlanRecord(id: id, releaseID: release.id, env: "prod", stack: stack, digest: "sha256:77b0" + String(repeating: "0", count: 60),
                   summary: summary, hasChanges: summary.hasChanges, priorSerial: 7, priorLineage: "lineage-\(stack)",
                   planner: "ci@example.com", engineKind: "terraform", engineVersion: "1.11.4", createdAt: date, checks: checks)
    }

    /// Two stacks of one release in prod: one blocked, destroying a database, one ready.
    static let entries: [ReviewMarkdown.Entry] = {
        var data = PlanSummary()
        data.create = ["aws_db_parameter_group.main"]
        data.update = ["aws_security_group.db"]
        data.replace = ["null_resource.migrate", "module.cache.aws_elasticache_cluster.main"]
        data.delete = ["aws_db_instance.main", "null_resource.each[\"a\"]"]
        data.outputChanges = ["endpoint"]
        data.drifted = ["aws_security_group.db"]
        data.reasons = [.init(address: "null_resource.migrate", reason: "replace_by_request"),
                        .init(address: "aws_db_instance.main", reason: "delete_because_no_resource_config")]
        data.deferred = [.init(address: "aws_instance.worker[\"b\"]", reason: "instance_count_unknown")]
        (data.errored, data.applyable, data.complete) = (false, true, false)
        data.diffs = [
            ResourceDiff(address: "aws_security_group.db", action: "update", attributes: [
                AttributeChange(path: "ingress[0].from_port", kind: .changed, before: "5432", after: "6432"),
                AttributeChange(path: "description", kind: .changed, before: "\"db ```ports```\"", after: "\"db\""),
                AttributeChange(path: "user_data", kind: .changed, before: "\"port=5432\"", after: "\"port=6432\" (+ 2 more changed lines)", line: 4),
            ]),
            ResourceDiff(address: "null_resource.migrate", action: "replace", attributes: [
                AttributeChange(path: "id", kind: .changed, before: "\"4711\"", after: "(known after apply)"),
                AttributeChange(path: "triggers.schema", kind: .changed, before: "\"v7\"", after: "\"v8\"", forcesReplacement: true),
                AttributeChange(path: "triggers.password", kind: .changed, before: "(sensitive)", after: "(sensitive)"),
            ], forcesReplacement: ["triggers"], omitted: 3),
        ]
        let dataChecks = [
            CheckResult(name: "fmt", status: .pass),
            CheckResult(name: "lint", status: .warn, details: ["stacks/data/main.tf:12: [env-conditional] 'var.env == \"prod\"' decides by environment; move it to config/ENV"]),
            CheckResult(name: "policy", status: .fail, details: ["deny: aws_db_instance.main must keep deletion_protection <true>", "warn: tags & owners\nare missing"]),
        ]
        var network = PlanSummary()
        network.create = ["aws_vpc.main", "aws_subnet.private[0]"]
        network.moved = [.init(from: "aws_subnet.a", to: "aws_subnet.private[0]")]
        network.imported = [.init(address: "aws_vpc.main", id: "vpc-0a1b2c")]
        network.other = [.init(address: "aws_route.default", actions: ["teleport"])]
        network.checks = [.init(address: "check.nat_reachable", status: "fail", problems: ["the NAT gateway did not answer"])]
        network.diffs = [ResourceDiff(address: "aws_vpc.main", action: "create", attributes: [
            AttributeChange(path: "cidr_block", kind: .added, before: nil, after: "\"10.0.0.0/16\""),
            AttributeChange(path: "arn", kind: .added, before: nil, after: "(known after apply)"),
        ])]
        return [
            ReviewMarkdown.Entry(plan: plan("p-data01", stack: "data", summary: data, checks: dataChecks), release: release, gates: GateDecision(
                refusals: [
                    .init(rule: .check, message: "check 'policy' failed on plan 'p-data01': deny: aws_db_instance.main must keep deletion_protection <true>; fix it in the code and cut a new release"),
                    .init(rule: .approval, message: "plan 'p-data01' has 0 of 1 required approvals for 'prod'; ask approver@example.com to run 'tollgate approve p-data01 --key KEY'"),
                ],
                approvedBy: [], ignored: ["a-0001 (author@example.com): the release author cannot approve their own change"])),
            ReviewMarkdown.Entry(plan: plan("p-net002", stack: "network", summary: network, checks: [CheckResult(name: "fmt", status: .pass), CheckResult(name: "validate", status: .pass)]),
                                 release: release, gates: GateDecision(refusals: [], approvedBy: ["approver@example.com"], ignored: [])),
        ]
    }()

    @Test func matchesTheGoldenFile() throws {
        let path = TestPaths.fixtures + "/review/prod-release.md"
        // The file holds what `tollgate show --format markdown` prints: the comment and a newline.
        let rendered = ReviewMarkdown().render(Self.entries) + "\n"
        if ProcessInfo.processInfo.environment["TOLLGATE_UPDATE_GOLDEN"] == "1" {
            try Data(rendered.utf8).write(to: URL(fileURLWithPath: path))
        }
        let golden = try TestPaths.fixture("review/prod-release.md")
        #expect(Data(rendered.utf8) == golden, "the comment differs from \(path); if the change is intended, regenerate it with TOLLGATE_UPDATE_GOLDEN=1 and review the diff")
    }

    @Test func aPreviewSaysItIsNeverAppliedAndNamesNoPlan() {
        let entries = Self.entries.map { entry in
            var entry = entry
            entry.plan.id = Previewer.planID
            return entry
        }
        let rendered = ReviewMarkdown(preview: true).render(entries)
        let lines = rendered.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "### tollgate preview (never applied): release `sha256:4f2a9c1e0b7d…` → `prod`")
        #expect(lines[2].contains(" · gates: 2 to meet before it is applied · "), "\(lines[2])")
        #expect(lines.contains("> 🔍 **Preview only**: planned against the real backend and stored nowhere, so there is no plan to approve or apply; "
            + "the promotion cuts this release with `tollgate release` and plans it again."))
        #expect(lines.contains { $0.hasPrefix("<summary>❌ <b>prod/data</b>") && $0.hasSuffix("· 2 gates to meet · preview, never applied</summary>") }, "\(rendered)")
        #expect(lines.contains { $0.hasPrefix("<summary>🔍 <b>prod/network</b>") && $0.hasSuffix("· no gate left · preview, never applied</summary>") }, "\(rendered)")
        #expect(lines.contains("**Gates the real promotion will face**: 2 to meet"))
        #expect(!rendered.contains("plan <code>"))
        #expect(!rendered.contains("tollgate show"))
        let short = ReviewMarkdown(limit: 2_500, preview: true).render(entries)
        #expect(short.utf8.count <= 2_500)
        #expect(short.contains("`tollgate plan --preview --commit 9c1e77b0c0ff --env prod`"), "\(short)")
    }

    @Test func destructiveAndStatefulComeFirst() {
        let text = ReviewMarkdown().render(Self.entries)
        let delete = text.range(of: "**delete** `aws_db_instance.main` (no longer in the configuration) — ⚠️ **stateful**")
        let create = text.range(of: "create `aws_db_parameter_group.main`")
        #expect(delete != nil && create != nil && delete!.lowerBound < create!.lowerBound)
        #expect(!text.contains("`null_resource.each[\"a\"]` — ⚠️"))
        #expect(text.contains("**Destroys or replaces 2 stateful resources** in `prod/data` (2)"))
        #expect(!text.contains("<true>") && text.contains("&lt;true&gt;"))
    }

    /// A 20,000-resource plan stays under the limit and says how much it left out.
    @Test(arguments: [ReviewMarkdown.githubLimit, 8_000]) func hugePlanIsShortenedToTheLimit(limit: Int) throws {
        var summary = PlanSummary()
        summary.create = (0..<15_000).map { "module.fleet.aws_instance.node[\($0)]" }
        summary.delete = (0..<5_000).map { "aws_s3_bucket.logs[\"bucket-\($0)\"]" }
        let lint = CheckResult(name: "lint", status: .fail, details: (0..<2_000).map { "stacks/fleet/main.tf:\($0): [env-conditional] decides by environment" })
        let entries = [ReviewMarkdown.Entry(plan: Self.plan("p-huge01", stack: "fleet", summary: summary, checks: [lint]), release: Self.release,
                                            gates: GateDecision(refusals: [], approvedBy: [], ignored: []))]
        let text = ReviewMarkdown(limit: limit).render(entries)
        #expect(text.utf8.count <= limit)
        // The summary counts everything, and the cut is named in the list and at the top.
        #expect(text.contains("**15000 to create, 0 to update, 0 to replace, 5000 to delete**"))
        let lines = text.components(separatedBy: "\n")
        let deletes = lines.filter { $0.hasPrefix("- 🔴 **delete**") }.count
        let creates = lines.filter { $0.hasPrefix("- create") }.count
        #expect(deletes > 0)
        let hidden = text.matches(of: /- … (\d+) more resources not shown; run `tollgate show p-huge01` for all/).compactMap { Int($0.1) }.reduce(0, +)
        #expect(text.contains("Shortened to fit a GitHub comment: \(hidden) resources"))
        #expect(text.contains("</details>"))
        // Nothing is counted twice or lost: shown and hidden resources add up to the plan.
        #expect(deletes + creates + hidden == 20_000, "\(deletes) deletions and \(creates) creations shown, \(hidden) hidden")
        // Destructive changes are kept before any creation is.
        #expect(creates == 0 || deletes == 5_000)
        // Even at a tiny limit, the comment fits and says it was cut.
        let tiny = ReviewMarkdown(limit: 600).render(entries)
        #expect(tiny.utf8.count <= 600 && tiny.contains("Cut at 600 bytes"))
    }

    @Test func aPlanThatFitsIsNotShortened() {
        let text = ReviewMarkdown().render(Self.entries)
        #expect(!text.contains("not shown") && !text.contains("Shortened"))
    }
}
