import Foundation

/// What an approver signs: one decision on one exact plan of one release for one (env, stack).
public struct ApprovalPayload: Sendable, Equatable, Codable {
    public var decision: ApprovalRecord.Decision
    public var env: String
    public var stack: String
    public var planDigest: String
    public var releaseDigest: String
    public var signer: String
    /// Milliseconds since 1970.
    public var time: Int64
    /// Stateful addresses the approver knowingly lets the plan destroy (sorted); part of what is signed.
    public var acknowledgeDestroy: [String]

    public init(decision: ApprovalRecord.Decision, env: String, stack: String, planDigest: String, releaseDigest: String, signer: String, time: Date,
                acknowledgeDestroy: [String] = []) {
        self.decision = decision
        self.env = env
        self.stack = stack
        self.planDigest = planDigest
        self.releaseDigest = releaseDigest
        self.signer = signer
        self.time = AuditChain.milliseconds(time)
        self.acknowledgeDestroy = Array(Set(acknowledgeDestroy)).sorted()
    }

    /// The bytes that are signed.
    public var canonical: String {
        var members: [String: JSONValue] = [
            "decision": .string(decision.rawValue),
            "env": .string(env),
            "stack": .string(stack),
            "plan_digest": .string(planDigest),
            "release_digest": .string(releaseDigest),
            "signer": .string(signer),
            "time": .number(Double(time)),
        ]
        // Present only when used, so approvals without acknowledgements keep their exact bytes.
        if !acknowledgeDestroy.isEmpty { members["acknowledge_destroy"] = .array(acknowledgeDestroy.map(JSONValue.string)) }
        return CanonicalJSON.encode(.object(members))
    }

    /// Reads a signed payload back; nil when it is not exactly the canonical form of a payload.
    public static func parse(_ text: String) -> ApprovalPayload? {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)),
              let decision = value["decision"]?.stringValue.flatMap(ApprovalRecord.Decision.init(rawValue:)),
              let env = value["env"]?.stringValue, let stack = value["stack"]?.stringValue,
              let plan = value["plan_digest"]?.stringValue, let release = value["release_digest"]?.stringValue,
              let signer = value["signer"]?.stringValue, case .number(let time)? = value["time"] else { return nil }
        var acknowledged: [String] = []
        if case .array(let items)? = value["acknowledge_destroy"] { acknowledged = items.compactMap(\.stringValue) }
        var payload = ApprovalPayload(decision: decision, env: env, stack: stack, planDigest: plan, releaseDigest: release, signer: signer,
                                      time: Date(), acknowledgeDestroy: acknowledged)
        payload.time = Int64(time)
        return payload.canonical == text ? payload : nil
    }
}

/// An approval as the gate sees it: the record, plus whether its signature verified against the
/// repository's allowed_signers, and as whom.
public struct VerifiedApproval: Sendable, Equatable {
    public var record: ApprovalRecord
    /// The principal allowed_signers names for the signing key now, or nil when it does not verify.
    public var verifiedPrincipal: String?

    public init(record: ApprovalRecord, verifiedPrincipal: String?) {
        self.record = record
        self.verifiedPrincipal = verifiedPrincipal
    }
}
