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
