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

    public func release(commit revision: String, pr: Int?) async throws -> (release: Release, created: Bool) {
        let git = context.git
        let top = try await git.topLevel()
        guard let commit = try await git.resolveCommit(revision) else { throw KitError.unknownCommit(revision) }
        // Paths inside the repository, relative to its top level.
        let prefix = PathText.relative(context.pipeline.baseDirectory, to: top)
        let pipelineFile = (context.pipeline.file as NSString).lastPathComponent
        let paths = deployablePaths(pipelineFile: pipelineFile).map { prefix.isEmpty ? $0 : prefix + "/" + $0 }
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
        let contents = try await git.contents(of: files.map(\.object))
        let entries = zip(files, contents).map { file, data in
            TarArchive.Entry(path: prefix.isEmpty ? file.path : String(file.path.dropFirst(prefix.count + 1)), contents: data, executable: file.executable)
        }
        let archive = try TarArchive.write(entries)
        let id = try await context.artifacts.put(archive)
        let existing = try await context.ledger.release(id: id)
        let release = Release(id: id, commit: commit, branch: try await git.currentBranch(), pr: pr,
                              author: try await git.authorEmail(commit: commit), createdAt: context.effects.now(),
                              files: entries.map(\.path).sorted())
        try await context.ledger.recordRelease(release, event: AuditEntry(
            actor: context.actor, kind: existing == nil ? "release.created" : "release.recut",
            subjects: ["release": id, "commit": commit],
            payload: ["commit": .string(commit), "branch": JSONValue(release.branch), "pr": JSONValue(pr), "author": .string(release.author),
                      "files": .number(Double(entries.count))]))
        return (existing ?? release, existing == nil)
    }
}

