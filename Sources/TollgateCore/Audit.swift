import Foundation

/// One entry of the hash-chained audit log.
///
/// `hash = sha256(prevHash ‖ body)`, where the body is the canonical JSON of every other field, so
/// editing any field, deleting an event or reordering two breaks the chain at that event.
public struct AuditEvent: Sendable, Equatable, Codable {
    public var seq: Int
    public var time: Date
    public var actor: String
    public var kind: String
    /// Ids this event is about: release, plan, approval, apply, env, stack.
    public var subjects: [String: String]
    public var payload: JSONValue
    public var prevHash: String
    public var hash: String

    public init(seq: Int, time: Date, actor: String, kind: String, subjects: [String: String], payload: JSONValue, prevHash: String, hash: String) {
        self.seq = seq
        self.time = time
        self.actor = actor
        self.kind = kind
        self.subjects = subjects
        self.payload = payload
        self.prevHash = prevHash
        self.hash = hash
    }
}

/// What a flow wants recorded; the ledger gives it its place in the chain.
public struct AuditEntry: Sendable, Equatable {
    public var actor: String
    public var kind: String
    public var subjects: [String: String]
    public var payload: JSONValue

    public init(actor: String, kind: String, subjects: [String: String] = [:], payload: JSONValue = [:]) {
        self.actor = actor
        self.kind = kind
        self.subjects = subjects
        self.payload = payload
    }
}

public enum AuditChain {
    /// The hash of the (nonexistent) event before the first.
    public static let genesis = String(repeating: "0", count: 64)

    /// Times are stored and hashed as whole milliseconds since 1970, so every store round-trips them.
    public static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    public static func date(milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// The canonical body that is hashed: every field but the hashes.
    public static func body(seq: Int, time: Date, actor: String, kind: String, subjects: [String: String], payload: JSONValue) -> String {
        CanonicalJSON.encode([
            "seq": .number(Double(seq)),
            "time": .number(Double(milliseconds(time))),
            "actor": .string(actor),
            "kind": .string(kind),
            "subjects": .object(subjects.mapValues(JSONValue.string)),
            "payload": payload,
        ])
    }

    public static func hash(prevHash: String, body: String) -> String {
        Digest.hex(concatenating: prevHash, body)
    }

    /// The next event after `previous` (nil for the first).
    public static func append(_ entry: AuditEntry, after previous: (seq: Int, hash: String)?, at time: Date) -> AuditEvent {
        let seq = (previous?.seq ?? 0) + 1
        let prev = previous?.hash ?? genesis
        let body = body(seq: seq, time: time, actor: entry.actor, kind: entry.kind, subjects: entry.subjects, payload: entry.payload)
        return AuditEvent(seq: seq, time: time, actor: entry.actor, kind: entry.kind, subjects: entry.subjects,
                          payload: entry.payload, prevHash: prev, hash: hash(prevHash: prev, body: body))
    }

    /// The first problem in a chain, if any.
    public struct Break: Sendable, Equatable, CustomStringConvertible {
        public var seq: Int
        public var reason: String

        public init(seq: Int, reason: String) {
            self.seq = seq
            self.reason = reason
        }

        public var description: String { "event \(seq): \(reason)" }
    }

    /// Recomputes every hash in order and names the first event that does not fit.
    public static func verify(_ events: some Sequence<AuditEvent>) -> Break? {
        verify(stored: events.lazy.map(StoredAuditEvent.init))
    }

    /// The same check over events as stored, hashing their stored JSON text as it is: no decoding,
    /// and a row whose text was rewritten, even to an equal value, no longer fits its hash.
    public static func verify(stored events: some Sequence<StoredAuditEvent>) -> Break? {
        var expectedSeq = 1
        var previousHash = genesis
        for event in events {
            if event.seq != expectedSeq {
                let what = event.seq > expectedSeq ? "events \(expectedSeq)…\(event.seq - 1) are missing" : "is out of order"
                return Break(seq: event.seq, reason: "expected event \(expectedSeq) here; \(what)")
            }
            if event.prevHash != previousHash {
                return Break(seq: event.seq, reason: "its prev_hash does not match the hash of event \(event.seq - 1); an event before it was changed, removed or reordered")
            }
            if hash(prevHash: event.prevHash, body: body(event)) != event.hash {
                return Break(seq: event.seq, reason: "its content does not match its hash; the row was edited")
            }
            previousHash = event.hash
            expectedSeq += 1
        }
        return nil
    }
}

extension AuditChain {
    /// Whose events are being checked: the ledger's log or an export of it. Only the words differ.
    public enum Subject: Sendable, Equatable {
        case log
        case export

        var noun: String { self == .log ? "the log" : "the export" }
    }

    /// What one anchor says about a log.
    public struct AnchorCheck: Sendable, Equatable {
        public enum Status: String, Sendable, Equatable, Codable {
            /// The log holds the anchored event, with the anchored hash.
            case matches
            /// The log ends before the anchored event.
            case beyondTheLog = "beyond-the-log"
            /// The log's event at the anchored number has another hash.
            case hashDiffers = "hash-differs"
        }

        public var anchor: AuditAnchor
        public var status: Status

        public init(anchor: AuditAnchor, status: Status) {
            self.anchor = anchor
            self.status = status
        }
    }

    /// Holds each anchor against the events, in order of the anchors.
    public static func check(_ anchors: [AuditAnchor], against events: [StoredAuditEvent]) -> [AnchorCheck] {
        let last = events.last?.seq ?? 0
        return anchors.map { anchor in
            guard anchor.seq <= last else { return AnchorCheck(anchor: anchor, status: .beyondTheLog) }
            // An intact chain holds event N at index N-1; a broken one is searched.
            let index = anchor.seq - 1
            let event = index >= 0 && index < events.count && events[index].seq == anchor.seq ? events[index] : events.first { $0.seq == anchor.seq }
            guard let event else { return AnchorCheck(anchor: anchor, status: .beyondTheLog) }
            return AnchorCheck(anchor: anchor, status: event.hash == anchor.hash ? .matches : .hashDiffers)
        }
    }

    /// The problem the anchors show in an otherwise intact chain, if any: the log ends before the
    /// furthest anchor (its tail was cut), or an anchored event has another hash (the log was
    /// rewritten and re-chained).
    public static func anchorBreak(_ checks: [AnchorCheck], events: [StoredAuditEvent], subject: Subject = .log) -> Break? {
        let last = events.last?.seq ?? 0
        if let furthest = checks.filter({ $0.status == .beyondTheLog }).max(by: { $0.anchor.seq < $1.anchor.seq })?.anchor {
            let one = furthest.seq == last + 1
            let range = one ? "event \(furthest.seq)" : "events \(last + 1)…\(furthest.seq)"
            let gone = switch subject {
            case .log: (one ? "was removed" : "were removed") + "; restore the ledger from a backup or an export that holds \(one ? "it" : "them")"
            case .export: (one ? "is" : "are") + " missing from it; export the log again with 'tollgate audit export'"
            }
            let start = last == 0 ? "\(subject.noun) is empty" : "\(subject.noun) ends at event \(last)"
            return Break(seq: last + 1, reason: "\(start), but the anchor \(furthest.described) names event \(furthest.seq): \(range) \(gone)")
        }
        if let differing = checks.filter({ $0.status == .hashDiffers }).min(by: { $0.anchor.seq < $1.anchor.seq })?.anchor {
            let actual = events.first { $0.seq == differing.seq }?.hash ?? ""
            return Break(seq: differing.seq, reason: "its hash is \(actual), but the anchor \(differing.described) names \(differing.hash): "
                + "\(subject.noun) was rewritten and re-chained at or before this event; restore it from a backup or an export that matches the anchor")
        }
        return nil
    }

    /// An event timed earlier than the event before it.
    public struct TimeInversion: Sendable, Equatable, CustomStringConvertible {
        public var seq: Int
        /// Milliseconds since 1970, as stored.
        public var time: Int64
        public var previousSeq: Int
        public var previousTime: Int64

        public init(seq: Int, time: Int64, previousSeq: Int, previousTime: Int64) {
            self.seq = seq
            self.time = time
            self.previousSeq = previousSeq
            self.previousTime = previousTime
        }

        public var description: String {
            "event \(seq) is timed \(AuditAnchor.timestamp(AuditChain.date(milliseconds: time))), earlier than event \(previousSeq) at "
                + "\(AuditAnchor.timestamp(AuditChain.date(milliseconds: previousTime))); a clock went back, or the event was back-dated"
        }
    }

    /// Every event whose stored time (whole milliseconds, so the comparison is exact) is earlier
    /// than its predecessor's.
    public static func timeInversions(_ events: some Sequence<StoredAuditEvent>) -> [TimeInversion] {
        var found: [TimeInversion] = []
        var previous: StoredAuditEvent?
        for event in events {
            if let previous, event.time < previous.time {
                found.append(TimeInversion(seq: event.seq, time: event.time, previousSeq: previous.seq, previousTime: previous.time))
            }
            previous = event
        }
        return found
    }
}
