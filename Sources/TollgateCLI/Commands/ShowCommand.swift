import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a plan for review: destructive changes first, then its gates and approvals."
    )

    enum Format: String, ExpressibleByArgument {
        case text, json, markdown
    }

    @Argument(help: "The plan id.")
    var plan: String

    @Option(help: "Output format: text, json or markdown.")
    var format: Format = .text

    @Option(help: "Path of the pipeline file.")
    var config: String?

    struct Review: Encodable {
        var plan: PlanRecord
        var release: Release
        var gates: GateDecision
    }

    func run() async throws {
        var options = try GlobalOptions.parse(config.map { ["--config", $0] } ?? [])
        options.format = format == .json ? .json : .text
        try await Composition.run(options, needsEngine: false) { context in
            let record = try await context.plan(plan)
            let release = try await context.release(record.releaseID)
            let gates = try await Applier(context: context).gates(record, release: release)
            switch format {
            case .json: Output.json(Review(plan: record, release: release, gates: gates))
            case .text: Output.line(render(record, release, gates, markdown: false))
            case .markdown: Output.line(render(record, release, gates, markdown: true))
            }
        }
    }

    func render(_ plan: PlanRecord, _ release: Release, _ gates: GateDecision, markdown: Bool) -> String {
        let heading = markdown ? "### " : ""
        let bullet = markdown ? "- " : "  "
        let code: (String) -> String = { markdown ? "`\($0)`" : $0 }
        var lines: [String] = []
        lines.append("\(heading)plan \(plan.id): \(plan.env)/\(plan.stack) (\(plan.status.rawValue))")
        lines.append("")
        let summary = plan.summary
        if !summary.destructive.isEmpty {
            lines.append("\(heading)DESTRUCTIVE: \(summary.destructive.count) resource\(summary.destructive.count == 1 ? "" : "s") destroyed or replaced")
            lines += summary.delete.map { "\(bullet)delete   \(code($0))" } + summary.replace.map { "\(bullet)replace  \(code($0))" }
            lines.append("")
        }
        lines.append("\(heading)changes: \(plan.hasChanges ? summary.counts : "none")")
        lines += summary.create.map { "\(bullet)create   \(code($0))" } + summary.update.map { "\(bullet)update   \(code($0))" }
        if !summary.outputChanges.isEmpty { lines.append("\(bullet)outputs: \(summary.outputChanges.joined(separator: ", "))") }
        if !summary.drifted.isEmpty { lines.append("\(bullet)drifted since last apply: \(summary.drifted.joined(separator: ", "))") }
        lines.append("")
        lines.append("\(heading)provenance")
        lines.append("\(bullet)release  \(code(release.id))")
        lines.append("\(bullet)commit   \(code(release.commit))\(release.pr.map { " (PR #\($0))" } ?? "") by \(release.author)")
        lines.append("\(bullet)digest   \(code(plan.digest))")
        lines.append("\(bullet)planner  \(plan.planner), \(plan.engineKind) \(plan.engineVersion), state serial \(plan.priorSerial)")
        lines.append("")
        lines.append("\(heading)gates: \(gates.allowed ? "all pass" : "\(gates.refusals.count) not met")")
        lines += gates.approvedBy.map { "\(bullet)approved by \($0)" }
        lines += gates.refusals.map { "\(bullet)missing: \($0.message)" }
        lines += gates.ignored.map { "\(bullet)not counted: \($0)" }
        return lines.joined(separator: "\n")
    }
}
