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
        let good = #"{"format_version": "1.2", "resource_changes": [{"address": "a.b", "mode": "managed", "type": "a", "name": "b", "change": {"actions": ["no-op"]}}], "note": "a ,] in a string"}"#
        #expect(try PlanJSON.decode(Data(good.utf8)).resourceChanges?.count == 1)
        for (text, reason) in [
            (#"{"format_version": "1.2", "resource_changes": [{"address": "a.b", "mode": "managed", "type": "a", "name": "b", "change": {"actions": ["no-op",]}}]}"#, "a comma before ']'"),
            (#"{"format_version": "1.2", "configuration": {},}"#, "a comma before '}'"),
        ] {
            #expect(throws: DecodingError.self, "\(reason)") { try PlanJSON.decode(Data(text.utf8)) }
            #expect(throws: PlanScanError.self) { try PlanSummary(scanning: Data(text.utf8)) }
        }
        var invalid = Data(#"{"format_version": "1.2", "x": ""#.utf8)
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

    @Test func unknownFieldsAndActionsAreTolerated() throws {
        let json = """
            {"format_version":"9.9","future_field":{"x":[1,2]},"resource_changes":[
              {"address":"a.b","mode":"managed","type":"a","name":"b","change":{"actions":["teleport"],"extra":true}}]}
            """
        let plan = try PlanJSON.decode(Data(json.utf8))
        #expect(plan.resourceChanges?.first?.change.actions == [.other("teleport")])
        #expect(plan.resourceChanges?.first?.change.kind == .noOp)
    }

    @Test func malformedJSONThrows() {
        #expect(throws: DecodingError.self) { try PlanJSON.decode(Data("{\"resource_changes\": 3}".utf8)) }
    }
}
