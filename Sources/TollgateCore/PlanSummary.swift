/// What a plan will do, counted the way a reviewer reads it.
public struct PlanSummary: Sendable, Codable, Equatable {
    public var create: [String] = []
    public var update: [String] = []
    public var replace: [String] = []
    public var delete: [String] = []
    public var read: [String] = []
    public var forget: [String] = []
    public var outputChanges: [String] = []
    /// Resources whose real state moved away from the recorded state since the last apply.
    public var drifted: [String] = []

    public init() {}

    /// Summarises decoded plan JSON.
    public init(_ plan: PlanJSON) {
        for resource in plan.resourceChanges ?? [] {
            add(resource.address, resource.change.kind)
        }
        for (name, change) in (plan.outputChanges ?? [:]).sorted(by: { $0.key < $1.key }) where change.kind != .noOp {
            outputChanges.append(name)
        }
        drifted = (plan.resourceDrift ?? []).map(\.address)
    }

    /// Files a resource's address under the verb of its change (no-ops are not listed).
    mutating func add(_ address: String, _ kind: ChangeKind) {
        switch kind {
        case .create: create.append(address)
        case .update: update.append(address)
        case .replace: replace.append(address)
        case .delete: delete.append(address)
        case .read: read.append(address)
        case .forget: forget.append(address)
        case .noOp: break
        }
    }

    public var hasChanges: Bool {
        !(create.isEmpty && update.isEmpty && replace.isEmpty && delete.isEmpty && forget.isEmpty && outputChanges.isEmpty)
    }

    /// Changes that destroy something: deletions and replacements.
    public var destructive: [String] { replace + delete }

    /// `2 to create, 0 to update, 1 to replace, 0 to delete`.
    public var counts: String {
        "\(create.count) to create, \(update.count) to update, \(replace.count) to replace, \(delete.count) to delete"
    }
}
