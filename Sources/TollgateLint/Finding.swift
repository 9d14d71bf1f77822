import HCL

/// One lint finding: a stable rule id, where, and what to do.
public struct Finding: Sendable, Hashable, Codable {
    public enum Severity: String, Sendable, Codable, Comparable {
        case error, warning, note

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            let order: [Severity] = [.error, .warning, .note]
            return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
        }
    }

    public var rule: String
    public var severity: Severity
    /// Relative to the repository root.
    public var file: String
    public var range: HCLRange
    public var message: String

    public init(rule: String, severity: Severity, file: String, range: HCLRange, message: String) {
        self.rule = rule
        self.severity = severity
        self.file = file
        self.range = range
        self.message = message
    }

    public var location: String { "\(file):\(range.start.line):\(range.start.column)" }
}

/// The rules, with a one-line description each (for help and SARIF).
public enum LintRules {
    public static let all: [(id: String, severity: Finding.Severity, summary: String)] = [
        ("env-conditional", .error, "code branches on the environment name instead of taking per-environment values from config/ENV/"),
        ("env-directory", .error, "root modules are near-copies per environment instead of one stack with per-environment config"),
        ("env-literal", .error, "an environment name is written into code, as a whole string or a word of a name (not in paths, URLs or prose)"),
        ("workspace-as-env", .error, "terraform.workspace is used to tell environments apart"),
        ("backend-values-in-code", .error, "a backend block holds concrete values; leave it partial and let tollgate fill it per environment"),
        ("account-literal", .error, "a cloud account id is hard-coded in code"),
        ("provider-account-unpinned", .warning, "an AWS provider does not pin allowed_account_ids"),
        ("module-unpinned", .error, "a module source is not pinned to a version, tag or commit, or leaves the repository"),
        ("config-undeclared", .error, "a config file sets a variable the stack does not declare"),
        ("config-missing", .error, "a required variable has no value in an environment's config"),
        ("config-skew", .note, "a variable is set for only some environments"),
        ("lockfile-missing", .warning, "a stack has no .terraform.lock.hcl"),
        ("hcl-syntax", .error, "a file does not parse"),
    ]

    public static func severity(_ rule: String) -> Finding.Severity {
        all.first { $0.id == rule }?.severity ?? .error
    }
}
