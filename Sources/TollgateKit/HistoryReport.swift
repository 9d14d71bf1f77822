import Foundation
import TollgateCore

/// Every apply to one environment, in order, with what was applied, who approved it and how it ended.
///
/// The ledger is the source. When it has no apply of the environment at all (a fresh clone, a lost
/// `.tollgate/`), the history is read from the `tollgate/ENV/STACK/N` tags instead and marked as
/// such. Recovery only reads: it never writes to the ledger, so the audit chain holds only what
/// happened on this ledger and no entry is ever invented after the fact.
public struct HistoryReport: Sendable, Codable, Equatable {
    public enum Source: String, Sendable, Codable {
        case ledger
        /// Read from git tags because the ledger has no apply of the environment.
        case tags
    }

    public struct Entry: Sendable, Codable, Equatable {
        public var env: String
        public var stack: String
        /// success, failed, interrupted or running; only successes leave tags, so recovered entries are all successes.
        public var outcome: String
        /// When the apply finished, or started if it never recorded a finish.
        public var time: Date
        public var commit: String
        public var pr: Int?
        public var release: String
        public var plan: String
        public var planDigest: String
        /// Principals whose approvals counted: re-verified against allowed_signers as it is now when
        /// read from the ledger, as recorded at apply time when read from a tag.
        public var approvers: [String]
        public var apply: String?
        /// `tollgate/ENV/STACK/N`, when that tag exists.
        public var tag: String?
        /// Whether this is the current last-good of its stack.
        public var lastGood: Bool
        public var detail: String?
        /// The CI run that started the apply, as recorded (ledger entries only).
        public var ci: CIContext?
        /// How the on-merge gate found the release on the main branch (ledger entries only).
        public var mergedBy: MergeProof?
    }

    public var env: String
    public var stack: String?
    public var source: Source
    public var entries: [Entry]
    /// Tags skipped because they could not be read as records of an apply.
    public var warnings: [String]

    public static func build(_ context: Context, env: String, stack: String? = nil) async throws -> HistoryReport {
        let environment = try context.environment(env)
        if let stack { _ = try context.stacks(only: [stack]) }
        let prefix = ReleaseTag.prefix(env: env, stack: stack)
        let applies = try await context.ledger.applies(env: env, stack: stack)
        if applies.isEmpty {
            return try await recover(context, env: env, stack: stack, prefix: prefix)
        }
        var warnings: [String] = []
        var tags: [String: Result<ReleaseTag, ReleaseTagError>] = [:]
        do {
            for tag in try await context.git.tags(prefix: prefix) { tags[tag.name] = ReleaseTag.parse(tag) }
        } catch {
            warnings.append("could not list the git tags under '\(prefix)': \(error); tag names are left out")
        }
        let approver = Approver(context: context)
        var successes: [String: Int] = [:]
        var lastGood: [String: String] = [:]
        var entries: [Entry] = []
        let started = Auditor.startFacts(try await context.ledger.events())
        for apply in applies {
            guard let plan = try await context.ledger.plan(id: apply.planID),
                  let release = try await context.ledger.release(id: plan.releaseID) else { continue }
            if lastGood[apply.stack] == nil {
                lastGood[apply.stack] = try await context.ledger.lastGood(env: env, stack: apply.stack)?.applyID ?? ""
            }
            // Only the approvals the gate counts: it is evaluated when the apply started, so age and
            // status do not matter here, only who signed and whether the signature verifies.
            let decision = GateEvaluator.evaluate(GateFacts(
                environment: environment, previousEnvironment: nil, release: release, plan: plan, appliedToPrevious: true,
                onMainBranch: true, mainBranch: context.pipeline.mainBranch, approvals: try await approver.verifiedAsSealed(plan, release: release),
                now: apply.startedAt))
            var tag: String?
            if apply.outcome == .success {
                // last_good numbers the successes of an (env, stack) 1, 2, 3… in order: the N of its tag.
                let sequence = successes[apply.stack, default: 0] + 1
                successes[apply.stack] = sequence
                let name = ReleaseTag.name(env: env, stack: apply.stack, sequence: sequence)
                switch tags[name] {
                case .success(let marker) where marker.plan != plan.id:
                    warnings.append("tag '\(name)' records plan '\(marker.plan)', but the ledger's apply \(apply.id) applied plan '\(plan.id)'; the tag was made by another ledger, so check which one is this repository's record")
                case .some: tag = name
                case .none: break
                }
            }
            entries.append(Entry(env: env, stack: apply.stack, outcome: apply.outcome.rawValue, time: apply.finishedAt ?? apply.startedAt,
                                 commit: release.commit, pr: release.pr, release: release.id, plan: plan.id, planDigest: plan.digest,
                                 approvers: decision.approvedBy, apply: apply.id, tag: tag, lastGood: lastGood[apply.stack] == apply.id,
                                 detail: apply.detail, ci: started[apply.id]?.ci, mergedBy: started[apply.id]?.mergedBy))
        }
        return HistoryReport(env: env, stack: stack, source: .ledger, entries: entries, warnings: warnings)
    }

    /// The history as the tags tell it: one success per readable tag; a tag that cannot be read is skipped with a warning.
    static func recover(_ context: Context, env: String, stack: String?, prefix: String) async throws -> HistoryReport {
        let tags: [GitTag]
        do {
            tags = try await context.git.tags(prefix: prefix)
        } catch {
            throw KitError.step("the ledger has no apply of '\(env)', and the git tags under '\(prefix)' could not be listed: \(error)")
        }
        var warnings: [String] = []
        var markers: [ReleaseTag] = []
        for tag in tags where tag.name.hasPrefix(prefix) {
            switch ReleaseTag.parse(tag) {
            case .success(let marker): markers.append(marker)
            case .failure(let problem): warnings.append(problem.description)
            }
        }
        markers.sort { ($0.appliedAt, $0.stack, $0.sequence) < ($1.appliedAt, $1.stack, $1.sequence) }
        var newest: [String: Int] = [:]
        for marker in markers { newest[marker.stack] = max(newest[marker.stack] ?? 0, marker.sequence) }
        let entries = markers.map { marker in
            Entry(env: marker.env, stack: marker.stack, outcome: ApplyRecord.Outcome.success.rawValue, time: marker.appliedAt,
                  commit: marker.commit, pr: marker.pr, release: marker.release, plan: marker.plan, planDigest: marker.planDigest,
                  approvers: marker.approvers, apply: marker.apply, tag: marker.name, lastGood: newest[marker.stack] == marker.sequence,
                  detail: nil)
        }
        return HistoryReport(env: env, stack: stack, source: entries.isEmpty ? .ledger : .tags, entries: entries, warnings: warnings)
    }
}
