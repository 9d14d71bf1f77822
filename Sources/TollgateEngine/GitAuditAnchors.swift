import Foundation
import TollgateCore

/// The `AuditAnchors` port on the git command line: the head ref is a chain of commits (each on
/// an empty tree, its message naming the head and the time, its parent the anchor before), and
/// the release tags' `Tollgate-Audit-Head` trailers are read back through `ReleaseTag`.
///
/// A chain of commits rather than a bare blob means the ref only ever moves fast-forward, so a
/// remote that refuses non-fast-forward pushes refuses an anchor moved back, too.
public struct GitAuditAnchors: AuditAnchors {
    var git: GitCLI

    public init(repository: String, environment: [String: String], runner: ProcessRunner = ProcessRunner()) {
        git = GitCLI(repository: repository, environment: environment, runner: runner)
    }

    public func anchors() async throws -> [AuditAnchor] {
        var found: [AuditAnchor] = []
        if let current = try await current() { found.append(current.anchor) }
        for tag in try await git.tags(prefix: ReleaseTag.namespace) {
            // A tag that does not read as a release tag is reported by 'tollgate history'; here it anchors nothing.
            guard case .success(let marker) = ReleaseTag.parse(tag), let head = marker.auditHead else { continue }
            found.append(AuditAnchor(head, source: "refs/tags/" + tag.name, writtenAt: marker.appliedAt))
        }
        return found
    }

    public func advance(to head: AuditHead, at time: Date, ledgerHash: @escaping @Sendable (Int) async throws -> String?) async throws -> AuditAnchorAdvance {
        // Another writer may move the ref between the read and the swap; then read again, a few times.
        for _ in 0..<5 {
            let current = try await current()
            if let current, current.anchor.seq >= head.seq { return .kept(current.anchor) }
            if let current, try await ledgerHash(current.anchor.seq) != current.anchor.hash { return .diverged(current.anchor) }
            let tree = try await git.git(["mktree"], input: Data()).stdoutText.trimmingWhitespaceAndNewlines()
            var committer = git
            let date = "@\(Int64(time.timeIntervalSince1970)) +0000"
            committer.environment["GIT_AUTHOR_DATE"] = date
            committer.environment["GIT_COMMITTER_DATE"] = date
            let parents = current.map { ["-p", $0.object] } ?? []
            let commit = try await committer.git(["-c", "user.name=tollgate", "-c", "user.email=tollgate@localhost", "commit-tree", tree] + parents,
                                                 input: Data(AuditAnchor.refMessage(head, writtenAt: time).utf8))
                .stdoutText.trimmingWhitespaceAndNewlines()
            // The old value makes update-ref a compare-and-swap; an empty one means "must not exist yet".
            let swapped = try await git.git(["update-ref", "-m", "tollgate: audit chain head at event \(head.seq)", AuditAnchor.ref, commit,
                                             current?.object ?? ""], accept: [0, 1, 128])
            if swapped.status == 0 { return .moved(previous: current?.anchor) }
            let stderr = swapped.stderrText
            guard stderr.contains("cannot lock ref") || stderr.contains("but expected") || stderr.contains("already exists") else {
                throw GitError.failed(command: "git update-ref \(AuditAnchor.ref)", status: swapped.status, stderr: stderr.lastLines(5))
            }
        }
        throw AuditAnchorError.contended(AuditAnchor.ref)
    }

    /// The head ref's commit and what it says; nil when there is no such ref.
    func current() async throws -> (object: String, anchor: AuditAnchor)? {
        let format = "%(objectname)%00%(objecttype)%00%(contents)"
        let output = try await git.git(["for-each-ref", "--format=" + format, AuditAnchor.ref], accept: [0, 128])
        if output.status == 128 {
            if output.stderrText.contains("not a git repository") { throw AuditAnchorError.notARepository(git.repository) }
            throw GitError.failed(command: "git for-each-ref \(AuditAnchor.ref)", status: output.status, stderr: output.stderrText.lastLines(5))
        }
        let fields = output.stdoutText.split(separator: "\0", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 3 else { return nil }
        guard fields[1] == "commit" else {
            throw AuditAnchorError.unreadable(source: AuditAnchor.ref, reason: "it points at a \(fields[1]), not a commit")
        }
        return (fields[0], try AuditAnchor.parseRefMessage(fields[2]).get())
    }
}
