/// A dotted engine version such as `1.11.4` or `1.6.0-beta1`.
public struct Version: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var components: [Int]
    public var prerelease: String?

    public init(_ components: [Int], prerelease: String? = nil) {
        self.components = components
        self.prerelease = prerelease
    }

    /// Parses `1.2.3`, `v1.2.3` and `1.2.3-rc1`.
    public init?(parsing text: String) {
        var body = Substring(text.trimmingWhitespace())
        if body.first == "v" { body = body.dropFirst() }
        var pre: String?
        if let dash = body.firstIndex(of: "-") {
            pre = String(body[body.index(after: dash)...])
            body = body[..<dash]
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
        guard !parts.isEmpty, parts.count <= 4, parts.allSatisfy({ $0 != nil && $0! >= 0 }) else { return nil }
        components = parts.map { $0! }
        prerelease = pre
    }

    func component(_ index: Int) -> Int { index < components.count ? components[index] : 0 }

    public static func < (lhs: Version, rhs: Version) -> Bool {
        for index in 0..<max(lhs.components.count, rhs.components.count) where lhs.component(index) != rhs.component(index) {
            return lhs.component(index) < rhs.component(index)
        }
        switch (lhs.prerelease, rhs.prerelease) {
        case (nil, nil), (nil, _?): return false
        case (_?, nil): return true
        case let (a?, b?): return a < b
        }
    }

    public static func == (lhs: Version, rhs: Version) -> Bool {
        let count = max(lhs.components.count, rhs.components.count)
        return (0..<count).allSatisfy { lhs.component($0) == rhs.component($0) } && lhs.prerelease == rhs.prerelease
    }

    public func hash(into hasher: inout Hasher) {
        var trimmed = components
        while trimmed.last == 0 { trimmed.removeLast() }
        hasher.combine(trimmed)
        hasher.combine(prerelease)
    }

    public var description: String {
        components.map(String.init).joined(separator: ".") + (prerelease.map { "-\($0)" } ?? "")
    }
}

/// A Terraform-style version constraint: `>= 1.0, < 2.0`, `~> 1.5`, `= 1.11.4`.
public struct VersionConstraint: Sendable, Hashable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable {
        case equal = "="
        case notEqual = "!="
        case greaterOrEqual = ">="
        case lessOrEqual = "<="
        case greater = ">"
        case less = "<"
        case pessimistic = "~>"
    }

    public struct Term: Sendable, Hashable {
        public var op: Operator
        public var version: Version
    }

    public var terms: [Term]

    /// Matches every version.
    public static let any = VersionConstraint(terms: [])

    public init(terms: [Term]) { self.terms = terms }

    /// Parses a comma-separated list of `OP VERSION` terms; a bare version means `=`.
    public init?(parsing text: String) {
        let trimmed = text.trimmingWhitespace()
        if trimmed.isEmpty || trimmed == "*" {
            terms = []
            return
        }
        var parsed: [Term] = []
        for raw in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            var item = String(raw).trimmingWhitespace()
            var op = Operator.equal
            // Longest operators first so ">=" is not read as ">".
            for candidate in Operator.allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count })
            where item.hasPrefix(candidate.rawValue) {
                op = candidate
                item = String(item.dropFirst(candidate.rawValue.count)).trimmingWhitespace()
                break
            }
            guard let version = Version(parsing: item), version.prerelease == nil || op == .equal else { return nil }
            parsed.append(Term(op: op, version: version))
        }
        terms = parsed
    }

    public func isSatisfied(by version: Version) -> Bool {
        terms.allSatisfy { term in
            switch term.op {
            case .equal: version == term.version
            case .notEqual: version != term.version
            case .greaterOrEqual: version >= term.version
            case .lessOrEqual: version <= term.version
            case .greater: version > term.version
            case .less: version < term.version
            case .pessimistic:
                // ~> 1.5 allows 1.x >= 1.5; ~> 1.5.2 allows 1.5.x >= 1.5.2.
                version >= term.version && {
                    let fixed = max(1, term.version.components.count - 1)
                    return (0..<fixed).allSatisfy { version.component($0) == term.version.component($0) }
                }()
            }
        }
    }

    public var description: String {
        terms.isEmpty ? "any version" : terms.map { "\($0.op.rawValue) \($0.version)" }.joined(separator: ", ")
    }
}
