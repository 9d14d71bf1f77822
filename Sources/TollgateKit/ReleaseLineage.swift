import Foundation

/// Which releases have everything another one has, so promotion advice never moves an environment
/// to a release older than the one it runs (a downgrade).
///
/// Ancestry comes from a closure so `PromotionLag` stays free of I/O: `DivergenceInspector` asks
/// git, tests pass a table.
public struct ReleaseLineage: Sendable {
    public struct Entry: Sendable, Equatable {
        public var commit: String
        public var cutAt: Date

        public init(commit: String, cutAt: Date) {
            self.commit = commit
            self.cutAt = cutAt
        }
    }

    /// Each known release's commit and when it was cut, by release id.
    public var releases: [String: Entry]
    /// Whether the first release's commit is the second's or a descendant of it; nil when that
    /// cannot be told (a commit missing from the clone, or a shallow clone that says "no").
    public var contains: @Sendable (_ release: String, _ other: String) async throws -> Bool?

    public init(releases: [String: Entry], contains: @escaping @Sendable (_ release: String, _ other: String) async throws -> Bool?) {
        self.releases = releases
        self.contains = contains
    }

    /// A lineage told by a table: `containing[A]` holds the releases A's commit contains. Releases
    /// absent from the table's keys have unknown ancestry.
    public init(releases: [String: Entry], containing: [String: Set<String>]) {
        self.init(releases: releases) { release, other in containing[release].map { $0.contains(other) } }
    }

    /// Whether `release` has everything `other` has: the same release, a descendant commit, or,
    /// when ancestry cannot be told, a release cut no earlier than `other`.
    public func includes(_ release: String, _ other: String) async throws -> Bool {
        if release == other { return true }
        if let first = releases[release], let second = releases[other], first.commit == second.commit { return true }
        if let known = try await contains(release, other) { return known }
        guard let first = releases[release]?.cutAt, let second = releases[other]?.cutAt else { return false }
        return first >= second
    }

    /// The commit of a release, when known.
    public func commit(of release: String) -> String? { releases[release]?.commit }
}
