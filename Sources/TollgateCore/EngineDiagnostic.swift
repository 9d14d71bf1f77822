import Foundation

/// One diagnostic the engine printed as machine-readable UI output (`plan -json`, Terraform ≥ 0.15.3
/// and OpenTofu): read as data, because the human text wraps at 78 columns and splits long addresses.
public struct EngineDiagnostic: Sendable, Equatable, Decodable {
    public var severity: String
    public var summary: String
    public var detail: String?
    /// The resource address, which newer engines add to some diagnostics.
    public var address: String?

    public init(severity: String, summary: String, detail: String? = nil, address: String? = nil) {
        self.severity = severity
        self.summary = summary
        self.detail = detail
        self.address = address
    }

    /// The engine's own wording: `Error: SUMMARY`, then the detail.
    public var text: String {
        let head = (severity == "error" ? "Error: " : "Warning: ") + summary
        guard let detail, !detail.isEmpty else { return head }
        return head + "\n\n" + detail
    }

    /// The diagnostics among the engine's JSON lines; other lines (progress, plain text) are skipped.
    public static func parse(jsonLines data: Data) -> [EngineDiagnostic] {
        struct Line: Decodable { var type: String?; var diagnostic: EngineDiagnostic? }
        let decoder = JSONDecoder()
        return data.split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard let parsed = try? decoder.decode(Line.self, from: Data(line)), parsed.type == "diagnostic" else { return nil }
            return parsed.diagnostic
        }
    }

    /// Addresses named by "Instance cannot be destroyed" errors (`lifecycle.prevent_destroy`), each once.
    public static func preventDestroyAddresses(_ diagnostics: [EngineDiagnostic]) -> [String] {
        var addresses: [String] = []
        for diagnostic in diagnostics where diagnostic.severity == "error" {
            let named = RollbackAnalyzer.preventDestroyAddresses(inError: diagnostic.detail ?? "")
            guard diagnostic.summary == "Instance cannot be destroyed" || !named.isEmpty else { continue }
            let found = diagnostic.address.map { [$0] } ?? named
            for address in found where !addresses.contains(address) { addresses.append(address) }
        }
        return addresses
    }
}

/// The engine refused to plan because the plan would destroy resources that set
/// `lifecycle.prevent_destroy`: a normal answer callers act on, so no one matches the engine's text.
public struct PreventDestroyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The protected resources' full addresses.
    public var addresses: [String]

    public init(addresses: [String]) { self.addresses = addresses }

    public var description: String {
        "the engine refused to plan: prevent_destroy protects \(addresses.map { "'\($0)'" }.joined(separator: ", ")); "
            + "keep \(addresses.count == 1 ? "it" : "them") in the configuration, or remove lifecycle.prevent_destroy in a reviewed release first"
    }
}
