import Foundation
import TollgateCore

/// Finds the governance that judges a plan: the one sealed in the environment's last-good release,
/// the one the release brings, the gate the two make together, the signers file that gate trusts,
/// and who wrote the change.
///
/// Nothing here reads the working tree: pipelines, policies and signers files all come from sealed
/// release bundles, so a key added to a checkout counts for nothing.
struct GovernanceResolver: Sendable {
    var context: Context

    /// What one sealed release says about one environment.
    struct Sealed: Sendable {
        var governance: Governance
        var pipeline: Pipeline
        /// The signers file's bytes as sealed in the release; nil when the release carries none.
        var signers: Data?
    }

    /// Everything the gate needs to know about governance and authorship for one plan.
    struct Judgement: Sendable {
        var effective: EffectiveGate
        var proposed: Governance
        var inForce: GovernanceInForce?
        /// The signers file approvals are checked against, written out for ssh-keygen; nil when the
        /// trusted release carries none.
        var signersPath: String?
        /// Where `signersPath` was sealed, for messages.
        var signersOrigin: String
        var authors: [String]
        var authorshipVerified: Bool
        var unsignedCommits: [String]
        /// What the on-merge gate found, when the effective gate asks for it.
        var merge: MergeCheck?
    }

    /// The governance of `env` sealed in `release`.
    func sealed(_ release: Release, env: String) async throws -> Sealed {
        let entries = try TarArchive.read(try await context.artifacts.get(release.id))
        let name = (context.pipeline.file as NSString).lastPathComponent
        guard let file = entries.first(where: { $0.path == name }) else {
            throw KitError.step("release \(Digest.short(release.id)) has no '\(name)'; cut the release again")
        }
        let pipeline = try context.parsePipeline(file.contents)
        let signersFile = Governance.signersFile(of: pipeline)
        let signers = entries.first { $0.path == signersFile }?.contents
        let policyPath = pipeline.policies?.path ?? "policies"
        let policyFiles = entries.filter { $0.path.hasPrefix(policyPath + "/") && $0.path.hasSuffix(".rego") }
        var policyText = "path=\(policyPath)\nnamespaces=\((pipeline.policies?.namespaces ?? ["main"]).joined(separator: ","))\n"
        for entry in policyFiles.sorted(by: { $0.path < $1.path }) { policyText += "\(entry.path) \(Digest.id(entry.contents))\n" }
        guard let governance = Governance(pipeline, env: env, policies: Digest.id(Data(policyText.utf8)),
                                          signers: signers.map(Digest.id) ?? "") else {
            throw KitError.unknownEnvironment(env, known: pipeline.environments.map(\.name.value))
        }
        return Sealed(governance: governance, pipeline: pipeline, signers: signers)
    }

    /// The last-good that decides `env`'s governance for `stack`: its own, else the newest of any
    /// stack of the environment (a new stack cannot bring its own gate), else nil (bootstrap).
    func inForceLastGood(env: String, stack: String) async throws -> LastGood? {
        if let own = try await context.ledger.lastGood(env: env, stack: stack) { return own }
        var newest: LastGood?
        for other in context.pipeline.stacks.map(\.name.value) where other != stack {
            if let good = try await context.ledger.lastGood(env: env, stack: other), good.appliedAt > (newest?.appliedAt ?? .distantPast) {
                newest = good
            }
        }
        return newest
    }

    /// The governance in force for (env, stack) with the release it was sealed in.
    func inForce(env: String, stack: String) async throws -> (inForce: GovernanceInForce, release: Release, sealed: Sealed)? {
        guard let good = try await inForceLastGood(env: env, stack: stack) else { return nil }
        guard let release = try await context.ledger.release(id: good.releaseID) else {
            throw KitError.step("the ledger names release \(Digest.short(good.releaseID)) as last-good of '\(env)/\(good.stack)' but has no record of it; restore the ledger from a backup")
        }
        let sealed = try await self.sealed(release, env: env)
        return (GovernanceInForce(governance: sealed.governance, release: release.id, stack: good.stack, sequence: good.sequence), release, sealed)
    }

    /// The signers file an environment's signatures are checked against outside the gate (drift
    /// acknowledgements, break-glass reviews): the one in force, else the given release's.
    func signersPath(env: String, fallback release: Release?) async throws -> (path: String?, origin: String) {
        if let current = try await inForce(env: env, stack: context.pipeline.stacks.first?.name.value ?? "") {
            return (try write(current.sealed.signers), "the signers file in force for '\(env)' (sealed in \(current.inForce))")
        }
        guard let release else { return (nil, "no signers file: nothing was applied to '\(env)' yet") }
        return (try write(try await sealed(release, env: env).signers), "the signers file sealed in release \(Digest.short(release.id))")
    }

    /// The approvers of `env` under the governance in force (nil when its gate in force is not an
    /// approval gate); with nothing in force yet, the release's, else the current pipeline's.
    func approversInForce(env: String, fallback release: Release?) async throws -> [String]? {
        if let current = try await inForce(env: env, stack: context.pipeline.stacks.first?.name.value ?? "") {
            return current.inForce.governance.gate.approval?.approvers
        }
        if let release { return try await sealed(release, env: env).governance.gate.approval?.approvers }
        guard case .approval(let gate)? = context.pipeline.environment(named: env)?.gate.value else { return nil }
        return gate.approvers
    }

    /// The whole judgement for a plan of `release`.
    func judge(_ plan: PlanRecord, release: Release) async throws -> Judgement {
        let proposed = try await sealed(release, env: plan.env)
        let current = try await inForce(env: plan.env, stack: plan.stack)
        let effective = EffectiveGate.combine(inForce: current?.inForce, proposed: proposed.governance)
        let trusted = effective.signers == .inForce ? current?.sealed.signers : proposed.signers
        let origin = effective.signers == .inForce
            ? "the signers file in force for '\(plan.env)' ('\(current?.inForce.governance.signersFile ?? "")' sealed in \(current.map(\.inForce.description) ?? ""))"
            : "the signers file '\(proposed.governance.signersFile)' sealed in release \(Digest.short(release.id))"
        let signersPath = try write(trusted)
        // The merge first: in a shallow clone it may fetch the history the authors are read from.
        let inspector = MergeInspector(context: context)
        let merge = effective.requiresMerge ? try await inspector.check(release, branch: effective.mainBranch) : nil
        // Authors: everyone who wrote a commit since the environment's last-good commit.
        let range = try await inspector.authorRange(release, lastGood: current?.release, env: plan.env, branch: effective.mainBranch)
        let commits = try await context.git.commits(since: range.base, through: range.tip,
                                                    allowedSigners: effective.requireSignedCommits ? signersPath : nil)
        var authors: [String] = []
        var unsigned: [String] = []
        for commit in commits {
            if effective.requireSignedCommits {
                if let signer = commit.signer { authors.append(signer) } else { unsigned.append(commit.id) }
            } else {
                authors += [commit.authorEmail, commit.committerEmail]
            }
        }
        if !effective.requireSignedCommits { authors.append(release.author) }
        var unique: [String] = []
        for author in authors where !unique.contains(author) { unique.append(author) }
        return Judgement(effective: effective, proposed: proposed.governance, inForce: current?.inForce, signersPath: signersPath,
                         signersOrigin: origin, authors: unique, authorshipVerified: effective.requireSignedCommits, unsignedCommits: unsigned,
                         merge: merge)
    }

    /// Writes sealed signers bytes where ssh-keygen can read them, named by their digest.
    func write(_ signers: Data?) throws -> String? {
        guard let signers else { return nil }
        let directory = context.workRoot + "/signers"
        let path = directory + "/" + Digest.hex(signers) + ".allowed_signers"
        if FileManager.default.contents(atPath: path) == signers { return path }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try signers.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw KitError.fileSystem(path: path, reason: "\(error)")
        }
        return path
    }
}
