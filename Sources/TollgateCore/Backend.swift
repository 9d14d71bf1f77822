import Foundation

/// An environment's state backend: the engine's backend type plus its settings.
///
/// Settings may contain `{env}` and `{stack}` placeholders, so one declaration serves every stack.
/// The stack code keeps a partial `backend "TYPE" {}` block; tollgate fills it per (env, stack).
public struct Backend: Sendable, Equatable {
    public var type: Located<String>
    public var settings: [Setting]

    public struct Setting: Sendable, Equatable {
        public var key: String
        public var value: BackendValue
        public var location: SourceLocation?

        public init(key: String, value: BackendValue, location: SourceLocation? = nil) {
            self.key = key
            self.value = value
            self.location = location
        }
    }

    public init(type: Located<String>, settings: [Setting] = []) {
        self.type = type
        self.settings = settings
    }

    public static let placeholders = ["env", "stack"]

    /// The settings for one (env, stack), placeholders substituted.
    public func resolved(env: String, stack: String) -> [(key: String, value: BackendValue)] {
        resolved(["env": env, "stack": stack])
    }

    /// The settings with the given placeholders substituted.
    public func resolved(_ values: [String: String]) -> [(key: String, value: BackendValue)] {
        settings.map { setting in
            guard case .string(let text) = setting.value else { return (setting.key, setting.value) }
            return (setting.key, .string(text.replacingPlaceholders(values)))
        }
    }

    /// Placeholders other than the allowed ones (`{env}` and `{stack}`), with the setting that uses them.
    public func unknownPlaceholders(allowed: [String] = Backend.placeholders) -> [(setting: Setting, name: String)] {
        settings.flatMap { setting -> [(setting: Setting, name: String)] in
            guard case .string(let text) = setting.value else { return [] }
            return text.placeholderNames().filter { !allowed.contains($0) }.map { (setting, $0) }
        }
    }

    /// Whether any setting names the placeholder.
    public func uses(placeholder name: String) -> Bool {
        settings.contains { setting in
            if case .string(let text) = setting.value { return text.placeholderNames().contains(name) }
            return false
        }
    }

    /// A key naming where this backend keeps the state of one (env, stack); two equal keys mean
    /// two environments would read and write the same state.
    ///
    /// Relative local paths are resolved against `baseDirectory` so `./a` and `a` compare equal, then
    /// passed through `canonical` (the caller resolves symlinks; the core touches no file system).
    public func stateLocation(env: String, stack: String, baseDirectory: String, canonical: (String) -> String = { $0 }) -> String {
        let values = Dictionary(resolved(env: env, stack: stack).map { ($0.key, $0.value.text) }, uniquingKeysWith: { a, _ in a })
        func value(_ key: String, default fallback: String = "") -> String { values[key] ?? fallback }
        switch type.value {
        case "local":
            return "local:" + canonical(PathText.absolute(value("path", default: "terraform.tfstate"), base: baseDirectory))
        case "s3":
            return "s3://\(value("bucket"))/\(value("workspace_key_prefix", default: ""))/\(value("key"))"
        case "gcs":
            return "gcs://\(value("bucket"))/\(value("prefix"))"
        case "azurerm":
            return "azurerm://\(value("storage_account_name"))/\(value("container_name"))/\(value("key"))"
        case "pg":
            return "pg://\(databaseIdentity(env: env, stack: stack) ?? "")/\(value("schema_name", default: "terraform_remote_state"))"
        case "http":
            return "http:\(value("address"))"
        case "consul":
            return "consul://\(value("address"))/\(value("path"))"
        case "kubernetes":
            return "kubernetes://\(value("namespace", default: "default"))/\(value("secret_suffix"))"
        case "remote", "cloud":
            return "\(type.value)://\(value("hostname", default: "app.terraform.io"))/\(value("organization"))/\(value("workspaces"))"
        default:
            let body = values.keys.sorted().map { "\($0)=\(values[$0]!)" }.joined(separator: "&")
            return "\(type.value):\(body)"
        }
    }

    /// For the `pg` backend: the database a connection string names, without credentials.
    ///
    /// Postgres advisory locks are database-wide, so environments that share one database can block
    /// each other even in different schemas; isolation means one database per environment.
    public func databaseIdentity(env: String, stack: String) -> String? {
        guard type.value == "pg" else { return nil }
        let values = Dictionary(resolved(env: env, stack: stack).map { ($0.key, $0.value.text) }, uniquingKeysWith: { a, _ in a })
        guard let connection = values["conn_str"] else { return nil }
        return PostgresURL.databaseIdentity(connection)
    }
}

/// A backend setting's value, typed so it can be written back as HCL.
public enum BackendValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case bool(Bool)

    public var text: String {
        switch self {
        case .string(let text): text
        case .integer(let number): String(number)
        case .bool(let flag): String(flag)
        }
    }
}

enum PostgresURL {
    /// `postgres://user:pw@host:5432/db?sslmode=disable` → `host:5432/db`.
    static func databaseIdentity(_ connection: String) -> String {
        var rest = Substring(connection)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
        var text = String(rest)
        if !text.contains("/") { text += "/" }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        var host = String(parts[0])
        if !host.contains(":") { host += ":5432" }
        return host + "/" + (parts.count > 1 ? String(parts[1]) : "")
    }
}

/// Pure path arithmetic on strings; the core never touches the file system.
public enum PathText {
    /// `path` relative to `base` when inside it ("" for the same directory).
    public static func relative(_ path: String, to base: String) -> String {
        let full = absolute(path, base: "/"), root = absolute(base, base: "/")
        if full == root { return "" }
        return full.hasPrefix(root + "/") ? String(full.dropFirst(root.count + 1)) : full
    }

    /// `path` made absolute against `base` and normalised (`.`, `..`, repeated slashes removed).
    public static func absolute(_ path: String, base: String) -> String {
        let joined = path.hasPrefix("/") ? path : base + "/" + path
        var parts: [Substring] = []
        for part in joined.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}

extension String {
    /// Names written as `{name}` in the text.
    func placeholderNames() -> [String] {
        var names: [String] = []
        var current: String?
        for character in self {
            if character == "{" {
                current = ""
            } else if character == "}", let name = current {
                names.append(name)
                current = nil
            } else if current != nil {
                current!.append(character)
            }
        }
        return names
    }

    /// The text with each `{name}` that `values` knows replaced by its value, in one pass: other
    /// braces are kept as written, and a value is never scanned for placeholders of its own, so the
    /// result does not depend on the order the values are tried in.
    func replacingPlaceholders(_ values: [String: String]) -> String {
        guard contains("{") else { return self }
        var text = ""
        var pending: String?
        for character in self {
            if character == "{" {
                if let open = pending { text += "{" + open }
                pending = ""
            } else if character == "}", let name = pending {
                text += values[name] ?? "{\(name)}"
                pending = nil
            } else if pending != nil {
                pending!.append(character)
            } else {
                text.append(character)
            }
        }
        if let open = pending { text += "{" + open }
        return text
    }
}
