import Foundation
import Testing
import TollgateCore

/// Anchors outside the ledger catch what the chain alone cannot: a cut tail, an emptied log, a log
/// rewritten and re-chained. Export headers do the same for a copy, and times out of order are found.
@Suite struct AuditAnchorTests {
    static let start = Date(timeIntervalSince1970: 1_790_000_000.125)
    static let written = Date(timeIntervalSince1970: 1_790_000_100.5)

    /// Events 1…count, one second apart.
    static func chain(_ count: Int) -> [StoredAuditEvent] {
        var events: [AuditEvent] = []
        for index in 0..<count {
            events.append(AuditChain.append(AuditEntry(actor: "ci@example.com", kind: "step.\(index + 1)"),
                                            after: events.last.map { ($0.seq, $0.hash) }, at: start.addingTimeInterval(Double(index))))
        }
        return events.map(StoredAuditEvent.init)
    }

    static func anchor(_ events: [StoredAuditEvent], at seq: Int, source: String = AuditAnchor.ref) -> AuditAnchor {
        AuditAnchor(seq: seq, hash: events[seq - 1].hash, source: source, writtenAt: written)
    }

    @Test func anchorsOfAnIntactLogMatchAndBreakNothing() {
        let events = Self.chain(5)
        let anchors = [Self.anchor(events, at: 5), Self.anchor(events, at: 3, source: "refs/tags/tollgate/prod/app/1")]
        let checks = AuditChain.check(anchors, against: events)
        #expect(checks == anchors.map { AuditChain.AnchorCheck(anchor: $0, status: .matches) })
        #expect(AuditChain.anchorBreak(checks, events: events) == nil)
    }

    @Test func aCutTailEndsBeforeTheFurthestAnchor() {
        let full = Self.chain(7)
        let anchors = [Self.anchor(full, at: 4, source: "refs/tags/tollgate/dev/network/1"), Self.anchor(full, at: 7)]
        let cut = Array(full.prefix(5))
        let checks = AuditChain.check(anchors, against: cut)
        #expect(checks.map(\.status) == [.matches, .beyondTheLog])
        #expect(AuditChain.anchorBreak(checks, events: cut) == AuditChain.Break(seq: 6, reason:
            "the log ends at event 5, but the anchor refs/tollgate/audit-head (written 2026-09-21T14:15:00.500Z) names event 7: "
            + "events 6…7 were removed; restore the ledger from a backup or an export that holds them"))
        let one = Array(full.prefix(6))
        #expect(AuditChain.anchorBreak(AuditChain.check(anchors, against: one), events: one) == AuditChain.Break(seq: 7, reason:
            "the log ends at event 6, but the anchor refs/tollgate/audit-head (written 2026-09-21T14:15:00.500Z) names event 7: "
            + "event 7 was removed; restore the ledger from a backup or an export that holds it"))
        #expect(AuditChain.anchorBreak(AuditChain.check(anchors, against: cut), events: cut, subject: .export) == AuditChain.Break(seq: 6, reason:
            "the export ends at event 5, but the anchor refs/tollgate/audit-head (written 2026-09-21T14:15:00.500Z) names event 7: "
            + "events 6…7 are missing from it; export the log again with 'tollgate audit export'"))
    }

    @Test func anEmptyLogUnderAnAnchorLostEveryEvent() {
        let anchors = [AuditAnchor(seq: 3, hash: String(repeating: "a", count: 64), source: "refs/tags/tollgate/dev/app/1", writtenAt: nil)]
        let checks = AuditChain.check(anchors, against: [])
        #expect(checks.map(\.status) == [.beyondTheLog])
        #expect(AuditChain.anchorBreak(checks, events: []) == AuditChain.Break(seq: 1, reason:
            "the log is empty, but the anchor refs/tags/tollgate/dev/app/1 names event 3: "
            + "events 1…3 were removed; restore the ledger from a backup or an export that holds them"))
    }

    @Test func aRechainedLogDiffersFromTheAnchor() {
        let events = Self.chain(4)
        var other = Self.anchor(events, at: 2)
        other.hash = String(repeating: "b", count: 64)
        let checks = AuditChain.check([Self.anchor(events, at: 4, source: "refs/tags/tollgate/prod/app/2"), other], against: events)
        #expect(checks.map(\.status) == [.matches, .hashDiffers])
        #expect(AuditChain.anchorBreak(checks, events: events) == AuditChain.Break(seq: 2, reason:
            "its hash is \(events[1].hash), but the anchor refs/tollgate/audit-head (written 2026-09-21T14:15:00.500Z) names \(other.hash): "
            + "the log was rewritten and re-chained at or before this event; restore it from a backup or an export that matches the anchor"))
    }

    @Test func eventsTimedBeforeTheirPredecessorAreFoundToTheMillisecond() {
        var events = Self.chain(4)
        #expect(AuditChain.timeInversions(events) == [])
        events[2].time = events[1].time - 1
        events[3].time = events[1].time
        #expect(AuditChain.timeInversions(events) == [
            AuditChain.TimeInversion(seq: 3, time: events[1].time - 1, previousSeq: 2, previousTime: events[1].time),
        ])
        #expect(AuditChain.timeInversions(events).map(\.description) == [
            "event 3 is timed 2026-09-21T14:13:21.124Z, earlier than event 2 at 2026-09-21T14:13:21.125Z; a clock went back, or the event was back-dated",
        ])
    }

    @Test func theHeadTrailerAndTheRefMessageReadBack() throws {
        let head = AuditHead(seq: 12, hash: String(repeating: "9f", count: 32))
        #expect(AuditAnchor.trailerValue(head) == "12 " + String(repeating: "9f", count: 32))
        #expect(AuditAnchor.parseTrailerValue(AuditAnchor.trailerValue(head)) == head)
        for bad in ["12", "0 " + head.hash, "x " + head.hash, "12 " + head.hash.uppercased(), "12 abc", "12 \(head.hash) extra"] {
            #expect(AuditAnchor.parseTrailerValue(bad) == nil, "\(bad)")
        }
        let message = AuditAnchor.refMessage(head, writtenAt: Self.written)
        #expect(message == """
            tollgate: audit chain head at event 12

            Tollgate-Audit-Head: 12 \(head.hash)
            Tollgate-Audit-Head-Written-At: 2026-09-21T14:15:00.500Z

            """)
        #expect(try AuditAnchor.parseRefMessage(message).get() == AuditAnchor(head, source: AuditAnchor.ref, writtenAt: Self.written))
    }

    @Test(arguments: [
        ("tollgate: something else\n", "its message lacks the trailer 'Tollgate-Audit-Head'"),
        ("x\n\nTollgate-Audit-Head: twelve\n", "'Tollgate-Audit-Head' is 'twelve', not an event number and a sha256 hash"),
        ("x\n\nTollgate-Audit-Head: 1 \(String(repeating: "a", count: 64))\n", "its message lacks the trailer 'Tollgate-Audit-Head-Written-At'"),
        ("x\n\nTollgate-Audit-Head: 1 \(String(repeating: "a", count: 64))\nTollgate-Audit-Head: 2 \(String(repeating: "a", count: 64))\n",
         "the trailer 'Tollgate-Audit-Head' appears twice"),
    ])
    func aRefMessageTollgateDidNotWriteIsUnreadable(message: String, reason: String) {
        #expect(AuditAnchor.parseRefMessage(message) == .failure(.unreadable(source: AuditAnchor.ref, reason: reason)))
        #expect(AuditAnchorError.unreadable(source: AuditAnchor.ref, reason: reason).description
            == "the anchor refs/tollgate/audit-head cannot be read: \(reason); tollgate did not write it as it is now, so inspect it with 'git log -1 refs/tollgate/audit-head'")
    }

    @Test func aReleaseTagCarriesTheHeadAndKeepsItsOtherTrailers() throws {
        let head = AuditHead(seq: 40, hash: String(repeating: "c3", count: 32))
        let marker = ReleaseTag(env: "prod", stack: "app", sequence: 2, release: "sha256:" + String(repeating: "a1", count: 32), plan: "p-1",
                                planDigest: "sha256:" + String(repeating: "d4", count: 32), commit: String(repeating: "c", count: 40), pr: 7,
                                apply: "x-1", approvers: ["alice@example.com"], appliedAt: Self.written, auditHead: head)
        let lines = marker.message.split(separator: "\n").map(String.init)
        #expect(lines.suffix(2) == ["Tollgate-Applied-At: 2026-09-21T14:15:00.500Z", "Tollgate-Audit-Head: 40 \(head.hash)"])
        let tag = GitTag(name: marker.name, commit: marker.commit, annotated: true, message: marker.message)
        #expect(try ReleaseTag.parse(tag).get() == marker)

        var old = marker
        old.auditHead = nil
        #expect(!old.message.contains("Audit-Head"))
        #expect(try ReleaseTag.parse(GitTag(name: old.name, commit: old.commit, annotated: true, message: old.message)).get() == old)

        let garbled = GitTag(name: marker.name, commit: marker.commit, annotated: true,
                             message: marker.message.replacingOccurrences(of: "Tollgate-Audit-Head: 40 ", with: "Tollgate-Audit-Head: forty "))
        #expect(ReleaseTag.parse(garbled) == .failure(ReleaseTagError(tag: marker.name,
            reason: "'Tollgate-Audit-Head' is 'forty \(head.hash)', not an event number and a sha256 hash")))
    }

    @Test func theExportHeaderNamesCountAndHeadAndReadsBack() throws {
        let events = Self.chain(3)
        let header = AuditExportHeader(of: events)
        #expect(header.line == "{\"tollgate_audit_export\":1,\"events\":3,\"head\":\"\(events[2].hash)\",\"head_seq\":3}")
        #expect(try AuditExportHeader.parse(header.line[...]) == header)
        #expect(AuditExportHeader(of: []).line == "{\"tollgate_audit_export\":1,\"events\":0,\"head\":\"\(AuditChain.genesis)\",\"head_seq\":0}")
        // An event line is no header: an export from before headers.
        #expect(try AuditExportHeader.parse(AuditChain.exportLine(events[0])[...]) == nil)
        #expect(AuditChain.headerBreak(header, events: events) == nil)
    }

    @Test(arguments: [
        ("{\"tollgate_audit_export\":2,\"events\":1,\"head\":\"\(String(repeating: "a", count: 64))\",\"head_seq\":1}",
         "the export format is version 2, and this tollgate reads version 1; verify it with the tollgate that wrote it"),
        ("{\"tollgate_audit_export\":1,\"head\":\"\(String(repeating: "a", count: 64))\",\"head_seq\":1}", "the header's 'events' is missing or not a whole number"),
        ("{\"tollgate_audit_export\":1,\"events\":1,\"head\":\"abc\",\"head_seq\":1}", "the header's 'head' is missing or not a sha256 hash"),
        ("{\"tollgate_audit_export\":1,\"events\":1,\"head\":\"\(String(repeating: "a", count: 64))\",\"head_seq\":-1}",
         "the header's 'head_seq' is missing or not a whole number"),
    ])
    func malformedHeadersSayWhatIsWrong(line: String, message: String) {
        #expect {
            try AuditExportHeader.parse(line[...])
        } throws: { error in
            (error as? AuditChain.ExportError)?.description == message
        }
    }

    @Test func anExportShorterLongerOrOtherThanItsHeaderBreaks() {
        let events = Self.chain(5)
        let header = AuditExportHeader(of: events)
        #expect(AuditChain.headerBreak(header, events: Array(events.prefix(3))) == AuditChain.Break(seq: 4, reason:
            "the export holds 3 events, but its header names 5: events 4…5 were cut from its end; export the log again with 'tollgate audit export'"))
        #expect(AuditChain.headerBreak(header, events: Array(events.prefix(4))) == AuditChain.Break(seq: 5, reason:
            "the export holds 4 events, but its header names 5: event 5 was cut from its end; export the log again with 'tollgate audit export'"))
        #expect(AuditChain.headerBreak(header, events: []) == AuditChain.Break(seq: 1, reason:
            "the export holds 0 events, but its header names 5: events 1…5 were cut from its end; export the log again with 'tollgate audit export'"))
        #expect(AuditChain.headerBreak(AuditExportHeader(of: Array(events.prefix(4))), events: events) == AuditChain.Break(seq: 5, reason:
            "the export holds 5 events, but its header names 4: events were added after it was written; export the log again with 'tollgate audit export'"))
        var other = header
        other.head = String(repeating: "e", count: 64)
        #expect(AuditChain.headerBreak(other, events: events) == AuditChain.Break(seq: 5, reason:
            "the last event is 5 with hash \(events[4].hash), but the header names event 5 with hash \(other.head): "
            + "the export was changed after it was written; export the log again with 'tollgate audit export'"))
    }
}
