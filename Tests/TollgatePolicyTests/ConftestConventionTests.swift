import Foundation
import TestSupport
import Testing
import TollgateCore
@testable import TollgatePolicy

/// Policies written to conftest's documented conventions, run on the real OPA and rego-cpp
/// libraries: `.tf` input in conftest's HCL2 shape, exceptions, conftest's built-ins, and tests
/// reported one by one with a file that does not compile kept to itself.
@Suite struct ConftestConventionTests {
    static let directory = TestPaths.fixtures + "/policies/conftest"

    /// The modules of a fixture directory, named and located as PolicySources names them.
    func modules(_ folder: String) throws -> [PolicyModule] {
        let path = Self.directory + "/" + folder
        return try FileManager.default.contentsOfDirectory(atPath: path).sorted().filter { $0.hasSuffix(".rego") }.map { name in
            PolicyModule(path: name, source: try String(contentsOfFile: path + "/" + name, encoding: .utf8), origin: path + "/" + name)
        }
    }

    func check(_ engine: some RegoQueryEngine, _ modules: [PolicyModule], _ input: PolicyInputs.Input, env: String = "prod") async throws -> PolicyReport {
        try await engine.check(PolicyRequest(modules: modules, namespaces: ["main"], context: ["env": .string(env)], input: input.json))
    }

    @Test func hclPoliciesJudgeEachFileWithTheWebsiteExempt() async throws {
        let inputs = try PolicyInputs.load(Self.directory + "/tf", shownAs: "tf")
        for engine in [try Libraries.opa() as any RegoQueryEngine, try Libraries.regoCpp()] {
            var reports: [PolicyReport] = []
            for input in inputs { reports.append(try await check(engine, try modules("policy"), input)) }
            #expect(reports.map(\.messages) == [
                [PolicyMessage(level: .deny, rule: "main.deny_unprotected", message: "aws_s3_bucket.site has no lifecycle { prevent_destroy = true }"),
                 PolicyMessage(level: .warn, rule: "main.warn_owner", message: "aws_s3_bucket.site has no owner tag")],
                [],
                [],
            ], "\(engine.name)")
            #expect(reports.map(\.exceptions) == [[], [], [PolicyException(rule: "main.deny_public_acl", messages: ["aws_s3_bucket_acl.website is public-read"])]], "\(engine.name)")
        }
    }

    @Test func aPlanPolicysExceptionHoldsInDevOnly() async throws {
        let plan = try PolicyInputs.load(TestPaths.fixtures + "/plans/terraform-1.11.4/delete.json", shownAs: "delete.json")[0]
        let engine = try Libraries.opa()
        let prod = try await check(engine, try modules("plan-policy"), plan, env: "prod")
        #expect(prod.denials.map(\.message) == [
            "module.child.null_resource.this[0] is deleted", "null_resource.counted[1] is deleted", "null_resource.removed is deleted",
        ])
        #expect(prod.exceptions.isEmpty)
        let dev = try await check(engine, try modules("plan-policy"), plan, env: "dev")
        #expect(dev.denials.isEmpty)
        #expect(dev.status == .pass)
        #expect(dev.exceptions == [PolicyException(rule: "main.deny_delete", messages: prod.denials.map(\.message))])
    }

    @Test func conftestsBuiltinsRunOnTheOPALibrary() async throws {
        // parse_config, parse_config_file and parse_combined_config_files, with paths relative to the test file.
        let results = try await Libraries.opa().test(modules: try modules("policy"), data: .object([:]))
        #expect(results == [
            PolicyTestResult(name: "data.main.test_a_public_acl_is_denied", file: "s3_test.rego", outcome: .pass),
            PolicyTestResult(name: "data.main.test_a_protected_bucket_passes", file: "s3_test.rego", outcome: .pass),
            PolicyTestResult(name: "data.main.test_the_website_is_exempt", file: "s3_test.rego", outcome: .pass),
            PolicyTestResult(name: "data.main.test_files_combine", file: "s3_test.rego", outcome: .pass),
        ])
    }

    @Test func aFileThatDoesNotCompileFailsOnlyItsOwnTests() async throws {
        let broken = PolicyModule(path: "yaml_test.rego", source: """
            package other

            import rego.v1

            test_uses_a_builtin_nobody_has if {
            \tyaml_lint_strict("a: 1")
            }

            """)
        let results = try await Libraries.opa().test(modules: try modules("plan-policy") + [broken], data: .object(["tollgate": .object([:])]))
        #expect(results.map(\.outcome) == [.pass, .pass, .error])
        #expect(results.map(\.name) == ["data.main.test_a_delete_is_denied", "data.main.test_dev_is_exempt", "data.other.test_uses_a_builtin_nobody_has"])
        let message = try #require(results.last?.message)
        #expect(message.hasPrefix("yaml_test.rego does not compile: yaml_test.rego:6: rego_type_error: undefined function yaml_lint_strict"), "\(message)")

        // A library module that does not compile takes the tests of its package with it, and no other.
        let library = PolicyModule(path: "lib.rego", source: "package other\n\nimport rego.v1\n\nhelper := parse_config_yaml(\"x\")\n")
        let withLibrary = try await Libraries.opa().test(modules: try modules("plan-policy") + [library, broken], data: .object(["tollgate": .object([:])]))
        #expect(withLibrary.map(\.outcome) == [.pass, .pass, .error])
        // Its own error names it; a name that only starts like a conftest built-in's gets no hint.
        #expect(withLibrary.last?.message == "yaml_test.rego does not compile: yaml_test.rego:6: rego_type_error: undefined function yaml_lint_strict")
    }

    @Test func anEngineWithoutConftestsBuiltinsSaysSo() async throws {
        let policy = PolicyModule(path: "parse.rego", source: """
            package main

            import rego.v1

            deny contains msg if {
            \tconfig := parse_config("hcl2", "a = 1")
            \tconfig.a == 1
            \tmsg := "parsed"
            }

            """)
        let plan = try PolicyInputs.load(TestPaths.fixtures + "/plans/terraform-1.11.4/delete.json", shownAs: "delete.json")[0]
        await #expect(throws: PolicyError.self) { _ = try await self.check(try Libraries.regoCpp(), [policy], plan) }
        do {
            _ = try await check(try Libraries.regoCpp(), [policy], plan)
        } catch {
            #expect("\(error)".contains("'parse_config' is a conftest built-in, which rego-cpp 1.5.2 (library) does not provide: use policies.engine: opa"), "\(error)")
        }
        // The OPA library provides it.
        #expect(try await check(try Libraries.opa(), [policy], plan).denials.map(\.message) == ["parsed"])
    }
}
