import Foundation
import TollgateCore

/// Replaces secret values wherever they could surface: engine output, error messages, stored JSON.
public struct Redactor: Sendable {
    public static let mask = "(redacted)"
    var values: [String]

    public init(_ values: some Sequence<String>) {
        // Longest first, so a secret containing another is masked whole; very short values would
        // mask ordinary words and are left alone. A secret also travels in derived forms that
        // configurations make of it (`base64encode(var.password)`, a value escaped inside JSON text),
        // and each is masked as the secret itself.
        let secrets = values.filter { $0.count >= 4 }
        self.values = Array(Set(secrets.flatMap(Self.forms))).sorted { ($0.count, $0) > ($1.count, $1) }
    }

    /// The secret as written, base64 (standard and URL-safe, with and without padding), and
    /// escaped as a JSON string's contents.
    static func forms(_ secret: String) -> [String] {
        let base64 = Data(secret.utf8).base64EncodedString()
        let urlSafe = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let unpadded = base64.trimmingCharacters(in: CharacterSet(charactersIn: "="))
        let escaped = String(CanonicalJSON.encode(.string(secret)).dropFirst().dropLast())
        return [secret, base64, unpadded, urlSafe, urlSafe.trimmingCharacters(in: CharacterSet(charactersIn: "=")), escaped]
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
