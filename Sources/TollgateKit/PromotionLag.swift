import Foundation
import TollgateCore

/// How far each environment is behind the one before it, from the ledger's applies alone.
public enum PromotionLag {
    /// Lag findings of one stack. `applies` are that stack's applies in every environment,
    /// `releaseOfPlan` maps plan ids to release ids, `environments` are in promotion order.
    ///
    /// An environment is behind by the releases that landed in the previous environment after the
    /// one it runs now (a release the previous environment later moved away from still counts
    /// once, at its latest landing), and a release applied here without a successful apply to the
    /// previous environment is reported on its own.
    public static func findings(environments: [String], stack: String, applies: [ApplyRecord], releaseOfPlan: [String: String], now: Date) -> [LagFinding] {
        func landings(_ env: String) -> [(release: String, at: Date)] {
            applies.filter { $0.env == env && $0.stack == stack && $0.outcome == .success }
                .compactMap { apply in releaseOfPlan[apply.planID].map { (release: $0, at: apply.finishedAt ?? apply.startedAt) } }
                .sorted { $0.at < $1.at }
        }
        var findings: [LagFinding] = []
        for (index, env) in environments.enumerated() where index > 0 {
            let previous = environments[index - 1]
            let lower = landings(previous)
            let upper = landings(env)
            let passed = Set(lower.map(\.release))
            var reported: Set<String> = []
            for landing in upper where !passed.contains(landing.release) && reported.insert(landing.release).inserted {
                findings.append(LagFinding(kind: .neverPassedPrevious, env: env, previous: previous, stack: stack, releases: [landing.release]))
            }
            // Each release at its latest landing in the previous environment, and its first one (how long it has waited).
            var latest: [String: Date] = [:]
            var first: [String: Date] = [:]
            for landing in lower {
                latest[landing.release] = landing.at
                if first[landing.release] == nil { first[landing.release] = landing.at }
            }
            let since: Date?
            if let current = upper.last {
                since = latest[current.release] ?? current.at
            } else {
                since = nil
            }
            let waiting = latest.filter { release, at in release != upper.last?.release && since.map { at > $0 } ?? true }
                .sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map(\.key)
            guard !waiting.isEmpty else { continue }
            let oldest = waiting.compactMap { first[$0] }.min() ?? now
            findings.append(LagFinding(kind: .behind, env: env, previous: previous, stack: stack, releases: waiting,
                                       days: max(0, now.timeIntervalSince(oldest) / 86_400)))
        }
        return findings
    }
}
