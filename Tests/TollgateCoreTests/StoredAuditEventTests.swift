import Foundation
import Testing
import TollgateCore

/// The stored form of an audit event hashes exactly like the event it came from, and an export
/// line reads back to it.
@Suite struct StoredAuditEventTests {
    static let time = Date(timeIntervalSince1970: 1_790_000_000.123)

    static let entries: [AuditEntry] = [
        AuditEntry(actor: "ci@example.com", kind: "plan.created", subjects: ["plan": "p-1", "env": "prod"],
                   payload: ["digest": "sha256:00", "counts": "+1 ~0 -0", "prior_serial": 7, "checks": ["fmt": "pass"]]),
        AuditEntry(actor: "Zoë \"quoted\" \\ back\tslash\n", kind: "note", subjects: [:],
                   payload: ["unicode": "ünïcödé ✓ 🚀", "control": "\u{01}\u{1F}", "list": [1, .number(2.5), "three", .null, true], "empty": [:]]),
        AuditEntry(actor: "a", kind: "k", subjects: ["é": "x", "a": "y"], payload: .null),
    ]

    var chain: [AuditEvent] {
        var events: [AuditEvent] = []
        for entry in Self.entries {
            events.append(AuditChain.append(entry, after: events.last.map { ($0.seq, $0.hash) }, at: Self.time))
        }
        return events
    }

    @Test func theStoredBodyIsTheCanonicalBodyByteForByte() {
        for event in chain {
            let stored = StoredAuditEvent(event)
            let canonical = AuditChain.body(seq: event.seq, time: event.time, actor: event.actor, kind: event.kind,
                                            subjects: event.subjects, payload: event.payload)
            #expect(AuditChain.body(stored) == canonical)
            #expect(Digest.hex(concatenating: stored.prevHash, AuditChain.body(stored)) == event.hash)
        }
        #expect(AuditChain.verify(chain) == nil)
        #expect(AuditChain.verify(stored: chain.map(StoredAuditEvent.init)) == nil)
    }

    @Test func exportLinesReadBackAndAnEditedLineBreaksTheChain() throws {
        let stored = chain.map(StoredAuditEvent.init)
        let lines = stored.map(AuditChain.exportLine)
        for line in lines {
            // One line each, and valid JSON.
            #expect(!line.contains("\n"))
            #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(line.utf8)) }
        }
        #expect(try lines.map { try AuditChain.parseExportLine($0[...]) } == stored)
        let edited = lines[1].replacingOccurrences(of: "\"kind\":\"note\"", with: "\"kind\":\"nothing\"")
        #expect(edited != lines[1])
        let read = try [lines[0], edited, lines[2]].map { try AuditChain.parseExportLine($0[...]) }
        #expect(AuditChain.verify(stored: read) == AuditChain.Break(seq: 2, reason: "its content does not match its hash; the row was edited"))
    }

    @Test(arguments: [
        ("[1,2]", "not a JSON object"),
        ("{\"seq\":1}", "'time' is missing or not an integer"),
        ("{\"seq\":1.5,\"time\":1}", "'seq' is missing or not an integer"),
        ("{\"seq\":1,\"time\":1,\"actor\":\"a\",\"kind\":\"k\",\"subjects\":{\"a\":1},\"payload\":null,\"prev_hash\":\"0\",\"hash\":\"1\"}",
         "'subjects' is missing or not an object of strings"),
        ("{\"seq\":1,\"time\":1,\"actor\":\"a\",\"kind\":\"k\",\"subjects\":{},\"prev_hash\":\"0\",\"hash\":\"1\"}", "'payload' is missing"),
    ])
    func malformedExportLinesSayWhatIsWrong(line: String, message: String) {
        #expect {
            try AuditChain.parseExportLine(line[...])
        } throws: { error in
            (error as? AuditChain.ExportError)?.description == message
        }
    }

    @Test func hexIsSha256sumsForm() {
        let data = Data("tollgate".utf8)
        #expect(Digest.hex(data) == "4485ecf50fcb30d3c6aca2a2a69f7139e98cd7d52b075a9259036c3702fb61fd")
        #expect(Digest.hex(concatenating: "toll", "gate") == Digest.hex(data))
        #expect(Digest.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
