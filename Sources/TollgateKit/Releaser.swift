import Foundation
import TollgateCore

/// Cuts a release: a deterministic archive of everything deployable at one commit, read from git
/// objects (never the working tree), stored by its sha256.
public struct Releaser: Sendable {
    public var context: Context

    public init(context: Context) { self.context = context }

    /// What goes into a release: the pipeline file, every stack, modules, config, policies.
    public func deployablePaths(pipelineFile: String) -> [String] {
        let pipeline = context.pipeline
        var paths = [pipelineFile] + pipeline.stacks.map(\.path) + ["modules", "config"]
        if let policies = pipeline.policies { paths.append(policies.path) } else { paths.append("policies") }
        // The signers file is governance: sealed in the release, never read from the working tree.
        paths.append(signersFile)
        return Array(Set(paths)).sorted()
    }

    /// The signers file `approvers:` names, relative to the pipeline file's directory.
    var signersFile: String {
        Governance.signersFile(of: context.pipeline)
    }

    /// The deployable paths inside the repository (relative to its top level), the pipeline's
    /// directory as a prefix there (empty at the top), and the pipeline file's name.
    func repositoryPaths() async throws -> (paths: [String], prefix: String, pipelineFile: String) {
        let top = try await context.git.topLevel()
        let prefix = PathText.relative(context.pipeline.baseDirectory, to: top)
        let pipelineFile = (context.pipeline.file as NSString).lastPathComponent
        return (deployablePaths(pipelineFile: pipelineFile).map { prefix.isEmpty ? $0 : prefix + "/" + $0 }, prefix, pipelineFile)
    }

    /// The release bundle's entries for files of a commit: paths relative to the pipeline's directory.
    func entries(_ files: [GitFile], prefix: String) async throws -> [TarArchive.Entry] {
        let contents = try await context.git.contents(of: files.map(\.object))
        return zip(files, contents).map { file, data in
            TarArchive.Entry(path: prefix.isEmpty ? file.path : String(file.path.dropFirst(prefix.count + 1)), contents: data, executable: file.executable)
        }
    }

    /// The release ids that commits would seal to, read from git objects and stored nowhere, for
    /// the commits whose deployable files are the same paths as `files` (a release's file list);
    /// nil for the others, whose content cannot match. Commits with the same files as one already
    /// sealed are not read again.
    func sealedIDs(of commits: [String], matching files: [String]) async throws -> [(commit: String, sealed: String?)] {
        let (paths, prefix, _) = try await repositoryPaths()
        let wanted = Set(files)
        var seen: [[GitFile]: String] = [:]
        var result: [(commit: String, sealed: String?)] = []
        for commit in commits {
            let listing = try await context.git.files(commit: commit, under: paths)
            let relative = Set(listing.map { prefix.isEmpty ? $0.path : String($0.path.dropFirst(prefix.count + 1)) })
            guard relative == wanted else {
                result.append((commit, nil))
                continue
            }
            if let known = seen[listing] {
                result.append((commit, known))
                continue
            }
            let id = Digest.id(try TarArchive.write(try await entries(listing, prefix: prefix)))
            seen[listing] = id
            result.append((commit, id))
        }
        return result
    }

    /// Seals the release of a commit in memory: the bundle and the release it is, under the id
    /// `release` would record, storing nothing (what a preview plans).
    public func seal(commit revision: String, pr: Int?) async throws -> (release: Release, archive: Data) {
        let git = context.git
        guard let commit = try await git.resolveCommit(revision) else { throw KitError.unknownCommit(revision) }
        // Paths inside the repository, relative to its top level.
        let (paths, prefix, pipelineFile) = try await repositoryPaths()
        if let head = try await git.resolveCommit("HEAD"), head == commit {
            let dirty = try await git.dirtyPaths(paths)
            if !dirty.isEmpty { throw KitError.dirtyRelease(paths: dirty) }
        }
        let files = try await git.files(commit: commit, under: paths)
        guard files.contains(where: { $0.path == (prefix.isEmpty ? pipelineFile : prefix + "/" + pipelineFile) }) else {
            throw KitError.step("commit \(commit.prefix(12)) has no '\(pipelineFile)'; commit the pipeline file first")
        }
        let needsSigners = context.pipeline.environments.contains { if case .approval = $0.gate.value { true } else { false } }
        let signersPath = prefix.isEmpty ? signersFile : prefix + "/" + signersFile
        if needsSigners, !files.contains(where: { $0.path == signersPath }) {
            throw KitError.step("commit \(commit.prefix(12)) has no '\(signersFile)', and approvals are checked only against the signers file sealed in a release; commit it (git add \(signersFile)) and cut the release again")
        }
        let entries = try await entries(files, prefix: prefix)
        let archive = try TarArchive.write(entries)
        let release = Release(id: Digest.id(archive), commit: commit, branch: try await git.currentBranch(), pr: pr,
                              author: try await git.authorEmail(commit: commit), createdAt: context.effects.now(),
                              files: entries.map(\.path).sorted())
        return (release, archive)
    }

    public func release(commit revision: String, pr: Int?) async throws -> (release: Release, created: Bool) {
        let (release, archive) = try await seal(commit: revision, pr: pr)
        let id = try await context.artifacts.put(archive)
        guard id == release.id else {
            throw KitError.step("the artifact store named the release bundle \(Digest.short(id)), not by its sha256 \(Digest.short(release.id)); run 'tollgate doctor'")
        }
        let existing = try await context.ledger.release(id: id)
        try await context.ledger.recordRelease(release, event: AuditEntry(
            actor: context.actor, kind: existing == nil ? "release.created" : "release.recut",
            subjects: ["release": id, "commit": release.commit],
            payload: ["commit": .string(release.commit), "branch": JSONValue(release.branch), "pr": JSONValue(pr), "author": .string(release.author),
                      "files": .number(Double(release.files.count))]))
        return (existing ?? release, existing == nil)
    }
}
