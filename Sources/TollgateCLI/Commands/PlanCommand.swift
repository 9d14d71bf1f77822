import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan a release for an environment: every stack in dependency order, each in a fresh work dir."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The release id (sha256:…, or an unambiguous prefix).")
    var release: String

    @Option(help: "The environment to plan.")
    var env: String

    @Option(help: "Only this stack (repeatable).")
    var stack: [String] = []

    func run() async throws {
        try await Composition.run(options) { context in
            if options.format == .text {
                Output.diagnostic("planning \(Digest.short(release)) for '\(env)' with \(context.engine.info.kind) \(context.engine.info.version)")
            }
            let plans = try await Planner(context: context).plan(release: release, env: env, stacks: stack)
            if options.format == .json {
                Output.json(plans)
            } else {
                for plan in plans {
                    Output.line("\(plan.id)  \(plan.env)/\(plan.stack)  \(plan.hasChanges ? plan.summary.counts : "no changes")  \(Digest.short(plan.digest))")
                    for address in plan.summary.destructive { Output.line("  ! destroys \(address)") }
                }
                Output.diagnostic("review with 'tollgate show PLAN'; apply with 'tollgate apply PLAN'")
            }
        }
    }
}
