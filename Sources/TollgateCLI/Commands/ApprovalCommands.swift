import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Sign an approval of one plan with your SSH key."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The plan id.")
    var plan: String

    @Option(help: "Your SSH key: a private key file (passphrase-protected or not), a FIDO key, or a public key whose private half is in ssh-agent; it must be in allowed_signers (docs/approvals.md).")
    var key: String

    @Option(help: "A note for the record.")
    var comment: String?

    @Option(name: .customLong("acknowledge-destroy"), help: "A stateful resource address this plan may destroy (repeatable); signed with the approval.")
    var acknowledgeDestroy: [String] = []

    func run() async throws {
        try await Decision.run(options: options, plan: plan, decision: .approve, key: key, comment: comment, acknowledgeDestroy: acknowledgeDestroy)
    }
}

struct RejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Sign a rejection of one plan with your SSH key; it blocks the apply."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The plan id.")
    var plan: String

    @Option(help: "Your SSH key: a private key file (passphrase-protected or not), a FIDO key, or a public key whose private half is in ssh-agent; it must be in allowed_signers (docs/approvals.md).")
    var key: String

    @Option(help: "Why the plan is rejected.")
    var comment: String

    func run() async throws {
        try await Decision.run(options: options, plan: plan, decision: .reject, key: key, comment: comment)
    }
}

enum Decision {
    static func run(options: GlobalOptions, plan: String, decision: ApprovalRecord.Decision, key: String, comment: String?,
                    acknowledgeDestroy: [String] = []) async throws {
        try await Composition.run(options, needsEngine: false) { context in
            let record = try await Approver(context: context).decide(plan: plan, decision: decision, keyPath: PathResolution.absolute(key),
                                                                     comment: comment, acknowledgeDestroy: acknowledgeDestroy)
            if options.format == .json {
                Output.json(record)
            } else {
                Output.line("\(record.id)  \(decision == .approve ? "approved" : "rejected") \(record.planID) as \(record.principal)")
            }
        }
    }
}
