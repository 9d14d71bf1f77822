import Foundation

/// An audit event as a ledger stores it and an export carries it: subjects and payload as the
/// canonical JSON text that was hashed, the time in milliseconds.
///
/// Verifying this form hashes the stored text itself, which is both faster (nothing is decoded) and
/// stricter than decoding and re-encoding: any rewrite of a row's text breaks its hash.
public struct StoredAuditEvent: Sendable, Equatable {
    public var seq: Int
    public var time: Int64
    public var actor: String
    public var kind: String
    /// Canonical JSON of the subjects object.
    public var subjects: String
    /// Canonical JSON of the payload.
    public var payload: String
    public var prevHash: String
    public var hash: String

    public init(seq: Int, time: Int64, actor: String, kind: String, subjects: String, payload: String, prevHash: String, hash: String) {
        self.seq = seq
        self.time = time
        self.actor = actor
        self.kind = kind
        self.subjects = subjects
        self.payload = payload
        self.prevHash = prevHash
        self.hash = hash
    }

    public init(_ event: AuditEvent) {
        self.init(seq: event.seq, time: AuditChain.milliseconds(event.time), actor: event.actor, kind: event.kind,
                  subjects: CanonicalJSON.encode(.object(event.subjects.mapValues(JSONValue.string))),
                  payload: CanonicalJSON.encode(event.payload), prevHash: event.prevHash, hash: event.hash)
    }
}

extension AuditChain {
    /// The hashed body of a stored event: what `body(seq:time:actor:kind:subjects:payload:)` gives,
    /// put together from the stored text. Keys in canonical order: actor, kind, payload, seq,
    /// subjects, time.
    public static func body(_ event: StoredAuditEvent) -> String {
        var out = "{\"actor\":"
        out.reserveCapacity(64 + event.actor.utf8.count + event.kind.utf8.count + event.payload.utf8.count + event.subjects.utf8.count)
        CanonicalJSON.writeString(event.actor, into: &out)
        out += ",\"kind\":"
        CanonicalJSON.writeString(event.kind, into: &out)
        out += ",\"payload\":"
        out += event.payload
        out += ",\"seq\":\(event.seq),\"subjects\":"
        out += event.subjects
        out += ",\"time\":\(event.time)}"
        return out
    }

    /// One line of `tollgate audit export`: the stored event as a canonical JSON object, keys
    /// actor, hash, kind, payload, prev_hash, seq, subjects, time.
    public static func exportLine(_ event: StoredAuditEvent) -> String {
        var out = "{\"actor\":"
        CanonicalJSON.writeString(event.actor, into: &out)
        out += ",\"hash\":\"\(event.hash)\",\"kind\":"
        CanonicalJSON.writeString(event.kind, into: &out)
        out += ",\"payload\":\(event.payload),\"prev_hash\":\"\(event.prevHash)\",\"seq\":\(event.seq),\"subjects\":\(event.subjects),\"time\":\(event.time)}"
        return out
    }

    /// Reads one export line back; subjects and payload are re-encoded canonically, which gives the
    /// exported text back unless the line was edited.
    public static func parseExportLine(_ line: Substring) throws -> StoredAuditEvent {
        guard case .object(let fields) = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)) else {
            throw ExportError("not a JSON object")
        }
        func text(_ key: String) throws -> String {
            guard case .string(let value)? = fields[key] else { throw ExportError("'\(key)' is missing or not a string") }
            return value
        }
        func integer(_ key: String) throws -> Int64 {
            guard case .number(let value)? = fields[key], value.rounded() == value, abs(value) < 9_007_199_254_740_992 else {
                throw ExportError("'\(key)' is missing or not an integer")
            }
            return Int64(value)
        }
        // Field by field in a fixed order, so the first problem is the one named.
        let seq = try integer("seq"), time = try integer("time"), actor = try text("actor"), kind = try text("kind")
        guard case .object(let subjects)? = fields["subjects"], subjects.values.allSatisfy({ $0.stringValue != nil }) else {
            throw ExportError("'subjects' is missing or not an object of strings")
        }
        guard let payload = fields["payload"] else { throw ExportError("'payload' is missing") }
        return StoredAuditEvent(seq: Int(seq), time: time, actor: actor, kind: kind,
                                subjects: CanonicalJSON.encode(.object(subjects)), payload: CanonicalJSON.encode(payload),
                                prevHash: try text("prev_hash"), hash: try text("hash"))
    }

    /// Why an export line could not be read.
    public struct ExportError: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }
}

/// The first line of `tollgate audit export`: how many events the export holds and its head, so a
/// copy that lost its last lines no longer verifies.
///
/// `{"tollgate_audit_export":1,"events":N,"head":"<hash>","head_seq":N}`. An export written before
/// the header existed starts with an event line; it still reads, but its tail cannot be checked.
public struct AuditExportHeader: Sendable, Equatable {
    public static let key = "tollgate_audit_export"
    public static let version = 1

    public var events: Int
    /// The last event's hash (the genesis hash for an empty log).
    public var head: String
    /// The last event's seq (0 for an empty log).
    public var headSeq: Int

    public init(events: Int, head: String, headSeq: Int) {
        self.events = events
        self.head = head
        self.headSeq = headSeq
    }

    /// The header of an export of these events.
    public init(of events: [StoredAuditEvent]) {
        self.init(events: events.count, head: events.last?.hash ?? AuditChain.genesis, headSeq: events.last?.seq ?? 0)
    }

    public var line: String {
        "{\"\(Self.key)\":\(Self.version),\"events\":\(events),\"head\":\"\(head)\",\"head_seq\":\(headSeq)}"
    }

    /// The header a line holds; nil when the line is not a header (an event line of an older export).
    public static func parse(_ line: Substring) throws -> AuditExportHeader? {
        guard case .object(let fields) = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)) else {
            throw AuditChain.ExportError("not a JSON object")
        }
        guard let version = fields[key] else { return nil }
        func integer(_ name: String, _ value: JSONValue?) throws -> Int {
            guard case .number(let number)? = value, number.rounded() == number, number >= 0, number < 9_007_199_254_740_992 else {
                throw AuditChain.ExportError("the header's '\(name)' is missing or not a whole number")
            }
            return Int(number)
        }
        let format = try integer(key, version)
        guard format == Self.version else {
            throw AuditChain.ExportError("the export format is version \(format), and this tollgate reads version \(Self.version); verify it with the tollgate that wrote it")
        }
        let events = try integer("events", fields["events"])
        guard case .string(let head)? = fields["head"], AuditAnchor.isHash(head[...]) else {
            throw AuditChain.ExportError("the header's 'head' is missing or not a sha256 hash")
        }
        return AuditExportHeader(events: events, head: head, headSeq: try integer("head_seq", fields["head_seq"]))
    }
}

extension AuditChain {
    /// The problem the header of an export shows in its otherwise intact chain, if any: fewer or
    /// more events than it names, or a last event other than its head.
    public static func headerBreak(_ header: AuditExportHeader, events: [StoredAuditEvent]) -> Break? {
        let count = events.count
        let last = events.last
        if count < header.events {
            let one = header.events == count + 1
            let range = one ? "event \(header.headSeq)" : "events \((last?.seq ?? 0) + 1)…\(header.headSeq)"
            return Break(seq: (last?.seq ?? 0) + 1, reason: "the export holds \(count) event\(count == 1 ? "" : "s"), but its header names \(header.events): "
                + "\(range) \(one ? "was" : "were") cut from its end; export the log again with 'tollgate audit export'")
        }
        if count > header.events {
            return Break(seq: header.events + 1, reason: "the export holds \(count) events, but its header names \(header.events): events were added after it was written; "
                + "export the log again with 'tollgate audit export'")
        }
        let head = last?.hash ?? genesis, headSeq = last?.seq ?? 0
        if head != header.head || headSeq != header.headSeq {
            return Break(seq: headSeq, reason: "the last event is \(headSeq) with hash \(head), but the header names event \(header.headSeq) with hash \(header.head): "
                + "the export was changed after it was written; export the log again with 'tollgate audit export'")
        }
        return nil
    }
}
