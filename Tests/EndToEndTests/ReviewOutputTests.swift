import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestSupport
import Testing

/// The review outputs on real plans: `checks` as JUnit XML and `show` of several plans.
@Suite struct ReviewOutputTests {
    @Test func checksAndShowReportEveryStackOfARelease() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        // An unformatted line in the app stack makes its fmt check fail.
        let main = repo.repository + "/stacks/app/main.tf"
        try Data((try String(contentsOfFile: main, encoding: .utf8) + "\nresource  \"null_resource\" \"crooked\" {}\n").utf8).write(to: URL(fileURLWithPath: main))
        try repo.cli.git("commit", "-q", "-am", "crooked")
        let release = try repo.cli.run("release").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let planned = try repo.cli.run("plan", release, "--env", "dev", "--format", "json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let plans = try planned.jsonArray()
        let ids = try plans.map { try #require($0["id"] as? String) }
        let stacks = plans.compactMap { $0["stack"] as? String }
        #expect(Set(stacks) == ["network", "app"])

        // JUnit: a report, so failed checks still exit 0.
        let junit = try repo.cli.run(["checks"] + ids + ["--format", "junit"])
        #expect(junit.status == 0, "\(junit.stderr)")
        #if canImport(FoundationXML)
        let root = try #require(try XMLDocument(data: Data(junit.stdout.utf8)).rootElement())
        let suites = root.elements(forName: "testsuite")
        #expect(suites.compactMap { $0.attribute(forName: "name")?.stringValue } == stacks.map { "dev/\($0)" })
        let app = try #require(suites.first { $0.attribute(forName: "name")?.stringValue == "dev/app" })
        let cases = app.elements(forName: "testcase")
        #expect(cases.compactMap { $0.attribute(forName: "name")?.stringValue } == ["fmt", "validate"])
        #expect(app.attribute(forName: "tests")?.stringValue == "2")
        #expect(app.attribute(forName: "failures")?.stringValue == "1")
        #expect(cases[0].elements(forName: "failure").first?.stringValue == "stacks/app/main.tf is not formatted (run terraform fmt)")
        #expect(cases[1].elements(forName: "failure").isEmpty)
        #expect(root.attribute(forName: "failures")?.stringValue == "1")
        #endif

        let json = try repo.cli.run(["checks"] + ids + ["--format", "json"])
        let reports = try json.jsonArray()
        #expect(reports.map { $0["plan"] as? String } == ids)
        #expect(try repo.cli.run(["checks"] + ids).stdout.contains("fail  fmt\n        stacks/app/main.tf is not formatted"))
        let unknown = try repo.cli.run("checks", "p-nonexistent", "--format", "junit")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("p-nonexistent"))

        // show: several plans make one comment, or a JSON array; one plan keeps the object shape.
        let markdown = try repo.cli.run(["show"] + ids + ["--format", "markdown"])
        #expect(markdown.status == 0, "\(markdown.stderr)")
        #expect(markdown.stdout.hasPrefix("### tollgate review: release `\(release.prefix(19))…` → `dev`"))
        #expect(markdown.stdout.components(separatedBy: "<details").count - 1 == 2)
        #expect(markdown.stdout.contains("<b>dev/app</b>") && markdown.stdout.contains("<b>dev/network</b>"))
        #expect(markdown.stdout.contains("- ❌ **fmt**: fail\n  - stacks/app/main.tf is not formatted (run terraform fmt)"))
        #expect(try repo.cli.run(["show"] + ids + ["--format", "json"]).jsonArray().compactMap { ($0["plan"] as? [String: Any])?["id"] as? String } == ids)
        #expect((try repo.cli.run("show", ids[0], "--format", "json").json()["plan"] as? [String: Any])?["id"] as? String == ids[0])
        #expect(try repo.cli.run(["show"] + ids).stdout.components(separatedBy: "\nprovenance\n").count - 1 == 2)
    }
}
