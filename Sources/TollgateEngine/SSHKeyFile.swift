#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What a `--key` path holds, read without ssh-keygen: a public key (whose private half is in
/// ssh-agent or on a security key), or a private key, and whether that is passphrase-protected.
///
/// OpenSSH's own private key format (`-----BEGIN OPENSSH PRIVATE KEY-----`) stores the public key
/// unencrypted ahead of the private part, so the public key is known without the passphrase. Other
/// formats (PEM) are read through the `.pub` file beside them, else `ssh-keygen -y`.
public struct SSHKeyFile: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// `type base64 [comment]`, as in `id_ed25519.pub`.
        case publicKey
        /// A private key; `encrypted` when a passphrase protects it.
        case privateKey(encrypted: Bool)
    }

    public var kind: Kind
    /// The public key blob (SSH wire format), where the file itself says it.
    public var publicKeyBlob: Data?

    /// The key type named in the blob: `ssh-ed25519`, `sk-ssh-ed25519@openssh.com`…
    public var keyType: String? {
        guard let publicKeyBlob else { return nil }
        var reader = WireReader(publicKeyBlob)
        return reader.string().map { String(decoding: $0, as: UTF8.self) }
    }

    /// A FIDO key (`sk-…@openssh.com`): signing needs the security key, and usually a touch.
    public var isSecurityKey: Bool { keyType?.hasPrefix("sk-") == true }

    /// The public key line (`type base64`) for the blob, to write a `.pub` file the agent signs with.
    public var publicKeyLine: String? {
        guard let publicKeyBlob, let keyType else { return nil }
        return keyType + " " + publicKeyBlob.base64EncodedString()
    }

    public init(kind: Kind, publicKeyBlob: Data?) {
        self.kind = kind
        self.publicKeyBlob = publicKeyBlob
    }

    static let publicKeyTypes = ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                                 "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"]

    /// Reads the file at `path`. Nil when it is no SSH key tollgate can tell apart (ssh-keygen then decides).
    public static func read(_ path: String) -> SSHKeyFile? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return parse(String(decoding: data, as: UTF8.self))
    }

    public static func parse(_ text: String) -> SSHKeyFile? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let fields = trimmed.split(separator: " ", maxSplits: 2)
        if fields.count >= 2, publicKeyTypes.contains(String(fields[0])) || fields[0].hasSuffix("-cert-v01@openssh.com") {
            guard let blob = Data(base64Encoded: String(fields[1])) else { return nil }
            return SSHKeyFile(kind: .publicKey, publicKeyBlob: blob)
        }
        if trimmed.hasPrefix("-----BEGIN OPENSSH PRIVATE KEY-----") {
            let body = trimmed.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
            guard let blob = Data(base64Encoded: body) else { return nil }
            return openSSHPrivateKey(blob)
        }
        if trimmed.hasPrefix("-----BEGIN ") && trimmed.contains("PRIVATE KEY-----") {
            // PEM: `Proc-Type: 4,ENCRYPTED` or `BEGIN ENCRYPTED PRIVATE KEY` when a passphrase protects it.
            return SSHKeyFile(kind: .privateKey(encrypted: trimmed.contains("ENCRYPTED")), publicKeyBlob: nil)
        }
        return nil
    }

    /// `"openssh-key-v1\0"`, cipher name, KDF name, KDF options, key count, then the public keys.
    static func openSSHPrivateKey(_ blob: Data) -> SSHKeyFile? {
        var reader = WireReader(blob)
        let magic = Data("openssh-key-v1".utf8) + Data([0])
        guard reader.bytes(magic.count) == magic, let cipher = reader.string(), reader.string() != nil, reader.string() != nil,
              let count = reader.uint32(), count >= 1, let publicKey = reader.string() else { return nil }
        return SSHKeyFile(kind: .privateKey(encrypted: cipher != Data("none".utf8)), publicKeyBlob: publicKey)
    }
}

/// Reads a passphrase from the controlling terminal without echo. Nil when there is no terminal.
enum TerminalPassphrase {
    static func ask(_ prompt: String) -> String? {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var original = termios()
        guard tcgetattr(fd, &original) == 0 else { return nil }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        silent.c_lflag |= tcflag_t(ECHONL)
        _ = prompt.withCString { write(fd, $0, strlen($0)) }
        guard tcsetattr(fd, TCSAFLUSH, &silent) == 0 else { return nil }
        defer { _ = tcsetattr(fd, TCSAFLUSH, &original) }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1, byte != UInt8(ascii: "\n"), byte != UInt8(ascii: "\r") {
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
