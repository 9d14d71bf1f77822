import Foundation
import TollgateCore

/// The `Signatures` port on `ssh-keygen -Y sign / verify`, namespace `tollgate`.
public struct SSHKeygenSignatures: Signatures {
    public static let namespace = "tollgate"
    public var runner: ProcessRunner
    public var environment: [String: String]
    public var scratchDirectory: String
    /// The clock signatures are verified at: allowed_signers' `valid-after` / `valid-before` are
    /// checked against it, natively and by ssh-keygen (`-Overify-time`).
    public var now: @Sendable () -> Date
    /// The zone allowed_signers times without `Z` are read in: ssh-keygen's, that is `TZ` from
    /// `environment` when it names a zone, otherwise this process's zone.
    public var timeZone: TimeZone
    /// Asks for a key's passphrase on the terminal; nil when there is none.
    public var readPassphrase: @Sendable (_ prompt: String) -> String? = { TerminalPassphrase.ask($0) }

    public init(environment: [String: String], scratchDirectory: String, runner: ProcessRunner = ProcessRunner(),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.environment = environment
        self.scratchDirectory = scratchDirectory
        self.runner = runner
        self.now = now
        self.timeZone = environment["TZ"].flatMap { TimeZone(identifier: $0.hasPrefix(":") ? String($0.dropFirst()) : $0) } ?? .current
    }

    /// Runs ssh-keygen in the scratch directory, with this process's environment unless another is given.
    func keygen(_ arguments: [String], input: Data? = nil, environment: [String: String]? = nil) async throws -> ProcessRunner.Output {
        try await runner.run("/usr/bin/env", ["ssh-keygen"] + arguments, directory: scratchDirectory, environment: environment ?? self.environment, input: input)
    }

    public func principals(forKey keyPath: String, allowedSigners: String) async throws -> [String] {
        let publicKey = try await publicKeyBlob(keyPath)
        let signers = try readAllowedSigners(allowedSigners)
        return signers.principals(forPublicKey: publicKey, namespace: Self.namespace, at: now())
    }

    /// The public key of `--key`: from the file itself (a public key, or OpenSSH's private key
    /// format, even passphrase-protected), else the `.pub` beside it, else `ssh-keygen -y`.
    func publicKeyBlob(_ keyPath: String) async throws -> Data {
        guard FileManager.default.isReadableFile(atPath: keyPath) else {
            throw SignatureError.unreadableKey(path: keyPath, reason: "there is no readable file there")
        }
        if let blob = SSHKeyFile.read(keyPath)?.publicKeyBlob { return blob }
        if let blob = SSHKeyFile.read(keyPath + ".pub")?.publicKeyBlob { return blob }
        let output = try await keygen(["-y", "-f", keyPath])
        guard output.status == 0 else {
            throw SignatureError.unreadableKey(path: keyPath, reason: output.stderrText.trimmingWhitespaceAndNewlines())
        }
        guard let blob = SSHKeyFile.parse(output.stdoutText)?.publicKeyBlob else {
            throw SignatureError.unreadableKey(path: keyPath, reason: "no public key could be derived")
        }
        return blob
    }

    /// Whether ssh-agent (at `SSH_AUTH_SOCK`) holds the private half of `blob`.
    func agentHolds(_ blob: Data) async throws -> Bool {
        guard let socket = environment["SSH_AUTH_SOCK"], !socket.isEmpty else { return false }
        let output = try await runner.run("/usr/bin/env", ["ssh-add", "-L"], directory: scratchDirectory, environment: environment)
        guard output.status == 0 else { return false }
        return output.stdoutText.split(separator: "\n").contains { SSHKeyFile.parse(String($0))?.publicKeyBlob == blob }
    }

    func readAllowedSigners(_ path: String) throws -> AllowedSigners {
        guard let text = FileManager.default.contents(atPath: path) else { throw SignatureError.noAllowedSigners(path) }
        return AllowedSigners.parse(String(decoding: text, as: UTF8.self), timeZone: timeZone)
    }

    /// Signs with `--key`:
    /// - a public key: ssh-agent signs, and must hold its private half;
    /// - a passphrase-protected private key: ssh-agent signs when it holds it; otherwise the
    ///   passphrase comes from `SSH_ASKPASS`, or is asked on the terminal;
    /// - a FIDO (`sk-`) key: ssh-keygen asks the security key, which may want a touch;
    /// - any other private key: ssh-keygen signs with it.
    public func sign(_ message: String, keyPath: String) async throws -> String {
        let directory = scratchDirectory + "/sign-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/payload"
        try Data(message.utf8).write(to: URL(fileURLWithPath: file))
        var signingKey = keyPath
        var environment = self.environment
        let key = SSHKeyFile.read(keyPath)
        switch key?.kind {
        case .publicKey?:
            guard let blob = key?.publicKeyBlob, try await agentHolds(blob) else {
                throw SignatureError.signingFailed(path: keyPath, reason: environment["SSH_AUTH_SOCK"].map { _ in
                    "it is a public key, and the ssh-agent at SSH_AUTH_SOCK does not hold its private half; add it with 'ssh-add PRIVATE_KEY', or pass the private key file"
                } ?? "it is a public key, so its private half must be in ssh-agent, and SSH_AUTH_SOCK is not set; start one with 'eval $(ssh-agent)' and 'ssh-add PRIVATE_KEY', or pass the private key file")
            }
        case .privateKey(encrypted: true)?:
            if let blob = key?.publicKeyBlob, let line = key?.publicKeyLine, try await agentHolds(blob) {
                // The agent holds it: sign through the agent, with no passphrase asked.
                signingKey = directory + "/agent.pub"
                try Data((line + "\n").utf8).write(to: URL(fileURLWithPath: signingKey))
            } else if environment["SSH_ASKPASS"].map({ !$0.isEmpty }) == true {
                // ssh-keygen has no terminal here, so it must use the askpass program.
                if environment["SSH_ASKPASS_REQUIRE"] == nil { environment["SSH_ASKPASS_REQUIRE"] = "force" }
            } else if let passphrase = readPassphrase("Enter passphrase for \(keyPath): ") {
                try askpass(passphrase, in: directory, environment: &environment)
            } else {
                throw SignatureError.signingFailed(path: keyPath, reason: "it is passphrase-protected and there is no terminal to ask on; add it to ssh-agent ('ssh-add \(keyPath)'), or set SSH_ASKPASS to a program that prints the passphrase")
            }
        default:
            break
        }
        if key?.isSecurityKey == true {
            FileHandle.standardError.write(Data("tollgate: signing with the security key of \(keyPath); touch it if it blinks\n".utf8))
        }
        let output = try await keygen(["-Y", "sign", "-q", "-f", signingKey, "-n", Self.namespace, file], environment: environment)
        guard output.status == 0, let signature = FileManager.default.contents(atPath: file + ".sig") else {
            throw SignatureError.signingFailed(path: keyPath, reason: output.stderrText.trimmingWhitespaceAndNewlines())
        }
        return String(decoding: signature, as: UTF8.self)
    }

    /// Hands a passphrase read on the terminal to ssh-keygen, which runs without one: an askpass
    /// script that prints it from a file only this user can read, both removed with `directory`.
    func askpass(_ passphrase: String, in directory: String, environment: inout [String: String]) throws {
        let secret = directory + "/passphrase"
        let script = directory + "/askpass"
        guard FileManager.default.createFile(atPath: secret, contents: Data((passphrase + "\n").utf8), attributes: [.posixPermissions: 0o600]),
              FileManager.default.createFile(atPath: script, contents: Data("#!/bin/sh\nexec cat '\(secret)'\n".utf8), attributes: [.posixPermissions: 0o700])
        else {
            throw SignatureError.signingFailed(path: directory, reason: "cannot write the askpass helper in the scratch directory")
        }
        environment["SSH_ASKPASS"] = script
        environment["SSH_ASKPASS_REQUIRE"] = "force"
    }

    public func verify(_ message: String, signature: String, principal: String, allowedSigners: String) async throws -> Bool {
        let signers = try readAllowedSigners(allowedSigners)
        // Ed25519 is verified natively (swift-crypto); other key types by ssh-keygen itself.
        let parsed = SSHSignature(armored: signature)
        if parsed?.lacksUserPresence == true { return false }
        if let parsed,
           let valid = parsed.verify(Data(message.utf8), namespace: Self.namespace, principal: principal, signers: signers.signers, at: now()) {
            return valid
        }
        return try await verifyWithKeygen(message, signature: signature, principal: principal, allowedSigners: allowedSigners)
    }

    /// `ssh-keygen -Y verify`: the reference the native check must agree with.
    public func verifyWithKeygen(_ message: String, signature: String, principal: String, allowedSigners: String) async throws -> Bool {
        let directory = scratchDirectory + "/verify-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let signatureFile = directory + "/payload.sig"
        try Data(signature.utf8).write(to: URL(fileURLWithPath: signatureFile))
        let output = try await keygen(["-Y", "verify", "-f", allowedSigners, "-I", principal, "-n", Self.namespace, "-s", signatureFile,
                                       "-Overify-time=" + Self.verifyTime(now())],
                                      input: Data(message.utf8))
        return output.status == 0
    }
}

extension SSHKeygenSignatures {
    /// `date` as ssh-keygen's `-Overify-time` reads it: `YYYYMMDDHHMMSSZ`, in UTC.
    static func verifyTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02d%02d%02d%02dZ", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
                      parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }
}

public enum SignatureError: Error, CustomStringConvertible, Equatable {
    case unreadableKey(path: String, reason: String)
    case noAllowedSigners(String)
    case signingFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadableKey(let path, let reason):
            "cannot read the SSH key '\(path)': \(reason); pass a private key file, or a public key whose private half is in ssh-agent, with --key (see docs/approvals.md)"
        case .noAllowedSigners(let path):
            "cannot read the allowed_signers file '\(path)'; create it (see 'tollgate doctor') or fix 'approvers' in tollgate.yaml"
        case .signingFailed(let path, let reason):
            "cannot sign with '\(path)': \(reason) (see docs/approvals.md)"
        }
    }
}
