import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct ReleaseCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Seal everything deployable at a commit into a content-addressed release."
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: "The commit to release (default: HEAD).")
    var commit: String = "HEAD"

    @Option(help: "The pull request this release comes from.")
    var pr: Int?

    static let needs = CompositionNeeds.ledger

    func run(_ context: Context) async throws {
        let (release, created) = try await Releaser(context: context).release(commit: commit, pr: pr)
        if options.format == .json {
            Output.json(release)
        } else {
            Output.line(release.id)
            Output.diagnostic("\(created ? "released" : "same content as an earlier release:") commit \(release.commit.prefix(12)) by \(release.author), \(release.files.count) files")
        }
    }
}
