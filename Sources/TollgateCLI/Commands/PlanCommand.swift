import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan every stack of an environment in dependency order, each in a fresh work dir."
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: "The environment to plan.")
    var env: String

    @Option(help: "Only this stack (repeatable).")
    var stack: [String] = []

    func run() async throws {
        let composition = Composition(options: options)
        let pipeline = try composition.pipeline()
        do {
            let engine = try await composition.engine(pipeline)
            let store = composition.store(pipeline)
            let shell = composition.shell(pipeline)
            let planner = Planner(
                pipeline: pipeline,
                engine: engine,
                identity: IdentityGuard(shell: shell, directory: pipeline.baseDirectory),
                secrets: SecretResolver(processEnvironment: composition.environment, shell: shell, directory: pipeline.baseDirectory),
                effects: .live,
                workRoot: store.workDirectory
            )
            if options.format == .text {
                Output.diagnostic("planning '\(env)' with \(engine.info.kind) \(engine.info.version) (working tree; releases will seal this)")
            }
            let plans = try await planner.plan(env: env, stacks: stack, source: pipeline.baseDirectory)
            if options.format == .json {
                Output.json(plans)
            } else {
                for plan in plans {
                    Output.line("\(plan.env)/\(plan.stack): \(plan.hasChanges ? plan.summary.counts : "no changes")")
                    for address in plan.summary.destructive { Output.line("  ! destroys \(address)") }
                    Output.line("  plan file: \(plan.planFile)")
                }
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw Output.fail(error, format: options.format)
        }
    }
}
