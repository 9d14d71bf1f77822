import Foundation
import Testing
import TollgateCore

/// The tag message of a successful apply: written with trailers, read back exactly, and a tag that
/// cannot be trusted is refused with its reason.
@Suite struct ReleaseTagTests {
    static let release = "sha256:" + String(repeating: "a1", count: 32)
    static let digest = "sha256:" + String(repeating: "d4", count: 32)
    static let commit = String(repeating: "c", count: 40)

    func marker(approvers: [String] = ["alice@example.com", "bob@example.com"], pr: Int? = 42) -> ReleaseTag {
        ReleaseTag(env: "prod", stack: "app", sequence: 3, release: Self.release, plan: "p-7f3a", planDigest: Self.digest,
                   commit: Self.commit, pr: pr, apply: "x-91c2", approvers: approvers,
                   appliedAt: Date(timeIntervalSince1970: 1_790_000_000.25))
    }

    func gitTag(_ name: String = "tollgate/prod/app/3", message: String, annotated: Bool = true) -> GitTag {
        GitTag(name: name, commit: Self.commit, annotated: annotated, message: message)
    }

    @Test func messageCarriesTrailersAndReadsBackExactly() throws {
        let written = marker()
        #expect(written.name == "tollgate/prod/app/3")
        let lines = written.message.split(separator: "\n").map(String.init)
        #expect(lines.first == "tollgate: release \(Self.release) applied to prod/app by plan p-7f3a")
        #expect(lines.contains("Tollgate-Release: \(Self.release)"))
        #expect(lines.contains("Tollgate-Plan-Digest: \(Self.digest)"))
        #expect(lines.contains("Tollgate-Plan: p-7f3a"))
        #expect(lines.contains("Tollgate-Approvers: alice@example.com, bob@example.com"))
        #expect(lines.contains("Tollgate-Applied-At: 2026-09-21T14:13:20.250Z"))
        let read = try ReleaseTag.parse(gitTag(message: written.message)).get()
        #expect(read == written)
    }

    @Test func noApproversAndNoPullRequestReadBackAsSuch() throws {
        let written = marker(approvers: [], pr: nil)
        #expect(written.message.contains("Tollgate-Approvers:\n"))
        #expect(!written.message.contains("Tollgate-PR"))
        let read = try ReleaseTag.parse(gitTag(message: written.message)).get()
        #expect(read.approvers == [])
        #expect(read.pr == nil)
    }

    @Test func prefixesNameAnEnvironmentOrOneStack() {
        #expect(ReleaseTag.prefix(env: "prod") == "tollgate/prod/")
        #expect(ReleaseTag.prefix(env: "prod", stack: "app") == "tollgate/prod/app/")
    }

    static let malformed: [(name: String, annotated: Bool, edit: @Sendable (String) -> String, reason: String)] = [
        ("tollgate/prod/app/3", false, { $0 }, "it is a lightweight tag"),
        ("tollgate/prod/app/latest", true, { $0 }, "the name is not of the form 'tollgate/ENV/STACK/N'"),
        ("tollgate/prod/app/3", true, { $0.replacingOccurrences(of: "Tollgate-Plan-Digest: \(digest)\n", with: "") },
         "its message lacks the trailer 'Tollgate-Plan-Digest'"),
        ("tollgate/prod/app/3", true, { _ in "tollgate: an old tag without trailers\n" },
         "its message lacks the trailers 'Tollgate-Release', 'Tollgate-Plan-Digest', 'Tollgate-Plan'"),
        ("tollgate/prod/app/3", true, { $0.replacingOccurrences(of: release, with: "sha256:short") },
         "'Tollgate-Release' is 'sha256:short', not a sha256: digest"),
        ("tollgate/stage/app/3", true, { $0 }, "its trailers name 'prod/app', but its name names 'stage/app'"),
        ("tollgate/prod/app/3", true, { $0.replacingOccurrences(of: "2026-09-21T14:13:20.250Z", with: "yesterday") },
         "'Tollgate-Applied-At' is 'yesterday', not an ISO 8601 time"),
        ("tollgate/prod/app/3", true, { $0 + "Tollgate-Plan: p-other\n" }, "the trailer 'Tollgate-Plan' appears twice"),
    ]

    @Test(arguments: 0..<malformed.count) func untrustworthyTagsAreRefusedWithTheReason(index: Int) {
        let case_ = Self.malformed[index]
        let result = ReleaseTag.parse(gitTag(case_.name, message: case_.edit(marker().message), annotated: case_.annotated))
        guard case .failure(let problem) = result else {
            Issue.record("\(case_.name) was read as \(result)")
            return
        }
        #expect(problem.tag == case_.name)
        #expect(problem.reason.hasPrefix(case_.reason), "\(problem.reason)")
        #expect(problem.description.hasPrefix("skipped tag '\(case_.name)': "))
    }
}
