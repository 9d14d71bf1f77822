import Foundation

/// One attribute whose real value moved away from the recorded one.
public struct DriftedAttribute: Sendable, Equatable, Codable {
    /// `tags.owner`, `ingress[0].cidr_blocks`.
    public var path: String
    /// Compact JSON, `(sensitive)` for sensitive values, or nil where the attribute is absent.
    public var recorded: String?
    public var actual: String?

    public init(path: String, recorded: String?, actual: String?) {
        self.path = path
        self.recorded = recorded
        self.actual = actual
    }
}

/// A resource that changed outside tollgate since the state was last written.
public struct DriftedResource: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// Deleted outside tollgate: the state still has it, the real world does not.
        case deleted
        /// Changed outside tollgate.
        case changed
        /// Full-plan drift: the release declares it, but the state does not hold it (removed from
        /// the state, or destroyed by an apply outside tollgate).
        case missing
        /// Full-plan drift: the state holds it, but the release does not declare it (added by an
        /// apply of other code, or imported, outside tollgate).
        case unexpected
    }

    public var address: String
    public var kind: Kind
    public var attributes: [DriftedAttribute]

    public init(address: String, kind: Kind, attributes: [DriftedAttribute]) {
        self.address = address
        self.kind = kind
        self.attributes = attributes
    }

    /// The drifted resources of a refresh-only plan (`resource_drift`), with attribute-level
    /// differences; sensitive values never appear.
    public static func all(in plan: PlanJSON) -> [DriftedResource] {
        (plan.resourceDrift ?? []).compactMap { drift in
            let change = drift.change
            if change.after == nil || change.after == .null || change.actions == [.delete] {
                return DriftedResource(address: drift.address, kind: .deleted, attributes: [])
            }
            let attributes = differences(change.before ?? .null, change.after ?? .null, path: "",
                                         beforeSensitive: change.beforeSensitive ?? .bool(false), afterSensitive: change.afterSensitive ?? .bool(false))
            return attributes.isEmpty ? nil : DriftedResource(address: drift.address, kind: .changed, attributes: attributes)
        }
        .sorted { $0.address < $1.address }
    }

    /// Full-plan drift: what a normal plan of the last-good release would change, each change
    /// being a difference between what that release declares and what the state and the real world
    /// hold; joined with the refresh's own findings (`resource_drift`), which take precedence.
    /// For a changed resource, `recorded` is the release's value and `actual` the state's; values
    /// only known after apply are left out.
    public static func all(inFullPlan plan: PlanJSON) -> [DriftedResource] {
        var found = Dictionary(all(in: plan).map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
        for resource in plan.resourceChanges ?? [] where resource.mode == "managed" && found[resource.address] == nil {
            let change = resource.change
            switch change.kind {
            case .create:
                found[resource.address] = DriftedResource(address: resource.address, kind: .missing, attributes: [])
            case .delete:
                found[resource.address] = DriftedResource(address: resource.address, kind: .unexpected, attributes: [])
            case .update, .replace:
                let after = settled(change.after ?? .null, unknown: change.afterUnknown ?? .bool(false), before: change.before ?? .null)
                let attributes = differences(change.before ?? .null, after, path: "", beforeSensitive: change.beforeSensitive ?? .bool(false),
                                             afterSensitive: change.afterSensitive ?? .bool(false))
                    .map { DriftedAttribute(path: $0.path, recorded: $0.actual, actual: $0.recorded) }
                found[resource.address] = DriftedResource(address: resource.address, kind: .changed, attributes: attributes)
            default:
                continue
            }
        }
        return found.values.sorted { $0.address < $1.address }
    }

    /// `after` with every place `unknown` marks (a value only known after apply) taken from
    /// `before`: such a value follows from the change and is no difference of its own.
    static func settled(_ after: JSONValue, unknown: JSONValue, before: JSONValue) -> JSONValue {
        if unknown == .bool(true) { return before }
        switch (after, unknown) {
        case (.object(var members), .object(let marks)):
            for (key, mark) in marks { members[key] = settled(members[key] ?? .null, unknown: mark, before: before[key] ?? .null) }
            return .object(members)
        case (.array(var items), .array(let marks)):
            let old: [JSONValue] = if case .array(let values) = before { values } else { [] }
            for index in marks.indices where index < items.count {
                items[index] = settled(items[index], unknown: marks[index], before: index < old.count ? old[index] : .null)
            }
            return .array(items)
        default:
            return after
        }
    }

    /// Leaf-level differences between two values; objects and arrays are walked.
    static func differences(_ before: JSONValue, _ after: JSONValue, path: String,
                            beforeSensitive: JSONValue, afterSensitive: JSONValue) -> [DriftedAttribute] {
        if before == after { return [] }
        let hidden = beforeSensitive == .bool(true) || afterSensitive == .bool(true)
        switch (before, after) {
        case (.object(let old), .object(let new)) where !hidden:
            return Set(old.keys).union(new.keys).sorted().flatMap { key in
                differences(old[key] ?? .null, new[key] ?? .null, path: path.isEmpty ? key : "\(path).\(key)",
                            beforeSensitive: beforeSensitive[key] ?? .bool(false), afterSensitive: afterSensitive[key] ?? .bool(false))
            }
        case (.array(let old), .array(let new)) where !hidden && old.count == new.count:
            return old.indices.flatMap { index in
                differences(old[index], new[index], path: "\(path)[\(index)]",
                            beforeSensitive: element(beforeSensitive, index), afterSensitive: element(afterSensitive, index))
            }
        default:
            func shown(_ value: JSONValue) -> String? {
                if value == .null { return nil }
                return CanonicalJSON.encode(value)
            }
            return [DriftedAttribute(path: path.isEmpty ? "(value)" : path, recorded: hidden ? "(sensitive)" : shown(before),
                                     actual: hidden ? "(sensitive)" : shown(after))]
        }
    }

    static func element(_ marker: JSONValue, _ index: Int) -> JSONValue {
        if case .array(let items) = marker, index < items.count { return items[index] }
        return marker == .bool(true) ? .bool(true) : .bool(false)
    }
}

/// The result of one drift run for one (env, stack): recorded whether or not anything drifted.
public struct DriftReport: Sendable, Equatable, Codable {
    public var id: String
    public var env: String
    public var stack: String
    /// The release whose configuration was refreshed (the environment's last-good).
    public var releaseID: String
    public var actor: String
    public var detectedAt: Date
    public var resources: [DriftedResource]

    public init(id: String, env: String, stack: String, releaseID: String, actor: String, detectedAt: Date, resources: [DriftedResource]) {
        self.id = id
        self.env = env
        self.stack = stack
        self.releaseID = releaseID
        self.actor = actor
        self.detectedAt = detectedAt
        self.resources = resources
    }

    public var hasDrift: Bool { !resources.isEmpty }
}

/// A signed acknowledgement of one drift report: someone accountable saw it and accepts it.
public struct DriftAcknowledgement: Sendable, Equatable, Codable {
    public var id: String
    public var driftID: String
    public var env: String
    public var stack: String
    public var principal: String
    /// The canonical JSON that was signed (`DriftAcknowledgement.payload`).
    public var payload: String
    public var signature: String
    public var comment: String
    public var createdAt: Date

    public init(id: String, driftID: String, env: String, stack: String, principal: String, payload: String, signature: String,
                comment: String, createdAt: Date) {
        self.id = id
        self.driftID = driftID
        self.env = env
        self.stack = stack
        self.principal = principal
        self.payload = payload
        self.signature = signature
        self.comment = comment
        self.createdAt = createdAt
    }

    /// The bytes signed for an acknowledgement: the drift, its addresses, who, when and why.
    public static func payload(drift: DriftReport, signer: String, comment: String, time: Date) -> String {
        CanonicalJSON.encode(.object([
            "decision": .string("acknowledge-drift"),
            "drift": .string(drift.id),
            "env": .string(drift.env),
            "stack": .string(drift.stack),
            "addresses": .array(drift.resources.map { .string($0.address) }),
            "signer": .string(signer),
            "comment": .string(comment),
            "time": .number(Double(AuditChain.milliseconds(time))),
        ]))
    }
}

/// Whether drift still stands in the way, as a pure function of ledger facts.
public enum DriftStatus {
    /// The latest report of (env, stack) when it found drift that is neither acknowledged nor
    /// reconciled by a successful apply that started after it; else nil.
    ///
    /// A report is acknowledged when a verified acknowledgement names it, or names an earlier report
    /// that found exactly the same drift (the same resources, attributes and values) with no
    /// successful apply in between: running drift again does not re-open what was accepted.
    /// `reports` are the (env, stack)'s reports, oldest first; the latest is the last.
    public static func open(reports: [DriftReport], acknowledgedDrifts: Set<String>, applies: [ApplyRecord]) -> DriftReport? {
        guard let latest = reports.last, latest.hasDrift else { return nil }
        let succeeded = applies.filter { $0.env == latest.env && $0.stack == latest.stack && $0.outcome == .success }
        if succeeded.contains(where: { $0.startedAt > latest.detectedAt }) { return nil }
        if acknowledgedDrifts.contains(latest.id) { return nil }
        let carried = reports.contains { earlier in
            acknowledgedDrifts.contains(earlier.id) && earlier.detectedAt <= latest.detectedAt && earlier.resources == latest.resources
                && !succeeded.contains { $0.startedAt > earlier.detectedAt && $0.startedAt <= latest.detectedAt }
        }
        return carried ? nil : latest
    }

    /// The refusal of the approval gate while drift is open; `replanning` adds that a new plan,
    /// reviewed, settles it too (true at the approval gate).
    public static func refusal(_ drift: DriftReport, replanning: Bool = true) -> GateDecision.Refusal {
        let addresses = drift.resources.map(\.address)
        return GateDecision.Refusal(
            rule: .drift,
            message: "'\(drift.env)/\(drift.stack)' drifted outside tollgate (\(addresses.prefix(5).joined(separator: ", "))\(addresses.count > 5 ? ", …" : "")), "
                + "found by drift run '\(drift.id)'; see it with 'tollgate drift --env \(drift.env) --stack \(drift.stack)', "
                + "then acknowledge it: tollgate drift ack \(drift.env) \(drift.stack) --key KEY --comment TEXT"
                + (replanning ? "; or plan again: a plan made after the drift run shows the drift for review, and applying it reconciles the drift" : ""))
    }
}
