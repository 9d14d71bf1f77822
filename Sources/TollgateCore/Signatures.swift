import Foundation

/// The port to approval signatures: SSHSIG (namespace `tollgate`) checked against allowed_signers.
public protocol Signatures: Sendable {
    /// The principals allowed_signers maps the public half of this private key to.
    func principals(forKey keyPath: String, allowedSigners: String) async throws -> [String]
    /// An armored SSHSIG signature of `message`.
    func sign(_ message: String, keyPath: String) async throws -> String
    /// True when `signature` is a valid signature of `message` by a key allowed_signers maps to `principal`.
    func verify(_ message: String, signature: String, principal: String, allowedSigners: String) async throws -> Bool
}

/// One line of an allowed_signers file: principals, options, key type and key.
public struct AllowedSigner: Sendable, Equatable {
    public var principals: [String]
    public var namespaces: [String]?
    public var keyType: String
    public var key: String

    /// Parses the file's lines, skipping blanks and comments.
    public static func parse(_ text: String) -> [AllowedSigner] {
        text.split(separator: "\n").compactMap { raw in
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { return nil }
            var fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count >= 3 else { return nil }
            let principals = fields.removeFirst().split(separator: ",").map(String.init)
            var namespaces: [String]?
            // Options come before the key type; key types start with "ssh-", "ecdsa-" or "sk-".
            while let first = fields.first, !(first.hasPrefix("ssh-") || first.hasPrefix("ecdsa-") || first.hasPrefix("sk-")) {
                let option = fields.removeFirst()
                if option.lowercased().hasPrefix("namespaces=") {
                    namespaces = option.dropFirst("namespaces=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                        .split(separator: ",").map(String.init)
                }
            }
            guard fields.count >= 2 else { return nil }
            return AllowedSigner(principals: principals, namespaces: namespaces, keyType: fields[0], key: fields[1])
        }
    }
}
