import Foundation
import TollgateCore

/// Answers the audit promise: the chain is intact, and every change applied traces to its PR,
/// commit, release, reviewed plan, approvers, planner and outcome.
public struct Auditor: Sendable {
    public var context: Context

    public init(context: Context) { self.context = context }

    public struct Verification: Sendable, Codable, Equatable {
        public var events: Int
        public var intact: Bool
        public var firstBadEvent: Int?
        public var reason: String?
        public var head: String?
    }

    public func verify() async throws -> Verification {
        Self.verify(try await context.ledger.storedEvents())
    }

    static func verify(_ events: [StoredAuditEvent]) -> Verification {
        if let broken = AuditChain.verify(stored: events) {
            return Verification(events: events.count, intact: false, firstBadEvent: broken.seq, reason: broken.reason, head: events.last?.hash)
        }
        return Verification(events: events.count, intact: true, firstBadEvent: nil, reason: nil, head: events.last?.hash)
    }

    /// Verifies an export written by `audit export` on its own, without a ledger: an auditor's copy.
    /// A line that cannot be read is an error naming the file and line.
    public static func verify(exportAt path: String) throws -> Verification {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KitError.step("cannot read '\(path)'; give the path of a file written by 'tollgate audit export'")
        }
        var events: [StoredAuditEvent] = []
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty {
            do {
                events.append(try AuditChain.parseExportLine(line))
            } catch {
                let reason = (error as? AuditChain.ExportError)?.description ?? "not valid JSON"
                throw KitError.step("\(path):\(index + 1):1: \(reason); an export has one JSON object per line, as 'tollgate audit export' writes them")
            }
        }
        return verify(events)
    }

    /// The whole log as JSON Lines, one stored event per line, in order.
    public func export() async throws -> (text: String, events: Int) {
        let events = try await context.ledger.storedEvents()
        var text = ""
        for event in events {
            text += AuditChain.exportLine(event)
            text += "\n"
        }
        return (text, events.count)
    }

    public struct Trace: Sendable, Codable, Equatable {
        public struct Approver: Sendable, Codable, Equatable {
            public var principal: String
            public var decision: String
            public var signatureVerifies: Bool
            public var at: Date
        }

        public var env: String
        public var stack: String
        public var apply: String
        public var outcome: String
        public var startedAt: Date
        public var finishedAt: Date?
        public var plan: String
        public var planDigest: String
        public var planner: String
        public var release: String
        public var commit: String
        public var pr: Int?
        public var author: String
        public var approvers: [Approver]
        public var detail: String?
    }

    public func trace(env: String?) async throws -> [Trace] {
        if let env { _ = try context.environment(env) }
        let approver = Approver(context: context)
        var traces: [Trace] = []
        for apply in try await context.ledger.applies(env: env, stack: nil) where apply.outcome != .running {
            guard let plan = try await context.ledger.plan(id: apply.planID),
                  let release = try await context.ledger.release(id: plan.releaseID) else { continue }
            let approvals = try await approver.verifiedAsSealed(plan, release: release).map {
                Trace.Approver(principal: $0.record.principal, decision: $0.record.decision.rawValue,
                               signatureVerifies: $0.verifiedPrincipal != nil, at: $0.record.createdAt)
            }
            traces.append(Trace(env: apply.env, stack: apply.stack, apply: apply.id, outcome: apply.outcome.rawValue,
                                startedAt: apply.startedAt, finishedAt: apply.finishedAt, plan: plan.id, planDigest: plan.digest,
                                planner: plan.planner, release: release.id, commit: release.commit, pr: release.pr,
                                author: release.author, approvers: approvals, detail: apply.detail))
        }
        return traces
    }

    /// Releases a lock with a reason, on the record.
    public func unlock(env: String, stack: String, reason: String) async throws -> LockRecord? {
        _ = try context.environment(env)
        _ = try context.stacks(only: [stack])
        return try await context.ledger.releaseLock(env: env, stack: stack, event: AuditEntry(
            actor: context.actor, kind: "lock.released", subjects: ["env": env, "stack": stack], payload: ["reason": .string(reason)]))
    }
}
