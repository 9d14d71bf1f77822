/// What a plan will do, counted the way a reviewer reads it.
public struct PlanSummary: Sendable, Codable, Equatable {
    public var create: [String] = []
    public var update: [String] = []
    public var replace: [String] = []
    public var delete: [String] = []
    public var read: [String] = []
    public var forget: [String] = []
    /// Changes whose actions tollgate does not know (a newer engine's), with the actions as written.
    public var other: [OtherChange] = []
    public var outputChanges: [String] = []
    /// Resources whose real state moved away from the recorded state since the last apply.
    public var drifted: [String] = []
    /// Resources the plan gives a new address (`moved` blocks), whatever else it does to them.
    public var moved: [Move] = []
    /// Resources the plan imports (`import` blocks).
    public var imported: [Import] = []
    /// Why the engine chose the action of a change, where it says (`replace_because_cannot_update`).
    public var reasons: [Reason] = []
    /// Changes the engine put off to a later plan.
    public var deferred: [Deferral] = []
    /// Checks, conditions and validations that did not pass.
    public var checks: [CheckOutcome] = []
    /// The attributes each created, updated or replaced resource changes, sensitive values masked
    /// (`ResourceDiff`). Filled from the whole plan JSON when the plan is made; the scanner leaves it empty.
    public var diffs: [ResourceDiff] = []
    /// The engine's own verdict on the plan: nil where the engine does not say (Terraform before 1.5 and 1.8).
    public var errored: Bool?
    public var applyable: Bool?
    public var complete: Bool?

    public struct OtherChange: Sendable, Codable, Equatable {
        public var address: String
        public var actions: [String]

        public init(address: String, actions: [String]) {
            self.address = address
            self.actions = actions
        }
    }

    public struct Move: Sendable, Codable, Equatable {
        public var from: String
        public var to: String

        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }
    }

    public struct Import: Sendable, Codable, Equatable {
        public var address: String
        public var id: String?

        public init(address: String, id: String?) {
            self.address = address
            self.id = id
        }
    }

    public struct Reason: Sendable, Codable, Equatable {
        public var address: String
        public var reason: String

        public init(address: String, reason: String) {
            self.address = address
            self.reason = reason
        }
    }

    public struct Deferral: Sendable, Codable, Equatable {
        public var address: String?
        public var reason: String?

        public init(address: String?, reason: String?) {
            self.address = address
            self.reason = reason
        }
    }

    public struct CheckOutcome: Sendable, Codable, Equatable {
        /// `check.replicas_small`, `var.region`, `aws_instance.web`.
        public var address: String
        /// `fail`, `error` or `unknown`.
        public var status: String
        /// The failure messages of its instances.
        public var problems: [String]

        public init(address: String, status: String, problems: [String]) {
            self.address = address
            self.status = status
            self.problems = problems
        }
    }

    public init() {}

    /// Summarises decoded plan JSON.
    public init(_ plan: PlanJSON) {
        for resource in plan.resourceChanges ?? [] {
            add(resource.address, actions: resource.change.actions.map(\.description), previousAddress: resource.previousAddress,
                importing: resource.change.importing, reason: resource.actionReason)
        }
        for (name, change) in (plan.outputChanges ?? [:]).sorted(by: { $0.key < $1.key }) where change.kind != .noOp {
            outputChanges.append(name)
        }
        drifted = (plan.resourceDrift ?? []).map(\.address)
        deferred = (plan.deferredChanges ?? []).map { Deferral(address: $0.resourceChange?.address, reason: $0.reason) }
        checks = (plan.checks ?? []).compactMap { check in
            CheckOutcome(check.address.toDisplay, status: check.status, problems: (check.instances ?? []).flatMap { ($0.problems ?? []).map(\.message) })
        }
        errored = plan.errored
        applyable = plan.applyable
        complete = plan.complete
    }

    /// Files one resource change: its verb (no-ops are not listed), a move, an import, a reason.
    mutating func add(_ address: String, actions: [String], previousAddress: String?, importing: Importing?, reason: String?) {
        let kind = ChangeKind(actions: actions.map(Action.init(text:)))
        switch kind {
        case .create: create.append(address)
        case .update: update.append(address)
        case .replace: replace.append(address)
        case .delete: delete.append(address)
        case .read: read.append(address)
        case .forget: forget.append(address)
        case .other: other.append(OtherChange(address: address, actions: actions))
        case .noOp: break
        }
        if let previousAddress, previousAddress != address { moved.append(Move(from: previousAddress, to: address)) }
        if let importing { imported.append(Import(address: address, id: importing.id)) }
        if let reason, kind != .noOp { reasons.append(Reason(address: address, reason: reason)) }
    }

    public var hasChanges: Bool {
        !(create.isEmpty && update.isEmpty && replace.isEmpty && delete.isEmpty && forget.isEmpty && other.isEmpty
            && outputChanges.isEmpty && moved.isEmpty && imported.isEmpty)
    }

    /// Changes that destroy something: deletions and replacements.
    public var destructive: [String] { replace + delete }

    /// `2 to create, 0 to update, 1 to replace, 0 to delete`, with imports, moves and other actions when there are any.
    public var counts: String {
        var text = "\(create.count) to create, \(update.count) to update, \(replace.count) to replace, \(delete.count) to delete"
        if !imported.isEmpty { text += ", \(imported.count) to import" }
        if !moved.isEmpty { text += ", \(moved.count) moved" }
        if !other.isEmpty { text += ", \(other.count) other" }
        return text
    }

    /// Why this plan must not be approved or applied, in the engine's own words; empty for a sound plan.
    /// `applyable: false` alone is normal for a plan with nothing to do, so it counts only with changes.
    public var blockers: [String] {
        var reasons: [String] = []
        if errored == true {
            reasons.append("the engine reported errors while planning (errored: true); fix them and plan again")
        }
        if complete == false {
            let because = deferred.isEmpty ? "it was planned with -target, or leaves changes out" : "the engine deferred \(deferred.count) change\(deferred.count == 1 ? "" : "s")"
            reasons.append("the plan is incomplete (complete: false): \(because); plan again without -target so that every change is in the plan")
        }
        if applyable == false, errored != true, hasChanges {
            reasons.append("the engine marked the plan as not applyable (applyable: false) although it has changes; plan again")
        }
        return reasons
    }

    enum CodingKeys: String, CodingKey {
        case create, update, replace, delete, read, forget, other, outputChanges, drifted
        case moved, imported, reasons, deferred, checks, diffs, errored, applyable, complete
    }

    /// Summaries recorded before the members from `other` on existed read them as empty: an older
    /// record is not a corrupt one. The original members are required.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func list<T: Decodable>(_ key: CodingKeys) throws -> [T] { try container.decodeIfPresent([T].self, forKey: key) ?? [] }
        create = try container.decode([String].self, forKey: .create)
        update = try container.decode([String].self, forKey: .update)
        replace = try container.decode([String].self, forKey: .replace)
        delete = try container.decode([String].self, forKey: .delete)
        read = try container.decode([String].self, forKey: .read)
        forget = try container.decode([String].self, forKey: .forget)
        outputChanges = try container.decode([String].self, forKey: .outputChanges)
        drifted = try container.decode([String].self, forKey: .drifted)
        other = try list(.other)
        moved = try list(.moved)
        imported = try list(.imported)
        reasons = try list(.reasons)
        deferred = try list(.deferred)
        checks = try list(.checks)
        diffs = try list(.diffs)
        errored = try container.decodeIfPresent(Bool.self, forKey: .errored)
        applyable = try container.decodeIfPresent(Bool.self, forKey: .applyable)
        complete = try container.decodeIfPresent(Bool.self, forKey: .complete)
    }
}

extension PlanSummary.CheckOutcome {
    /// The outcome of a check that did not pass; nil for one that passed.
    init?(_ address: String, status: String, problems: [String]) {
        guard status != "pass" else { return nil }
        self.init(address: address, status: status, problems: problems)
    }
}

extension PlanSummary {
    /// The reason the engine gave for each change that has one, in words, by address.
    public var reasonsInWords: [String: String] {
        Dictionary(reasons.map { ($0.address, Self.reasonWords[$0.reason] ?? $0.reason) }, uniquingKeysWith: { first, _ in first })
    }

    /// Terraform's `action_reason` codes in a reviewer's words; a code not listed is shown as it is.
    static let reasonWords: [String: String] = [
        "replace_because_tainted": "tainted",
        "replace_because_cannot_update": "an attribute that cannot change in place changes",
        "replace_by_request": "replacement requested with -replace",
        "replace_by_triggers": "replace_triggered_by",
        "delete_because_no_resource_config": "no longer in the configuration",
        "delete_because_no_module": "its module call was removed",
        "delete_because_wrong_repetition": "count or for_each was added or removed",
        "delete_because_count_index": "its count index is gone",
        "delete_because_each_key": "its for_each key is gone",
        "delete_because_no_move_target": "its moved target does not exist",
        "read_because_config_unknown": "its configuration is known only after apply",
        "read_because_dependency_pending": "it depends on a pending change",
        "read_because_check_nested": "it is read by a check block",
    ]

    /// The imports, moves, unknown actions and deferrals, one plain line each (`import   ADDRESS (id X)`),
    /// as `show` prints them after the verbs.
    public var otherLines: [String] {
        imported.map { "import   \($0.address)" + ($0.id.map { " (id \($0))" } ?? "") }
            + moved.map { "move     \($0.from) -> \($0.to)" }
            + other.map { "other    \($0.address) (\($0.actions.joined(separator: ", ")): an action tollgate does not know)" }
            + deferred.map { "deferred \($0.address ?? "(no address)")" + ($0.reason.map { " (\($0))" } ?? "") }
    }
}
