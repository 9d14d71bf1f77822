import Foundation

/// The annotated git tag `tollgate/ENV/STACK/N` left by the N-th successful apply to (env, stack).
///
/// Its message ends in `Tollgate-*` trailer lines naming the release and plan digests, so the
/// history of an environment travels with the repository: a fresh clone with an empty ledger can
/// still say what was applied, from which plan, approved by whom and when.
public struct ReleaseTag: Sendable, Equatable, Codable {
    public var env: String
    public var stack: String
    public var sequence: Int
    public var release: String
    public var plan: String
    public var planDigest: String
    /// The commit the tag points at, which is the release's commit.
    public var commit: String
    public var pr: Int?
    public var apply: String?
    public var approvers: [String]
    public var appliedAt: Date
    /// The audit chain's head as of the apply's finish: an anchor of the log outside the ledger.
    public var auditHead: AuditHead?

    public init(env: String, stack: String, sequence: Int, release: String, plan: String, planDigest: String, commit: String,
                pr: Int?, apply: String?, approvers: [String], appliedAt: Date, auditHead: AuditHead? = nil) {
        self.env = env
        self.stack = stack
        self.sequence = sequence
        self.release = release
        self.plan = plan
        self.planDigest = planDigest
        self.commit = commit
        self.pr = pr
        self.apply = apply
        self.approvers = approvers
        self.appliedAt = appliedAt
        self.auditHead = auditHead
    }

    public static let namespace = "tollgate/"

    /// `tollgate/ENV/STACK/N`.
    public static func name(env: String, stack: String, sequence: Int) -> String {
        "\(namespace)\(env)/\(stack)/\(sequence)"
    }

    /// `tollgate/ENV/` (or `tollgate/ENV/STACK/`): the prefix every tag of an environment (or stack) starts with.
    public static func prefix(env: String, stack: String? = nil) -> String {
        "\(namespace)\(env)/" + (stack.map { "\($0)/" } ?? "")
    }

    public var name: String { Self.name(env: env, stack: stack, sequence: sequence) }

    /// A subject line for people, a blank line, then one trailer per fact.
    public var message: String {
        var lines = ["tollgate: release \(release) applied to \(env)/\(stack) by plan \(plan)", ""]
        lines.append("\(Trailer.release): \(release)")
        lines.append("\(Trailer.planDigest): \(planDigest)")
        lines.append("\(Trailer.plan): \(plan)")
        lines.append("\(Trailer.env): \(env)")
        lines.append("\(Trailer.stack): \(stack)")
        if let apply { lines.append("\(Trailer.apply): \(apply)") }
        if let pr { lines.append("\(Trailer.pr): \(pr)") }
        lines.append(approvers.isEmpty ? "\(Trailer.approvers):" : "\(Trailer.approvers): \(approvers.joined(separator: ", "))")
        lines.append("\(Trailer.appliedAt): \(Self.timestamp(appliedAt))")
        if let auditHead { lines.append("\(AuditAnchor.trailer): \(AuditAnchor.trailerValue(auditHead))") }
        return lines.joined(separator: "\n") + "\n"
    }

    enum Trailer {
        static let release = "Tollgate-Release"
        static let planDigest = "Tollgate-Plan-Digest"
        static let plan = "Tollgate-Plan"
        static let env = "Tollgate-Env"
        static let stack = "Tollgate-Stack"
        static let apply = "Tollgate-Apply"
        static let pr = "Tollgate-PR"
        static let approvers = "Tollgate-Approvers"
        static let appliedAt = "Tollgate-Applied-At"
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        return ISO8601DateFormatter().date(from: text)
    }

    /// Reads a tag back, or says why it cannot be trusted as a record of an apply.
    ///
    /// The name, the trailers and the target must agree: a tag whose trailers name another
    /// environment, stack or number, or lack a digest, is refused rather than half-read.
    public static func parse(_ tag: GitTag) -> Result<ReleaseTag, ReleaseTagError> {
        func problem(_ reason: String) -> Result<ReleaseTag, ReleaseTagError> { .failure(ReleaseTagError(tag: tag.name, reason: reason)) }
        let parts = tag.name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] + "/" == namespace, !parts[1].isEmpty, !parts[2].isEmpty,
              let sequence = Int(parts[3]), sequence > 0 else {
            return problem("the name is not of the form 'tollgate/ENV/STACK/N'")
        }
        guard tag.annotated else { return problem("it is a lightweight tag, so it carries no release or plan digest") }
        var fields: [String: String] = [:]
        for line in tag.message.split(separator: "\n") where line.hasPrefix("Tollgate-") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon])
            if fields[key] != nil { return problem("the trailer '\(key)' appears twice") }
            fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var missing: [String] = []
        func required(_ key: String) -> String {
            guard let value = fields[key], !value.isEmpty else {
                missing.append(key)
                return ""
            }
            return value
        }
        let release = required(Trailer.release), planDigest = required(Trailer.planDigest), plan = required(Trailer.plan)
        let env = required(Trailer.env), stack = required(Trailer.stack), applied = required(Trailer.appliedAt)
        if !missing.isEmpty { return problem("its message lacks the trailer\(missing.count == 1 ? "" : "s") \(missing.map { "'\($0)'" }.joined(separator: ", "))") }
        for (key, value) in [(Trailer.release, release), (Trailer.planDigest, planDigest)] where !isDigest(value) {
            return problem("'\(key)' is '\(value)', not a sha256: digest")
        }
        guard env == parts[1], stack == parts[2] else {
            return problem("its trailers name '\(env)/\(stack)', but its name names '\(parts[1])/\(parts[2])'")
        }
        guard let appliedAt = date(applied) else { return problem("'\(Trailer.appliedAt)' is '\(applied)', not an ISO 8601 time") }
        var pr: Int?
        if let text = fields[Trailer.pr] {
            guard let number = Int(text) else { return problem("'\(Trailer.pr)' is '\(text)', not a number") }
            pr = number
        }
        var auditHead: AuditHead?
        if let text = fields[AuditAnchor.trailer] {
            guard let head = AuditAnchor.parseTrailerValue(text) else {
                return problem("'\(AuditAnchor.trailer)' is '\(text)', not an event number and a sha256 hash")
            }
            auditHead = head
        }
        let approvers = (fields[Trailer.approvers] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return .success(ReleaseTag(env: env, stack: stack, sequence: sequence, release: release, plan: plan, planDigest: planDigest,
                                   commit: tag.commit, pr: pr, apply: fields[Trailer.apply], approvers: approvers, appliedAt: appliedAt,
                                   auditHead: auditHead))
    }

    static func isDigest(_ text: String) -> Bool {
        text.hasPrefix("sha256:") && text.count == 71 && text.dropFirst(7).allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}

/// Why a `tollgate/…` tag was skipped when reading history from tags.
public struct ReleaseTagError: Error, Sendable, Equatable, CustomStringConvertible {
    public var tag: String
    public var reason: String

    public init(tag: String, reason: String) {
        self.tag = tag
        self.reason = reason
    }

    public var description: String {
        "skipped tag '\(tag)': \(reason); delete it if tollgate did not make it, or check its message with 'git tag -n20 \(tag)'"
    }
}
