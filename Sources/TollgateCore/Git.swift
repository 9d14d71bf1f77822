import Foundation

/// The port to the repository's version control.
public protocol Git: Sendable {
    func topLevel() async throws -> String
    /// The full commit id of a revision, or nil when it names no commit.
    func resolveCommit(_ revision: String) async throws -> String?
    /// Tracked files under `paths` with uncommitted changes.
    func dirtyPaths(_ paths: [String]) async throws -> [String]
    func currentBranch() async throws -> String?
    func authorEmail(commit: String) async throws -> String
    func userEmail() async throws -> String?
    /// Files of a commit under the given paths, read from git objects (never the working tree).
    func files(commit: String, under paths: [String]) async throws -> [GitFile]
    func contents(of objects: [String]) async throws -> [Data]
    func isAncestor(_ commit: String, of reference: String) async throws -> Bool
    /// Creates or moves an annotated tag on a commit; with `signingKey` (an SSH key file), the tag is
    /// signed with it (`git tag -s`, SSH format).
    func tag(_ name: String, commit: String, message: String, signingKey: String?) async throws
    /// The principal whose SSH signature on the tag `allowedSigners` (a file path) verifies, in
    /// git's `git` namespace; nil when the tag is unsigned or its signature does not verify.
    func tagSigner(_ name: String, allowedSigners: String) async throws -> String?
    /// The commits reachable from `tip` but not from `base` (only `tip` itself when `base` is nil),
    /// newest first. With `allowedSigners` (a file path), each commit's SSH signature is checked
    /// against that file and its principal returned when it verifies.
    func commits(since base: String?, through tip: String, allowedSigners: String?) async throws -> [CommitIdentity]
    /// Tags whose names start with `prefix` (`tollgate/prod/`), with their messages and the commits they point at.
    func tags(prefix: String) async throws -> [GitTag]
    /// The names of the repository's remotes.
    func remotes() async throws -> [String]
    /// Whether this is a shallow clone (history cut at a depth).
    func isShallow() async throws -> Bool
    /// Up to `limit` commits of the first-parent history of `reference`, newest first: what a
    /// branch's own merges and squashes made of it.
    func firstParentHistory(of reference: String, limit: Int) async throws -> [String]
    /// Fetches `by` more commits of history of `branch` from `remote` into a shallow clone.
    func deepen(remote: String, branch: String, by: Int) async throws
}

/// One tag as git stores it: annotated tags carry a message, lightweight ones only point at a commit.
public struct GitTag: Sendable, Equatable {
    /// The name without `refs/tags/`.
    public var name: String
    /// The commit the tag points at (peeled through the tag object).
    public var commit: String
    public var annotated: Bool
    /// The tag's message; empty for a lightweight tag.
    public var message: String

    public init(name: String, commit: String, annotated: Bool, message: String) {
        self.name = name
        self.commit = commit
        self.annotated = annotated
        self.message = message
    }
}

public struct GitFile: Sendable, Hashable {
    public var path: String
    public var object: String
    public var executable: Bool

    public init(path: String, object: String, executable: Bool) {
        self.path = path
        self.object = object
        self.executable = executable
    }
}

/// One commit as the authorship rule reads it.
public struct CommitIdentity: Sendable, Equatable {
    public var id: String
    public var authorEmail: String
    public var committerEmail: String
    /// The principal of a good SSH signature that the signers file verifies; nil when the commit is
    /// unsigned, or signed by a key that file does not list for the `git` namespace.
    public var signer: String?

    public init(id: String, authorEmail: String, committerEmail: String, signer: String?) {
        self.id = id
        self.authorEmail = authorEmail
        self.committerEmail = committerEmail
        self.signer = signer
    }
}
