import Foundation
import Testing
import TollgateCore

/// Conftest's and `opa test`'s conventions, on plain values and a fake engine.
@Suite struct RegoConventionTests {
    @Test(arguments: [
        ("deny", PolicyMessage.Level.deny), ("violation", .deny), ("warn", .warn), ("deny_tags", .deny),
        ("warn_s3_public", .warn), ("violation_x", .deny),
    ])
    func rulesThatJudgeAPlan(name: String, level: PolicyMessage.Level) {
        #expect(RegoQueries.level(ofRule: name) == level)
    }

    @Test(arguments: ["denied", "deny_", "warning", "test_deny", "allow", "deny-x"])
    func rulesThatDoNot(name: String) {
        #expect(RegoQueries.level(ofRule: name) == nil)
    }

    @Test func messagesAreStringsOrObjectsWithMsg() {
        let document: JSONValue = .object([
            "deny": .array([.string("plain"), .object(["msg": .string("from msg"), "severity": .string("high")])]),
            "warn_x": .array([.object(["code": .number(7)])]),
            "allow": .bool(true),
            "test_deny": .bool(true),
        ])
        #expect(RegoQueries.messages(namespace: "main", document: document) == [
            PolicyMessage(level: .deny, rule: "main.deny", message: "plain"),
            PolicyMessage(level: .deny, rule: "main.deny", message: "from msg"),
            PolicyMessage(level: .warn, rule: "main.warn_x", message: #"{"code":7}"#),
        ])
        #expect(RegoQueries.messages(namespace: "main", document: nil).isEmpty)
    }

    @Test func reportStatus() {
        #expect(PolicyReport(engine: "e", messages: []).status == .pass)
        #expect(PolicyReport(engine: "e", messages: [PolicyMessage(level: .warn, rule: "main.warn", message: "w")]).status == .warn)
        let both = PolicyReport(engine: "e", messages: [PolicyMessage(level: .warn, rule: "main.warn", message: "w"),
                                                        PolicyMessage(level: .deny, rule: "main.deny", message: "d")])
        #expect(both.status == .fail)
        #expect(both.messages.first?.level == .deny)
    }

    @Test func testRulesAreFoundInTestFilesOnly() {
        let modules = [
            PolicyModule(path: "main.rego", source: "package main\ntest_not_here if { true }\n"),
            PolicyModule(path: "main_test.rego", source: """
                package main.checks  # a nested package
                import rego.v1

                test_one if { true }
                test_two {
                  true
                }
                  test_indented_is_not_a_rule_head := 1
                test_one if { false }
                """),
        ]
        #expect(RegoQueries.tests(in: modules).map(\.reference) == ["data.main.checks.test_one", "data.main.checks.test_two"])
        #expect(RegoQueries.tests(in: modules).map(\.file) == ["main_test.rego", "main_test.rego"])
    }

    actor Recorder {
        var queries: [[String]] = []
        func record(_ batch: [String]) { queries.append(batch) }
    }

    struct FakeRego: RegoQueryEngine {
        let name = "fake"
        let recorder: Recorder
        let answers: [String: JSONValue]
        func evaluate(modules: [PolicyModule], data: JSONValue, input: Data?, queries: [String]) async throws -> [JSONValue?] {
            #expect(!modules.contains(where: \.isTest) || input == nil, "a check never loads test files")
            await recorder.record(queries)
            return queries.map { answers[$0] }
        }
    }

    @Test func aCheckQueriesEachNamespaceOnceWithoutTestFiles() async throws {
        let recorder = Recorder()
        let engine = FakeRego(recorder: recorder, answers: ["data.main": .object(["deny": .array([.string("no")])])])
        let request = PolicyRequest(modules: [PolicyModule(path: "a.rego", source: ""), PolicyModule(path: "a_test.rego", source: "")],
                                    namespaces: ["main", "extra"], context: ["env": .string("prod")], input: Data("{}".utf8))
        #expect(request.data == .object(["tollgate": .object(["env": .string("prod")])]))
        let report = try await engine.check(request)
        #expect(report.messages == [PolicyMessage(level: .deny, rule: "main.deny", message: "no")])
        #expect(await recorder.queries == [["data.main", "data.extra"]])
    }

    @Test func testOutcomes() async throws {
        let engine = FakeRego(recorder: Recorder(), answers: ["data.p.test_ok": .bool(true), "data.p.test_odd": .number(3)])
        let modules = [PolicyModule(path: "p_test.rego", source: "package p\ntest_ok if { true }\ntest_missing if { false }\ntest_odd := 3\n")]
        #expect(try await engine.test(modules: modules, data: .object([:])) == [
            PolicyTestResult(name: "data.p.test_ok", file: "p_test.rego", outcome: .pass),
            PolicyTestResult(name: "data.p.test_missing", file: "p_test.rego", outcome: .fail, message: "undefined"),
            PolicyTestResult(name: "data.p.test_odd", file: "p_test.rego", outcome: .fail, message: "evaluated to 3"),
        ])
    }
}
