import Foundation

/// One place the main branch may be found in a checkout.
public struct MainRef: Sendable, Equatable, Codable {
    /// The branch name `tollgate.yaml` gives (`main`).
    public var branch: String
    /// The full ref: `refs/heads/main` or `refs/remotes/origin/main`.
    public var ref: String
    /// The remote of a remote-tracking ref; nil for the local branch.
    public var remote: String?

    public init(branch: String, ref: String, remote: String?) {
        self.branch = branch
        self.ref = ref
        self.remote = remote
    }

    /// Where to look for the main branch, in order: the local branch, then origin's
    /// remote-tracking branch, then every other remote's, by name. CI checks out a detached HEAD
    /// with no local branch, so the remote-tracking ref is what most runners have.
    public static func candidates(branch: String, remotes: [String]) -> [MainRef] {
        let others = remotes.filter { $0 != "origin" }.sorted()
        let ordered = (remotes.contains("origin") || remotes.isEmpty ? ["origin"] : []) + others
        return [MainRef(branch: branch, ref: "refs/heads/" + branch, remote: nil)]
            + ordered.map { MainRef(branch: branch, ref: "refs/remotes/\($0)/\(branch)", remote: $0) }
    }

    /// The first candidate that exists among `existing` refs; nil when none does.
    public static func resolve(branch: String, remotes: [String], existing: Set<String>) -> MainRef? {
        candidates(branch: branch, remotes: remotes).first { existing.contains($0.ref) }
    }
}

/// How the on-merge gate found a release on the main branch: the proof is on the record.
public struct MergeProof: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        /// The release commit is in the main branch's history (a merge commit or a fast-forward).
        case ancestor
        /// A commit of the main branch holds exactly the release's content, so it seals to the same
        /// release id (a squash or rebase merge made a new commit of the same files).
        case sameContent = "same-content"
    }

    public var kind: Kind
    /// The ref the main branch was read from.
    public var ref: String
    /// The main-branch commit that proves it: the release commit itself, or the commit that seals
    /// to the release id.
    public var commit: String

    public init(kind: Kind, ref: String, commit: String) {
        self.kind = kind
        self.ref = ref
        self.commit = commit
    }

    /// How far back the first-parent history of the main branch is searched for a commit that
    /// seals to the release id. A squash or rebase merge is normally among the newest few; the
    /// bound keeps the search (one `git ls-tree` per commit) short on a long history.
    public static let searchDepth = 200

    /// The object stored in an apply's events (`merged_by`).
    public var json: JSONValue {
        ["kind": .string(kind.rawValue), "ref": .string(ref), "commit": .string(commit)]
    }

    public init?(json: JSONValue?) {
        guard let json, let kind = json["kind"]?.stringValue.flatMap(Kind.init(rawValue:)),
              let ref = json["ref"]?.stringValue, let commit = json["commit"]?.stringValue else { return nil }
        self.init(kind: kind, ref: ref, commit: commit)
    }

    public var description: String {
        switch kind {
        case .ancestor: "commit \(commit.prefix(12)) is on \(ref)"
        case .sameContent: "commit \(commit.prefix(12)) of \(ref) seals to the same release (squash or rebase merge)"
        }
    }
}

/// What looking for a release on the main branch found.
public enum MergeCheck: Sendable, Equatable {
    case merged(MergeProof)
    /// The release commit is not in the history of `ref`, and none of the `searched` newest
    /// first-parent commits seals to the release id. `shallow`: the clone still lacks history.
    case notMerged(ref: String, searched: Int, shallow: Bool)
    /// None of the refs tried exists in this checkout.
    case noMainRef(tried: [String])

    /// The proof, when merged.
    public var proof: MergeProof? {
        if case .merged(let proof) = self { return proof }
        return nil
    }

    /// The newest commit among `history` (newest first) whose content seals to `release`, given
    /// each commit's sealed id (nil where its files differ from the release's, so no id was
    /// computed).
    public static func firstSealing(_ release: String, history: [(commit: String, sealed: String?)]) -> String? {
        history.first { $0.sealed == release }?.commit
    }

    /// The refusal for a release that was not found on the main branch; nil when it was.
    public func refusal(env: String, branch: String, release: Release) -> GateDecision.Refusal? {
        let head = "environment '\(env)' only takes releases merged to '\(branch)'"
        switch self {
        case .merged: return nil
        case .notMerged(let ref, let searched, let shallow):
            let window = searched < MergeProof.searchDepth
                ? (shallow ? "the \(searched) commit\(searched == 1 ? "" : "s") of '\(branch)' this shallow clone holds" : "the \(searched) commit\(searched == 1 ? "" : "s") of '\(branch)'")
                : "the last \(searched) commits of '\(branch)'"
            let more = shallow ? "; if it was merged longer ago, fetch more history (git fetch --unshallow) and run this again" : ""
            return .init(rule: .onMerge, message: "\(head): commit \(release.commit.prefix(12)) is not in the history of '\(ref)', and no commit among \(window) (first parent) seals to release \(Digest.short(release.id)); cut the release from '\(branch)' after the merge (tollgate release --commit \(ref.replacingOccurrences(of: "refs/heads/", with: "").replacingOccurrences(of: "refs/remotes/", with: ""))) and promote that one\(more)")
        case .noMainRef(let tried):
            let remote = tried.lazy.compactMap { $0.hasPrefix("refs/remotes/") ? $0.dropFirst("refs/remotes/".count).split(separator: "/").first : nil }.first ?? "origin"
            return .init(rule: .onMerge, message: "\(head), and this checkout has no ref for it: tried \(tried.map { "'\($0)'" }.joined(separator: ", ")); fetch it (git fetch \(remote) \(branch)) and run this again")
        }
    }
}
