import Foundation
import TestSupport
import Testing
import TollgateCore

/// The scanning summary must equal the decoding one on real engine output and on awkward JSON.
@Suite struct PlanSummaryScanTests {
    /// Every plan JSON fixture written by both engines.
    static let fixtures: [String] = PlanJSONTests.engines.flatMap { engine in
        ((try? FileManager.default.contentsOfDirectory(atPath: TestPaths.fixtures + "/plans/" + engine)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted().map { "plans/\(engine)/\($0)" }
    }

    @Test func thereAreFixturesOfBothEngines() {
        for engine in PlanJSONTests.engines {
            #expect(Self.fixtures.filter { $0.hasPrefix("plans/\(engine)/") }.count >= 8)
        }
    }

    @Test(arguments: fixtures) func matchesTheDecoderOnEngineOutput(fixture: String) throws {
        let data = try TestPaths.fixture(fixture)
        #expect(try PlanSummary(scanning: data) == PlanSummary(try PlanJSON.decode(data)))
    }

    static let tricky: [String] = [
        // Escaped quotes and backslashes in addresses and in skipped values.
        #"""
        {"format_version":"1.2","planned_values":{},"configuration":{},"resource_changes":[
          {"address":"null_resource.each[\"a \\\" b\"]","mode":"managed","type":"null_resource","name":"each",
           "change":{"before":{"s":"x\"}]{["},"actions":["create"],"after":"\\"}},
          {"address":"null_resource.b","mode":"managed","type":"null_resource","name":"b","change":{"actions":["delete","create"]}}]}
        """#,
        // Objects named "change" and "actions" nested inside before/after values, before the real ones.
        #"""
        {"format_version":"1.2","planned_values":{},"configuration":{},"resource_changes":[{"address":"aws_s3_bucket.x","mode":"managed","type":"aws_s3_bucket","name":"x",
          "change":{"before":{"change":{"actions":["delete"]},"actions":["delete"],"address":"nope"},
                    "after":{"resource_changes":[{"address":"fake","change":{"actions":["create"]}}]},
                    "after_unknown":{"actions":true},"actions":["update"]}}],
         "configuration":{"output_changes":{"o":{"actions":["create"]}}}}
        """#,
        // Unicode escapes, including a surrogate pair, in addresses and output names; literal UTF-8 too.
        #"""
        {"format_version":"1.2","planned_values":{},"configuration":{},"resource_changes":[
          {"address":"null_resource.each[\"caf\u00e9 \ud83d\ude80 \u002f\"]","mode":"managed","type":"null_resource","name":"each","change":{"actions":["create"]}},
          {"address":"null_resource.each[\"日本\"]","mode":"managed","type":"null_resource","name":"each","change":{"actions":["read"]}}],
         "output_changes":{"z\u00fcrich":{"actions":["update"]},"a":{"actions":["no-op"]},"b\tc":{"actions":["delete"]}}}
        """#,
        // Null lists, numbers, literals, whitespace of every kind and drift.
        "{ \"format_version\" : \"1.0\" , \"planned_values\": {}, \"configuration\": {},\r\n\t\"resource_changes\" : null , \"output_changes\": null, \"errored\": false, \"n\": -1.5e+3, "
            + "\"resource_drift\":[{\"address\":\"null_resource.d\",\"mode\":\"managed\",\"type\":\"null_resource\",\"name\":\"d\",\"change\":{\"actions\":[\"update\"],\"before\":[1,2,[true,null]]}}] }",
        // Keys written with escapes, and actions an engine might add later.
        #"""
        {"format_version":"1.2","planned_values":{},"configuration":{},"resource\u005fchanges":[{"address":"a.b","mode":"managed","type":"a","name":"b","change":{"actions":["forget"]}},
          {"address":"a.c","mode":"managed","type":"a","name":"c","change":{"actions":["create","delete"]}},
          {"address":"a.d","mode":"managed","type":"a","name":"d","change":{"actions":["no-op"]}},
          {"address":"a.e","mode":"managed","type":"a","name":"e","change":{"actions":["teleport"]}}]}
        """#,
    ]

    @Test(arguments: tricky) func matchesTheDecoderOnTrickyJSON(json: String) throws {
        let data = Data(json.utf8)
        let scanned = try PlanSummary(scanning: data)
        #expect(scanned == PlanSummary(try PlanJSON.decode(data)))
        #expect(!scanned.create.contains("fake"))
    }

    @Test func readsEscapesExactly() throws {
        let summary = try PlanSummary(scanning: Data(Self.tricky[2].utf8))
        #expect(summary.create == ["null_resource.each[\"café 🚀 /\"]"])
        #expect(summary.read == ["null_resource.each[\"日本\"]"])
        #expect(summary.outputChanges == ["b\tc", "zürich"])
        let nested = try PlanSummary(scanning: Data(Self.tricky[1].utf8))
        #expect(nested.update == ["aws_s3_bucket.x"] && nested.delete.isEmpty && nested.outputChanges.isEmpty)
    }

    /// With a key written twice, the scanner took the last value and the decoder the first, so the
    /// two summaries of one document differed (the plan fuzz target's check; fuzz/regressions/plan/).
    @Test func aRepeatedKeyCountsOnceAsForTheDecoder() throws {
        let json = #"""
            {"format_version":"1.2","planned_values":{},"configuration":{},
             "resource_changes":[{"address":"a.first","address":"a.second","mode":"managed","type":"a","name":"first",
                                  "change":{"actions":["delete"]},"change":{"actions":["create"]}}],
             "resource_changes":[{"address":"b.later","mode":"managed","type":"b","name":"later","change":{"actions":["create"]}}],
             "output_changes":{"o":{"actions":["update"],"actions":["no-op"]}},"output_changes":null}
            """#
        let data = Data(json.utf8)
        var expected = PlanSummary()
        expected.delete = ["a.first"]
        expected.outputChanges = ["o"]
        #expect(try PlanSummary(scanning: data) == expected)
        #expect(PlanSummary(try PlanJSON.decode(data)) == expected)
    }

    @Test(arguments: [
        (#"{"resource_changes":[{"address":"a.b","change":{"actions":["create"]}}"#, "ends too early"),
        (#"{"resource_changes":[{"address":"a.b\"}]}"#, "ends inside a string"),
        (#"{"resource_changes":[{"change":{"actions":["create"]}}]}"#, "no 'address'"),
        (#"{"resource_changes":[{"address":"a.b","change":{"actions":["cre\x"]}}]}"#, "unknown escape"),
        (#"{"a":1}}"#, "after the top-level object"),
        (#"{"a":[1,{"b":2]}}"#, "does not match"),
    ]) func rejectsBrokenJSON(json: String, reason: String) throws {
        let error = try #require(throws: PlanScanError.self) { try PlanSummary(scanning: Data(json.utf8)) }
        #expect(error.description.contains(reason), "\(error)")
    }
}
