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

    public init(environment: [String: String], scratchDirectory: String, runner: ProcessRunner = ProcessRunner(),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.environment = environment
        self.scratchDirectory = scratchDirectory
        self.runner = runner
        self.now = now
        self.timeZone = environment["TZ"].flatMap { TimeZone(identifier: $0.hasPrefix(":") ? String($0.dropFirst()) : $0) } ?? .current
    }

    func keygen(_ arguments: [String], input: Data? = nil) async throws -> ProcessRunner.Output {
        try await runner.run("/usr/bin/env", ["ssh-keygen"] + arguments, directory: scratchDirectory, environment: environment, input: input)
    }

    public func principals(forKey keyPath: String, allowedSigners: String) async throws -> [String] {
        let output = try await keygen(["-y", "-f", keyPath])
        guard output.status == 0 else {
            throw SignatureError.unreadableKey(path: keyPath, reason: output.stderrText.trimmingWhitespaceAndNewlines())
        }
        let fields = output.stdoutText.split(separator: " ")
        guard fields.count >= 2, let publicKey = Data(base64Encoded: String(fields[1])) else {
            throw SignatureError.unreadableKey(path: keyPath, reason: "no public key could be derived")
        }
        let signers = try readAllowedSigners(allowedSigners)
        return signers.principals(forPublicKey: publicKey, namespace: Self.namespace, at: now())
    }

    func readAllowedSigners(_ path: String) throws -> AllowedSigners {
        guard let text = FileManager.default.contents(atPath: path) else { throw SignatureError.noAllowedSigners(path) }
        return AllowedSigners.parse(String(decoding: text, as: UTF8.self), timeZone: timeZone)
    }

    public func sign(_ message: String, keyPath: String) async throws -> String {
        let directory = scratchDirectory + "/sign-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/payload"
        try Data(message.utf8).write(to: URL(fileURLWithPath: file))
        let output = try await keygen(["-Y", "sign", "-q", "-f", keyPath, "-n", Self.namespace, file])
        guard output.status == 0, let signature = FileManager.default.contents(atPath: file + ".sig") else {
            throw SignatureError.signingFailed(path: keyPath, reason: output.stderrText.trimmingWhitespaceAndNewlines())
        }
        return String(decoding: signature, as: UTF8.self)
    }

    public func verify(_ message: String, signature: String, principal: String, allowedSigners: String) async throws -> Bool {
        let signers = try readAllowedSigners(allowedSigners)
        // Ed25519 is verified natively (swift-crypto); other key types by ssh-keygen itself.
        if let parsed = SSHSignature(armored: signature),
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
            "cannot read the SSH key '\(path)': \(reason); pass the private key file with --key"
        case .noAllowedSigners(let path):
            "cannot read the allowed_signers file '\(path)'; create it (see 'tollgate doctor') or fix 'approvers' in tollgate.yaml"
        case .signingFailed(let path, let reason):
            "ssh-keygen could not sign with '\(path)': \(reason); check the key (passphrase-protected keys need ssh-agent)"
        }
    }
}
