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
    func tag(_ name: String, commit: String, message: String) async throws
}

public struct GitFile: Sendable, Equatable {
    public var path: String
    public var object: String
    public var executable: Bool

    public init(path: String, object: String, executable: Bool) {
        self.path = path
        self.object = object
        self.executable = executable
    }
}
