import Foundation
import TestSupport
import Testing

/// `tollgate report` writes (a)–(e) about the repository from live data.
@Suite struct ReportTests {
    @Test func theReportCarriesTheRepositorysRealValues() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.releaseToProd(repo.release)
        // A key only prod sets: divergence the report must name.
        let config = repo.repository + "/config/prod/app.tfvars"
        try Data((try String(contentsOfFile: config, encoding: .utf8) + "debug_mode = true\n").utf8).write(to: URL(fileURLWithPath: config))

        let written = try repo.cli.run("report", "--out", repo.root + "/report.md")
        #expect(written.status == 0, "\(written.stderr)")
        let report = try String(contentsOfFile: repo.root + "/report.md", encoding: .utf8)
        let trace = try repo.cli.run("audit", "trace", "--env", "prod", "--format", "json").jsonArray()
        let lastDigest = try #require(trace.last { $0["outcome"] as? String == "success" }?["planDigest"] as? String)
        let state = (repo.repository as NSString).deletingLastPathComponent

        #expect(report.contains("## (a) Layout"))
        #expect(report.contains("| prod | local-prod | local | network: `local:\(state)"))
        #expect(report.contains("stacks/app/\n  main.tf"))
        #expect(report.contains("## (b) Stages"))
        #expect(report.contains("| 3 | prod | approval | 1 of approver@example.com"))
        #expect(report.contains("  stage -->|approval| prod"))
        #expect(report.contains("## (c) Plan binding"))
        #expect(report.contains("digest `\(lastDigest)`"))
        #expect(report.contains("- approve by approver@example.com: signature verifies against allowed_signers now"))
        #expect(report.contains("## (d) Rollback"))
        #expect(report.contains("| prod | app | `\(repo.release.prefix(19))…` | #1 |"))
        #expect(report.contains("tollgate rollback --env prod --format markdown"))
        #expect(report.contains("## (e) Divergence"))
        #expect(report.contains("debug_mode"))
    }
}
