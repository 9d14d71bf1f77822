import Foundation
import TestSupport
import Testing
import TollgateCore

/// Drift from refresh-only plan JSON, and when it stops blocking.
@Suite struct DriftTests {
    static let time = Date(timeIntervalSince1970: 1_790_000_000)

    func plan(_ drift: String) throws -> PlanJSON {
        try PlanJSON.decode(Data(#"{"format_version": "1.2", "planned_values": {}, "configuration": {}, "resource_drift": [\#(drift)]}"#.utf8))
    }

    @Test func attributeLevelDifferencesWithSensitiveValuesHidden() throws {
        let drifted = DriftedResource.all(in: try plan("""
            {"address": "aws_db_instance.main", "mode": "managed", "type": "aws_db_instance", "name": "main",
             "change": {"actions": ["update"],
                        "before": {"id": "db-1", "instance_class": "db.t3.small", "password": "old-secret", "tags": {"owner": "team-a"},
                                   "ingress": [{"cidr": "10.0.0.0/8"}, {"cidr": "10.1.0.0/16"}]},
                        "after": {"id": "db-1", "instance_class": "db.t3.large", "password": "new-secret", "tags": {"owner": "team-a", "hotfix": "yes"},
                                  "ingress": [{"cidr": "10.0.0.0/8"}, {"cidr": "0.0.0.0/0"}]},
                        "before_sensitive": {"password": true, "tags": {}, "ingress": [{}, {}]},
                        "after_sensitive": {"password": true, "tags": {}, "ingress": [{}, {}]}}},
            {"address": "null_resource.gone", "mode": "managed", "type": "null_resource", "name": "gone",
             "change": {"actions": ["delete"], "before": {"id": ""}, "after": null}},
            {"address": "null_resource.same", "mode": "managed", "type": "null_resource", "name": "same",
             "change": {"actions": ["update"], "before": {"id": "1"}, "after": {"id": "1"}}}
            """))
        #expect(drifted == [
            DriftedResource(address: "aws_db_instance.main", kind: .changed, attributes: [
                DriftedAttribute(path: "ingress[1].cidr", recorded: #""10.1.0.0/16""#, actual: #""0.0.0.0/0""#),
                DriftedAttribute(path: "instance_class", recorded: #""db.t3.small""#, actual: #""db.t3.large""#),
                DriftedAttribute(path: "password", recorded: "(sensitive)", actual: "(sensitive)"),
                DriftedAttribute(path: "tags.hotfix", recorded: nil, actual: #""yes""#),
            ]),
            DriftedResource(address: "null_resource.gone", kind: .deleted, attributes: []),
        ])
    }

    @Test func aFullPlanNamesWhatTheStateHoldsAgainstTheRelease() throws {
        let json = #"""
            {"format_version": "1.2", "planned_values": {}, "configuration": {}, "resource_changes": [
              {"address": "null_resource.kept", "mode": "managed", "type": "null_resource", "name": "kept",
               "change": {"actions": ["delete", "create"], "before": {"id": "1", "triggers": {"tag": "v9"}}, "after": {"triggers": {"tag": "v1"}},
                          "after_unknown": {"id": true, "triggers": {}}}},
              {"address": "null_resource.removed", "mode": "managed", "type": "null_resource", "name": "removed",
               "change": {"actions": ["create"], "before": null, "after": {}, "after_unknown": {"id": true}}},
              {"address": "null_resource.extra", "mode": "managed", "type": "null_resource", "name": "extra",
               "change": {"actions": ["delete"], "before": {"id": "2"}, "after": null}},
              {"address": "data.null_data_source.x", "mode": "data", "type": "null_data_source", "name": "x",
               "change": {"actions": ["read"], "before": null, "after": {}}},
              {"address": "null_resource.same", "mode": "managed", "type": "null_resource", "name": "same",
               "change": {"actions": ["no-op"], "before": {"id": "3"}, "after": {"id": "3"}}}
            ], "resource_drift": [
              {"address": "null_resource.extra", "mode": "managed", "type": "null_resource", "name": "extra",
               "change": {"actions": ["delete"], "before": {"id": "2"}, "after": null}}
            ]}
            """#
        let drifted = DriftedResource.all(inFullPlan: try PlanJSON.decode(Data(json.utf8)))
        #expect(drifted == [
            DriftedResource(address: "null_resource.extra", kind: .deleted, attributes: []),
            DriftedResource(address: "null_resource.kept", kind: .changed, attributes: [
                DriftedAttribute(path: "triggers.tag", recorded: #""v1""#, actual: #""v9""#),
            ]),
            DriftedResource(address: "null_resource.removed", kind: .missing, attributes: []),
        ])
    }

    @Test(arguments: ["terraform-1.0.3", "terraform-1.11.4"])
    func realRefreshOnlyPlansShowTheDeletedResource(engine: String) throws {
        let drifted = DriftedResource.all(in: try PlanJSON.decode(try TestPaths.fixture("plans/\(engine)/drift-refresh-only.json")))
        #expect(drifted == [DriftedResource(address: "null_resource.gone", kind: .deleted, attributes: [])])
    }

    func report(_ id: String, at offset: TimeInterval, drifted: Bool = true) -> DriftReport {
        DriftReport(id: id, env: "prod", stack: "app", releaseID: "sha256:r", actor: "ci", detectedAt: Self.time.addingTimeInterval(offset),
                    resources: drifted ? [DriftedResource(address: "null_resource.x", kind: .deleted, attributes: [])] : [])
    }

    func apply(startedAt offset: TimeInterval, outcome: ApplyRecord.Outcome) -> ApplyRecord {
        var record = ApplyRecord(id: "x-\(offset)", planID: "p", env: "prod", stack: "app", actor: "ci", startedAt: Self.time.addingTimeInterval(offset))
        record.outcome = outcome
        return record
    }

    @Test func driftStaysOpenUntilAcknowledgedOrReconciled() {
        let latest = report("d-2", at: 100)
        #expect(DriftStatus.open(reports: [latest], acknowledgedDrifts: [], applies: []) == latest)
        #expect(DriftStatus.open(reports: [latest], acknowledgedDrifts: ["d-1"], applies: []) == latest, "an acknowledgement of no report here settles nothing")
        #expect(DriftStatus.open(reports: [latest], acknowledgedDrifts: ["d-2"], applies: []) == nil)
        #expect(DriftStatus.open(reports: [latest], acknowledgedDrifts: [], applies: [apply(startedAt: 50, outcome: .success)]) == latest,
                "an apply before the drift was found does not reconcile it")
        #expect(DriftStatus.open(reports: [latest], acknowledgedDrifts: [], applies: [apply(startedAt: 150, outcome: .failed)]) == latest)
        #expect(DriftStatus.open(reports: [latest], acknowledgedDrifts: [], applies: [apply(startedAt: 150, outcome: .success)]) == nil)
        #expect(DriftStatus.open(reports: [report("d-3", at: 200, drifted: false)], acknowledgedDrifts: [], applies: []) == nil)
        #expect(DriftStatus.open(reports: [], acknowledgedDrifts: [], applies: []) == nil)
    }

    @Test func anAcknowledgementSurvivesFindingTheSameDriftAgain() {
        let first = report("d-1", at: 100)
        let again = report("d-2", at: 200)
        #expect(DriftStatus.open(reports: [first, again], acknowledgedDrifts: ["d-1"], applies: []) == nil, "the same drift, found again, stays accepted")
        // Different drift since: open again.
        var more = report("d-3", at: 300)
        more.resources.append(DriftedResource(address: "null_resource.y", kind: .deleted, attributes: []))
        #expect(DriftStatus.open(reports: [first, again, more], acknowledgedDrifts: ["d-1"], applies: []) == more)
        // An apply in between overwrote the accepted drift: the same drift found after it is new.
        #expect(DriftStatus.open(reports: [first, again], acknowledgedDrifts: ["d-1"], applies: [apply(startedAt: 150, outcome: .success)]) == again)
    }

    @Test func theAcknowledgementPayloadNamesTheDriftAndIsCanonical() {
        let payload = DriftAcknowledgement.payload(drift: report("d-2", at: 0), signer: "alice@x", comment: "known hotfix", time: Self.time)
        #expect(payload == #"{"addresses":["null_resource.x"],"comment":"known hotfix","decision":"acknowledge-drift","drift":"d-2","env":"prod","signer":"alice@x","stack":"app","time":1790000000000}"#)
    }
}

/// Names and lifetimes of ephemeral copies.
@Suite struct EphemeralRecordTests {
    @Test func outputsBecomeEnvironmentVariables() {
        #expect(EphemeralRecord.outputVariable(stack: "network", output: "vpc_id") == "TOLLGATE_OUTPUT_NETWORK_VPC_ID")
        #expect(EphemeralRecord.outputVariable(stack: "edge-cdn", output: "host.name") == "TOLLGATE_OUTPUT_EDGE_CDN_HOST_NAME")
        #expect(EphemeralRecord.outputText(.string("vpc-1")) == "vpc-1")
        #expect(EphemeralRecord.outputText(.array([.string("a"), .number(2)])) == #"["a",2]"#)
    }

    @Test func onlyCopiesThatMayHoldResourcesExpire() {
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        var record = EphemeralRecord(name: "x", like: "dev", releaseID: "sha256:r", status: .up, actor: "ci", createdAt: start,
                                     expiresAt: start.addingTimeInterval(60))
        #expect(!record.isExpired(at: start.addingTimeInterval(59)))
        #expect(record.isExpired(at: start.addingTimeInterval(60)))
        for status in [EphemeralRecord.Status.creating, .failed, .destroying, .destroyFailed] {
            record.status = status
            #expect(record.isExpired(at: start.addingTimeInterval(61)), "\(status)")
        }
        record.status = .down
        #expect(!record.isExpired(at: start.addingTimeInterval(61)))
    }
}
