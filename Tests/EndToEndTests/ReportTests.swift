import Foundation
import TestSupport
import Testing

/// `tollgate report` writes (a)–(e) about the repository from live data, as Markdown and as one
/// self-contained HTML page that headless Chromium renders.
@Suite struct ReportTests {
    @Test func theReportCarriesTheRepositorysRealValuesInMarkdownAndHTML() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.releaseToProd(repo.release)
        // A key only prod sets: divergence the report must name.
        let config = repo.repository + "/config/prod/app.tfvars"
        try Data((try String(contentsOfFile: config, encoding: .utf8) + "debug_mode = true\n").utf8).write(to: URL(fileURLWithPath: config))
        let trace = try repo.cli.run("audit", "trace", "--env", "prod", "--format", "json").jsonArray()
        let lastDigest = try #require(trace.last { $0["outcome"] as? String == "success" }?["plan_digest"] as? String)
        let state = (repo.repository as NSString).deletingLastPathComponent

        let written = try repo.cli.run("report", "--out", repo.root + "/report.md")
        #expect(written.status == 0, "\(written.stderr)")
        let report = try String(contentsOfFile: repo.root + "/report.md", encoding: .utf8)
        #expect(report.contains("## (a) Layout"))
        #expect(report.contains("| prod | local-prod | local | network: `local:\(state)"))
        #expect(report.contains("stacks/app/\n  main.tf"))
        #expect(report.contains("## (b) Stages"))
        #expect(report.contains("| 3 | prod | approval | 1 of approver@example.com"))
        #expect(report.contains("| fmt, validate, destructive, policy | in force: `\(repo.release.prefix(19))…` (tollgate/prod/network/1) |"), "\(report)")
        #expect(report.contains("  stage -->|approval| prod"))
        #expect(report.contains("## (c) Plan binding"))
        #expect(report.contains("digest `\(lastDigest)`"))
        #expect(report.contains("- approve by approver@example.com: signature verifies against the signers file sealed in its release"))
        #expect(report.contains("## (d) Rollback"))
        #expect(report.contains("| prod | app | `\(repo.release.prefix(19))…` | #1 |"))
        #expect(report.contains("tollgate rollback --env prod --format markdown"))
        #expect(report.contains("## (e) Divergence"))
        #expect(report.contains("debug_mode"))

        // The same content as HTML: the format follows the file name.
        let page = repo.root + "/report.html"
        let html = try repo.cli.run("report", "--out", page)
        #expect(html.status == 0, "\(html.stderr)")
        #expect(html.stderr.contains("wrote \(page) (html)"))
        let text = try String(contentsOfFile: page, encoding: .utf8)
        #expect(text.hasPrefix("<!DOCTYPE html>"))
        #expect(text.contains("<tr><td>prod</td><td>local-prod</td><td>local</td><td>network: <code>local:\(repo.statePath("prod", "network"))</code><br>app: <code>local:\(repo.statePath("prod", "app"))</code></td></tr>"))
        #expect(text.contains("<tr><td>3</td><td>prod</td><td>approval</td><td>1 of approver@example.com; plans expire after 1d</td>"))
        #expect(text.contains("digest <code>\(lastDigest)</code>"))
        #expect(text.contains("<li>approve by approver@example.com: signature verifies against the signers file sealed in its release</li>"))
        #expect(text.contains("<tr><td>prod</td><td>app</td><td><code>\(repo.release.prefix(19))…</code></td><td>#1</td>"))
        #expect(text.contains("debug_mode"))
        #expect(text.contains("<figcaption>release → dev, dev → stage (on-merge), stage → prod (approval)</figcaption>"))
        // Self-contained: no script, no stylesheet or image fetched, every link inside the page.
        for forbidden in ["<script", "<link", "<img", "<iframe", "<object", "@import", "src="] {
            #expect(!text.contains(forbidden), "the page must not contain \(forbidden)")
        }
        #expect(text.components(separatedBy: "url(").dropFirst().allSatisfy { $0.hasPrefix("#") }, "url() may only name a fragment of the page")
        let links = text.components(separatedBy: "href=\"").dropFirst()
        #expect(links.count == 5)
        #expect(links.allSatisfy { $0.hasPrefix("#") })

        let stdout = try repo.cli.run("report", "--format", "html")
        #expect(stdout.status == 0)
        #expect(stdout.stdout.hasPrefix("<!DOCTYPE html>"))

        // Headless Chromium parses the page and draws it: five sections, the stage flow as SVG,
        // the flow's boxes in their fill colour and text on the screenshot.
        let browser = try HeadlessBrowser.locate()
        let dom = try browser.dumpDOM(page, scratch: repo.root)
        #expect(dom.contains("<title>Promotion pipeline of repo</title>"))
        #expect(dom.components(separatedBy: "<h2>").count - 1 == 5)
        #expect(dom.contains("<svg"))
        #expect(dom.contains("<section id=\"e-divergence\">"))
        let screenshot = repo.root + "/report.png"
        try browser.screenshot(page, to: screenshot, width: 1200, height: 2600, scratch: repo.root)
        let kept = try TestArtifacts.keep(screenshot, as: "report.png")
        try TestArtifacts.keep(page, as: "report.html")
        let image = try PNGImage(contentsOf: screenshot)
        #expect(image.width == 1200 && image.height == 2600)
        let boxFill = image.count(red: 0xDB, green: 0xEA, blue: 0xFE)
        #expect(boxFill > 2000, "the stage boxes (#dbeafe) cover \(boxFill) pixels of \(kept)")
        #expect(image.darkPixels > 20000, "text covers \(image.darkPixels) pixels of \(kept)")
    }

    struct ReportJSON: Decodable {
        struct Section: Decodable, Equatable {
            var heading: String
            var markdown: String
        }

        var title: String
        var sections: [Section]
        var divergence: RankingJSON
    }

    @Test func aProdOnlySkewOutranksLagsWithinTheLimits() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.releaseToProd(repo.release)
        // A second release reaches dev and stage only: prod lags one release for each stack, within the limits.
        try repo.edit("stacks/app/main.tf", commit: "the next change") { $0 + "\n# the next change\n" }
        let next = try repo.cutRelease()
        for env in ["dev", "stage"] {
            let promoted = try repo.cli.run("promote", next, "--to", env)
            #expect(promoted.status == 0, "\(promoted.stderr)")
        }
        // A key only prod's config sets, in the working tree.
        let config = repo.repository + "/config/prod/app.tfvars"
        try Data((try String(contentsOfFile: config, encoding: .utf8) + "debug_mode = true\n").utf8).write(to: URL(fileURLWithPath: config))

        let skew = "'debug_mode' is set only in 'prod' (config/prod/app.tfvars), so no lower environment ran with it; "
            + "set it in every environment or list it under 'lint.expected_differences'"
        let expected = RankingJSON(ranked: [.init(rank: 1, severity: "only-in-last-skew", kind: "skew", env: "prod", stack: "app", message: skew)],
                                   lagWithinLimits: 2)
        let result = try repo.cli.run("report", "--format", "json")
        #expect(result.status == 0, "\(result.stderr)")
        let report = try result.decoded(ReportJSON.self)
        #expect(report.divergence == expected)
        #expect(report.title == "Promotion pipeline of repo")
        #expect(report.sections.map(\.heading) == ["Promotion pipeline of repo", "(a) Layout", "(b) Stages", "(c) Plan binding", "(d) Rollback", "(e) Divergence"])
        #expect(report.sections.last == .init(heading: "(e) Divergence", markdown: """
            The 1 most severe of 1 ranked findings of `tollgate diverge` (open drift, then config only the last environment sets, releases that \
            skipped an environment, lag beyond 5 releases or 14 days, other config skew, version skew, env-specific code). 2 lag findings are \
            within the limits and not ranked.

            1. **skew** (only-in-last-skew): \(skew). Prevention: keep environments on the same keys and versions; list intended differences \
            under 'lint.expected_differences' in tollgate.yaml.
            """))
        // The Markdown report says the same, and diverge ranks the same way with the same limits.
        let markdown = try repo.cli.run("report")
        #expect(markdown.stdout.contains("## (e) Divergence\n\n" + (report.sections.last?.markdown ?? "?") + "\n"), "\(markdown.stdout)")
        let diverge = try repo.cli.run("diverge", "--format", "json")
        #expect(diverge.status == 2)
        #expect(try diverge.decoded(DivergeTests.DivergeJSON.self).ranking == expected)
        // With no lag allowed, both lags rank after the skew, the one waiting longer (network, promoted first) ahead.
        let strict = try repo.cli.run("diverge", "--format", "json", "--max-lag-releases", "0").decoded(DivergeTests.DivergeJSON.self)
        #expect(strict.ranking.ranked.map(\.severity) == ["only-in-last-skew", "lag-beyond-limits", "lag-beyond-limits"])
        #expect(strict.ranking.ranked.map(\.stack) == ["app", "network", "app"])
        #expect(strict.ranking.ranked.dropFirst().allSatisfy { $0.message.hasSuffix("promote the newest: tollgate promote \(next) --to prod") })
        // --out picks JSON from the file name.
        let out = try repo.cli.run("report", "--out", repo.root + "/report.json")
        #expect(out.stderr.contains("wrote \(repo.root)/report.json (json)"))
        let file = try CLI.Result(status: 0, stdout: String(decoding: Data(contentsOf: URL(fileURLWithPath: repo.root + "/report.json")), as: UTF8.self), stderr: "").decoded(ReportJSON.self)
        #expect(file.divergence == expected)
    }

    @Test func badReportInputIsAClearError() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        let format = try repo.cli.run("report", "--format", "pdf")
        #expect(format.status != 0)
        #expect(format.stderr.contains("'pdf'") && format.stderr.contains("markdown") && format.stderr.contains("html"), "\(format.stderr)")
        let out = try repo.cli.run("report", "--out", repo.root + "/missing/dir/report.html")
        #expect(out.status != 0)
        #expect(out.stderr.contains("cannot write '\(repo.root)/missing/dir/report.html': the directory '\(repo.root)/missing/dir' does not exist; create it or give --out another path"), "\(out.stderr)")
        #expect(!out.stderr.contains("Fatal error"))
    }
}
