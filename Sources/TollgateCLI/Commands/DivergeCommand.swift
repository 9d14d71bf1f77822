import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

/// `tollgate diverge`: how prod and the lower environments have drifted apart, for a scheduled CI
/// job. A report that exits 2 when a threshold is crossed, like `drift`, so the job goes red.
struct DivergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diverge",
        abstract: "Report drift, config and version skew, promotion lag and environment-specific code between environments.",
        discussion: "Reads the ledger and the repository and never runs the engine: drift evidence is what the last 'tollgate drift' recorded. "
            + "Exits 2 when a threshold of a kind named by --fail-on is crossed: open drift, any skew, lag beyond --max-lag-releases or "
            + "--max-lag-days (or a break-glass release no normal promotion has caught up with), any env-conditional code. "
            + "Lag advice never names a release for an environment that runs one it does not include."
    )

    enum Format: String, CommandFormat {
        case text, json, markdown
        static let help = "Output format: text, json or markdown."
    }

    @OptionGroup var options: CommandOptions<Format>

    @Option(help: "Lag beyond this many releases crosses the threshold.")
    var maxLagReleases = 5

    @Option(help: "Lag beyond this many days (since the oldest waiting release landed one environment lower) crosses the threshold.")
    var maxLagDays: Double = 14

    @Option(help: "The kinds that make the command exit 2, comma-separated, from drift, skew, lag and code.")
    var failOn = "drift,skew,lag,code"

    struct Report: Encodable {
        var report: DivergenceReport
        /// The findings by severity, as 'tollgate report' part (e) ranks them.
        var ranking: DivergenceRanking
        var crossed: [String]
        var thresholds: [String: String]
    }

    func validate() throws {
        _ = try kinds()
        guard maxLagReleases >= 0, maxLagDays >= 0 else {
            throw ValidationError("'--max-lag-releases' and '--max-lag-days' must not be negative; pass 0 or more")
        }
    }

    func kinds() throws -> Set<DivergenceReport.Kind> {
        var kinds: Set<DivergenceReport.Kind> = []
        for name in failOn.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let kind = DivergenceReport.Kind(rawValue: name) else {
                throw ValidationError("unknown kind '\(name)' in '--fail-on'; use drift, skew, lag or code, comma-separated")
            }
            kinds.insert(kind)
        }
        return kinds
    }

    func run() async throws {
        let global = try options.global()
        let thresholds = DivergenceThresholds(maxLagReleases: maxLagReleases, maxLagDays: maxLagDays, failOn: try kinds())
        try await Composition.run(global, needsEngine: false) { context in
            let report = try await DivergenceInspector(context: context).report(workingTree: RepositoryFiles.read(pipeline: context.pipeline))
            let crossed = report.crossed(thresholds)
            switch options.format {
            case .json:
                Output.json(Report(report: report, ranking: report.ranking(thresholds, environments: context.pipeline.environments.map(\.name.value)),
                                   crossed: crossed.map(\.rawValue),
                                   thresholds: ["max_lag_releases": "\(maxLagReleases)", "max_lag_days": "\(maxLagDays)",
                                                "fail_on": thresholds.failOn.map(\.rawValue).sorted().joined(separator: ",")]))
            case .markdown: Output.line(report.markdown(thresholds))
            case .text: Output.line(report.text(thresholds))
            }
            if !crossed.isEmpty { throw ExitCode(Output.Code.diverged) }
        }
    }
}
