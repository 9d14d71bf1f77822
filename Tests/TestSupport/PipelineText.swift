/// Builds the text of a `tollgate.yaml` with the given environments and stacks, for tests that
/// need many shapes of pipeline (the CI generator's): local backends apart per environment,
/// one account each, and the gate each environment names.
public enum PipelineText {
    public enum Gate: Sendable {
        case auto, onMerge, approval
    }

    public static func yaml(environments: [(name: String, gate: Gate)], stacks: [(name: String, dependsOn: [String])]) -> String {
        var lines = [
            "version: 1",
            "engine:",
            "  binary: terraform",
            "  version: \">= 1.0.0, < 2.0.0\"",
            "main_branch: main",
            "approvers: .tollgate/allowed_signers",
            "stacks:",
        ]
        for stack in stacks {
            lines.append("  - name: \(stack.name)")
            if !stack.dependsOn.isEmpty { lines.append("    depends_on: [\(stack.dependsOn.joined(separator: ", "))]") }
        }
        lines.append("environments:")
        for environment in environments {
            lines += [
                "  - name: \(environment.name)",
                "    account: local-\(environment.name)",
                "    identity: echo local-\(environment.name)",
                "    backend:",
                "      type: local",
                "      settings:",
                "        path: ../state/{env}/{stack}.tfstate",
            ]
            switch environment.gate {
            case .auto: lines.append("    gate: auto")
            case .onMerge: lines.append("    gate: on-merge")
            case .approval:
                lines += [
                    "    gate:",
                    "      type: approval",
                    "      required: 1",
                    "      approvers: [approver@example.com]",
                    "      max_plan_age: 24h",
                ]
            }
            lines.append("    checks: [fmt, validate]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Five stacks whose `depends_on` make three waves: network and dns, then database and cache, then app.
    public static let waveStacks: [(name: String, dependsOn: [String])] = [
        ("network", []), ("database", ["network"]), ("cache", ["network"]), ("dns", []), ("app", ["database", "cache", "dns"]),
    ]

    public static let threeEnvironments: [(name: String, gate: Gate)] = [("dev", .auto), ("stage", .onMerge), ("prod", .approval)]
}
