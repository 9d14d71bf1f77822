import Foundation
import TollgateCore
import TollgateLint

/// One finding of a divergence report, placed by how much it matters now.
public struct RankedDivergence: Sendable, Equatable, Encodable {
    /// Severity classes, most severe first; a finding's class is decided by its kind and evidence.
    public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
        /// Drift nobody acknowledged and no apply reconciled: the environment is not what was reviewed.
        case openDrift = "open-drift"
        /// A config key only the last environment sets: a value no lower environment ran with.
        case onlyInLastSkew = "only-in-last-skew"
        /// A release running in an environment that never passed the one before it.
        case skippedEnvironment = "skipped-environment"
        /// Lag past `--max-lag-releases` or `--max-lag-days`.
        case lagBeyondLimits = "lag-beyond-limits"
        /// A config key some environments do not set, or set to different values.
        case configSkew = "config-skew"
        /// Provider or module versions that differ between the releases applied.
        case versionSkew = "version-skew"
        /// Code that branches on the environment's name.
        case envConditionalCode = "env-conditional-code"

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// 1 for the most severe.
    public var rank: Int
    public var severity: Severity
    public var kind: DivergenceReport.Kind
    public var env: String?
    public var stack: String?
    public var message: String

    public init(rank: Int, severity: Severity, kind: DivergenceReport.Kind, env: String?, stack: String?, message: String) {
        self.rank = rank
        self.severity = severity
        self.kind = kind
        self.env = env
        self.stack = stack
        self.message = message
    }
}

/// The report's findings in rank order, and what was left out of the ranking.
public struct DivergenceRanking: Sendable, Equatable, Encodable {
    public var ranked: [RankedDivergence]
    /// Lag within both limits: reported by `tollgate diverge`, never ranked.
    public var lagWithinLimits: Int

    public init(ranked: [RankedDivergence], lagWithinLimits: Int) {
        self.ranked = ranked
        self.lagWithinLimits = lagWithinLimits
    }
}

extension DivergenceReport {
    /// Every finding that counts, most severe first: by `RankedDivergence.Severity`, then by the
    /// evidence within a class (a later environment first; more drifted resources; more days, then
    /// more releases behind), then by stack, key or location and message, so equal inputs always
    /// give the same order. Lag within `thresholds`' limits, and drift that is acknowledged,
    /// reconciled, clean or never checked, are not ranked.
    public func ranking(_ thresholds: DivergenceThresholds, environments: [String]) -> DivergenceRanking {
        func envOrder(_ env: String?) -> Int { env.flatMap { environments.firstIndex(of: $0) } ?? -1 }
        var keyed: [Placed] = []
        func add(_ severity: RankedDivergence.Severity, _ kind: Kind, env: String?, stack: String?, weight: Double = 0, weight2: Double = 0,
                 name: String, message: String) {
            keyed.append(Placed(env: envOrder(env), weight: weight, weight2: weight2, name: name,
                                finding: RankedDivergence(rank: 0, severity: severity, kind: kind, env: env, stack: stack, message: message)))
        }
        for evidence in drift where evidence.status == .open {
            add(.openDrift, .drift, env: evidence.env, stack: evidence.stack, weight: Double(evidence.addresses.count), name: evidence.stack,
                message: "\(evidence.env)/\(evidence.stack): \(evidence.message)")
        }
        for finding in skew {
            let severity: RankedDivergence.Severity
            switch finding.kind {
            case .onlyInLast: severity = .onlyInLastSkew
            case .missing, .value: severity = .configSkew
            case .version: severity = .versionSkew
            }
            add(severity, .skew, env: finding.kind == .onlyInLast ? environments.last : nil, stack: finding.stack,
                name: finding.stack + "\u{0}" + finding.key, message: finding.message)
        }
        var withinLimits = 0
        for finding in lag {
            guard finding.crosses(thresholds) else {
                withinLimits += 1
                continue
            }
            add(finding.kind == .neverPassedPrevious ? .skippedEnvironment : .lagBeyondLimits, .lag, env: finding.env, stack: finding.stack,
                weight: finding.days ?? 0, weight2: Double(finding.releases.count),
                name: finding.stack + "\u{0}" + finding.releases.joined(separator: ","), message: finding.message)
        }
        for finding in code {
            add(.envConditionalCode, .code, env: nil, stack: nil, name: "\(finding.location)", message: "\(finding.location): \(finding.message)")
        }
        let sorted = keyed.sorted { a, b in
            if a.finding.severity != b.finding.severity { return a.finding.severity < b.finding.severity }
            if a.env != b.env { return a.env > b.env }
            if a.weight != b.weight { return a.weight > b.weight }
            if a.weight2 != b.weight2 { return a.weight2 > b.weight2 }
            if a.name != b.name { return a.name < b.name }
            return a.finding.message < b.finding.message
        }
        return DivergenceRanking(ranked: sorted.enumerated().map { index, entry in
            var finding = entry.finding
            finding.rank = index + 1
            return finding
        }, lagWithinLimits: withinLimits)
    }
}

/// A finding with what orders it within its severity class: its environment's place in the
/// promotion order, its evidence (two measures, larger first) and a name.
private struct Placed {
    var env: Int
    var weight: Double
    var weight2: Double
    var name: String
    var finding: RankedDivergence
}
