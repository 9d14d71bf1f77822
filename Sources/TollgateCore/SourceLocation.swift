/// A position in a source file, 1-based, so every diagnostic can point at the exact spot.
public struct SourceLocation: Hashable, Sendable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// One finding about an input file: what is wrong, where, and what to do next.
///
/// Diagnostics are values so that the core can produce them without knowing how they are shown;
/// the CLI renders them as `file:line:column: error: message` or as JSON.
/// The rules whose diagnostics other commands pick out, as data rather than message text.
public enum DiagnosticCode: String, Sendable, Codable, Hashable {
    /// Two environments keep one stack's state in the same place.
    case backendOverlap = "backend-overlap"
    /// Two environments keep state in one Postgres database.
    case sharedDatabase = "shared-database"
}

public struct Diagnostic: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable {
        case error
        case warning
    }

    public var severity: Severity
    public var location: SourceLocation?
    /// Lowercase, no trailing period; identifiers in single quotes.
    public var message: String
    /// What to do next, when the message alone does not say it.
    public var hint: String?
    /// Which rule found it, for the few that other commands act on (lint reports isolation problems).
    public var code: DiagnosticCode?

    public init(_ severity: Severity = .error, at location: SourceLocation?, _ message: String, hint: String? = nil) {
        self.severity = severity
        self.location = location
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var text = location.map { "\($0): " } ?? ""
        text += "\(severity.rawValue): \(message)"
        if let hint { text += "; \(hint)" }
        return text
    }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }
}
