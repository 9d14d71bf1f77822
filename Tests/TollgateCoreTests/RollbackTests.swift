import Foundation
import Testing
import TollgateCore

/// Risks of a rollback plan and the recommendation, on plan JSON written for each case.
@Suite struct RollbackAnalyzerTests {
    func plan(_ changes: String, outputs: String = "{}") throws -> PlanJSON {
        try PlanJSON.decode(Data(#"{"format_version": "1.2", "planned_values": {}, "configuration": {}, "resource_changes": [\#(changes)], "output_changes": \#(outputs)}"#.utf8))
    }

    func change(_ address: String, _ type: String, _ actions: String, before: String = "{}", after: String = "{}") -> String {
        let name = address.split(separator: ".").last.map(String.init) ?? address
        return #"{"address": "\#(address)", "mode": "managed", "type": "\#(type)", "name": "\#(name)", "change": {"actions": \#(actions), "before": \#(before), "after": \#(after)}}"#
    }

    @Test func eachKindOfRiskIsFound() throws {
        let json = try plan([
            change("aws_db_instance.main", "aws_db_instance", #"["delete", "create"]"#),
            change("random_password.db", "random_password", #"["create", "delete"]"#),
            change("aws_instance.new", "aws_instance", #"["delete"]"#, after: "null"),
            change("aws_rds_cluster.main", "aws_rds_cluster", #"["update"]"#, before: #"{"engine_version": "15.4", "port": 5432}"#,
                   after: #"{"engine_version": "14.9", "port": 5432}"#),
            change("aws_instance.web", "aws_instance", #"["update"]"#, before: #"{"ami_version": "2"}"#, after: #"{"ami_version": "3"}"#),
        ].joined(separator: ","), outputs: #"{"db_host": {"actions": ["update"], "before": "a", "after": "b"}, "same": {"actions": ["no-op"]}}"#)
        let risks = RollbackAnalyzer.risks(of: json, stack: "data", readers: [OutputReader(stack: "app", outputs: nil)])
        #expect(risks.map { "\($0.kind.rawValue) \($0.subject)" } == [
            "data-loss aws_db_instance.main",
            "secret-regenerated random_password.db",
            "created-since-target aws_instance.new",
            "downgrade aws_rds_cluster.main",
            "consumed-output db_host",
        ])
        #expect(risks[3].detail == "aws_rds_cluster.main: engine_version goes down from 15.4 to 14.9, which providers usually refuse")
        #expect(RollbackAnalyzer.risks(of: json, stack: "data", readers: []).contains { $0.kind == .consumedOutput } == false)
        // A reader of other outputs is not hurt by this one changing; a reader of it is named.
        #expect(RollbackAnalyzer.risks(of: json, stack: "data", readers: [OutputReader(stack: "app", outputs: ["same"])]).contains { $0.kind == .consumedOutput } == false)
        let named = RollbackAnalyzer.risks(of: json, stack: "data", readers: [OutputReader(stack: "app", outputs: ["db_host"]), OutputReader(stack: "web", outputs: ["same"])])
        #expect(named.filter { $0.kind == .consumedOutput }.map(\.detail) == ["output 'db_host' of 'data' changes and app reads it"])
    }

    @Test func aStatefulResourceCreatedAgainIsEmptyAndAProtectedOneIsForwardFixed() throws {
        let json = try plan([
            change("aws_db_instance.main", "aws_db_instance", #"["create"]"#, before: "null"),
            change("random_password.db", "random_password", #"["create"]"#, before: "null"),
            change("module.store[1].aws_s3_bucket.logs[0]", "aws_s3_bucket", #"["delete"]"#, after: "null"),
            change("aws_instance.web", "aws_instance", #"["delete"]"#, after: "null"),
        ].joined(separator: ","))
        let risks = RollbackAnalyzer.risks(of: json, stack: "data", readers: [], protected: ["module.store.aws_s3_bucket.logs"])
        #expect(risks.map { "\($0.kind.rawValue) \($0.subject)" } == [
            "recreated-empty aws_db_instance.main",
            "secret-regenerated random_password.db",
            "created-since-target module.store[1].aws_s3_bucket.logs[0]",
            "protected-now module.store[1].aws_s3_bucket.logs[0]",
            "data-loss module.store[1].aws_s3_bucket.logs[0]",
            "created-since-target aws_instance.web",
        ])
        #expect(risks[0].detail == "aws_db_instance.main (aws_db_instance) is created anew: the one the target release ran was destroyed since, so it starts empty and its data is gone")
        let recreated = RollbackAnalyzer.recommend(risks.filter { $0.kind != .protectedNow })
        #expect(recreated.0 == .revertWithCare)
        #expect(recreated.steps.contains("after applying, restore the data of aws_db_instance.main in data from a backup taken before it was destroyed"))
        let protected = RollbackAnalyzer.recommend(risks)
        #expect(protected.0 == .forwardFix)
        #expect(protected.reasons == [risks[3].detail])
    }

    @Test func configurationAddressesDropInstanceKeys() {
        #expect(RollbackAnalyzer.configurationAddress("aws_s3_bucket.b") == "aws_s3_bucket.b")
        #expect(RollbackAnalyzer.configurationAddress("module.a[\"x]y\"].module.b[2].aws_s3_bucket.c[0]") == "module.a.module.b.aws_s3_bucket.c")
        #expect(RollbackAnalyzer.configurationAddress("module.a[\"q\\\"[\"].r.s") == "module.a.r.s")
    }

    @Test func recommendations() {
        func risk(_ kind: RollbackRisk.Kind, _ subject: String = "x.y") -> RollbackRisk {
            RollbackRisk(kind: kind, stack: "s", subject: subject, detail: "\(kind.rawValue) of \(subject)")
        }
        #expect(RollbackAnalyzer.recommend([]).0 == .revert)
        #expect(RollbackAnalyzer.recommend([risk(.createdSinceTarget)]).0 == .revert)
        let careful = RollbackAnalyzer.recommend([risk(.createdSinceTarget), risk(.dataLoss, "aws_db_instance.main"), risk(.secretRegenerated, "random_password.db")])
        #expect(careful.0 == .revertWithCare)
        #expect(careful.steps == [
            "before applying, snapshot or back up aws_db_instance.main in s and check the backup restores",
            "after applying, hand the new value of random_password.db to everything that used the old one (rotate consumers)",
        ])
        let forward = RollbackAnalyzer.recommend([risk(.dataLoss), risk(.downgrade, "aws_rds_cluster.main")])
        #expect(forward.0 == .forwardFix)
        #expect(forward.reasons == ["downgrade of aws_rds_cluster.main"])
        #expect(forward.steps.last?.contains("keeping aws_rds_cluster.main as they are now") == true)
    }

    @Test func preventDestroyErrorsNameTheirAddresses() {
        let error = """
            Error: Instance cannot be destroyed

              on main.tf line 1:
               1: resource "null_resource" "db" {

            Resource null_resource.db has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed.
            """
        #expect(RollbackAnalyzer.preventDestroyAddresses(inError: error) == ["null_resource.db"])
        #expect(RollbackAnalyzer.preventDestroyAddresses(inError: "Error: something else about resource x.y").isEmpty)
    }

    /// Terraform 1.11.4's text for an 80-character address: wrapped at 78 columns, in a box on a TTY.
    @Test func wrappedPreventDestroyErrorsNameTheWholeAddress() {
        let address = "module.some_long_module_name.module.another_nested_module.null_resource.x[0]"
        let plain = """
            Error: Instance cannot be destroyed

              on modules/a/b/main.tf line 2:
               2: resource "null_resource" "x" {

            Resource
            \(address)
            has lifecycle.prevent_destroy set, but the plan calls for this resource to be
            destroyed.
            """
        #expect(RollbackAnalyzer.preventDestroyAddresses(inError: plain) == [address])
        let boxed = """
            ╷
            │ Error: Instance cannot be destroyed
            │
            │ Resource
            │ module.network.module.subnets.aws_subnet.private["a b"]
            │ has lifecycle.prevent_destroy set, but the plan calls for this resource to be
            │ destroyed.
            ╵
            """
        #expect(RollbackAnalyzer.preventDestroyAddresses(inError: boxed) == ["module.network.module.subnets.aws_subnet.private[\"a b\"]"])
    }

    /// `plan -json` lines as Terraform 1.0.3 and 1.11.4 print them: the address is in the detail.
    @Test func preventDestroyDiagnosticsAreReadAsData() {
        let address = "module.some_long_module_name.module.another_nested_module.null_resource.x[0]"
        let lines = """
            {"@level":"info","@message":"Terraform 1.0.3","type":"version","terraform":"1.0.3"}
            {"@level":"error","@message":"Error: Instance cannot be destroyed","diagnostic":{"severity":"error","summary":"Instance cannot be destroyed","detail":"Resource \(address) has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed.","range":{"filename":"modules/a/b/main.tf","start":{"line":2,"column":1,"byte":17},"end":{"line":2,"column":29,"byte":45}}},"type":"diagnostic"}
            {"@level":"warn","@message":"Warning: x","diagnostic":{"severity":"warning","summary":"x","address":"null_resource.ignored"},"type":"diagnostic"}
            not json at all
            """
        let diagnostics = EngineDiagnostic.parse(jsonLines: Data(lines.utf8))
        #expect(diagnostics.map(\.summary) == ["Instance cannot be destroyed", "x"])
        #expect(EngineDiagnostic.preventDestroyAddresses(diagnostics) == [address])
        let withAddress = [EngineDiagnostic(severity: "error", summary: "Instance cannot be destroyed", detail: "wrapped text", address: "null_resource.db")]
        #expect(EngineDiagnostic.preventDestroyAddresses(withAddress) == ["null_resource.db"])
    }
}
