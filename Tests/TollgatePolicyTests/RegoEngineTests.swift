import Foundation
import TestSupport
import Testing
import TollgateCore
@testable import TollgatePolicy

/// The two Rego libraries, loaded from where scripts/setup-engine.sh installs them.
enum Libraries {
    static var opaPath: String { TestPaths.tools + "/policy/opa_bindings/libopabridge.so" }
    static var regoCppPath: String { TestPaths.tools + "/policy/regopy/librego_shared.so" }
    static func opa() throws -> OPALibraryEngine { try OPALibraryEngine(path: opaPath) }
    static func regoCpp() throws -> RegoCppLibraryEngine { try RegoCppLibraryEngine(path: regoCppPath) }

    static func corpus() throws -> [PolicyModule] {
        let directory = TestPaths.fixtures + "/policies/corpus"
        return try FileManager.default.contentsOfDirectory(atPath: directory).sorted().map { name in
            PolicyModule(path: name, source: try String(contentsOfFile: directory + "/" + name, encoding: .utf8))
        }
    }

    static func request(plan: String, env: String, stack: String = "app") throws -> PolicyRequest {
        PolicyRequest(modules: try corpus(), namespaces: ["main", "types"],
                      context: ["env": .string(env), "stack": .string(stack), "release": .string("sha256:0"), "author": .string("dev@example.com")],
                      input: try TestPaths.fixture("plans/" + plan))
    }
}

@Suite struct RegoEngineTests {
    static let plans = ["terraform-1.0.3", "terraform-1.11.4"].flatMap { engine in
        ["create", "update", "replace", "delete", "empty", "outputs", "sensitive", "drift"].map { "\(engine)/\($0).json" }
    }

    @Test(arguments: plans, ["prod", "dev"])
    func bothLibrariesGiveTheSameVerdict(plan: String, env: String) async throws {
        let request = try Libraries.request(plan: plan, env: env)
        let opa = try await Libraries.opa().check(request)
        let regoCpp = try await Libraries.regoCpp().check(request)
        #expect(opa.messages == regoCpp.messages, "OPA and rego-cpp disagree on \(plan) in \(env)")
        #expect(opa.status == regoCpp.status)
    }

    @Test func deletesAreDeniedInProdWithExactMessages() async throws {
        for engine in [try Libraries.opa() as any RegoQueryEngine, try Libraries.regoCpp()] {
            let report = try await engine.check(try Libraries.request(plan: "terraform-1.11.4/delete.json", env: "prod"))
            #expect(report.status == .fail)
            #expect(report.denials == [
                PolicyMessage(level: .deny, rule: "main.deny", message: #"module.child.null_resource.this[0] would be destroyed in prod (actions ["delete"]); ship a forward change instead"#),
                PolicyMessage(level: .deny, rule: "main.deny", message: #"null_resource.counted[1] would be destroyed in prod (actions ["delete"]); ship a forward change instead"#),
                PolicyMessage(level: .deny, rule: "main.deny", message: #"null_resource.removed would be destroyed in prod (actions ["delete"]); ship a forward change instead"#),
            ], "\(engine.name)")
            #expect(report.warnings.isEmpty)
        }
    }

    @Test func theSameDeletesOnlyWarnOutsideProd() async throws {
        let report = try await Libraries.opa().check(try Libraries.request(plan: "terraform-1.0.3/delete.json", env: "dev"))
        #expect(report.status == .warn)
        #expect(report.warnings.map(\.message) == [
            "module.child.null_resource.this[0] would be destroyed in dev",
            "null_resource.counted[1] would be destroyed in dev",
            "null_resource.removed would be destroyed in dev",
        ])
    }

    @Test func missingTagsAndForbiddenTypesAreDenied() async throws {
        let report = try await Libraries.regoCpp().check(try Libraries.request(plan: "terraform-1.11.4/create.json", env: "dev"))
        let tags = report.denials.filter { $0.rule == "main.deny_tags" }.map(\.message)
        #expect(tags == [
            "module.child.null_resource.this[0] has no 'owner' tag; add triggers.owner",
            "module.child.null_resource.this[1] has no 'owner' tag; add triggers.owner",
            "null_resource.a has no 'owner' tag; add triggers.owner",
            "null_resource.after_child has no 'owner' tag; add triggers.owner",
            "null_resource.b has no 'owner' tag; add triggers.owner",
            #"null_resource.each["x"] has no 'owner' tag; add triggers.owner"#,
            #"null_resource.each["y"] has no 'owner' tag; add triggers.owner"#,
        ])
        let types = report.denials.filter { $0.rule == "types.violation" }
        #expect(types.count == 7)
        #expect(types.first?.message == "module.child.null_resource.this[0]: resource type null_resource is forbidden here; use terraform_data")
    }

    @Test func aWarnRuleReadsTheStackAndEnvironment() async throws {
        let report = try await Libraries.opa().check(try Libraries.request(plan: "terraform-1.11.4/replace.json", env: "stage", stack: "network"))
        #expect(report.warnings.filter { $0.rule == "main.warn_replace" }.map(\.message) == [
            "network/stage: null_resource.dependent is destroyed before it is re-created; consider create_before_destroy",
            "network/stage: null_resource.destroy_first is destroyed before it is re-created; consider create_before_destroy",
            "network/stage: null_resource.forced is destroyed before it is re-created; consider create_before_destroy",
        ])
    }

    @Test func anEmptyPlanPasses() async throws {
        let report = try await Libraries.regoCpp().check(try Libraries.request(plan: "terraform-1.11.4/empty.json", env: "prod"))
        #expect(report.messages.isEmpty)
        #expect(report.status == .pass)
    }

    @Test func aModuleThatDoesNotParseIsAnErrorNamingTheFile() async throws {
        let broken = PolicyModule(path: "broken.rego", source: "package main\n\ndeny contains msg if {\n")
        for engine in [try Libraries.opa() as any RegoQueryEngine, try Libraries.regoCpp()] {
            let request = PolicyRequest(modules: [broken], namespaces: ["main"], context: [:], input: Data("{}".utf8))
            await #expect {
                _ = try await engine.check(request)
            } throws: { error in
                guard case PolicyError.evaluation(_, let message) = error else { return false }
                return message.contains("broken.rego")
            }
        }
    }

    @Test func theEnginesNameThemselves() throws {
        #expect(try Libraries.opa().name == "opa (library \(Libraries.opaPath))")
        #expect(try Libraries.regoCpp().name.hasPrefix("rego-cpp "))
    }

    @Test func opaRunsTestRules() async throws {
        let modules = try Libraries.corpus() + [PolicyModule(path: "deletes_test.rego", source: """
            package main

            import rego.v1

            test_prod_delete_denied if {
            \tcount(deny) == 1 with input as {"resource_changes": [{"address": "x.y", "change": {"actions": ["delete"]}}]}
            \t\twith data.tollgate.env as "prod"
            }

            test_wrong_expectation if {
            \tcount(deny) == 2 with input as {"resource_changes": []} with data.tollgate.env as "prod"
            }
            """)]
        let results = try await Libraries.opa().test(modules: modules, data: .object([:]))
        #expect(results == [
            PolicyTestResult(name: "data.main.test_prod_delete_denied", file: "deletes_test.rego", outcome: .pass),
            PolicyTestResult(name: "data.main.test_wrong_expectation", file: "deletes_test.rego", outcome: .fail, message: "undefined"),
        ])
    }

    @Test func aMissingLibraryIsAClearError() throws {
        let locator = PolicyEngineLocator(environment: ["PATH": "/nonexistent", "TOLLGATE_TOOLS": "/nonexistent/tools"],
                                          baseDirectory: "/nonexistent/repo", isolatingExecutable: nil)
        #expect {
            _ = try locator.locate(.auto)
        } throws: { error in
            let text = "\(error)"
            return text.contains("/nonexistent/tools/policy/opa_bindings/libopabridge.so") && text.contains("scripts/setup-engine.sh")
        }
    }

    @Test func autoPrefersTheReferenceEngine() throws {
        let locator = PolicyEngineLocator(environment: ["PATH": "/nonexistent", "TOLLGATE_TOOLS": TestPaths.tools],
                                          baseDirectory: "/nonexistent/repo", isolatingExecutable: nil)
        #expect(try locator.locate(.auto).name.hasPrefix("opa "))
        #expect(try locator.locate(.regoCpp).name.hasPrefix("rego-cpp "))
    }
}
