import Foundation
import TestSupport
import Testing
import TollgateCore

/// Decoding real plan JSON written by both engines (fixtures from Tests/Fixtures/plans/regenerate.sh).
@Suite struct PlanJSONTests {
    static let engines = ["terraform-1.11.4", "terraform-1.0.3"]

    func plan(_ engine: String, _ name: String) throws -> PlanJSON {
        try PlanJSON.decode(TestPaths.fixture("plans/\(engine)/\(name).json"))
    }

    func change(_ plan: PlanJSON, _ address: String) throws -> ResourceChange {
        try #require(plan.resourceChanges?.first { $0.address == address }, "no change for \(address)")
    }

    /// What Foundation's decoder alone would let through is refused, as the plan scanner refuses it
    /// (both inputs came from fuzzing, kept under fuzz/regressions/plan/).
    @Test func aDocumentThatIsNotJSONIsRefused() throws {
        let good = #"{"format_version": "1.2", "planned_values": {}, "configuration": {}, "resource_changes": [{"address": "a.b", "mode": "managed", "type": "a", "name": "b", "change": {"actions": ["no-op"]}}], "note": "a ,] in a string"}"#
        #expect(try PlanJSON.decode(Data(good.utf8)).resourceChanges?.count == 1)
        for (text, reason) in [
            (#"{"format_version": "1.2", "planned_values": {}, "configuration": {}, "resource_changes": [{"address": "a.b", "mode": "managed", "type": "a", "name": "b", "change": {"actions": ["no-op",]}}]}"#, "a comma before ']'"),
            (#"{"format_version": "1.2", "planned_values": {}, "configuration": {}, "configuration": {},}"#, "a comma before '}'"),
        ] {
            #expect(throws: DecodingError.self, "\(reason)") { try PlanJSON.decode(Data(text.utf8)) }
            #expect(throws: PlanScanError.self) { try PlanSummary(scanning: Data(text.utf8)) }
        }
        var invalid = Data(#"{"format_version": "1.2", "planned_values": {}, "configuration": {}, "x": ""#.utf8)
        invalid.append(0x80)
        invalid.append(contentsOf: Array(#""}"#.utf8))
        #expect(throws: DecodingError.self) { try PlanJSON.decode(invalid) }
        for file in ["crash-c670936e7d49d1467f685c5371c3c16914a6e64f", "crash-c9e0096943787e3e9067435cf0022d0a2d690d33"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.packageRoot + "/fuzz/regressions/plan/" + file))
            #expect(throws: DecodingError.self) { try PlanJSON.decode(data) }
        }
    }

    @Test(arguments: engines) func create(engine: String) throws {
        let plan = try plan(engine, "create")
        let summary = PlanSummary(plan)
        #expect(Set(summary.create) == ["null_resource.a", "null_resource.b", "null_resource.each[\"x\"]", "null_resource.each[\"y\"]",
                                        "null_resource.after_child", "module.child.null_resource.this[0]", "module.child.null_resource.this[1]"])
        #expect(summary.update.isEmpty && summary.replace.isEmpty && summary.delete.isEmpty)
        #expect(summary.hasChanges)
        let b = try change(plan, "null_resource.b")
        #expect(b.change.actions == [.create])
        #expect(b.change.before == nil || b.change.before == .null)
        #expect(b.change.afterUnknown?["id"] == .bool(true))
        let moduleChange = try change(plan, "module.child.null_resource.this[0]")
        #expect(moduleChange.moduleAddress == "module.child")
        #expect(moduleChange.index == .number(0))
        // The configuration shows what each expression references.
        let root = try #require(plan.configuration?.rootModule)
        #expect(root.moduleCalls?["child"]?.source == "./modules/child")
        let configB = try #require(root.resources?.first { $0.address == "null_resource.b" })
        #expect(configB.references.contains("null_resource.a.id"))
        #expect(plan.formatVersion == (engine == "terraform-1.0.3" ? "0.2" : "1.2"))
    }

    @Test(arguments: engines) func update(engine: String) throws {
        let plan = try plan(engine, "update")
        let a = try change(plan, "null_resource.a")
        #expect(a.change.kind == .update)
        #expect(a.change.afterSensitive == .object(["triggers": .object(["token": .bool(true)])]))
        #expect(try change(plan, "null_resource.unchanged").change.kind == .noOp)
        #expect(PlanSummary(plan).update == ["null_resource.a"])
        #expect(plan.outputChanges?["stage"]?.kind == .update)
        #expect(plan.outputChanges?["stage"]?.before == .string("one"))
        #expect(plan.outputChanges?["stage"]?.after == .string("two"))
    }

    @Test(arguments: engines) func replace(engine: String) throws {
        let plan = try plan(engine, "replace")
        #expect(try change(plan, "null_resource.destroy_first").change.actions == [.delete, .create])
        #expect(try change(plan, "null_resource.create_first").change.actions == [.create, .delete])
        let forced = try change(plan, "null_resource.forced")
        #expect(forced.actionReason == "replace_by_request")
        let summary = PlanSummary(plan)
        #expect(Set(summary.replace) == ["null_resource.destroy_first", "null_resource.create_first", "null_resource.dependent", "null_resource.forced"])
        #expect(Set(summary.destructive) == Set(summary.replace))
        #expect(summary.counts == "0 to create, 0 to update, 4 to replace, 0 to delete")
    }

    @Test(arguments: engines) func delete(engine: String) throws {
        let plan = try plan(engine, "delete")
        let summary = PlanSummary(plan)
        #expect(Set(summary.delete) == ["null_resource.removed", "null_resource.counted[1]", "module.child.null_resource.this[0]"])
        #expect(summary.create.isEmpty)
        let removed = try change(plan, "null_resource.removed")
        #expect(removed.change.after == nil || removed.change.after == .null)
        #expect(removed.change.before?["id"]?.stringValue?.isEmpty == false)
        // The prior state holds what is about to be deleted.
        let prior = try #require(plan.priorState?.values?.rootModule?.allResources.map(\.address))
        #expect(prior.contains("null_resource.removed"))
        #expect(prior.contains("module.child.null_resource.this[0]"))
    }

    @Test(arguments: engines) func outputs(engine: String) throws {
        let plan = try plan(engine, "outputs")
        let outputs = try #require(plan.outputChanges)
        #expect(outputs["changed"]?.kind == .update)
        #expect(outputs["unchanged"]?.kind == .noOp)
        #expect(outputs["removed"]?.kind == .delete)
        #expect(outputs["added_sensitive"]?.kind == .create)
        #expect(outputs["added_sensitive"]?.afterSensitive == .bool(true))
        #expect(outputs["added_unknown"]?.afterUnknown == .bool(true))
        #expect(outputs["added_object"]?.after?["name"] != nil || outputs["added_object"]?.after != nil)
        let summary = PlanSummary(plan)
        #expect(summary.create == ["null_resource.new"])
        #expect(Set(summary.outputChanges) == ["changed", "removed", "was_sensitive", "added_sensitive", "added_unknown", "added_object"])
    }

    @Test(arguments: engines) func sensitive(engine: String) throws {
        let plan = try plan(engine, "sensitive")
        let holder = try change(plan, "null_resource.holder")
        #expect(holder.change.kind == .replace)
        #expect(holder.change.beforeSensitive?.containsTrue == true)
        #expect(holder.change.afterSensitive?.containsTrue == true)
        let fresh = try change(plan, "null_resource.new_holder")
        #expect(fresh.change.beforeSensitive == .bool(false))
        #expect(fresh.change.afterSensitive == .object(["triggers": .object(["secret": .bool(true)])]))
        // The engine writes sensitive variable values in plain text: tollgate must never echo `variables`.
        #expect(plan.variables?["secret"]?.value == .string("fixture-secret-value"))
        #expect(plan.configuration?.rootModule?.variables?["secret"]?.sensitive == true)
        #expect(plan.outputChanges?["secret_echo"]?.afterSensitive == .bool(true))
    }

    @Test(arguments: engines) func empty(engine: String) throws {
        let plan = try plan(engine, "empty")
        let summary = PlanSummary(plan)
        #expect(!summary.hasChanges)
        #expect(summary.counts == "0 to create, 0 to update, 0 to replace, 0 to delete")
        #expect(plan.resourceChanges?.allSatisfy { $0.change.kind == .noOp } == true)
        #expect(plan.priorState?.values?.rootModule?.allResources.count == 2)
    }

    @Test(arguments: engines) func drift(engine: String) throws {
        let plan = try plan(engine, "drift")
        #expect(plan.resourceDrift?.map(\.address) == ["null_resource.gone"])
        #expect(plan.resourceDrift?.first?.change.kind == .delete)
        #expect(PlanSummary(plan).drifted == ["null_resource.gone"])
        let refreshOnly = try self.plan(engine, "drift-refresh-only")
        #expect(refreshOnly.resourceChanges == nil)
        #expect(PlanSummary(refreshOnly).drifted == ["null_resource.gone"])
        #expect(!PlanSummary(refreshOnly).hasChanges)
    }

    /// Unknown members are tolerated (format 1.x promises only additions); an unknown action is
    /// counted as "other" and shown, never taken for a no-op.
    @Test func unknownFieldsAreToleratedAndUnknownActionsCountedAsOther() throws {
        let json = """
            {"format_version":"1.9","planned_values":{},"configuration":{},"future_field":{"x":[1,2]},"resource_changes":[
              {"address":"a.b","mode":"managed","type":"a","name":"b","change":{"actions":["teleport"],"extra":true}},
              {"address":"a.c","mode":"managed","type":"a","name":"c","change":{"actions":["create","teleport"]}}]}
            """
        let plan = try PlanJSON.decode(Data(json.utf8))
        #expect(plan.resourceChanges?.first?.change.actions == [.other("teleport")])
        #expect(plan.resourceChanges?.first?.change.kind == .other)
        var expected = PlanSummary()
        expected.other = [.init(address: "a.b", actions: ["teleport"]), .init(address: "a.c", actions: ["create", "teleport"])]
        #expect(PlanSummary(plan) == expected)
        #expect(try PlanSummary(scanning: Data(json.utf8)) == expected)
        #expect(expected.hasChanges)
        #expect(expected.counts == "0 to create, 0 to update, 0 to replace, 0 to delete, 2 other")
    }

    /// What is not a `terraform show -json` plan is refused by both readers, saying what it is or
    /// what it lacks: before, a state, `{"foo": 1}` and `null` were summarised as empty plans.
    @Test func aDocumentThatIsNotAPlanIsRefusedByBothReadersSayingWhy() throws {
        let cases: [(Data, PlanInputError)] = [
            (try TestPaths.fixture("plans/not-plans/state-show.json"), .state),
            (try TestPaths.fixture("plans/not-plans/raw.tfstate"), .state),
            (try TestPaths.fixture("plans/not-plans/outputs.json"), .missing(["format_version", "planned_values", "configuration"])),
            (Data(#"{"foo": 1}"#.utf8), .missing(["format_version", "planned_values", "configuration"])),
            (Data(#"{"format_version": "1.2", "resource_changes": []}"#.utf8), .missing(["planned_values", "configuration"])),
            (Data("null".utf8), .notAnObject),
            (Data(" [1, 2] ".utf8), .notAnObject),
            (Data(#""plan""#.utf8), .notAnObject),
            (Data(#"{"format_version": "2.0", "planned_values": {}, "configuration": {}}"#.utf8), .unsupportedFormat("2.0")),
        ]
        for (data, expected) in cases {
            #expect(throws: expected) { try PlanJSON.decode(data) }
            #expect(throws: expected) { try PlanSummary(scanning: data) }
        }
        #expect(PlanInputError.state.description == "is a state, not a plan: it has no 'planned_values' and it has the 'values' of 'terraform show -json' without a plan file, or the 'lineage' of a .tfstate file; write the plan with 'terraform plan -out=PLANFILE' and 'terraform show -json PLANFILE > plan.json'")
        #expect(PlanInputError.missing(["format_version", "planned_values", "configuration"]).description
            == "is not a plan: it has no 'format_version', 'planned_values', 'configuration', which every 'terraform show -json PLANFILE' output has; write the plan with 'terraform plan -out=PLANFILE' and 'terraform show -json PLANFILE > plan.json'")
    }

    /// A member of the wrong type is named by its path.
    @Test func aMalformedMemberIsNamedByItsPath() throws {
        let cases = [
            (#"{"format_version":"1.2","planned_values":{},"configuration":{},"resource_changes": 3}"#, "'resource_changes' is not an array"),
            (#"{"format_version":"1.2","planned_values":{},"configuration":{},"resource_changes":[{"address":"a.b","mode":"managed","type":"a","name":"b","change":{}}]}"#,
             "'resource_changes[0].change' has no 'actions'"),
            (#"{"format_version":"1.2","planned_values":{},"configuration":{},"errored":"no"}"#, "'errored' is not true or false"),
        ]
        for (json, detail) in cases {
            #expect(throws: PlanInputError.malformed(detail)) { try PlanJSON.decode(Data(json.utf8)) }
        }
    }

    /// Moves, imports, failing checks and the engine's verdict (errored, applyable, complete) were
    /// dropped from the summary; they are read from real plans of both engines, by both readers.
    @Test func movesImportsChecksAndTheEngineVerdictAreRead() throws {
        func summary(_ name: String, _ engine: String = "terraform-1.11.4") throws -> PlanSummary {
            let data = try TestPaths.fixture("plans/\(engine)/\(name).json")
            let decoded = PlanSummary(try PlanJSON.decode(data))
            #expect(try PlanSummary(scanning: data) == decoded, "\(engine)/\(name)")
            return decoded
        }
        var moved = PlanSummary()
        moved.create = ["null_resource.extra"]
        moved.moved = [.init(from: "null_resource.old_name", to: "null_resource.web")]
        moved.checks = [.init(address: "check.replicas_small", status: "fail", problems: ["replicas must stay below 2 in this fixture"])]
        (moved.errored, moved.applyable, moved.complete) = (false, true, true)
        #expect(try summary("moved-checks") == moved)
        #expect(moved.blockers.isEmpty)

        var imported = PlanSummary()
        imported.update = ["terraform_data.adopted"]
        imported.create = ["terraform_data.fresh"]
        imported.imported = [.init(address: "terraform_data.adopted", id: "fixture-imported-id")]
        (imported.errored, imported.applyable, imported.complete) = (false, true, true)
        #expect(try summary("import") == imported)
        #expect(imported.counts == "1 to create, 1 to update, 0 to replace, 0 to delete, 1 to import")

        var errored = PlanSummary()
        errored.create = ["null_resource.fine"]
        (errored.errored, errored.applyable, errored.complete) = (true, false, false)
        #expect(try summary("errored") == errored)
        #expect(errored.blockers == [
            "the engine reported errors while planning (errored: true); fix them and plan again",
            "the plan is incomplete (complete: false): it was planned with -target, or leaves changes out; plan again without -target so that every change is in the plan",
        ])

        var targeted = PlanSummary()
        targeted.create = ["null_resource.a"]
        targeted.outputChanges = ["a_id"]
        #expect(try summary("targeted", "terraform-1.0.3") == targeted)
        (targeted.errored, targeted.applyable, targeted.complete) = (false, true, false)
        #expect(try summary("targeted") == targeted)
        #expect(targeted.blockers.count == 1)

        // A plan with nothing to do is not applyable, and that is no reason to block it.
        let empty = try summary("empty")
        #expect(empty.applyable == false && empty.blockers.isEmpty)
    }

    /// The engine's reasons for replacing and deleting are kept, in words for the review.
    @Test func actionReasonsAreKept() throws {
        let replace = PlanSummary(try plan("terraform-1.11.4", "replace"))
        #expect(replace.reasonsInWords["null_resource.forced"] == "replacement requested with -replace")
        #expect(replace.reasonsInWords["null_resource.destroy_first"] == "an attribute that cannot change in place changes")
        #expect(replace.reasons.count == 4)
        let delete = PlanSummary(try plan("terraform-1.11.4", "delete"))
        #expect(delete.reasonsInWords == [
            "null_resource.removed": "no longer in the configuration",
            "null_resource.counted[1]": "its count index is gone",
            // Terraform 1.11.4 gives a removed module's resources the same reason as a removed resource.
            "module.child.null_resource.this[0]": "no longer in the configuration",
        ])
    }

    /// Deferred changes (Terraform's experimental deferral; no release on this machine makes them,
    /// so this document follows the format's definition) are listed and make the plan incomplete.
    @Test func deferredChangesAreListedAndBlock() throws {
        let json = #"""
            {"format_version":"1.2","planned_values":{},"configuration":{},"applyable":true,"complete":false,"errored":false,
             "resource_changes":[],
             "deferred_changes":[{"reason":"instance_count_unknown","resource_change":{"address":"aws_instance.web[\"a\"]","mode":"managed",
                                  "type":"aws_instance","name":"web","change":{"actions":["create"]}}},{"reason":"provider_config_unknown","resource_change":null}]}
            """#
        let data = Data(json.utf8)
        var expected = PlanSummary()
        expected.deferred = [.init(address: #"aws_instance.web["a"]"#, reason: "instance_count_unknown"), .init(address: nil, reason: "provider_config_unknown")]
        (expected.errored, expected.applyable, expected.complete) = (false, true, false)
        #expect(PlanSummary(try PlanJSON.decode(data)) == expected)
        #expect(try PlanSummary(scanning: data) == expected)
        #expect(expected.blockers == ["the plan is incomplete (complete: false): the engine deferred 2 changes; plan again without -target so that every change is in the plan"])
    }
}
