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
