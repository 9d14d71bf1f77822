import Foundation
import Testing
import TestSupport

/// The JSON contract: the main outputs of a real promotion validate against the schemas in
/// `docs/schemas` (snake_case keys everywhere, `schema_version`, listings under a named key), and
/// errors are a JSON object on stderr with nothing on stdout.
@Suite struct JSONContractTests {
    static let validator = CIGenerationTests.venv + "/check-jsonschema"
    static let haveValidator = FileManager.default.isExecutableFile(atPath: validator)

    /// Validates each output against its schema with check-jsonschema; the failure names the schema,
    /// the file and the path inside it.
    static func validate(_ outputs: [(schema: String, json: String)], in directory: String) throws {
        for (index, output) in outputs.enumerated() {
            let file = "\(directory)/output-\(index)-\(output.schema).json"
            try Data(output.json.utf8).write(to: URL(fileURLWithPath: file))
            let (status, report) = try TestProcess.run(validator, ["--schemafile", TestPaths.packageRoot + "/docs/schemas/\(output.schema).schema.json", file])
            #expect(status == 0, "\(output.schema): \(report)\n\(output.json)")
        }
    }

    @Test(.enabled(if: haveValidator || CIGenerationTests.required)) func theMainOutputsValidateAgainstTheirSchemas() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        var outputs: [(schema: String, json: String)] = []
        func run(_ schema: String, _ arguments: String..., status expected: Int32 = 0) throws -> CLI.Result {
            let result = try repo.cli.run(arguments)
            #expect(result.status == expected, "\(arguments): \(result.stderr)")
            outputs.append((schema, result.stdout))
            return result
        }

        let planned = try run("plan", "plan", repo.release, "--env", "dev", "--format", "json")
        let ids = try planned.jsonArray().compactMap { $0["id"] as? String }
        #expect(ids.count == 2)
        let one = try run("show", "show", ids[0], "--format", "json")
        #expect(Set(try one.json().keys) == ["schema_version", "plan", "release", "gates", "approvals"])
        let both = try run("show", "show", ids[0], ids[1], "--format", "json")
        #expect(try both.jsonArray().count == 2)
        let applied = try run("promote", "promote", repo.release, "--to", "dev", "--format", "json")
        #expect(try applied.jsonArray().map { $0["status"] as? String } == ["applied", "applied"])
        _ = try run("promote", "promote", repo.release, "--to", "stage", "--format", "json")
        // prod waits at its approval gate: a refusal (exit 3) whose steps say what is missing.
        let waiting = try run("promote", "promote", repo.release, "--to", "prod", "--format", "json", status: 3)
        #expect(try waiting.jsonArray().allSatisfy { $0["status"] as? String == "waiting" && !(($0["missing"] as? [String]) ?? []).isEmpty })
        _ = try run("status", "status", "--format", "json")
        let history = try run("history", "history", "--env", "dev", "--format", "json")
        #expect(try (history.json()["entries"] as? [[String: Any]])?.count == 2)
        let traced = try run("audit-trace", "audit", "trace", "--format", "json")
        #expect(try traced.jsonArray().count == 4)

        // Errors: an object on stderr, stdout left empty so `> out.json` never holds an error.
        for (arguments, code, refused) in [(["show", "p-000000000000", "--format", "json"], Int32(1), false),
                                           (["approve", ids[0], "--key", repo.key("author"), "--format", "json"], 3, true)] {
            let failed = try repo.cli.run(arguments)
            #expect(failed.status == code, "\(arguments): \(failed.stderr)")
            #expect(failed.stdout.isEmpty)
            let error = try CLI.Result(status: failed.status, stdout: failed.stderr, stderr: "").json()
            #expect(error["exit_code"] as? Int == Int(code) && error["refused"] as? Bool == refused, "\(failed.stderr)")
            outputs.append(("error", failed.stderr))
        }
        try Self.validate(outputs, in: repo.root)
    }

    /// The schemas can fail: a camelCase key, a missing `schema_version` and a bare list are each rejected.
    @Test(.enabled(if: haveValidator || CIGenerationTests.required)) func theSchemasRejectTheOldShapes() throws {
        let directory = NSTemporaryDirectory() + "tollgate-schema-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cases = [
            ("error", #"{"error": "x", "exitCode": 1, "refused": false, "schema_version": 1}"#),
            ("error", #"{"error": "x", "exit_code": 1, "refused": false}"#),
            ("promote", #"[{"stack": "app", "status": "applied", "missing": [], "commands": []}]"#),
            ("promote", #"{"schema_version": 1, "steps": [{"stack": "app", "status": "skipped", "missing": [], "commands": []}]}"#),
        ]
        for (index, (schema, json)) in cases.enumerated() {
            let file = "\(directory)/bad-\(index).json"
            try Data(json.utf8).write(to: URL(fileURLWithPath: file))
            let (status, report) = try TestProcess.run(Self.validator, ["--schemafile", TestPaths.packageRoot + "/docs/schemas/\(schema).schema.json", file])
            #expect(status == 1, "\(schema) accepted \(json): \(report)")
        }
    }
}
