import Crypto
import Foundation
import TollgateCore

/// Native verification of SSHSIG signatures (the format of `ssh-keygen -Y sign`) for Ed25519 keys.
///
/// It accepts exactly what `ssh-keygen -Y verify` accepts for these keys: the signature's public key
/// must be listed for the principal in allowed_signers (OpenSSH patterns, `namespaces` and
/// `valid-after` / `valid-before` at the verification time), the namespace must match, and the Ed25519 signature must cover `"SSHSIG" ‖ namespace ‖ reserved ‖ hash ‖ H(message)`.
public struct SSHSignature: Sendable, Equatable {
    public var publicKeyBlob: Data
    public var keyType: String
    public var namespace: String
    public var hashAlgorithm: String
    public var signatureType: String
    public var signature: Data
    /// A FIDO (`sk-`) signature's flags byte: 0x01 says the user was present (touched the key),
    /// 0x04 that they were verified (a PIN). Nil for other signatures.
    public var securityKeyFlags: UInt8?
    var reserved: Data

    /// Parses an armored `-----BEGIN SSH SIGNATURE-----` block; nil when it is not one.
    public init?(armored text: String) {
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard text.contains("-----BEGIN SSH SIGNATURE-----"), let blob = Data(base64Encoded: body) else { return nil }
        var reader = WireReader(blob)
        guard reader.bytes(6) == Data("SSHSIG".utf8), reader.uint32() == 1,
              let publicKey = reader.string(), let namespace = reader.string(), let reserved = reader.string(),
              let hash = reader.string(), let signatureBlob = reader.string() else { return nil }
        var keyReader = WireReader(publicKey)
        var signatureReader = WireReader(signatureBlob)
        guard let keyType = keyReader.string(), let signatureType = signatureReader.string(), let signature = signatureReader.string() else { return nil }
        self.publicKeyBlob = publicKey
        self.keyType = String(decoding: keyType, as: UTF8.self)
        self.namespace = String(decoding: namespace, as: UTF8.self)
        self.reserved = reserved
        self.hashAlgorithm = String(decoding: hash, as: UTF8.self)
        self.signatureType = String(decoding: signatureType, as: UTF8.self)
        self.signature = signature
        self.securityKeyFlags = self.signatureType.hasPrefix("sk-") ? signatureReader.bytes(1)?.first : nil
    }

    /// Whether a FIDO signature says someone touched the security key. OpenSSH's `-Y verify`
    /// accepts one without; tollgate does not, since an approval is a person's decision.
    public var lacksUserPresence: Bool {
        signatureType.hasPrefix("sk-") && (securityKeyFlags ?? 0) & 0x01 == 0
    }

    /// Whether this is a valid signature of `message` in `namespace` by a key that `signers` lets sign
    /// as `principal` at `time` (the verification time: `valid-after` / `valid-before` are checked
    /// against it). Nil when the key type is not Ed25519 (the caller falls back to ssh-keygen).
    ///
    /// Certificate signatures are refused outright: tollgate does not support them, so a
    /// `cert-authority` line never vouches for a signature.
    public func verify(_ message: Data, namespace expected: String, principal: String, signers: [AllowedSigner], at time: Date) -> Bool? {
        if keyType.hasSuffix("-cert-v01@openssh.com") { return false }
        guard keyType == "ssh-ed25519", signatureType == "ssh-ed25519" else { return nil }
        guard namespace == expected else { return false }
        let listed = AllowedSigners(signers: signers).permits(publicKey: publicKeyBlob, principal: principal, namespace: expected, at: time)
        guard listed else { return false }
        var keyReader = WireReader(publicKeyBlob)
        _ = keyReader.string()
        guard let rawKey = keyReader.string(), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawKey) else { return false }
        let digest: Data
        switch hashAlgorithm {
        case "sha512": digest = Data(SHA512.hash(data: message))
        case "sha256": digest = Data(SHA256.hash(data: message))
        default: return false
        }
        var signed = Data("SSHSIG".utf8)
        for field in [Data(namespace.utf8), reserved, Data(hashAlgorithm.utf8), digest] {
            signed.append(WireReader.encode(field))
        }
        return key.isValidSignature(signature, for: signed)
    }
}

/// Reads SSH wire-format fields: uint32 lengths in network order, then bytes.
struct WireReader {
    let data: Data
    var offset: Int

    init(_ data: Data) {
        self.data = Data(data)
        offset = 0
    }

    mutating func bytes(_ count: Int) -> Data? {
        guard count >= 0, offset + count <= data.count else { return nil }
        defer { offset += count }
        return data.subdata(in: offset..<(offset + count))
    }

    mutating func uint32() -> UInt32? {
        guard let raw = bytes(4) else { return nil }
        return raw.reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func string() -> Data? {
        guard let length = uint32() else { return nil }
        return bytes(Int(length))
    }

    static func encode(_ field: Data) -> Data {
        let count = UInt32(field.count)
        return Data([UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]) + field
    }
}
