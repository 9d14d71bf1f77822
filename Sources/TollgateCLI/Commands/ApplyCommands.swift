import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct ApplyCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply exactly one reviewed plan, after every gate and guard passes."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The plan id.")
    var plan: String

    func run(_ context: Context) async throws {
        let result = try await Applier(context: context).apply(plan: plan)
        if options.format == .json {
            Output.json(result)
        } else {
            Output.line("applied \(result.plan) to \(result.env)/\(result.stack) (release \(Digest.short(result.release)))"
                + (result.tag.map { ", tagged \($0)" } ?? ""))
        }
    }
}

struct PromoteCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Plan, gate and apply a release to an environment, every stack in order."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The release id.")
    var release: String

    @Option(help: "The environment to promote to.")
    var to: String

    func run(_ context: Context) async throws {
        do {
            let steps = try await Promoter(context: context).promote(release: release, to: to)
            report(steps)
        } catch let paused as PromotionPaused {
            report(paused.steps)
            if options.format == .text {
                let waiting = paused.steps.last!
                Output.diagnostic("tollgate: refused: '\(to)/\(waiting.stack)' waits at its approval gate:")
                for reason in waiting.missing { Output.diagnostic("  \(reason)") }
                Output.diagnostic("to continue:")
                for command in waiting.commands { Output.diagnostic("  \(command)") }
            }
            throw ExitCode(Output.Code.refused)
        } catch let failed as PromotionFailed {
            // What was applied before the failure is reported as well as the failure itself.
            report(failed.steps)
            throw Output.fail(failed.underlying, format: options.format)
        }
    }

    func report(_ steps: [Promoter.Step]) {
        if options.format == .json {
            Output.json(steps, key: "steps")
            return
        }
        for step in steps {
            var line = "\(to)/\(step.stack): \(step.status.rawValue)"
            if let plan = step.plan { line += "  \(plan)" }
            if let summary = step.summary { line += "  \(summary)" }
            if let tag = step.tag { line += "  \(tag)" }
            Output.line(line)
        }
    }
}

struct UnlockCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Release the apply lock of an environment and stack whose holder is gone."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The environment.")
    var env: String

    @Argument(help: "The stack.")
    var stack: String

    @Option(help: "Why it is safe to release the lock (recorded).")
    var reason: String

    static let needs = CompositionNeeds.ledger

    func run(_ context: Context) async throws {
        let released = try await Auditor(context: context).unlock(env: env, stack: stack, reason: reason)
        if options.format == .json {
            Output.json(released)
        } else if let released {
            Output.line("released the lock of \(env)/\(stack) held by \(released.holder) (apply \(released.applyID), now marked interrupted)")
        } else {
            Output.line("\(env)/\(stack) was not locked")
        }
    }
}
