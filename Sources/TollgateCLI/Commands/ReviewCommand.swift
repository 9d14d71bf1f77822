import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct ReviewCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Sign the post-hoc review of a break-glass release as a second approver."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The break-glass id (bg-…), as 'tollgate status' lists it.")
    var breakGlass: String

    @Option(help: "Your SSH key, as for approve (docs/approvals.md): an approver of the environment other than whoever invoked, planned or approved it.")
    var key: String

    @Option(help: "A note for the record.")
    var comment: String?

    static let needs = CompositionNeeds.ledger

    func run(_ context: Context) async throws {
        let review = try await BreakGlassReviewer(context: context).review(breakGlass, keyPath: PathResolution.absolute(key), comment: comment)
        if options.format == .json {
            Output.json(review)
        } else {
            Output.line("\(review.principal) reviewed break-glass \(review.breakGlassID) (\(review.id))")
        }
    }
}
