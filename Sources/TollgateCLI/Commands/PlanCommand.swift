import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan a release for an environment: every stack in dependency order, each in a fresh work dir."
    )

    enum Format: String, CommandFormat {
        case text, json, markdown
        static let help = "Output format: text, json, or markdown (a pull-request comment, with --preview)."
    }

    @OptionGroup var options: CommandOptions<Format>

    @Argument(help: "The release id (sha256:…, or an unambiguous prefix); none with --preview.")
    var release: String?

    @Option(help: "The environment to plan.")
    var env: String

    @Option(help: "Only this stack (repeatable).")
    var stack: [String] = []

    @Option(name: .customLong("break-glass"),
            help: "Skip the lower environments for an emergency release, with the reason; the gate still applies and a second approver must review it afterwards.")
    var breakGlass: String?

    @Flag(help: "Plan the release a commit would seal, against the environment's real backend, writing nothing: no release, plan, artifact or event; it can never be applied.")
    var preview = false

    @Option(help: "With --preview: the commit to seal (default HEAD).")
    var commit: String?

    func validate() throws {
        if preview {
            if let release {
                throw ValidationError("--preview plans a commit, not a stored release, so it takes no release id ('\(release)'); pass --commit REV, or drop --preview to plan the release")
            }
            if breakGlass != nil {
                throw ValidationError("--preview cannot be combined with --break-glass: a preview skips no gate because it can never be applied; drop --break-glass")
            }
        } else {
            guard release != nil else { throw ValidationError("Missing expected argument '<release>' (or pass --preview to plan a commit without cutting a release)") }
            if commit != nil { throw ValidationError("--commit is for --preview; to plan a commit for real, cut its release with 'tollgate release --commit REV' and plan that") }
            if options.format == .markdown { throw ValidationError("--format markdown is for --preview; review a stored plan with 'tollgate show PLAN --format markdown'") }
        }
    }

    func run() async throws {
        let global = try options.global()
        if preview { return try await runPreview(global) }
        guard let release else { return }
        // The lines around the plans are progress too: --quiet leaves stderr to warnings and errors.
        let chatty = options.format == .text && options.showsProgress(ProcessInfo.processInfo.environment)
        try await Composition.run(global) { context in
            if chatty {
                Output.diagnostic("planning \(Digest.short(release)) for '\(env)' with \(context.engine.info.kind) \(context.engine.info.version)")
            }
            let plans = try await Planner(context: context).plan(release: release, env: env, stacks: stack, breakGlass: breakGlass)
            if options.format == .text, let id = plans.first?.breakGlass {
                Output.diagnostic("break-glass \(id) is on the record; once applied, a second approver reviews it: tollgate review \(id) --key KEY")
            }
            if options.format == .json {
                Output.json(plans, key: "plans")
            } else {
                for plan in plans {
                    Output.line("\(plan.id)  \(plan.env)/\(plan.stack)  \(plan.hasChanges ? plan.summary.counts : "no changes")  \(Digest.short(plan.digest))")
                    for address in plan.summary.destructive { Output.line("  ! destroys \(address)") }
                }
                if chatty { Output.diagnostic("review with 'tollgate show PLAN'; apply with 'tollgate apply PLAN'") }
            }
        }
    }

    /// The preview: read-only composition, nothing recorded, output marked as never applied.
    func runPreview(_ global: GlobalOptions) async throws {
        try await Composition.run(global, readOnly: true) { context in
            let revision = commit ?? "HEAD"
            if options.format == .text {
                Output.diagnostic("previewing \(revision) for '\(env)' with \(context.engine.info.kind) \(context.engine.info.version): nothing is recorded")
            }
            let result = try await Previewer(context: context).preview(commit: revision, env: env, stacks: stack)
            switch options.format {
            case .json: Output.json(result)
            case .markdown:
                let entries = result.stacks.map { ReviewMarkdown.Entry(plan: $0.plan, release: result.release, gates: $0.gates) }
                Output.line(ReviewMarkdown(statefulTypes: Set(context.pipeline.statefulTypes), preview: true).render(entries))
            case .text: Output.line(Self.render(result))
            }
        }
    }

    /// The text of a preview: what each stack would change and the gates the promotion will face.
    static func render(_ result: Previewer.Result) -> String {
        let release = result.release
        var lines = [
            "PREVIEW of release \(release.id) (commit \(release.commit.prefix(12))) for '\(result.env)': never applied, nothing recorded",
            "",
        ]
        for entry in result.stacks {
            let plan = entry.plan
            lines.append("\(plan.env)/\(plan.stack)  \(plan.hasChanges ? plan.summary.counts : "no changes")  (preview)")
            lines += ShowCommand.governance(entry.gates).map { "  " + $0 }.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            lines += plan.summary.delete.map { "  ! delete   \($0)" } + plan.summary.replace.map { "  ! replace  \($0)" }
            lines += plan.summary.create.map { "    create   \($0)" } + plan.summary.update.map { "    update   \($0)" }
            if !plan.summary.drifted.isEmpty { lines.append("  drifted since last apply: \(plan.summary.drifted.joined(separator: ", "))") }
            if !plan.checks.isEmpty { lines.append("  checks: " + plan.checks.map { "\($0.name) \($0.status.rawValue)" }.joined(separator: ", ")) }
            if entry.gates.refusals.isEmpty {
                lines.append("  gates the promotion will face: none left to meet (judged by \(entry.gates.judgedBy))")
            } else {
                lines.append("  gates the promotion will face (judged by \(entry.gates.judgedBy)):")
                lines += entry.gates.refusals.map { "    - \($0.message)" }
            }
            lines.append("")
        }
        lines.append("to promote it for real: tollgate release --commit \(release.commit.prefix(12)), then tollgate promote RELEASE --to \(result.env)")
        return lines.joined(separator: "\n")
    }
}
