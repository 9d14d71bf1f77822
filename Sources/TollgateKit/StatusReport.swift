import Foundation
import TollgateCore

/// The env × stack matrix: what is applied, what waits and with which approvals, which locks are held.
public struct StatusReport: Sendable, Codable, Equatable {
    public struct Cell: Sendable, Codable, Equatable {
        public var env: String
        public var stack: String
        public var applied: AppliedRelease?
        public var waiting: WaitingPlan?
        public var lock: HeldLock?
        /// The newest apply, when it did not succeed (failed or interrupted).
        public var lastProblem: Problem?
        /// Where the governance that judges the next change here comes from.
        public var governance: GovernanceSource
    }

    /// The governance in force for an (env, stack), or bootstrap when nothing was applied there yet.
    public struct GovernanceSource: Sendable, Codable, Equatable {
        /// `in-force` or `bootstrap` (trust on first use).
        public var kind: String
        public var release: String?
        /// The tag of the last-good whose sealed governance is in force.
        public var tag: String?

        public var text: String {
            guard let release, let tag else { return "bootstrap (trust on first use)" }
            return "in force: \(Digest.short(release)) (\(tag))"
        }
    }

    public struct AppliedRelease: Sendable, Codable, Equatable {
        public var release: String
        public var sequence: Int
        public var appliedAt: Date
    }

    public struct WaitingPlan: Sendable, Codable, Equatable {
        public var plan: String
        public var release: String
        public var summary: String
        public var approvals: Int
        public var required: Int
        public var approvedBy: [String]
        public var missing: [String]
    }

    public struct HeldLock: Sendable, Codable, Equatable {
        public var holder: String
        public var apply: String
        public var pid: Int32
        public var host: String
        /// The lease ran out without renewal: the holder was killed or cut off.
        public var holderGone: Bool
        public var expiresAt: Date
        public var token: Int64
        public var runURL: String?
    }

    public struct Problem: Sendable, Codable, Equatable {
        public var apply: String
        public var outcome: String
        public var detail: String?
    }

    public var cells: [Cell]
    /// Every break-glass release; those without an eligible second approver's review need one.
    public var breakGlass: [BreakGlassReviewer.Entry] = []

    public static func build(_ context: Context) async throws -> StatusReport {
        let locks = try await context.ledger.locks()
        let applier = Applier(context: context)
        var cells: [Cell] = []
        for environment in context.pipeline.environments {
            let env = environment.name.value
            for stack in try context.stacks(only: []) {
                let name = stack.name.value
                let inForce = try await GovernanceResolver(context: context).inForceLastGood(env: env, stack: name)
                var cell = Cell(env: env, stack: name, governance: GovernanceSource(
                    kind: inForce == nil ? "bootstrap" : "in-force", release: inForce?.releaseID,
                    tag: inForce.map { ReleaseTag.name(env: env, stack: $0.stack, sequence: $0.sequence) }))
                if let good = try await context.ledger.lastGood(env: env, stack: name) {
                    cell.applied = AppliedRelease(release: good.releaseID, sequence: good.sequence, appliedAt: good.appliedAt)
                }
                if let plan = try await context.ledger.latestPlan(env: env, stack: name, status: .pending),
                   let release = try await context.ledger.release(id: plan.releaseID) {
                    let (decision, judgement) = try await applier.judged(plan, release: release)
                    let required = judgement.effective.approval?.required ?? 0
                    cell.waiting = WaitingPlan(plan: plan.id, release: plan.releaseID, summary: plan.summary.counts,
                                               approvals: decision.approvedBy.count, required: required,
                                               approvedBy: decision.approvedBy, missing: decision.refusals.map(\.message))
                }
                if let lock = locks.first(where: { $0.env == env && $0.stack == name }) {
                    cell.lock = HeldLock(holder: lock.holder, apply: lock.applyID, pid: lock.pid, host: lock.host,
                                         holderGone: Applier.holderIsGone(lock, now: context.effects.now()), expiresAt: lock.expiresAt,
                                         token: lock.token, runURL: lock.runURL)
                }
                if let last = try await context.ledger.latestApply(env: env, stack: name), last.outcome == .failed || last.outcome == .interrupted {
                    cell.lastProblem = Problem(apply: last.id, outcome: last.outcome.rawValue, detail: last.detail)
                }
                cells.append(cell)
            }
        }
        return StatusReport(cells: cells, breakGlass: try await BreakGlassReviewer(context: context).entries())
    }
}
