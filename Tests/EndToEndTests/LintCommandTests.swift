import Foundation
import TestSupport
import Testing

@Suite struct LintCommandTests {
    @Test func exampleIsCleanAndEnvironmentLogicIsFlagged() throws {
        let sandbox = try Sandbox(engine: TestEngines.all.first, label: "tollgate-lint")
        defer { sandbox.remove() }
        #expect(try sandbox.cli.run("init", "--example").status == 0)
        let clean = try sandbox.cli.run("lint", "--format", "json")
        #expect(clean.status == 0, "\(clean.stdout)")
        #expect(try clean.jsonArray().allSatisfy { $0["severity"] as? String != "error" })

        let main = sandbox.repository + "/stacks/app/main.tf"
        try Data((try String(contentsOfFile: main, encoding: .utf8) + """

            resource "null_resource" "big" {
              count = var.env == "prod" ? 2 : 0
            }

            """).utf8).write(to: URL(fileURLWithPath: main))
        let text = try sandbox.cli.run("lint")
        #expect(text.status == 1)
        #expect(text.stdout.contains("stacks/app/main.tf:11:11: error [env-conditional] 'var.env == \"prod\"' branches on var.env == \"prod\""))
        let sarif = try sandbox.cli.run("lint", "--format", "sarif")
        #expect(sarif.status == 1)
        let report = try sarif.json()
        #expect(report["version"] as? String == "2.1.0")
        let results = (report["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]] ?? []
        #expect(results.contains { $0["ruleId"] as? String == "env-conditional" })
    }
}
