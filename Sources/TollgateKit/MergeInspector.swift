import Foundation
import TollgateCore

/// Finds a release on the main branch for the on-merge gate, in whatever checkout CI left:
/// a detached HEAD, no local main branch, a shallow clone, a squash or rebase merge.
///
/// The main branch is the local branch if there is one, else a remote's tracking branch (origin
/// first). The release is on it when its commit is in that history, or when a commit among the
/// newest `MergeProof.searchDepth` of its first-parent history seals to the same release id (same
/// files, same content). A shallow clone that cannot decide fetches more history once, and says so.
struct MergeInspector: Sendable {
    var context: Context

    func check(_ release: Release, branch: String) async throws -> MergeCheck {
        let key = MergeCheckCache.Key(release: release.id, commit: release.commit, branch: branch)
        if let known = await context.mergeChecks.value(for: key) { return known }
        let found = try await inspect(release, branch: branch)
        await context.mergeChecks.store(found, for: key)
        return found
    }

    /// The main branch's ref in this checkout, and the remote more history can be fetched from.
    func mainRef(_ branch: String) async throws -> (main: MainRef?, tried: [String], remote: String?) {
        let git = context.git
        let remotes = try await git.remotes()
        let candidates = MainRef.candidates(branch: branch, remotes: remotes)
        var existing: Set<String> = []
        for candidate in candidates where try await git.resolveCommit(candidate.ref) != nil {
            existing.insert(candidate.ref)
            break
        }
        let main = MainRef.resolve(branch: branch, remotes: remotes, existing: existing)
        return (main, candidates.map(\.ref), main?.remote ?? (remotes.contains("origin") ? "origin" : nil))
    }

    func inspect(_ release: Release, branch: String) async throws -> MergeCheck {
        let git = context.git
        let (found, tried, remote) = try await mainRef(branch)
        guard let main = found else { return .noMainRef(tried: tried) }
        // The release's own paths: what it sealed, read from its pipeline, not the working tree's.
        let releaser = Releaser(context: try await context.sealed(release))
        while true {
            if try await git.resolveCommit(release.commit) != nil, try await git.isAncestor(release.commit, of: main.ref) {
                return .merged(MergeProof(kind: .ancestor, ref: main.ref, commit: release.commit))
            }
            let history = try await git.firstParentHistory(of: main.ref, limit: MergeProof.searchDepth)
            let sealed = try await releaser.sealedIDs(of: history, matching: release.files)
            if let commit = MergeCheck.firstSealing(release.id, history: sealed) {
                return .merged(MergeProof(kind: .sameContent, ref: main.ref, commit: commit))
            }
            let why = "its \(history.count) commit\(history.count == 1 ? "" : "s") of '\(branch)' do not show release \(Digest.short(release.id))"
            guard try await deepen(branch: branch, remote: remote, because: why) else {
                return .notMerged(ref: main.ref, searched: history.count, shallow: try await git.isShallow())
            }
        }
    }

    /// Fetches `MergeProof.searchDepth` more commits of `branch` into a shallow clone, once per
    /// process, saying so on stderr; false when the clone is not shallow, has no remote, was
    /// already deepened, or the fetch failed.
    func deepen(branch: String, remote: String?, because reason: String) async throws -> Bool {
        guard let remote, try await context.git.isShallow(), await context.mergeChecks.claimDeepening() else { return false }
        let depth = MergeProof.searchDepth
        context.notice("tollgate: notice: this clone is shallow and \(reason); fetching \(depth) more (git fetch --deepen=\(depth) \(remote) \(branch))")
        do {
            try await context.git.deepen(remote: remote, branch: branch, by: depth)
            return true
        } catch {
            context.notice("tollgate: notice: fetching more history failed: \(error)")
            return false
        }
    }

    /// The commits whose authors wrote the change: from the environment's last-good commit to the
    /// release commit. A shallow clone missing either is deepened first. A commit still missing
    /// (its branch was squash-merged and never fetched) is stood in for by the main commit that
    /// seals to the same release, which holds the same content.
    func authorRange(_ release: Release, lastGood: Release?, env: String, branch: String) async throws -> (base: String?, tip: String) {
        let git = context.git
        func missing() async throws -> [String] {
            var absent: [String] = []
            for commit in [release.commit] + [lastGood?.commit].compactMap({ $0 }) where try await git.resolveCommit(commit) == nil {
                if !absent.contains(commit) { absent.append(commit) }
            }
            return absent
        }
        let absent = try await missing()
        if !absent.isEmpty {
            _ = try await deepen(branch: branch, remote: try await mainRef(branch).remote,
                                 because: "it lacks commit \(absent.map { String($0.prefix(12)) }.joined(separator: " and ")), whose history names the authors")
        }
        func standIn(_ release: Release) async throws -> String? {
            if try await git.resolveCommit(release.commit) != nil { return release.commit }
            return try await check(release, branch: branch).proof?.commit
        }
        guard let tip = try await standIn(release) else {
            throw KitError.step("commit \(release.commit.prefix(12)) of release \(Digest.short(release.id)) is not in this checkout, and no commit of '\(branch)' seals to that release; who wrote the change is read from its history, so fetch it (git fetch origin \(release.commit)) and run this again")
        }
        guard let lastGood else { return (nil, tip) }
        guard let base = try await standIn(lastGood) else {
            throw KitError.step("the last-good commit \(lastGood.commit.prefix(12)) of '\(env)' is not in this checkout, and no commit of '\(branch)' seals to its release \(Digest.short(lastGood.id)); who wrote the change is read from the history since it, so fetch more history (git fetch --unshallow) and run this again")
        }
        return (base, tip)
    }
}

/// The merge checks already made in this process: promote and apply judge a plan more than once,
/// and a shallow clone is deepened only once.
public actor MergeCheckCache {
    struct Key: Hashable {
        var release: String
        var commit: String
        var branch: String
    }

    var known: [Key: MergeCheck] = [:]
    var deepened = false

    public init() {}

    /// True the first time only: a shallow clone is deepened at most once per process.
    func claimDeepening() -> Bool {
        defer { deepened = true }
        return !deepened
    }

    func value(for key: Key) -> MergeCheck? { known[key] }
    func store(_ check: MergeCheck, for key: Key) { known[key] = check }
}
