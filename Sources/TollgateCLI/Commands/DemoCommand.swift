import ArgumentParser
import Foundation
import TollgateConfig
import TollgateCore
import TollgateEngine
import TollgateKit

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole story on the example: release, dev, stage, a refused and an accepted prod approval, apply, audit, then a rollback applied and a risky one judged."
    )

    @Option(help: "Directory for the demo repository (default: a new temporary directory).")
    var dir: String?

    func say(_ text: String) { Output.line(text) }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let root = dir.map(PathResolution.absolute) ?? (NSTemporaryDirectory() + "tollgate-demo-\(UUID().uuidString.prefix(8))")
        let repository = root + "/example"
        let shell = ProcessShell(environment: environment)
        func sh(_ command: String, in directory: String? = nil) async throws -> String {
            let result = try await shell.run(command, directory: directory ?? repository)
            guard result.status == 0 else { throw KitError.step("'\(command)' failed: \(result.stderr)") }
            return result.stdout
        }
        do {
            try FileManager.default.createDirectory(atPath: repository, withIntermediateDirectories: true)
            say("== scaffolding the example in \(repository)")
            try Scaffold.write(to: repository, example: true, force: true)

            say("== two SSH keys: the author's and an approver's; allowed_signers maps them to principals")
            for who in ["author", "approver"] {
                _ = try await sh("rm -f \(root)/\(who) \(root)/\(who).pub && ssh-keygen -q -t ed25519 -N '' -C \(who)@example.com -f \(root)/\(who)")
                let key = try await sh("cut -d' ' -f1,2 \(root)/\(who).pub").trimmingCharacters(in: .whitespacesAndNewlines)
                let line = "\(who)@example.com namespaces=\"tollgate\" \(key)\n"
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: repository + "/.tollgate/allowed_signers"))
                try handle.seekToEnd()
                try handle.write(contentsOf: Data(line.utf8))
                try handle.close()
            }
            _ = try await sh("git init -q -b main && git add -A && git -c user.name=Author -c user.email=author@example.com commit -q -m 'example pipeline'")
            say("   committed as author@example.com")

            let loaded = PipelineLoader.load(path: repository + "/tollgate.yaml")
            guard let pipeline = loaded.validPipeline else { throw KitError.step("the example pipeline is invalid: \(loaded.diagnostics)") }
            var env = environment
            env["TOLLGATE_ACTOR"] = "ci@example.com"
            // The demo tells its story on stdout; a line per engine step would bury it.
            let options = try GlobalOptions.parse(["--config", repository + "/tollgate.yaml", "--quiet"])
            let context = try await Composition(options: options, environment: env).context(pipeline)
            say("   engine: \(context.engine.info.kind) \(context.engine.info.version) (\(context.engine.info.path)); CI acts as ci@example.com")

            let (release, _) = try await Releaser(context: context).release(commit: "HEAD", pr: 1)
            say("\n== release \(release.id) (PR #1)")
            for target in ["dev", "stage"] {
                let steps = try await Promoter(context: context).promote(release: release.id, to: target)
                say("== promote to \(target) (\(pipeline.environment(named: target)!.gate.value.kind) gate)")
                for step in steps { say("   \(target)/\(step.stack): \(step.status.rawValue) \(step.plan ?? "") \(step.tag ?? "")") }
            }
            say("\n== promote to prod (approval gate)")
            var authorTried = false
            while true {
                do {
                    let steps = try await Promoter(context: context).promote(release: release.id, to: "prod")
                    for step in steps { say("   prod/\(step.stack): \(step.status.rawValue) \(step.plan ?? "") \(step.tag ?? "")") }
                    break
                } catch let paused as PromotionPaused {
                    let waiting = paused.steps.last!
                    say("   prod/\(waiting.stack): waiting for approval of \(waiting.plan!) (\(waiting.summary ?? ""))")
                    if !authorTried {
                        authorTried = true
                        do {
                            _ = try await Approver(context: context).decide(plan: waiting.plan!, decision: .approve, keyPath: root + "/author", comment: "lgtm (my own change)")
                            throw KitError.step("the author's approval was accepted, which must never happen")
                        } catch let refusal as KitError where refusal.isRefusal {
                            say("   the author tries to approve: REFUSED")
                            for line in refusal.description.split(separator: "\n") { say("     \(line)") }
                        }
                    }
                    let approval = try await Approver(context: context).decide(plan: waiting.plan!, decision: .approve, keyPath: root + "/approver", comment: "reviewed")
                    say("   the approver approves: \(approval.id) signed by \(approval.principal)")
                }
            }

            say("\n== status")
            let report = try await StatusReport.build(context)
            for cell in report.cells {
                say("   \(cell.env)/\(cell.stack): \(cell.applied.map { "\(Digest.short($0.release)) #\($0.sequence)" } ?? "-")")
            }
            let verification = try await Auditor(context: context).verify()
            say("\n== audit verify: \(verification.intact ? "intact" : "BROKEN"), \(verification.events) events")
            let traces = try await Auditor(context: context).trace(env: "prod")
            for trace in traces {
                say("   prod/\(trace.stack): \(trace.outcome), PR #\(trace.pr ?? 0), planner \(trace.planner), approved by "
                    + trace.approvers.filter { $0.decision == "approve" && $0.signatureVerifies }.map(\.principal).joined(separator: ", "))
            }
            let tags = try await sh("git tag --list 'tollgate/*'").split(separator: "\n").joined(separator: " ")
            say("   git tags: \(tags)")

            // A release that loosens prod's own gate is judged by the governance in force, not by itself.
            let pipelineFile = repository + "/tollgate.yaml"
            let sealedYAML = try String(contentsOfFile: pipelineFile, encoding: .utf8)
            let gateBlock = "    gate:\n      type: approval\n      required: 1\n      approvers: [approver@example.com]\n      max_plan_age: 24h\n"
            try Data(sealedYAML.replacingOccurrences(of: gateBlock, with: "    gate: auto\n").utf8).write(to: URL(fileURLWithPath: pipelineFile))
            _ = try await sh("git -c user.name=Author -c user.email=author@example.com commit -q -am 'prod needs no approval'")
            let loosening = try await demoRelease(context, pr: 2, "the author sets prod's gate to auto")
            for target in ["dev", "stage"] { _ = try await Promoter(context: context).promote(release: loosening.id, to: target) }
            do {
                _ = try await Promoter(context: context).promote(release: loosening.id, to: "prod")
                throw KitError.step("a release that loosens prod's gate passed its own gate, which must never happen")
            } catch let paused as PromotionPaused {
                let waiting = paused.steps.last!
                say("   prod/\(waiting.stack): HELD for the approvers in force")
                for line in waiting.missing { say("     \(line)") }
                _ = try await Approver(context: context).decide(plan: waiting.plan!, decision: .reject, keyPath: root + "/approver",
                                                               comment: "prod keeps its approval gate")
                say("   the approver rejects it (signed); the author reverts the commit")
            }
            _ = try await sh("git -c user.name=Author -c user.email=author@example.com revert --no-edit HEAD >/dev/null")

            // A stateless change reaches prod and is rolled back for real, through the approval gate.
            _ = try await sh("sed -i 's/instance_count = 3/instance_count = 4/' config/prod/app.tfvars && "
                + "git -c user.name=Author -c user.email=author@example.com commit -q -am 'a fourth server in prod'")
            let fourth = try await demoRelease(context, pr: 3, "a fourth server in prod")
            try await demoToProd(context, fourth, root: root)
            say("\n== rollback --env prod --stack app")
            let stateless = try await RollbackPlanner(context: context).plan(env: "prod", stacks: ["app"])
            for line in RollbackCommand.render(stateless).split(separator: "\n") { say("   \(line)") }
            if let plan = stateless.stacks.first?.plan {
                _ = try await Approver(context: context).decide(plan: plan.id, decision: .approve, keyPath: root + "/approver", comment: "roll back the fourth server")
                let result = try await Applier(context: context).apply(plan: plan.id)
                say("   approved by approver@example.com and applied: prod/app runs \(Digest.short(result.release)) again (\(result.tag ?? "no tag"))")
            }

            // A change that replaces stateful resources reaches prod; rolling it back would replace them again.
            _ = try await sh("printf '\\n# The servers hold data in this story.\\nstateful_types: [null_resource]\\n' >> tollgate.yaml && "
                + "sed -i 's/image_tag      = \"v1\"/image_tag      = \"v2\"/' config/prod/app.tfvars && "
                + "git -c user.name=Author -c user.email=author@example.com commit -q -am 'servers are stateful; image v2 in prod'")
            let replacing = try await demoRelease(context, pr: 4, "image v2 in prod, which replaces the stateful servers")
            try await demoToProd(context, replacing, root: root)
            say("\n== rollback --env prod --stack app (to \(Digest.short(release.id)))")
            let stateful = try await RollbackPlanner(context: context).plan(env: "prod", stacks: ["app"], to: release.id)
            for line in RollbackCommand.render(stateful).split(separator: "\n") { say("   \(line)") }
            say("   (not applied: the playbook says what to do first; see 'tollgate rollback --env prod --format markdown')")

            // The chain head goes outside the ledger, as every command does when it wrote events.
            await Composition(options: options, environment: env).anchorAuditHead(context, unless: nil)

            // The report reads tollgate.yaml as it is now, with the stateful_types added above.
            var current = context
            current.pipeline = PipelineLoader.load(path: repository + "/tollgate.yaml").validPipeline ?? context.pipeline
            let design = try await PipelineReport(context: current).document()
            try Data(design.markdown().utf8).write(to: URL(fileURLWithPath: root + "/report.md"))
            try Data(design.html().utf8).write(to: URL(fileURLWithPath: root + "/report.html"))
            say("\n== report: the pipeline's layout, stages, plan binding, rollback and divergence, from live data: \(root)/report.md and \(root)/report.html")
            say("\nthe demo repository is \(repository); try: cd \(repository) && tollgate status")
            if !verification.intact { throw ExitCode(Output.Code.error) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw Output.fail(error, format: .text)
        }
    }

    func demoRelease(_ context: Context, pr: Int, _ what: String) async throws -> Release {
        let (release, _) = try await Releaser(context: context).release(commit: "HEAD", pr: pr)
        say("\n== release \(Digest.short(release.id)) (PR #\(pr)): \(what)")
        return release
    }

    /// Promotes through dev and stage, then approves prod's plans as the approver, acknowledging
    /// whatever stateful resources they destroy.
    func demoToProd(_ context: Context, _ release: Release, root: String) async throws {
        for target in ["dev", "stage"] { _ = try await Promoter(context: context).promote(release: release.id, to: target) }
        while true {
            do {
                let steps = try await Promoter(context: context).promote(release: release.id, to: "prod")
                for step in steps { say("   prod/\(step.stack): \(step.status.rawValue) \(step.plan ?? "") \(step.tag ?? "")") }
                return
            } catch let paused as PromotionPaused {
                let waiting = paused.steps.last!
                let plan = try await context.plan(waiting.plan!)
                let stateful = try await Applier(context: context).gates(plan, release: release).statefulDestroyed
                _ = try await Approver(context: context).decide(plan: plan.id, decision: .approve, keyPath: root + "/approver", comment: "reviewed",
                                                               acknowledgeDestroy: stateful)
                say("   prod/\(waiting.stack): \(waiting.summary ?? ""); approved\(stateful.isEmpty ? "" : ", acknowledging \(stateful.joined(separator: ", "))")")
            }
        }
    }
}
