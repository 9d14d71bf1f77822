import Foundation
import TollgateCore
import TollgateLint

/// Gathers the facts `DivergenceReport` is built from: the ledger's drift results and applies,
/// the files of the release last applied to each environment, and the working tree's config and
/// code. It never runs the engine: drift evidence is what the last `tollgate drift` recorded.
public struct DivergenceInspector: Sendable {
    public var context: Context

    public init(context: Context) { self.context = context }

    /// The report for the whole pipeline; `workingTree` are the repository's files (see
    /// `RepositoryFiles.read`), keyed by path relative to the pipeline's directory.
    public func report(workingTree: [String: [UInt8]]) async throws -> DivergenceReport {
        let pipeline = context.pipeline
        let environments = pipeline.environments.map(\.name.value)
        let stacks = try context.stacks(only: [])
        var drift: [DriftEvidence] = []
        var versions: [SkewFinding] = []
        var lag: [LagFinding] = []
        var releaseFiles: [String: [String: [UInt8]]] = [:]
        // Per environment, the release each stack runs there: a promotion applies every stack.
        var running: [String: [String: String]] = [:]
        for stack in stacks {
            for env in environments {
                if let lastGood = try await context.ledger.lastGood(env: env, stack: stack.name.value) { running[env, default: [:]][stack.name.value] = lastGood.releaseID }
            }
        }
        for stack in stacks {
            let name = stack.name.value
            var filesByEnv: [String: [String: [UInt8]]] = [:]
            for env in environments {
                guard let lastGood = try await context.ledger.lastGood(env: env, stack: name) else { continue }
                let latest = try await context.ledger.drifts(env: env, stack: name).last
                let open = try await DriftDetector(context: context).openDrift(env: env, stack: name)
                let applies = try await context.ledger.applies(env: env, stack: name)
                drift.append(DriftEvidence.from(env: env, stack: name, latest: latest, open: open, applies: applies))
                if releaseFiles[lastGood.releaseID] == nil { releaseFiles[lastGood.releaseID] = try await context.files(ofRelease: lastGood.releaseID) }
                filesByEnv[env] = releaseFiles[lastGood.releaseID]
            }
            versions += ConfigSkew.versions(environments: environments, stack: name, stackPath: stack.path, filesByEnv: filesByEnv)
            let plans = try await context.ledger.plans(env: nil, stack: name)
            let applies = try await context.ledger.applies(env: nil, stack: name)
            let releaseOfPlan = Dictionary(plans.map { ($0.id, $0.releaseID) }) { first, _ in first }
            let others = running.mapValues { byStack in byStack.filter { $0.key != name }.sorted { $0.key < $1.key }.map(\.value) }
            lag += try await PromotionLag.findings(environments: environments, stack: name, applies: applies, releaseOfPlan: releaseOfPlan,
                                                   otherStacks: others, lineage: try await lineage(of: Set(releaseOfPlan.values).union(others.values.joined())),
                                                   now: context.effects.now())
        }
        let config = ConfigSkew.config(environments: environments, stacks: stacks.map(\.name.value), files: workingTree,
                                       expected: pipeline.lint.expectedDifferences)
        let code = Linter(input: LintInput(pipeline: pipeline, files: workingTree)).run().filter { $0.rule == "env-conditional" }
        return DivergenceReport(generatedAt: context.effects.now(), drift: drift, skew: config + versions, lag: lag, code: code)
    }

    /// The commits and cut times of `releases` from the ledger, and their ancestry from git: a
    /// commit missing from the clone, or a "no" from a shallow clone, leaves it unknown.
    func lineage(of releases: Set<String>) async throws -> ReleaseLineage {
        var entries: [String: ReleaseLineage.Entry] = [:]
        for id in releases {
            if let release = try await context.ledger.release(id: id) { entries[id] = .init(commit: release.commit, cutAt: release.createdAt) }
        }
        let git = context.git
        let shallow = (try? await git.isShallow()) ?? true
        return ReleaseLineage(releases: entries) { [entries] release, other in
            guard let descendant = entries[release]?.commit, let ancestor = entries[other]?.commit,
                  (try? await git.resolveCommit(descendant)) != nil, (try? await git.resolveCommit(ancestor)) != nil,
                  let answer = try? await git.isAncestor(ancestor, of: descendant) else { return nil }
            return answer || !shallow ? answer : nil
        }
    }
}

/// The files lint and divergence read from a repository: `.tf`, `.tf.json`, `.tfvars` and lock files.
public enum RepositoryFiles {
    public static func isLintable(_ path: String) -> Bool {
        path.hasSuffix(".tf") || path.hasSuffix(".tf.json") || path.hasSuffix(".tfvars") || path.hasSuffix(".terraform.lock.hcl")
    }

    /// Those files under `directories` of `root`, keyed by path relative to `root`; `.terraform/`
    /// (what `init` downloads) is skipped.
    public static func read(root: String, directories: [String]) -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for directory in directories {
            for relative in DirectoryWalk.subpaths(of: root + "/" + directory) where isLintable(relative) {
                if relative.split(separator: "/").contains(".terraform") { continue }
                if let data = FileManager.default.contents(atPath: root + "/" + directory + "/" + relative) {
                    files[directory + "/" + relative] = Array(data)
                }
            }
        }
        return files
    }

    /// Every lintable file under `root` (or every file `including` accepts), and every directory,
    /// relative to `root`; `.git` and `.terraform` are skipped. What `lint` reads without a
    /// pipeline file, and `assess` reads (with Terragrunt's `.hcl` files).
    public static func walk(root: String, including: (String) -> Bool = isLintable) -> (files: [String: [UInt8]], directories: [String]) {
        var files: [String: [UInt8]] = [:]
        var directories: [String] = []
        for relative in DirectoryWalk.subpaths(of: root) {
            let parts = relative.split(separator: "/")
            if parts.contains(".git") || parts.contains(".terraform") { continue }
            let full = root + "/" + relative
            var directory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: full, isDirectory: &directory)
            if directory.boolValue {
                directories.append(relative)
            } else if including(relative), let data = FileManager.default.contents(atPath: full) {
                files[relative] = Array(data)
            }
        }
        return (files, directories)
    }

    /// What `tollgate lint` reads: every stack, the modules and the config, under `root` (by
    /// default the pipeline file's directory).
    public static func read(pipeline: Pipeline, root: String? = nil) -> [String: [UInt8]] {
        read(root: root ?? pipeline.baseDirectory, directories: pipeline.stacks.map(\.path) + ["modules", "config"])
    }
}

extension LintInput {
    /// The linter's input for `files` under the pipeline's stacks, environments and lint settings.
    public init(pipeline: Pipeline, files: [String: [UInt8]], stacks: [TollgateCore.Stack]? = nil) {
        self.init(files: files, stacks: (stacks ?? pipeline.stacks).map { .init(name: $0.name.value, path: $0.path) },
                  environments: pipeline.environments.map(\.name.value),
                  environmentInputs: pipeline.lint.envInputs ?? LintInput.defaultEnvironmentInputs,
                  expectedDifferences: pipeline.lint.expectedDifferences)
    }
}
