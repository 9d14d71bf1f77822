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

    @Option(name: .customLong("break-glass"),
            help: "Skip the lower environments for an emergency release, with the reason; the gate still applies and a second approver must review it afterwards.")
    var breakGlass: String?

    func run() async throws {
        try await Composition.run(options) { context in
            if options.format == .text {
                Output.diagnostic("planning \(Digest.short(release)) for '\(env)' with \(context.engine.info.kind) \(context.engine.info.version)")
            }
            let plans = try await Planner(context: context).plan(release: release, env: env, stacks: stack, breakGlass: breakGlass)
            if options.format == .text, let id = plans.first?.breakGlass {
                Output.diagnostic("break-glass \(id) is on the record; once applied, a second approver reviews it: tollgate review \(id) --key KEY")
            }
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
