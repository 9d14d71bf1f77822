import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

/// `tollgate summarize-plan FILE`: count what a plan JSON file would do.
///
/// A developer tool (hidden from help): the plan-summary benchmark uses it to time the summary of
/// a large `terraform show -json` file against other tools.
struct SummarizePlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summarize-plan",
        abstract: "Count the actions in a plan JSON file written by 'terraform show -json'.",
        shouldDisplay: false
    )

    @Argument(help: "The plan JSON file.")
    var file: String

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Flag(help: "Decode the whole document instead of scanning it (slower; for comparison).")
    var decode = false

    struct Counts: Encodable {
        var create, update, replace, delete, read, forget, other, imported, moved, deferred, outputs, drifted: Int
        var failingChecks: Int
        var blockers: [String]

        init(_ summary: PlanSummary) {
            create = summary.create.count
            update = summary.update.count
            replace = summary.replace.count
            delete = summary.delete.count
            read = summary.read.count
            forget = summary.forget.count
            other = summary.other.count
            imported = summary.imported.count
            moved = summary.moved.count
            deferred = summary.deferred.count
            failingChecks = summary.checks.count
            blockers = summary.blockers
            outputs = summary.outputChanges.count
            drifted = summary.drifted.count
        }
    }

    func run() throws {
        let path = PathResolution.absolute(file)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("no readable file at '\(path)'; pass the output of 'terraform show -json PLANFILE'")
        }
        let summary: PlanSummary
        do {
            summary = decode ? PlanSummary(try PlanJSON.decode(data)) : try PlanSummary(scanning: data)
        } catch let error as PlanInputError {
            throw Output.fail(KitError.step("'\(file)' \(error)"), format: format)
        } catch {
            throw Output.fail(error, format: format)
        }
        if format == .json {
            Output.json(Counts(summary))
        } else {
            Output.line(summary.counts + ", \(summary.read.count) to read, \(summary.forget.count) to forget; "
                + "\(summary.outputChanges.count) outputs change, \(summary.drifted.count) resources drifted"
                + (summary.checks.isEmpty ? "" : "; \(summary.checks.count) conditions did not pass"))
            for blocker in summary.blockers { Output.line("not applicable: \(blocker)") }
        }
    }
}
