import Foundation
import TestSupport
import Testing
import TollgateCore
@testable import TollgatePolicy

/// `.tf` files in conftest's HCL2 shape, what `policy check` reads, and the parts of conftest's
/// conventions that need no engine: exceptions and the rule names it judges.
@Suite struct ConftestHCLTests {
    static let directory = TestPaths.fixtures + "/policies/conftest"

    func converted(_ relative: String) throws -> JSONValue {
        try ConftestHCL.convert(try String(contentsOfFile: Self.directory + "/" + relative, encoding: .utf8), file: relative)
    }

    @Test func aRootModuleHasConftestsShape() throws {
        let expected = try JSONDecoder().decode(JSONValue.self, from: try TestPaths.fixture("policies/conftest/tf-main.expected.json"))
        #expect(try converted("tf/main.tf") == expected)
    }

    @Test func tfvarsAndASecondFileConvertWhole() throws {
        #expect(try converted("tf/terraform.tfvars") == .object(["region": .string("eu-central-1"), "team": .string("payments")]))
        #expect(try converted("tf/website.tf") == .object([
            "resource": .object(["aws_s3_bucket_acl": .object(["website": .array([.object(["bucket": .string("www-example"), "acl": .string("public-read")])])])]),
            "locals": .array([.object(["public_website": .bool(true)])]),
        ]))
    }

    @Test func badHCLIsAnErrorNamingFileLineAndColumn() throws {
        #expect(throws: ConftestHCL.ConversionError.self) { try ConftestHCL.convert("resource \"a\" \"b\" {\n  x = \n}\n", file: "bad.tf") }
        do {
            _ = try ConftestHCL.convert("resource \"a\" \"b\" {\n  x = \n}\n", file: "bad.tf")
        } catch {
            #expect(error.description == "bad.tf:2:7: is not valid HCL: expected an expression here; fix it, then check again")
        }
        do {
            _ = try ConftestHCL.convert("thing \"a\" {}\nthing {}\n", file: "clash.tf")
            Issue.record("blocks with different label counts converted")
        } catch {
            #expect(error.description == "clash.tf:2:1: block 'thing' cannot be given to the policies: another 'thing' block here has a different number of labels, so conftest's HCL2 shape has no place for both; give them the same labels")
        }
        // Nesting far deeper than any real file is an error, never a stack overflow.
        let deep = "x = " + String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000) + "\n"
        #expect(throws: ConftestHCL.ConversionError.self) { try ConftestHCL.convert(deep, file: "deep.tf") }
    }

    @Test func aDirectoryIsItsHCLFilesSortedWithoutHiddenOnes() throws {
        let inputs = try PolicyInputs.load(Self.directory + "/tf", shownAs: "tf")
        #expect(inputs.map(\.file) == ["tf/main.tf", "tf/terraform.tfvars", "tf/website.tf"])
        #expect(inputs.map(\.parser) == [.hcl2, .hcl2, .hcl2])
        #expect(inputs[2].members == ["resource", "locals"])
        #expect(try JSONDecoder().decode(JSONValue.self, from: inputs[0].json) == (try converted("tf/main.tf")))
    }

    @Test func jsonThatIsNotAPlanIsRefusedSayingWhy() throws {
        let notPlans = TestPaths.fixtures + "/plans/not-plans"
        #expect(throws: PolicyInputs.InputError("'raw.tfstate' is neither plan JSON (.json) nor HCL (.tf, .tfvars, .hcl); give a plan written by 'terraform show -json PLANFILE > plan.json' or a .tf file")) {
            try PolicyInputs.load(notPlans + "/raw.tfstate", shownAs: "raw.tfstate")
        }
        #expect(throws: PolicyInputs.InputError("'state-show.json' " + PlanInputError.state.description)) {
            try PolicyInputs.load(notPlans + "/state-show.json", shownAs: "state-show.json")
        }
        let plan = try PolicyInputs.load(TestPaths.fixtures + "/plans/terraform-1.11.4/delete.json", shownAs: "delete.json")
        #expect(plan.map(\.parser) == [.json])
        #expect(plan[0].json == (try TestPaths.fixture("plans/terraform-1.11.4/delete.json")), "plan JSON reaches the policies byte for byte")
    }

    @Test func theMembersPoliciesReadDecideWhatInputIsRefused() throws {
        let hclPolicies = try ["s3.rego"].map { PolicyModule(path: $0, source: try String(contentsOfFile: Self.directory + "/policy/" + $0, encoding: .utf8)) }
        #expect(RegoQueries.inputMembers(readBy: hclPolicies) == ["resource", "locals"])
        let planPolicy = PolicyModule(path: "p.rego", source: """
            package main
            # input.ignored is in a comment
            import input.planned_values as pv
            deny contains "x" if { input["resource_changes"][_].type == "input.not_this"; myinput.other }
            """)
        #expect(RegoQueries.inputMembers(readBy: [planPolicy]) == ["planned_values", "resource_changes"])
        let plan = try PolicyInputs.load(TestPaths.fixtures + "/plans/terraform-1.11.4/delete.json", shownAs: "delete.json")[0]
        #expect(RegoQueries.unread(input: plan.members, file: "'delete.json'", read: ["resource_changes"]) == nil)
        #expect(RegoQueries.unread(input: ["resource", "locals"], file: "'main.tf'", read: ["planned_values", "resource_changes"])
            == "the policies read input.planned_values, input.resource_changes, but 'main.tf' has none of them (it has 'locals', 'resource'), so they would judge nothing: they are written for plan JSON ('terraform show -json PLANFILE'); give them that input, or point policies.path at the policies written for this one")
        #expect(RegoQueries.unread(input: [], file: "x", read: []) == nil, "policies that read input whole judge anything")
    }

    @Test func exceptionsExemptRulesAsConftestDefinesThem() {
        let document: JSONValue = .object([
            "deny_public": .array([.string("bucket is public")]),
            "violation_public": .array([.object(["msg": .string("structured")])]),
            "deny": .array([.string("bare")]),
            "warn_tags": .array([.string("no tags")]),
            "deny_other": .array([.string("kept")]),
            "exception": .array([.array([.string("public")]), .array([.string("")]), .array([.string("warn_tags")])]),
        ])
        let judged = RegoQueries.judge(namespace: "main", document: document)
        #expect(judged.messages == [PolicyMessage(level: .deny, rule: "main.deny_other", message: "kept")])
        #expect(judged.exceptions == [
            PolicyException(rule: "main.deny", messages: ["bare"]),
            PolicyException(rule: "main.deny_public", messages: ["bucket is public"]),
            PolicyException(rule: "main.violation_public", messages: ["structured"]),
            PolicyException(rule: "main.warn_tags", messages: ["no tags"]),
        ])
        // conftest's own query names the bare rule by itself: exception ["deny"] exempts `deny`.
        let byName = RegoQueries.judge(namespace: "main", document: .object(["deny": .array([.string("bare")]), "exception": .array([.array([.string("deny")])])]))
        #expect(byName.messages.isEmpty && byName.exceptions.map(\.rule) == ["main.deny"])
        // Without an exception nothing is exempt.
        #expect(RegoQueries.judge(namespace: "main", document: .object(["deny_public": .array([.string("x")])])).messages.count == 1)
    }

    @Test func ruleNamesFollowConftestsPattern() {
        #expect(RegoQueries.level(ofRule: "deny") == .deny)
        #expect(RegoQueries.level(ofRule: "violation_s3_acl") == .deny)
        #expect(RegoQueries.level(ofRule: "warn_tags2") == .warn)
        for name in ["denyx", "deny_", "deny__x", "deny_x_", "warning", "exception", "deny_é"] {
            #expect(RegoQueries.level(ofRule: name) == nil, "\(name)")
        }
    }
}
