import Foundation
import TollgateCore

/// How far each environment is behind the one before it, from the ledger's applies alone.
public enum PromotionLag {
    /// Lag findings of one stack. `applies` are that stack's applies in every environment,
    /// `releaseOfPlan` maps plan ids to release ids, `environments` are in promotion order.
    ///
    /// An environment is behind by the releases that landed in the previous environment after the
    /// one it runs now (a release the previous environment later moved away from still counts
    /// once, at its latest landing). A release applied here without a successful apply to the
    /// previous environment (a break-glass) is reported on its own until a release that did pass
    /// the previous environment is applied here after it: then the normal path has caught up.
    /// Advice never names a release for an environment that runs something it does not include
    /// (`ReleaseLineage.includes`): that would be a downgrade. `tollgate promote` applies every
    /// stack, so `otherStacks` (per environment, the releases the other stacks run there) count too.
    public static func findings(environments: [String], stack: String, applies: [ApplyRecord], releaseOfPlan: [String: String],
                                otherStacks: [String: [String]] = [:], lineage: ReleaseLineage, now: Date) async throws -> [LagFinding] {
        var landed: [String: [(release: String, at: Date)]] = [:]
        for env in environments {
            landed[env] = applies.filter { $0.env == env && $0.stack == stack && $0.outcome == .success }
                .compactMap { apply in releaseOfPlan[apply.planID].map { (release: $0, at: apply.finishedAt ?? apply.startedAt) } }
                .sorted { $0.at < $1.at }
        }
        let plan = Advisor(environments: environments, landed: landed, others: otherStacks, lineage: lineage)
        var findings: [LagFinding] = []
        for (index, env) in environments.enumerated() where index > 0 {
            let previous = environments[index - 1]
            let lower = landed[previous] ?? []
            let upper = landed[env] ?? []
            let passed = Set(lower.map(\.release))
            // A release that skipped the previous environment counts until a release that passed it lands here after it.
            let caughtUp = upper.lastIndex { passed.contains($0.release) } ?? -1
            var latestHere: [String: Int] = [:]
            for (position, landing) in upper.enumerated() { latestHere[landing.release] = position }
            for (release, _) in latestHere.filter({ !passed.contains($0.key) && $0.value > caughtUp }).sorted(by: { $0.value < $1.value }) {
                findings.append(LagFinding(kind: .neverPassedPrevious, env: env, previous: previous, stack: stack, releases: [release],
                                           advice: try await plan.skipped(release, upTo: index)))
            }
            // Each release at its latest landing in the previous environment, and its first one (how long it has waited).
            var latest: [String: Date] = [:]
            var first: [String: Date] = [:]
            for landing in lower {
                latest[landing.release] = landing.at
                if first[landing.release] == nil { first[landing.release] = landing.at }
            }
            let current = upper.last
            let since = current.map { latest[$0.release] ?? $0.at }
            let waiting = latest.filter { release, at in release != current?.release && since.map { at > $0 } ?? true }
                .sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map(\.key)
            guard !waiting.isEmpty else { continue }
            let oldest = waiting.compactMap { first[$0] }.min() ?? now
            findings.append(LagFinding(kind: .behind, env: env, previous: previous, stack: stack, releases: waiting,
                                       days: max(0, now.timeIntervalSince(oldest) / 86_400),
                                       advice: try await plan.behind(waiting, upTo: index)))
        }
        return findings
    }

    /// Works out what to promote where without a downgrade.
    struct Advisor {
        var environments: [String]
        var landed: [String: [(release: String, at: Date)]]
        var others: [String: [String]]
        var lineage: ReleaseLineage

        func current(_ env: String) -> String? { landed[env]?.last?.release }

        /// What a promotion to `env` would replace: this stack's release there, then the other stacks'.
        func running(_ env: String) -> [String] {
            var running = current(env).map { [$0] } ?? []
            for release in others[env] ?? [] where !running.contains(release) { running.append(release) }
            return running
        }

        /// The releases running in `env` that `release` does not include.
        func lacking(_ release: String, in env: String) async throws -> [String] {
            var lacking: [String] = []
            for other in running(env) {
                if try await !lineage.includes(release, other) { lacking.append(other) }
            }
            return lacking
        }

        func hasRun(_ release: String, in env: String) -> Bool { landed[env]?.contains { $0.release == release } ?? false }

        /// The environments up to `index` that `release` still has to go through, in order, or nil
        /// when one of them runs a release that `release` does not include.
        func route(_ release: String, upTo index: Int) async throws -> [String]? {
            var route: [String] = []
            for env in environments[...index] where !hasRun(release, in: env) {
                if try await !lacking(release, in: env).isEmpty { return nil }
                route.append(env)
            }
            return route
        }

        /// What runs up to `index`, in any stack, that `release` lacks: what a release cut to go
        /// through those environments must contain besides it.
        func blockers(of release: String, upTo index: Int) async throws -> [String] {
            var found: [String] = []
            for env in environments[...index] {
                for running in try await lacking(release, in: env) where !found.contains(running) { found.append(running) }
            }
            return found
        }

        /// For a release applied to `environments[index]` that skipped the one before: a release
        /// that contains it and can go on without a downgrade (one that has reached the lower
        /// environments first, nearest and newest first), else the release itself through the lower
        /// environments, else a new release that contains it and whatever is in its way.
        func skipped(_ release: String, upTo index: Int) async throws -> LagAdvice {
            var seen: Set<String> = [release]
            for env in environments[..<index].reversed() {
                for candidate in (landed[env] ?? []).reversed().map(\.release) where seen.insert(candidate).inserted {
                    guard try await lineage.includes(candidate, release), let path = try await route(candidate, upTo: index) else { continue }
                    return LagAdvice(action: .promote, release: candidate, environments: path)
                }
            }
            if let path = try await route(release, upTo: index) {
                return LagAdvice(action: .promote, release: release, environments: path)
            }
            return cut(containing: [release] + (try await blockers(of: release, upTo: index)), upTo: index)
        }

        /// For an environment behind the one before it: the newest waiting release that includes
        /// what it runs now, else a new release that contains the newest and what it lacks.
        func behind(_ waiting: [String], upTo index: Int) async throws -> LagAdvice {
            let env = environments[index]
            for candidate in waiting.reversed() {
                if try await lacking(candidate, in: env).isEmpty { return LagAdvice(action: .promote, release: candidate, environments: [env]) }
            }
            let newest = waiting.last ?? "?"
            return cut(containing: try await lacking(newest, in: env) + [newest], upTo: index)
        }

        func cut(containing releases: [String], upTo index: Int) -> LagAdvice {
            LagAdvice(action: .cutRelease, release: nil, environments: Array(environments[...index]), contains: releases,
                      commits: releases.map { lineage.commit(of: $0) ?? "?" })
        }
    }
}
