import Foundation
import Testing
import TollgateCore

/// Untrusted JSON (plan JSON, CI tokens, audit exports) nested too deep is a decoding error, never a
/// stack overflow: Foundation's decoder refuses more than 512 levels, and everything within that
/// decodes, summarises and encodes canonically.
@Suite struct JSONNestingTests {
    static func nested(_ depth: Int) -> Data {
        Data((String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth)).utf8)
    }

    @Test func tooDeepIsADecodingError() {
        #expect(throws: (any Error).self) { try JSONDecoder().decode(JSONValue.self, from: Self.nested(100_000)) }
        #expect(throws: (any Error).self) { try JSONDecoder().decode(JSONValue.self, from: Self.nested(1_000)) }
    }

    @Test func deepestAcceptedValueRoundTrips() throws {
        let value = try JSONDecoder().decode(JSONValue.self, from: Self.nested(500))
        #expect(CanonicalJSON.data(value) == Self.nested(500))
    }

    @Test func planScannerSkipsAnyDepthWithoutRecursion() throws {
        let before = String(data: Self.nested(100_000), encoding: .utf8)!
        let plan = "{\"format_version\": \"1.2\", \"planned_values\": {}, \"configuration\": {}, \"resource_changes\": [{\"address\": \"a.b\", \"change\": {\"actions\": [\"update\"], \"before\": \(before)}}]}"
        let summary = try PlanSummary(scanning: Data(plan.utf8))
        #expect(summary.update == ["a.b"])
    }
}
