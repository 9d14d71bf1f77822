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
        let report = try sarif.object()
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

extension SARIFModelTests {
    /// Without a pipeline file the SARIF run carries the assumptions in its property bag, and
    /// still reads with the independent SARIF 2.1.0 model.
    @Test func sarifWithAssumptionsParsesWithAnIndependentModel() throws {
        let python = TestPaths.tools + "/hcl2-venv/bin/python"
        try #require(FileManager.default.isExecutableFile(atPath: python), "run scripts/setup-engine.sh")
        let sandbox = try Sandbox(engine: TestEngines.all.first, label: "tollgate-sarif-anywhere")
        defer { sandbox.remove() }
        try Data("locals {\n  size = var.env == \"prod\" ? 3 : 1\n}\n".utf8).write(to: URL(fileURLWithPath: sandbox.repository + "/main.tf"))
        let sarif = try sandbox.cli.run("lint", "--format", "sarif")
        #expect(sarif.status == 1)
        let path = sandbox.root.path + "/out.sarif"
        try Data(sarif.stdout.utf8).write(to: URL(fileURLWithPath: path))
        let check = """
            import json, sys
            from sarif_pydantic import Sarif
            log = Sarif.model_validate(json.load(open(sys.argv[1])))
            run = log.runs[0]
            assumed = json.load(open(sys.argv[1]))["runs"][0]["properties"]["tollgate.assumptions"]
            print(" ".join(f"{r.rule_id}:{r.locations[0].physical_location.region.start_line}" for r in run.results), assumed["pipeline"], assumed["environmentSource"])
            """
        let (status, output) = try TestProcess.run(python, ["-c", check, path])
        #expect(status == 0, "\(output)")
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "lockfile-missing:1 env-conditional:2 none none", "\(output)")
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

/// `lint` on a directory with no pipeline file: root modules are stacks, environments come from
/// config/ (or as 'assess' finds them), and every output format says so.
@Suite struct LintWithoutPipelineTests {
    static let corpus = TestPaths.fixtures + "/lint/corpus"

    /// The hand labels of the corpus, as "FILE:LINE RULE".
    static func labels() throws -> [String] {
        try String(contentsOfFile: TestPaths.fixtures + "/lint/corpus.expected", encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.hasPrefix("#") }.sorted()
    }

    func corpusSandbox() throws -> Sandbox {
        let sandbox = try Sandbox(engine: TestEngines.all.first, label: "tollgate-lint-anywhere")
        try FileManager.default.removeItem(atPath: sandbox.repository)
        try FileManager.default.copyItem(atPath: Self.corpus, toPath: sandbox.repository)
        return sandbox
    }

    @Test func textSaysWhatItAssumedAndFindsTheLabelledFindings() throws {
        let sandbox = try corpusSandbox()
        defer { sandbox.remove() }
        let result = try sandbox.cli.run("lint")
        #expect(result.status == 1)
        #expect(result.stderr == """
            tollgate: no pipeline file used; linted 3 root modules as stacks (examples/complete, stacks/app, stacks/legacy) with environments dev, stage, prod from config/
            21 files, 27 findings, 25 errors

            """)
        let found = result.stdout.split(separator: "\n").map { line -> String in
            let location = line.split(separator: " ")[0].split(separator: ":")
            let rule = line.split(separator: "[")[1].split(separator: "]")[0]
            return "\(location[0]):\(location[1]) \(rule)"
        }.sorted()
        #expect(found == (try Self.labels()))
    }

    @Test func jsonAndSarifCarryTheAssumptions() throws {
        let sandbox = try corpusSandbox()
        defer { sandbox.remove() }
        let json = try sandbox.cli.run("lint", sandbox.repository, "--format", "json")
        #expect(json.status == 1)
        let object = try json.json()
        let assumptions = try #require(object["assumptions"] as? [String: Any])
        #expect(assumptions["pipeline"] as? String == "none")
        #expect(assumptions["environments"] as? [String] == ["dev", "stage", "prod"])
        #expect(assumptions["environment_source"] as? String == "config")
        #expect((assumptions["stacks"] as? [[String: String]])?.map { $0["path"] ?? "" } == ["examples/complete", "stacks/app", "stacks/legacy"])
        #expect((assumptions["modules"] as? [String]) == ["modules/ec2-instance", "modules/gcs-bucket", "modules/iam-role", "modules/vpc"])
        #expect((object["findings"] as? [[String: Any]])?.count == 27)

        let sarif = try sandbox.cli.run("lint", sandbox.repository, "--format", "sarif")
        #expect(sarif.status == 1)
        let run = try #require((try sarif.object()["runs"] as? [[String: Any]])?.first)
        let properties = try #require((run["properties"] as? [String: Any])?["tollgate.assumptions"] as? [String: Any])
        #expect(properties["pipeline"] as? String == "none")
        #expect(properties["environments"] as? [String] == ["dev", "stage", "prod"])
        #expect((run["results"] as? [[String: Any]])?.count == 27)
    }

    @Test func environmentsAsAssessFindsThemWhenThereIsNoConfig() throws {
        let sandbox = try Sandbox(engine: TestEngines.all.first, label: "tollgate-lint-envdirs")
        defer { sandbox.remove() }
        for env in ["dev", "prod"] {
            let directory = sandbox.repository + "/envs/\(env)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data("variable \"size\" {}\n\nlocals {\n  name = \"shop-\(env)\"\n}\n".utf8).write(to: URL(fileURLWithPath: directory + "/main.tf"))
            try Data("# lock\n".utf8).write(to: URL(fileURLWithPath: directory + "/.terraform.lock.hcl"))
        }
        let result = try sandbox.cli.run("lint", "--format", "json")
        #expect(result.status == 1)
        let object = try result.json()
        let assumptions = try #require(object["assumptions"] as? [String: Any])
        #expect(assumptions["environment_source"] as? String == "assess")
        #expect(assumptions["styles"] as? [String] == ["directory-per-environment"])
        #expect(assumptions["environments"] as? [String] == ["dev", "prod"])
        let findings = (object["findings"] as? [[String: Any]] ?? []).map { "\($0["file"] as? String ?? "") \($0["rule"] as? String ?? "")" }
        #expect(findings == ["envs/dev/main.tf env-literal", "envs/prod/main.tf env-directory", "envs/prod/main.tf env-literal"])
    }

    @Test func aDirectoryWithoutTerraformIsAUsageError() throws {
        let sandbox = try Sandbox(engine: TestEngines.all.first, label: "tollgate-lint-empty")
        defer { sandbox.remove() }
        try Data("# notes\n".utf8).write(to: URL(fileURLWithPath: sandbox.repository + "/README.md"))
        let result = try sandbox.cli.run("lint", sandbox.repository)
        #expect(result.status == 64)
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("Error: '\(sandbox.repository)' holds no Terraform files (.tf or .tf.json) and no tollgate.yaml; give the directory of your Terraform code, or the pipeline file with --config\n"),
                "\(result.stderr)")
        let missing = try sandbox.cli.run("lint", sandbox.root.path + "/nowhere")
        #expect(missing.status == 64)
        #expect(missing.stderr.hasPrefix("Error: no directory at '\(sandbox.root.path)/nowhere'; give the path of a directory of Terraform code\n"), "\(missing.stderr)")
    }
}
