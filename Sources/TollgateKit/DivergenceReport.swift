import Foundation
import TollgateCore
import TollgateLint

/// The ways prod and the lower environments silently drift apart, each with its evidence now.
///
/// Built from ledger facts and file contents only (no engine, no clock read of its own), so every
/// kind of finding is tested with plain values; `DivergenceInspector` gathers the facts.
public struct DivergenceReport: Sendable, Encodable {
    /// The four kinds, which `--fail-on` picks from.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case drift, skew, lag, code

        /// How to keep this kind of divergence from coming back.
        public var prevention: String {
            switch self {
            case .drift:
                return "change infrastructure only through tollgate, run 'tollgate drift --env ENV' on a schedule, and add 'drift' to the environment's checks"
            case .skew:
                return "keep environments on the same keys and versions; list intended differences under 'lint.expected_differences' in tollgate.yaml"
            case .lag:
                return "promote each release on to the next environment soon after it lands ('tollgate promote RELEASE --to ENV')"
            case .code:
                return "move per-environment values out of code into config/ENV/ and run 'tollgate lint' in CI"
            }
        }
    }

    public var generatedAt: Date
    public var drift: [DriftEvidence]
    public var skew: [SkewFinding]
    public var lag: [LagFinding]
    /// `env-conditional` lint findings: code that takes a different path per environment.
    public var code: [Finding]

    public init(generatedAt: Date, drift: [DriftEvidence], skew: [SkewFinding], lag: [LagFinding], code: [Finding]) {
        self.generatedAt = generatedAt
        self.drift = drift
        self.skew = skew
        self.lag = lag
        self.code = code
    }

    /// The kinds whose threshold is crossed, among those `thresholds.failOn` counts.
    public func crossed(_ thresholds: DivergenceThresholds) -> [Kind] {
        Kind.allCases.filter { kind in
            guard thresholds.failOn.contains(kind) else { return false }
            switch kind {
            case .drift: return drift.contains { $0.status == .open }
            case .skew: return !skew.isEmpty
            case .lag: return lag.contains { $0.crosses(thresholds) }
            case .code: return !code.isEmpty
            }
        }
    }

    /// Whether anything at all was found (never-checked and clean drift results are not findings).
    public var isEmpty: Bool {
        !drift.contains { $0.status != .clean } && skew.isEmpty && lag.isEmpty && code.isEmpty
    }
}

/// When `tollgate diverge` exits non-zero.
public struct DivergenceThresholds: Sendable, Equatable {
    public var maxLagReleases: Int
    public var maxLagDays: Double
    public var failOn: Set<DivergenceReport.Kind>

    public init(maxLagReleases: Int = 5, maxLagDays: Double = 14, failOn: Set<DivergenceReport.Kind> = Set(DivergenceReport.Kind.allCases)) {
        self.maxLagReleases = maxLagReleases
        self.maxLagDays = maxLagDays
        self.failOn = failOn
    }
}

/// The latest drift result of one (env, stack) that has something applied.
public struct DriftEvidence: Sendable, Equatable, Encodable {
    public enum Status: String, Sendable, Codable {
        /// Drift nobody acknowledged and no apply has reconciled.
        case open
        /// Drift accepted by a verified, signed acknowledgement.
        case acknowledged
        /// Drift overwritten by a successful apply that started after it was found.
        case reconciled
        case clean
        /// Applied, but no drift run was ever recorded.
        case neverChecked = "never-checked"
    }

    public var env: String
    public var stack: String
    public var status: Status
    public var driftID: String?
    public var checkedAt: Date?
    public var addresses: [String]

    public init(env: String, stack: String, status: Status, driftID: String? = nil, checkedAt: Date? = nil, addresses: [String] = []) {
        self.env = env
        self.stack = stack
        self.status = status
        self.driftID = driftID
        self.checkedAt = checkedAt
        self.addresses = addresses
    }

    /// The evidence from the latest report and whether `DriftStatus` still counts it as open.
    public static func from(env: String, stack: String, latest: DriftReport?, open: DriftReport?, applies: [ApplyRecord]) -> DriftEvidence {
        guard let latest else { return DriftEvidence(env: env, stack: stack, status: .neverChecked) }
        let status: Status
        if !latest.hasDrift {
            status = .clean
        } else if open?.id == latest.id {
            status = .open
        } else if applies.contains(where: { $0.outcome == .success && $0.startedAt > latest.detectedAt }) {
            status = .reconciled
        } else {
            status = .acknowledged
        }
        return DriftEvidence(env: env, stack: stack, status: status, driftID: latest.id, checkedAt: latest.detectedAt,
                             addresses: latest.resources.map(\.address))
    }

    public var message: String {
        switch status {
        case .open:
            return "\(addresses.count) resource\(addresses.count == 1 ? "" : "s") drifted (\(addresses.prefix(5).joined(separator: ", "))), "
                + "unacknowledged; see 'tollgate drift --env \(env) --stack \(stack)', then reconcile it with an apply or "
                + "'tollgate drift ack \(env) \(stack) --key KEY --comment TEXT'"
        case .acknowledged: return "drift acknowledged (\(addresses.joined(separator: ", ")))"
        case .reconciled: return "drift reconciled by a later apply"
        case .clean: return "no drift"
        case .neverChecked: return "never checked for drift; run 'tollgate drift --env \(env)'"
        }
    }
}

/// A difference between environments' config or versions that nobody declared on purpose.
public struct SkewFinding: Sendable, Equatable, Encodable {
    public enum Kind: String, Sendable, Codable {
        /// A key set only in the last environment: a value no lower environment ran with.
        case onlyInLast = "only-in-last"
        /// A key some environments set and others do not.
        case missing
        /// A key every environment sets, to different values.
        case value
        /// A provider or module version that differs between the releases applied to each env.
        case version
    }

    public var kind: Kind
    public var stack: String
    /// The tfvars key, or `provider NAME`, `lock PROVIDER`, `module NAME`.
    public var key: String
    /// Per environment, the value as written; environments without the key are absent.
    public var values: [String: String]
    public var message: String

    public init(kind: Kind, stack: String, key: String, values: [String: String], message: String) {
        self.kind = kind
        self.stack = stack
        self.key = key
        self.values = values
        self.message = message
    }
}

/// How far one environment is behind the one before it for one stack, or a release that skipped it.
public struct LagFinding: Sendable, Equatable, Encodable {
    public enum Kind: String, Sendable, Codable {
        /// Releases applied to the previous environment that this one has not got.
        case behind
        /// A release applied here that was never applied successfully to the previous environment,
        /// and no release that was has been applied here since.
        case neverPassedPrevious = "never-passed-previous"
    }

    public var kind: Kind
    public var env: String
    public var previous: String
    public var stack: String
    /// For `behind`: the waiting releases, oldest first; for `neverPassedPrevious`: the one release.
    public var releases: [String]
    /// For `behind`: days since the oldest waiting release was applied to the previous environment.
    public var days: Double?
    /// What to do about it, never a downgrade.
    public var advice: LagAdvice

    public init(kind: Kind, env: String, previous: String, stack: String, releases: [String], days: Double? = nil, advice: LagAdvice) {
        self.kind = kind
        self.env = env
        self.previous = previous
        self.stack = stack
        self.releases = releases
        self.days = days
        self.advice = advice
    }

    /// A release that skipped an environment always crosses; a lag crosses past either limit.
    public func crosses(_ thresholds: DivergenceThresholds) -> Bool {
        switch kind {
        case .neverPassedPrevious: return true
        case .behind: return releases.count > thresholds.maxLagReleases || (days ?? 0) > thresholds.maxLagDays
        }
    }

    public var message: String {
        switch kind {
        case .behind:
            let count = releases.count
            let age = days.map { String(format: "%.1f", $0) } ?? "0"
            let head = "'\(env)' is \(count) release\(count == 1 ? "" : "s") behind '\(previous)' for stack '\(stack)', the oldest waiting \(age) days "
                + "(\(releases.map(Digest.short).joined(separator: ", ")))"
            switch advice.action {
            case .promote where advice.release == releases.last:
                return head + "; promote the newest: " + advice.commands
            case .promote:
                return head + "; promote the newest that includes what '\(env)' runs now: " + advice.commands
            case .cutRelease:
                let running = advice.contains.dropLast().map(Digest.short).joined(separator: ", ")
                return head + "; none of them includes what '\(env)' runs now (\(running)), so promoting one would downgrade it: " + advice.commands
            }
        case .neverPassedPrevious:
            let release = releases.first ?? "?"
            let head = "release \(Digest.short(release)) was applied to '\(env)/\(stack)' without a successful apply to '\(previous)' first "
                + "(see 'tollgate audit trace --env \(env)')"
            switch advice.action {
            case .promote where advice.release == release:
                return head + "; every environment below runs a release it includes, so promote it through them: " + advice.commands
            case .promote:
                return head + "; release \(Digest.short(advice.release ?? "?")) includes it: " + advice.commands
            case .cutRelease:
                let blockers = advice.contains.dropFirst().map(Digest.short)
                return head + "; no release on record includes it and can be promoted without a downgrade, and it lacks "
                    + blockers.joined(separator: ", ") + ", which run up to '\(env)': " + advice.commands
            }
        }
    }
}

/// What a lag finding advises. A release is only ever advised for environments that run nothing it
/// does not include, so following the advice never downgrades an environment.
public struct LagAdvice: Sendable, Equatable, Encodable {
    public enum Action: String, Sendable, Codable {
        /// Promote `release` to `environments`, in that order.
        case promote
        /// No release on record can go on without a downgrade: cut one from a commit that contains
        /// the `commits` of the `contains` releases, and promote it through `environments`.
        case cutRelease = "cut-release"
    }

    public var action: Action
    public var release: String?
    public var environments: [String]
    /// For `cut-release`: the releases the new one must include: for a skip, the release that
    /// skipped, then what runs below that it lacks; for `behind`, what runs in the environment
    /// (any stack) that the newest waiting release lacks, then that release.
    public var contains: [String]
    /// Their commits, in the same order ("?" when the ledger does not know a release).
    public var commits: [String]

    public init(action: Action, release: String?, environments: [String], contains: [String] = [], commits: [String] = []) {
        self.action = action
        self.release = release
        self.environments = environments
        self.contains = contains
        self.commits = commits
    }

    /// The commands to run, in words.
    public var commands: String {
        switch action {
        case .promote:
            let release = release ?? "RELEASE"
            guard let first = environments.first else { return "nothing to promote" }
            return "tollgate promote \(release) --to \(first)" + environments.dropFirst().map { ", then --to \($0)" }.joined()
        case .cutRelease:
            let commits = self.commits.map { String($0.prefix(12)) }
            let through = environments.count > 1 ? environments.dropLast().joined(separator: ", ") + " and " + environments.last! : environments.joined()
            let merge = commits.count > 1 ? " (merge one into the other)" : ""
            return "cut a release from a commit that contains commit\(commits.count == 1 ? "" : "s") \(commits.joined(separator: " and "))\(merge) "
                + "with 'tollgate release --commit SHA', and promote it through \(through)"
        }
    }
}
