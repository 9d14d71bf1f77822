import Foundation
import TollgateCore

/// Replaces secret values wherever they could surface: engine output, error messages, stored JSON.
public struct Redactor: Sendable {
    public static let mask = "(redacted)"
    var values: [String]

    public init(_ values: some Sequence<String>) {
        // Longest first, so a secret containing another is masked whole; very short values would
        // mask ordinary words and are left alone.
        self.values = values.filter { $0.count >= 4 }.sorted { $0.count > $1.count }
    }

    public func redact(_ text: String) -> String {
        values.reduce(text) { $0.replacingOccurrences(of: $1, with: Self.mask) }
    }

    public func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): .string(redact(text))
        case .array(let items): .array(items.map(redact))
        case .object(let members): .object(members.mapValues(redact))
        default: value
        }
    }
}
