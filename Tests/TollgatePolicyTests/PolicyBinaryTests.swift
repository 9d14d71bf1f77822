import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateEngine
@testable import TollgatePolicy

/// The `opa` and `conftest` adapters' command lines and output parsing, against stand-in scripts that
/// print those tools' documented JSON (no real binary exists on this machine). The libraries are
/// tested against the real engines in RegoEngineTests.
@Suite struct PolicyBinaryTests {
    /// A script that records its arguments and prints `output`.
    func stub(_ name: String, output: String, status: Int32 = 0) throws -> (TemporaryDirectory, String) {
        let directory = try TemporaryDirectory("tollgate-stub")
        let path = directory.path + "/" + name
        try Data("""
            #!/bin/sh
            printf '%s\\n' "$@" > "\(directory.path)/arguments"
            cat <<'JSON'
            \(output)
            JSON
            exit \(status)

            """.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        return (directory, path)
    }

    @Test func opaEvalResultsAndErrorsAreRead() async throws {
        let (directory, path) = try stub("opa", output: #"{"result": [{"expressions": [{"value": {"deny": ["no deletes in prod"]}, "text": "data.main"}]}]}"#)
        defer { directory.remove() }
        let engine = OPACommandEngine(path: path, environment: [:], runner: ProcessRunner())
        let report = try await engine.check(PolicyRequest(modules: [PolicyModule(path: "a.rego", source: "package main")], namespaces: ["main"],
                                                          context: ["env": .string("prod")], input: Data("{}".utf8)))
        #expect(report.messages == [PolicyMessage(level: .deny, rule: "main.deny", message: "no deletes in prod")])
        let arguments = try String(contentsOfFile: directory.path + "/arguments", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(arguments.first == "eval")
        #expect(arguments.last == "data.main")
        #expect(arguments.contains("--input"))

        let (failing, broken) = try stub("opa", output: #"{"errors": [{"message": "rego_parse_error: unexpected eof token"}]}"#, status: 1)
        defer { failing.remove() }
        await #expect(throws: PolicyError.evaluation(engine: "opa (\(broken))", message: "rego_parse_error: unexpected eof token")) {
            _ = try await OPACommandEngine(path: broken, environment: [:], runner: ProcessRunner()).evaluate(modules: [], data: .object([:]), input: nil, queries: ["data.main"])
        }
    }

    @Test func conftestFailuresAndWarningsAreRead() async throws {
        let (directory, path) = try stub("conftest", output: """
            [{"filename": "input.json", "namespace": "main", "successes": 1,
              "failures": [{"msg": "bucket is public", "metadata": {"query": "data.main.deny_public"}}],
              "warnings": [{"msg": "no owner tag"}]}]
            """, status: 1)
        defer { directory.remove() }
        let engine = ConftestEngine(path: path, environment: [:], runner: ProcessRunner())
        let report = try await engine.check(PolicyRequest(modules: [PolicyModule(path: "a.rego", source: "package main")], namespaces: ["main", "extra"],
                                                          context: [:], input: Data("{}".utf8)))
        #expect(report.messages == [
            PolicyMessage(level: .deny, rule: "main.deny_public", message: "bucket is public"),
            PolicyMessage(level: .warn, rule: "main.warn", message: "no owner tag"),
        ])
        #expect(report.status == .fail)
        let arguments = try String(contentsOfFile: directory.path + "/arguments", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(arguments.prefix(4) == ["test", "--no-color", "--output", "json"])
        #expect(arguments.filter { $0 == "--namespace" }.count == 2)
    }
}
