import Foundation

/// The head of the audit chain: the last event's number and hash.
public struct AuditHead: Sendable, Equatable, Codable {
    public var seq: Int
    public var hash: String

    public init(seq: Int, hash: String) {
        self.seq = seq
        self.hash = hash
    }

    /// The head of stored events, nil for an empty log.
    public init?(last event: StoredAuditEvent?) {
        guard let event else { return nil }
        self.init(seq: event.seq, hash: event.hash)
    }
}

/// A chain head recorded outside the ledger, in a git ref of the repository.
///
/// The ledger alone cannot show that its last events were deleted: what is left still chains. An
/// anchor says "event N had hash H", so a log that ends before N, or whose event N hashes to
/// something else, is caught. Anchors live in `refs/tollgate/audit-head` (moved forward after every
/// command that records events) and in the `Tollgate-Audit-Head` trailer of each release tag.
public struct AuditAnchor: Sendable, Equatable, Codable {
    public var seq: Int
    public var hash: String
    /// The git ref that holds it: `refs/tollgate/audit-head` or `refs/tags/tollgate/ENV/STACK/N`.
    public var source: String
    /// When it was written: the head ref's own time, or a release tag's apply time.
    public var writtenAt: Date?

    public init(seq: Int, hash: String, source: String, writtenAt: Date?) {
        self.seq = seq
        self.hash = hash
        self.source = source
        self.writtenAt = writtenAt
    }

    public init(_ head: AuditHead, source: String, writtenAt: Date?) {
        self.init(seq: head.seq, hash: head.hash, source: source, writtenAt: writtenAt)
    }

    public var head: AuditHead { AuditHead(seq: seq, hash: hash) }

    /// The ref tollgate moves forward after every command that records events.
    public static let ref = "refs/tollgate/audit-head"

    /// The trailer naming a chain head, in the head ref's commit and in release tags: `SEQ HASH`.
    public static let trailer = "Tollgate-Audit-Head"
    /// The trailer with the head ref's time (ISO 8601, milliseconds).
    public static let writtenAtTrailer = "Tollgate-Audit-Head-Written-At"

    /// `123 9f3c…`: the value of the `Tollgate-Audit-Head` trailer.
    public static func trailerValue(_ head: AuditHead) -> String { "\(head.seq) \(head.hash)" }

    /// Reads a `Tollgate-Audit-Head` value back: a positive event number, a space, a 64-digit hex hash.
    public static func parseTrailerValue(_ text: String) -> AuditHead? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, let seq = Int(parts[0]), seq > 0, isHash(parts[1]) else { return nil }
        return AuditHead(seq: seq, hash: String(parts[1]))
    }

    static func isHash(_ text: Substring) -> Bool {
        text.utf8.count == 64 && text.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    /// The commit message of the head ref: a subject for people, then the head and its time as trailers.
    public static func refMessage(_ head: AuditHead, writtenAt: Date) -> String {
        "tollgate: audit chain head at event \(head.seq)\n\n\(trailer): \(trailerValue(head))\n\(writtenAtTrailer): \(timestamp(writtenAt))\n"
    }

    /// Reads the head ref's commit message back, or says what is wrong with it.
    public static func parseRefMessage(_ message: String, source: String = ref) -> Result<AuditAnchor, AuditAnchorError> {
        var fields: [String: String] = [:]
        for line in message.split(separator: "\n") where line.hasPrefix("Tollgate-") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon])
            if fields[key] != nil { return .failure(.unreadable(source: source, reason: "the trailer '\(key)' appears twice")) }
            fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard let value = fields[trailer] else { return .failure(.unreadable(source: source, reason: "its message lacks the trailer '\(trailer)'")) }
        guard let head = parseTrailerValue(value) else {
            return .failure(.unreadable(source: source, reason: "'\(trailer)' is '\(value)', not an event number and a sha256 hash"))
        }
        guard let written = fields[writtenAtTrailer] else {
            return .failure(.unreadable(source: source, reason: "its message lacks the trailer '\(writtenAtTrailer)'"))
        }
        guard let date = ReleaseTag.date(written) else {
            return .failure(.unreadable(source: source, reason: "'\(writtenAtTrailer)' is '\(written)', not an ISO 8601 time"))
        }
        return .success(AuditAnchor(head, source: source, writtenAt: date))
    }

    /// ISO 8601 in UTC with milliseconds, the form every anchor time is written and reported in.
    public static func timestamp(_ date: Date) -> String { ReleaseTag.timestamp(date) }

    /// `refs/tollgate/audit-head (written 2026-12-01T10:00:00.000Z)`: how a message names an anchor.
    public var described: String {
        source + (writtenAt.map { " (written \(Self.timestamp($0)))" } ?? "")
    }
}

/// The port to the anchors a repository holds.
public protocol AuditAnchors: Sendable {
    /// Every anchor in the repository: the head ref, if any, then each release tag's trailer.
    /// Throws `AuditAnchorError.notARepository` outside a git repository.
    func anchors() async throws -> [AuditAnchor]
    /// Moves the head ref to `head`, unless it already names that event or a later one (an anchor
    /// only moves forward), or the ledger no longer holds the event it names with its hash
    /// (`ledgerHash` gives the ledger's hash of an event): moving on then would hide a cut tail
    /// under new events. The move is a compare-and-swap on the ref, so two writers cannot silently
    /// overwrite each other.
    func advance(to head: AuditHead, at time: Date, ledgerHash: @escaping @Sendable (Int) async throws -> String?) async throws -> AuditAnchorAdvance
}

/// What `AuditAnchors.advance` did.
public enum AuditAnchorAdvance: Sendable, Equatable {
    /// The ref now names the head; it named `previous` before (nil when it did not exist).
    case moved(previous: AuditAnchor?)
    /// The ref already named this event or a later one, and was left as it was.
    case kept(AuditAnchor)
    /// The ledger's event at the ref's number is missing or has another hash; the ref was left as it was.
    case diverged(AuditAnchor)
}

public enum AuditAnchorError: Error, Sendable, Equatable, CustomStringConvertible {
    case notARepository(String)
    case unreadable(source: String, reason: String)
    /// Other writers kept moving the ref while this one tried.
    case contended(String)

    public var description: String {
        switch self {
        case .notARepository(let path):
            "'\(path)' is not inside a git repository; run tollgate in the repository that holds tollgate.yaml"
        case .unreadable(let source, let reason):
            "the anchor \(source) cannot be read: \(reason); tollgate did not write it as it is now, so inspect it with 'git log -1 \(source)'"
        case .contended(let source):
            "\(source) kept moving under other writers; run the command again"
        }
    }
}
