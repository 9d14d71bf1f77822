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

@Suite struct SARIFModelTests {
    /// lint's SARIF output read by an independent SARIF 2.1.0 object model (sarif-pydantic).
    @Test func sarifParsesWithAnIndependentModel() throws {
        let python = TestPaths.tools + "/hcl2-venv/bin/python"
        try #require(FileManager.default.isExecutableFile(atPath: python), "run scripts/setup-engine.sh")
        let sandbox = try Sandbox(engine: TestEngines.all.first, label: "tollgate-sarif")
        defer { sandbox.remove() }
        #expect(try sandbox.cli.run("init", "--example").status == 0)
        try Data("locals {\n  name = terraform.workspace\n}\n".utf8).write(to: URL(fileURLWithPath: sandbox.repository + "/stacks/app/extra.tf"))
        let sarif = try sandbox.cli.run("lint", "--format", "sarif")
        let path = sandbox.root.path + "/out.sarif"
        try Data(sarif.stdout.utf8).write(to: URL(fileURLWithPath: path))
        let check = """
            import json, sys
            from sarif_pydantic import Sarif
            log = Sarif.model_validate(json.load(open(sys.argv[1])))
            results = log.runs[0].results
            print(" ".join(f"{r.rule_id}:{r.locations[0].physical_location.region.start_line}" for r in results))
            """
        let (status, output) = try TestProcess.run(python, ["-c", check, path])
        #expect(status == 0, "\(output)")
        #expect(output.contains("workspace-as-env:2"), "\(output)")
        #expect(output.contains("lockfile-missing:1"), "\(output)")
    }
}

/// `lint PATH --config FILE` reads the pipeline from FILE and the code from PATH.
@Suite struct LintConfigOptionTests {
    @Test func configIsHonouredWithAPath() throws {
        let sandbox = try Sandbox(engine: TestEngines.all.first, label: "tollgate-lint-config")
        defer { sandbox.remove() }
        #expect(try sandbox.cli.run("init", "--example").status == 0)
        let pipeline = sandbox.repository + "/tollgate.yaml"
        let elsewhere = sandbox.root.path + "/pipeline.yaml"
        try FileManager.default.moveItem(atPath: pipeline, toPath: elsewhere)
        try Data("environments: [\n".utf8).write(to: URL(fileURLWithPath: pipeline))

        let broken = try sandbox.cli.run("lint", sandbox.repository)
        #expect(broken.status == 1)
        let honoured = try sandbox.cli.run("lint", sandbox.repository, "--config", elsewhere, "--format", "json")
        #expect(honoured.status == 0, "\(honoured.stdout) \(honoured.stderr)")
        #expect(try honoured.jsonArray().allSatisfy { $0["severity"] as? String != "error" })

        let missing = try sandbox.cli.run("lint", sandbox.repository, "--config", sandbox.root.path + "/nothere.yaml")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("nothere.yaml"), "\(missing.stderr)")
    }
}
