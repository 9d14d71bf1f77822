import Foundation

/// A sealed bundle of everything deployable at one commit; its id is the sha256 of the archive.
public struct Release: Sendable, Equatable, Codable {
    public var id: String
    public var commit: String
    public var branch: String?
    public var pr: Int?
    /// The commit author's email: never allowed to approve a plan of this release.
    public var author: String
    public var createdAt: Date
    public var files: [String]

    public init(id: String, commit: String, branch: String?, pr: Int?, author: String, createdAt: Date, files: [String]) {
        self.id = id
        self.commit = commit
        self.branch = branch
        self.pr = pr
        self.author = author
        self.createdAt = createdAt
        self.files = files
    }
}

/// A saved engine plan for one (release, env, stack), and what the review and apply need of it.
public struct PlanRecord: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        /// Waiting for gates and apply.
        case pending
        case applied
        case failed
        /// The state moved since the plan was made; it can never be applied.
        case stale
        /// A newer plan of the same (env, stack) exists.
        case superseded
    }

    public var id: String
    public var releaseID: String
    public var env: String
    public var stack: String
    /// sha256 of the plan file's bytes: what approvals sign and apply re-checks.
    public var digest: String
    public var summary: PlanSummary
    public var hasChanges: Bool
    /// The state the plan was made against, read from the plan file's `tfstate` member.
    public var priorSerial: Int
    public var priorLineage: String
    public var planner: String
    public var engineKind: String
    public var engineVersion: String
    public var createdAt: Date
    public var status: Status
    /// Results of the environment's checks on this plan.
    public var checks: [CheckResult]
    /// The break-glass invocation that let this plan skip the lower environments, if any.
    public var breakGlass: String?

    public init(id: String, releaseID: String, env: String, stack: String, digest: String, summary: PlanSummary, hasChanges: Bool,
                priorSerial: Int, priorLineage: String, planner: String, engineKind: String, engineVersion: String,
                createdAt: Date, status: Status = .pending, checks: [CheckResult] = [], breakGlass: String? = nil) {
        self.breakGlass = breakGlass
        self.id = id
        self.releaseID = releaseID
        self.env = env
        self.stack = stack
        self.digest = digest
        self.summary = summary
        self.hasChanges = hasChanges
        self.priorSerial = priorSerial
        self.priorLineage = priorLineage
        self.planner = planner
        self.engineKind = engineKind
        self.engineVersion = engineVersion
        self.createdAt = createdAt
        self.status = status
        self.checks = checks
    }
}

/// The outcome of one pre-apply check on a plan.
public struct CheckResult: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case pass, warn, fail
    }

    public var name: String
    public var status: Status
    public var details: [String]

    public init(name: String, status: Status, details: [String] = []) {
        self.name = name
        self.status = status
        self.details = details
    }
}

/// A signed decision on one plan.
public struct ApprovalRecord: Sendable, Equatable, Codable {
    public enum Decision: String, Sendable, Codable {
        case approve
        case reject
    }

    public var id: String
    public var planID: String
    public var decision: Decision
    /// The principal `allowed_signers` maps the signing key to, at signing time.
    public var principal: String
    /// The canonical JSON that was signed.
    public var payload: String
    /// The armored SSHSIG signature.
    public var signature: String
    public var comment: String?
    public var createdAt: Date

    public init(id: String, planID: String, decision: Decision, principal: String, payload: String, signature: String, comment: String?, createdAt: Date) {
        self.id = id
        self.planID = planID
        self.decision = decision
        self.principal = principal
        self.payload = payload
        self.signature = signature
        self.comment = comment
        self.createdAt = createdAt
    }
}

/// One engine apply of one plan.
public struct ApplyRecord: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Codable {
        case running
        case success
        case failed
        /// The process died midway; found by the next command that looks.
        case interrupted
    }

    public var id: String
    public var planID: String
    public var env: String
    public var stack: String
    public var actor: String
    public var startedAt: Date
    public var finishedAt: Date?
    public var outcome: Outcome
    public var detail: String?

    public init(id: String, planID: String, env: String, stack: String, actor: String, startedAt: Date,
                finishedAt: Date? = nil, outcome: Outcome = .running, detail: String? = nil) {
        self.id = id
        self.planID = planID
        self.env = env
        self.stack = stack
        self.actor = actor
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.detail = detail
    }
}

/// Who holds the apply lock of an (env, stack): a lease, renewed while the engine runs.
///
/// "Holder gone" means the lease expired, never a pid on some host, so a runner killed on another
/// machine leaves a lock that is visibly stale once `expiresAt` passes.
public struct LockRecord: Sendable, Equatable, Codable {
    public var env: String
    public var stack: String
    public var applyID: String
    public var holder: String
    public var host: String
    public var pid: Int32
    public var acquiredAt: Date
    /// The lease ends here unless the holder renews it.
    public var expiresAt: Date
    /// Fencing token: the ledger numbers each acquisition of an (env, stack) 1, 2, 3…; 0 in a request.
    public var token: Int64
    /// The CI run that holds it, when known.
    public var runURL: String?

    public init(env: String, stack: String, applyID: String, holder: String, host: String, pid: Int32, acquiredAt: Date,
                expiresAt: Date? = nil, token: Int64 = 0, runURL: String? = nil) {
        self.expiresAt = expiresAt ?? acquiredAt.addingTimeInterval(LockRecord.defaultLease)
        self.token = token
        self.runURL = runURL
        self.env = env
        self.stack = stack
        self.applyID = applyID
        self.holder = holder
        self.host = host
        self.pid = pid
        self.acquiredAt = acquiredAt
    }
}

extension LockRecord {
    /// How long a lease lasts without renewal; the holder renews it every third of that.
    public static let defaultLease: TimeInterval = 120

    /// Whether the lease has run out: its holder stopped renewing it (killed, or cut off).
    public func expired(at now: Date) -> Bool { expiresAt <= now }
}

/// The ledger refused to record an outcome because the apply no longer holds its lock: its lease
/// expired and another command released or took it. Nothing was written.
public struct LeaseLost: Error, Sendable, Equatable, CustomStringConvertible {
    public var applyID: String
    public var env: String
    public var stack: String

    public init(applyID: String, env: String, stack: String) {
        self.applyID = applyID
        self.env = env
        self.stack = stack
    }

    public var description: String {
        "apply \(applyID) lost its lock on '\(env)/\(stack)': its lease expired and another command released it, so its outcome was not recorded as this run's; check the state with 'tollgate status' and re-plan"
    }
}

/// The newest release applied successfully to an (env, stack).
public struct LastGood: Sendable, Equatable, Codable {
    public var env: String
    public var stack: String
    public var releaseID: String
    public var planID: String
    public var applyID: String
    /// 1, 2, 3… per (env, stack): the N of the git tag `tollgate/ENV/STACK/N`.
    public var sequence: Int
    public var appliedAt: Date

    public init(env: String, stack: String, releaseID: String, planID: String, applyID: String, sequence: Int, appliedAt: Date) {
        self.env = env
        self.stack = stack
        self.releaseID = releaseID
        self.planID = planID
        self.applyID = applyID
        self.sequence = sequence
        self.appliedAt = appliedAt
    }
}

/// An emergency release sent to an environment without passing the ones before it. It still needs
/// the environment's gate, and it shows as needing post-hoc review until a second approver signs.
public struct BreakGlassRecord: Sendable, Equatable, Codable {
    public var id: String
    public var releaseID: String
    public var env: String
    public var reason: String
    public var actor: String
    public var createdAt: Date

    public init(id: String, releaseID: String, env: String, reason: String, actor: String, createdAt: Date) {
        self.id = id
        self.releaseID = releaseID
        self.env = env
        self.reason = reason
        self.actor = actor
        self.createdAt = createdAt
    }

    /// What a post-hoc reviewer signs.
    public static func reviewPayload(_ record: BreakGlassRecord, signer: String, time: Date) -> String {
        CanonicalJSON.encode(.object([
            "decision": .string("review-break-glass"), "break_glass": .string(record.id), "env": .string(record.env),
            "release": .string(record.releaseID), "reason": .string(record.reason), "signer": .string(signer),
            "time": .number(Double(AuditChain.milliseconds(time))),
        ]))
    }
}

/// A signed post-hoc review of a break-glass invocation.
public struct BreakGlassReview: Sendable, Equatable, Codable {
    public var id: String
    public var breakGlassID: String
    public var principal: String
    public var payload: String
    public var signature: String
    public var comment: String?
    public var createdAt: Date

    public init(id: String, breakGlassID: String, principal: String, payload: String, signature: String, comment: String?, createdAt: Date) {
        self.id = id
        self.breakGlassID = breakGlassID
        self.principal = principal
        self.payload = payload
        self.signature = signature
        self.comment = comment
        self.createdAt = createdAt
    }
}
