import Foundation

/// Everything that decides who may change one environment, read from one sealed release.
///
/// A release is judged by the governance *in force* (the one sealed in the environment's last-good
/// release), never by the governance it brings: a change to any field here needs approval under the
/// governance in force, so a change can never loosen the gate that judges it.
public struct Governance: Sendable, Equatable, Codable {
    public var env: String
    public var gate: GateSpec
    /// The branch the on-merge gate reads.
    public var mainBranch: String
    /// The checks every plan must pass, sorted by name.
    public var checks: [Check]
    public var account: String
    public var identity: String
    /// The backend type and settings with `{env}` filled in, as one line.
    public var backend: String
    /// The pipeline's `stateful_types`, sorted.
    public var statefulTypes: [String]
    /// sha256 over the policy settings and every policy file sealed in the release.
    public var policies: String
    /// The path `approvers:` names, relative to the pipeline file.
    public var signersFile: String
    /// sha256 of the signers file sealed in the release; empty when the release carries none.
    public var signers: String
    /// Whether every commit since last-good must carry a verified SSH signature.
    public var requireSignedCommits: Bool

    public init(env: String, gate: GateSpec, mainBranch: String, checks: [Check], account: String, identity: String, backend: String,
                statefulTypes: [String], policies: String, signersFile: String, signers: String, requireSignedCommits: Bool) {
        self.env = env
        self.gate = gate
        self.mainBranch = mainBranch
        self.checks = Array(Set(checks)).sorted { $0.rawValue < $1.rawValue }
        self.account = account
        self.identity = identity
        self.backend = backend
        self.statefulTypes = Array(Set(statefulTypes)).sorted()
        self.policies = policies
        self.signersFile = signersFile
        self.signers = signers
        self.requireSignedCommits = requireSignedCommits
    }

    /// The governance of `env` in a pipeline, with the digests of what the release seals beside it.
    public init?(_ pipeline: Pipeline, env name: String, policies: String, signers: String) {
        guard let environment = pipeline.environment(named: name) else { return nil }
        let backend = environment.backend
        let settings = backend.resolved(["env": name]).map { "\($0.key)=\($0.value.text)" }.sorted()
        self.init(env: name, gate: GateSpec(environment.gate.value), mainBranch: pipeline.mainBranch,
                  checks: environment.checks.map(\.value), account: environment.account.value, identity: environment.identity.value,
                  backend: ([backend.type.value] + settings).joined(separator: " "), statefulTypes: pipeline.statefulTypes,
                  policies: policies, signersFile: pipeline.approversFile?.value ?? Governance.defaultSignersFile,
                  signers: signers, requireSignedCommits: environment.requireSignedCommits)
    }

    public static let defaultSignersFile = ".tollgate/allowed_signers"

    /// The signers file `approvers:` names, normalised relative to the pipeline file's directory:
    /// its path inside a release bundle.
    public static func signersFile(of pipeline: Pipeline) -> String {
        PathText.relative(PathText.absolute(pipeline.approversFile?.value ?? defaultSignersFile, base: "/r"), to: "/r")
    }

    /// What differs from `self` (the governance in force) in `proposed`, field by field.
    public func changes(to proposed: Governance) -> [GovernanceChange] {
        var changes: [GovernanceChange] = []
        func compare(_ field: GovernanceChange.Field, _ old: String, _ new: String) {
            if old != new { changes.append(GovernanceChange(field: field, from: old, to: new)) }
        }
        compare(.gate, gate.kind, proposed.gate.kind)
        compare(.approvers, gate.approvers.joined(separator: ", "), proposed.gate.approvers.joined(separator: ", "))
        compare(.required, gate.required.map(String.init) ?? "-", proposed.gate.required.map(String.init) ?? "-")
        compare(.maxPlanAge, gate.maxPlanAge ?? "-", proposed.gate.maxPlanAge ?? "-")
        compare(.mainBranch, mainBranch, proposed.mainBranch)
        compare(.checks, checks.map(\.rawValue).joined(separator: ", "), proposed.checks.map(\.rawValue).joined(separator: ", "))
        compare(.account, account, proposed.account)
        compare(.identity, identity, proposed.identity)
        compare(.backend, backend, proposed.backend)
        compare(.statefulTypes, statefulTypes.joined(separator: ", "), proposed.statefulTypes.joined(separator: ", "))
        compare(.policies, Digest.short(policies), Digest.short(proposed.policies))
        compare(.signersFile, signersFile, proposed.signersFile)
        compare(.signers, signers.isEmpty ? "none" : Digest.short(signers), proposed.signers.isEmpty ? "none" : Digest.short(proposed.signers))
        compare(.requireSignedCommits, String(requireSignedCommits), String(proposed.requireSignedCommits))
        return changes
    }
}

/// A gate as governance compares it: the kind, and for an approval gate its settings as text.
public struct GateSpec: Sendable, Equatable, Codable {
    public var kind: String
    public var approvers: [String]
    public var required: Int?
    public var maxPlanAge: String?
    public var maxPlanAgeSeconds: Int?

    public init(_ gate: Gate) {
        kind = gate.kind
        if case .approval(let approval) = gate {
            approvers = approval.approvers.sorted()
            required = approval.required
            maxPlanAge = approval.maxPlanAge.description
            maxPlanAgeSeconds = approval.maxPlanAge.seconds
        } else {
            approvers = []
        }
    }

    /// The approval gate back as the core's value, when this is one.
    public var approval: ApprovalGate? {
        guard kind == "approval", let required, let maxPlanAgeSeconds else { return nil }
        return ApprovalGate(required: required, approvers: approvers, maxPlanAge: PlanAge(seconds: maxPlanAgeSeconds))
    }
}

/// One field of an environment's governance that a release changes.
public struct GovernanceChange: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Field: String, Sendable, Codable {
        case gate, approvers, required
        case maxPlanAge = "max_plan_age"
        case mainBranch = "main_branch"
        case checks, account, identity, backend
        case statefulTypes = "stateful_types"
        case policies
        case signersFile = "approvers_file"
        case signers = "allowed_signers"
        case requireSignedCommits = "require_signed_commits"
    }

    public var field: Field
    public var from: String
    public var to: String

    public init(field: Field, from: String, to: String) {
        self.field = field
        self.from = from
        self.to = to
    }

    public var description: String {
        "\(field.rawValue): \(from.isEmpty ? "none" : from) → \(to.isEmpty ? "none" : to)"
    }
}

/// The governance in force for an (env, stack) and where it was sealed.
public struct GovernanceInForce: Sendable, Equatable, Codable, CustomStringConvertible {
    public var governance: Governance
    /// The last-good release whose sealed governance this is.
    public var release: String
    /// The stack whose last-good it is (the same stack, or another stack of the environment when this
    /// stack never ran there).
    public var stack: String
    /// The N of that last-good's tag `tollgate/ENV/STACK/N`.
    public var sequence: Int

    public init(governance: Governance, release: String, stack: String, sequence: Int) {
        self.governance = governance
        self.release = release
        self.stack = stack
        self.sequence = sequence
    }

    public var description: String {
        "release \(Digest.short(release)), last-good of \(governance.env)/\(stack) (tag tollgate/\(governance.env)/\(stack)/\(sequence))"
    }
}

/// Whose signers file approvals are checked against.
public enum SignerSource: String, Sendable, Codable {
    /// The file sealed in the last-good release (the governance in force).
    case inForce = "in-force"
    /// The file sealed in the release being applied: only on bootstrap, or when the governance in
    /// force has no approval gate and the release adds one (a change that only tightens).
    case release
}

/// The gate a plan is judged by: the governance in force, tightened by the release's where the
/// release is stricter, never loosened.
public struct EffectiveGate: Sendable, Equatable {
    public var requiresMerge: Bool
    /// The main branch the governance in force names.
    public var mainBranch: String
    public var approval: ApprovalGate?
    public var signers: SignerSource
    /// Checks a plan must have run and passed.
    public var checks: Set<Check>
    public var statefulTypes: Set<String>
    public var requireSignedCommits: Bool
    /// What the release changes in the governance in force; empty on bootstrap.
    public var changes: [GovernanceChange]
    /// Nil on bootstrap: no release ran in this environment yet, so its first governance is trusted on first use.
    public var inForce: GovernanceInForce?

    public static func combine(inForce: GovernanceInForce?, proposed: Governance) -> EffectiveGate {
        guard let inForce else {
            return EffectiveGate(requiresMerge: proposed.gate.kind == Gate.onMerge.kind, mainBranch: proposed.mainBranch,
                                 approval: proposed.gate.approval, signers: .release, checks: Set(proposed.checks),
                                 statefulTypes: Set(proposed.statefulTypes), requireSignedCommits: proposed.requireSignedCommits,
                                 changes: [], inForce: nil)
        }
        let old = inForce.governance
        var approval: ApprovalGate?
        var signers = SignerSource.inForce
        switch (old.gate.approval, proposed.gate.approval) {
        case (let current?, let new?):
            // The approvers and signers in force; the larger count and the shorter age of the two.
            approval = ApprovalGate(required: max(current.required, new.required), approvers: current.approvers,
                                    maxPlanAge: min(current.maxPlanAge, new.maxPlanAge))
        case (let current?, nil):
            approval = current
        case (nil, let new?):
            approval = new
            signers = .release
        case (nil, nil):
            approval = nil
        }
        return EffectiveGate(
            requiresMerge: old.gate.kind == Gate.onMerge.kind || proposed.gate.kind == Gate.onMerge.kind,
            mainBranch: old.mainBranch, approval: approval, signers: signers,
            checks: Set(old.checks).union(proposed.checks), statefulTypes: Set(old.statefulTypes).union(proposed.statefulTypes),
            // A release that starts requiring signed commits is itself judged by the rule in force:
            // the requirement holds from the next release on, like every governance it brings.
            requireSignedCommits: old.requireSignedCommits,
            changes: old.changes(to: proposed), inForce: inForce)
    }

    /// One line for the review and the record: what judges this plan.
    public var judgedBy: String {
        inForce.map { "the governance in force, sealed in \($0)" }
            ?? "the release's own governance: trust on first use, since nothing was applied to this environment yet"
    }
}
