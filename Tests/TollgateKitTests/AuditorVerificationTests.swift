import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateKit

/// `Auditor.verify(exportAt:anchors:)` on files: the header, the anchors and the time order, each
/// reported in the one verification value that `audit verify --file` prints.
@Suite struct AuditorVerificationTests {
    static let start = Date(timeIntervalSince1970: 1_790_000_000)

    static func chain(_ count: Int) -> [StoredAuditEvent] {
        var events: [AuditEvent] = []
        for index in 0..<count {
            events.append(AuditChain.append(AuditEntry(actor: "ci@example.com", kind: "step.\(index + 1)"),
                                            after: events.last.map { ($0.seq, $0.hash) }, at: start.addingTimeInterval(Double(index))))
        }
        return events.map(StoredAuditEvent.init)
    }

    func write(_ lines: [String], in directory: TemporaryDirectory, name: String = "audit.jsonl") throws -> String {
        try directory.write(name, lines.map { $0 + "\n" }.joined())
        return directory.path + "/" + name
    }

    @Test func aWholeExportVerifiesAgainstItsHeaderAndTheAnchors() throws {
        let directory = try TemporaryDirectory("tollgate-auditor")
        defer { directory.remove() }
        let events = Self.chain(4)
        let path = try write([AuditExportHeader(of: events).line] + events.map(AuditChain.exportLine), in: directory)
        let anchor = AuditAnchor(seq: 3, hash: events[2].hash, source: "refs/tags/tollgate/dev/app/1", writtenAt: Self.start)
        let result = try Auditor.verify(exportAt: path, anchors: [anchor])
        #expect(result == Auditor.Verification(
            events: 4, intact: true, firstBadEvent: nil, reason: nil, head: events[3].hash,
            anchors: [.init(source: "refs/tags/tollgate/dev/app/1", seq: 3, hash: events[2].hash, writtenAt: "2026-09-21T14:13:20.000Z", status: .matches)],
            timeOrder: [], notes: []))
        let alone = try Auditor.verify(exportAt: path)
        #expect(alone.intact && alone.anchors.isEmpty)
        #expect(alone.notes == [Auditor.noAnchorForExportNote])
    }

    @Test func aCopyCutByOneLineFailsOnItsHeader() throws {
        let directory = try TemporaryDirectory("tollgate-auditor")
        defer { directory.remove() }
        let events = Self.chain(4)
        let path = try write([AuditExportHeader(of: events).line] + events.prefix(3).map(AuditChain.exportLine), in: directory)
        let result = try Auditor.verify(exportAt: path)
        #expect(!result.intact)
        #expect(result.firstBadEvent == 4)
        #expect(result.reason == "the export holds 3 events, but its header names 4: event 4 was cut from its end; export the log again with 'tollgate audit export'")
    }

    @Test func aCopyShorterThanAnAnchorFailsEvenWithAMatchingHeader() throws {
        let directory = try TemporaryDirectory("tollgate-auditor")
        defer { directory.remove() }
        let events = Self.chain(5)
        let copy = Array(events.prefix(3))
        // Header rewritten to fit: only the anchor can tell.
        let path = try write([AuditExportHeader(of: copy).line] + copy.map(AuditChain.exportLine), in: directory)
        let anchor = AuditAnchor(seq: 5, hash: events[4].hash, source: AuditAnchor.ref, writtenAt: Self.start)
        let result = try Auditor.verify(exportAt: path, anchors: [anchor])
        #expect(result.firstBadEvent == 4)
        #expect(result.reason == "the export ends at event 3, but the anchor refs/tollgate/audit-head (written 2026-09-21T14:13:20.000Z) names event 5: "
            + "events 4…5 are missing from it; export the log again with 'tollgate audit export'")
        #expect(result.anchors.map(\.status) == [.beyondTheLog])
    }

    @Test func anOldExportWithoutHeaderStillReadsWithAWarning() throws {
        let directory = try TemporaryDirectory("tollgate-auditor")
        defer { directory.remove() }
        let events = Self.chain(2)
        let path = try write(events.map(AuditChain.exportLine), in: directory)
        let result = try Auditor.verify(exportAt: path)
        #expect(result.intact && result.events == 2)
        #expect(result.notes == ["'\(path)' has no export header (it was written by an older tollgate), so lines cut from its end cannot be noticed from the file alone; "
            + "export the log again for a copy whose tail can be checked"])
    }

    @Test func aHeaderAnywhereButTheFirstLineIsAnErrorNamingFileAndLine() throws {
        let directory = try TemporaryDirectory("tollgate-auditor")
        defer { directory.remove() }
        let events = Self.chain(2)
        let path = try write([AuditChain.exportLine(events[0]), AuditExportHeader(of: events).line, AuditChain.exportLine(events[1])], in: directory)
        #expect {
            try Auditor.verify(exportAt: path)
        } throws: { error in
            "\(error)" == "\(path):2:1: an export header after the first line; only the first line may be one; "
                + "an export has a header line, then one JSON object per event, as 'tollgate audit export' writes them"
        }
    }

    @Test func anEventTimedBeforeItsPredecessorIsFlaggedWithoutBreakingTheChain() throws {
        let directory = try TemporaryDirectory("tollgate-auditor")
        defer { directory.remove() }
        // Re-chained after the back-dating, so only the time order is wrong.
        var events: [AuditEvent] = []
        for (index, offset) in [0.0, 5.0, 2.5].enumerated() {
            events.append(AuditChain.append(AuditEntry(actor: "ci@example.com", kind: "step.\(index + 1)"),
                                            after: events.last.map { ($0.seq, $0.hash) }, at: Self.start.addingTimeInterval(offset)))
        }
        let stored = events.map(StoredAuditEvent.init)
        let path = try write([AuditExportHeader(of: stored).line] + stored.map(AuditChain.exportLine), in: directory)
        let result = try Auditor.verify(exportAt: path)
        #expect(result.intact)
        #expect(result.timeOrder == [Auditor.Verification.TimeFlag(
            seq: 3, time: "2026-09-21T14:13:22.500Z", previousSeq: 2, previousTime: "2026-09-21T14:13:25.000Z",
            message: "event 3 is timed 2026-09-21T14:13:22.500Z, earlier than event 2 at 2026-09-21T14:13:25.000Z; a clock went back, or the event was back-dated")])
    }
}
