import Foundation
import Testing
import TestSupport
import TollgateCore

/// Attribute diffs and masking, on real plan JSON from both engines (Tests/Fixtures/plans) and on
/// hand-made changes for the shapes the fixtures lack.
@Suite struct PlanDiffTests {
    static let engines = ["terraform-1.11.4", "terraform-1.0.3"]

    func plan(_ engine: String, _ name: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: TestPaths.fixture("plans/\(engine)/\(name).json"))
    }

    @Test(arguments: engines)
    func aReplacementShowsWhatChangesWhatForcesItAndNoSensitiveValue(engine: String) throws {
        let plan = try plan(engine, "sensitive")
        let holderID = try #require(plan["resource_changes"].flatMap { resources -> String? in
            guard case .array(let items) = resources else { return nil }
            return items.first { $0["address"] == .string("null_resource.holder") }?["change"]?["before"]?["id"]?.stringValue
        })
        #expect(ResourceDiff.all(in: plan) == [
            ResourceDiff(address: "null_resource.holder", action: "replace", attributes: [
                AttributeChange(path: "id", kind: .changed, before: "\"\(holderID)\"", after: "(known after apply)"),
                AttributeChange(path: "triggers.rev", kind: .changed, before: "\"1\"", after: "\"2\"", forcesReplacement: true),
            ], forcesReplacement: ["triggers"]),
            ResourceDiff(address: "null_resource.new_holder", action: "create", attributes: [
                AttributeChange(path: "id", kind: .added, before: nil, after: "(known after apply)"),
                AttributeChange(path: "triggers.public", kind: .added, before: nil, after: "\"visible\""),
                AttributeChange(path: "triggers.secret", kind: .added, before: nil, after: "(sensitive)"),
            ]),
        ])
        #expect(ResourceDiff.all(in: plan)[0].lines == [
            "~ id: \"\(holderID)\" → (known after apply)",
            "~ triggers.rev: \"1\" → \"2\"  (forces replacement)",
        ])
    }

    @Test(arguments: engines)
    func maskingLeavesNoSensitiveValueInThePlanJSON(engine: String) throws {
        let raw = try TestPaths.fixture("plans/\(engine)/sensitive.json")
        #expect(String(decoding: raw, as: UTF8.self).contains("fixture-secret-value"))
        let masked = SensitiveMask.plan(try JSONDecoder().decode(JSONValue.self, from: raw))
        #expect(!CanonicalJSON.encode(masked).contains("fixture-secret-value"))
        #expect(masked["variables"]?["secret"]?["value"] == .string("(sensitive)"))
        #expect(masked["output_changes"]?["secret_echo"]?["after"] == .string("(sensitive)"))
        // What is not sensitive is left as the engine wrote it.
        #expect(CanonicalJSON.encode(masked).contains("\"public\":\"visible\""))
        let unmarked = try plan(engine, "create")
        #expect(SensitiveMask.plan(unmarked) == unmarked)
    }

    @Test(arguments: engines)
    func theMaskedTextsAreKnownSoMessagesCanBeMaskedToo(engine: String) throws {
        let original = try plan(engine, "sensitive")
        let hidden = SensitiveMask.hiddenValues(original, masked: SensitiveMask.plan(original))
        #expect(hidden == ["fixture-secret-value"])
        let unmarked = try plan(engine, "create")
        #expect(SensitiveMask.hiddenValues(unmarked, masked: SensitiveMask.plan(unmarked)) == [])
    }

    @Test func nestedListsMapsRemovalsAndTypeChangesAreWalked() {
        let change: JSONValue = .object([
            "address": .string("aws_security_group.web"),
            "change": .object([
                "actions": .array([.string("update")]),
                "before": .object([
                    "ingress": .array([.object(["port": .number(80)]), .object(["port": .number(22)])]),
                    "tags": .object(["cost center": .string("a"), "old": .string("x")]),
                    "policy": .string("line one\nline two\nline three\n"),
                    "shape": .object(["a": .number(1)]),
                    "token": .string("t-1"),
                ]),
                "after": .object([
                    "ingress": .array([.object(["port": .number(443)])]),
                    "tags": .object(["cost center": .string("b"), "new": .string("y")]),
                    "policy": .string("line one\nline two\nline 3\n"),
                    "shape": .string("flat"),
                    "token": .string("t-2"),
                    "arn": .null,
                ]),
                "after_unknown": .object(["arn": .bool(true)]),
                "before_sensitive": .object(["token": .bool(true)]),
                "after_sensitive": .object(["token": .bool(true)]),
            ]),
        ])
        let diff = ResourceDiff(change, kind: .update)
        #expect(diff?.lines == [
            "+ arn = (known after apply)",
            "~ ingress[0].port: 80 → 443",
            "- ingress[1].port = 22",
            "~ policy (line 3): \"line three\" → \"line 3\"",
            "~ shape: {\"a\":1} → \"flat\"",
            "~ tags[\"cost center\"]: \"a\" → \"b\"",
            "+ tags.new = \"y\"",
            "- tags.old = \"x\"",
            "~ token: (sensitive) → (sensitive)",
        ])
    }

    @Test func longValuesAndManyAttributesAreCutAndCounted() throws {
        let long = String(repeating: "x", count: 500)
        #expect(ValueText.render(.string(long)) == "\"" + String(repeating: "x", count: 119) + "… (+ 382 more characters)")
        let after = JSONValue.object(Dictionary(uniqueKeysWithValues: (0..<50).map { (String(format: "k%02d", $0), JSONValue.number(Double($0))) }))
        let diff = try #require(ResourceDiff(.object(["address": .string("x.y"), "change": .object(["actions": .array([.string("create")]), "after": after])]),
                                             kind: .create))
        #expect(diff.attributes.count == AttributeChange.limit)
        #expect(diff.omitted == 10)
        #expect(diff.lines.last == "… 10 more attribute changes not listed")
    }

    @Test func deletionsReadsAndNoOpsListNoAttributes() throws {
        #expect(ResourceDiff.all(in: try plan("terraform-1.11.4", "delete")) == [])
        // A read and a no-op beside the one update: only the update lists attributes.
        let mixed = try JSONDecoder().decode(JSONValue.self, from: Data(#"""
            {"resource_changes": [
              {"address": "data.null_data_source.seen", "change": {"actions": ["read"], "before": null, "after": {"inputs": {"a": "1"}}}},
              {"address": "null_resource.same", "change": {"actions": ["no-op"], "before": {"id": "1"}, "after": {"id": "1"}}},
              {"address": "null_resource.gone", "change": {"actions": ["delete"], "before": {"id": "2"}, "after": null}},
              {"address": "null_resource.moved_on", "change": {"actions": ["update"], "before": {"id": "3", "tag": "v1"}, "after": {"id": "3", "tag": "v2"}}}
            ]}
            """#.utf8))
        #expect(ResourceDiff.all(in: mixed) == [
            ResourceDiff(address: "null_resource.moved_on", action: "update", attributes: [
                AttributeChange(path: "tag", kind: .changed, before: "\"v1\"", after: "\"v2\""),
            ]),
        ])
    }
}
