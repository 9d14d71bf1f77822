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
        /// Read from a tag: the principal whose SSH signature on the tag the signers file verifies
        /// (namespace `git`); absent for an unsigned tag or one that does not verify.
        public var tagSignedBy: String?
        /// Read from a tag: approvers it names whom the signers file does not list for namespace
        /// `tollgate` at the time of the apply; nothing vouches for these.
        public var unlistedApprovers: [String]?
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
        // Anyone who can push a tag can write a well-formed one: check each against the signers file.
        let signersPath = context.pipeline.approversFile.map { PathText.absolute($0.value, base: context.pipeline.baseDirectory) }
        let signers = signersPath.flatMap { FileManager.default.contents(atPath: $0) }
            .map { AllowedSigners.parse(String(decoding: $0, as: UTF8.self), timeZone: .current) }
        var signedBy: [String: String] = [:]
        if let signersPath, signers != nil {
            for marker in markers {
                if let principal = try? await context.git.tagSigner(marker.name, allowedSigners: signersPath) { signedBy[marker.name] = principal }
            }
        }
        // Once tags are signed, an unsigned one among them is a forgery or a stray: it is left out.
        if !signedBy.isEmpty {
            for marker in markers where signedBy[marker.name] == nil {
                warnings.append("skipped tag '\(marker.name)': the other tags of '\(env)' are signed, and this one has no signature the signers file verifies; delete it if tollgate did not make it")
            }
            markers.removeAll { signedBy[$0.name] == nil }
        } else if !markers.isEmpty {
            let names = markers.map(\.name)
            warnings.append("the tags are not signed (\(names.prefix(3).joined(separator: ", "))\(names.count > 3 ? ", …" : "")), so anyone who could push a tag could have written them; set TOLLGATE_TAG_SIGNING_KEY where tollgate applies so its tags are signed")
        }
        var newest: [String: Int] = [:]
        for marker in markers { newest[marker.stack] = max(newest[marker.stack] ?? 0, marker.sequence) }
        var entries: [Entry] = []
        for marker in markers {
            let unlisted = marker.approvers.filter { approver in
                !(signers?.signers.contains { $0.permits(principal: approver, namespace: "tollgate", at: marker.appliedAt) } ?? false)
            }
            for approver in unlisted {
                warnings.append("tag '\(marker.name)' names approver \(approver), whom the signers file does not list: nothing vouches for that approval")
            }
            entries.append(Entry(env: marker.env, stack: marker.stack, outcome: ApplyRecord.Outcome.success.rawValue, time: marker.appliedAt,
                                 commit: marker.commit, pr: marker.pr, release: marker.release, plan: marker.plan, planDigest: marker.planDigest,
                                 approvers: marker.approvers, apply: marker.apply, tag: marker.name, lastGood: newest[marker.stack] == marker.sequence,
                                 detail: nil, tagSignedBy: signedBy[marker.name], unlistedApprovers: unlisted.isEmpty ? nil : unlisted))
        }
        return HistoryReport(env: env, stack: stack, source: entries.isEmpty ? .ledger : .tags, entries: entries, warnings: warnings)
    }
}
