import Crypto
import Foundation
import TestSupport
import Testing
import TollgateCore
@testable import TollgateEngine

/// The keys people approve with: plain and passphrase-protected key files, keys held by ssh-agent,
/// and FIDO (`sk-`) keys, signed and verified with the real OpenSSH tools.
@Suite struct SSHKeyTests {
    static let passphrase = "correct horse battery"

    struct Keys {
        let directory: TemporaryDirectory
        var path: String { directory.path }
        var signers: String { path + "/allowed_signers" }

        func shell(_ command: String, environment: [String: String] = [:]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", command]
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw TestSupportError("\(command): \(output)") }
            return output
        }

        func publicLine(_ name: String) throws -> String {
            try String(contentsOfFile: path + "/" + name + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        }

        func signatures(_ environment: [String: String] = [:], passphrase: String? = nil) -> SSHKeygenSignatures {
            var signatures = SSHKeygenSignatures(environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SSH_") }.merging(environment) { $1 },
                                                 scratchDirectory: path)
            signatures.readPassphrase = { _ in passphrase }
            return signatures
        }
    }

    /// alice: a plain ed25519 key; bob: ed25519 with a passphrase; carol: RSA in PEM with a passphrase.
    func keys() throws -> Keys {
        let keys = Keys(directory: try TemporaryDirectory("tollgate-keys"))
        _ = try keys.shell("ssh-keygen -q -t ed25519 -N '' -C alice -f \(keys.path)/alice")
        _ = try keys.shell("ssh-keygen -q -t ed25519 -N '\(Self.passphrase)' -C bob -f \(keys.path)/bob")
        _ = try keys.shell("ssh-keygen -q -t rsa -b 2048 -m PEM -N '\(Self.passphrase)' -C carol -f \(keys.path)/carol")
        var signers = ""
        for who in ["alice", "bob", "carol"] { signers += "\(who)@example.com namespaces=\"tollgate\" \(try keys.publicLine(who))\n" }
        try signers.write(toFile: keys.signers, atomically: true, encoding: .utf8)
        return keys
    }

    @Test func keyFilesAreReadWithoutTheirPassphrase() throws {
        let keys = try keys()
        defer { keys.directory.remove() }
        for (who, encrypted) in [("alice", false), ("bob", true)] {
            let file = try #require(SSHKeyFile.read(keys.path + "/" + who))
            #expect(file.kind == .privateKey(encrypted: encrypted), "\(who)")
            #expect(file.publicKeyLine == (try keys.publicLine(who)), "the public key is read from \(who)'s private key file")
            #expect(SSHKeyFile.read(keys.path + "/" + who + ".pub") == SSHKeyFile(kind: .publicKey, publicKeyBlob: file.publicKeyBlob))
        }
        #expect(SSHKeyFile.read(keys.path + "/carol") == SSHKeyFile(kind: .privateKey(encrypted: true), publicKeyBlob: nil))
        #expect(SSHKeyFile.parse("not a key") == nil)
    }

    @Test func aPassphraseProtectedKeySignsWithAskpassOrTheTerminal() async throws {
        let keys = try keys()
        defer { keys.directory.remove() }
        // The .pub files go, so the public key must come from the protected file itself.
        try FileManager.default.removeItem(atPath: keys.path + "/bob.pub")
        #expect(try await keys.signatures().principals(forKey: keys.path + "/bob", allowedSigners: keys.signers) == ["bob@example.com"])

        // SSH_ASKPASS, which ssh-keygen is made to use since it has no terminal.
        let askpass = keys.path + "/askpass.sh"
        try "#!/bin/sh\necho '\(Self.passphrase)'\n".write(toFile: askpass, atomically: true, encoding: .utf8)
        chmod(askpass, 0o700)
        for key in ["bob", "carol"] {
            let signature = try await keys.signatures(["SSH_ASKPASS": askpass]).sign("plan sha256:1", keyPath: keys.path + "/" + key)
            #expect(try await keys.signatures().verifyWithKeygen("plan sha256:1", signature: signature, principal: "\(key)@example.com", allowedSigners: keys.signers), "\(key)")
        }
        // The terminal (here a stand-in for it), handed to ssh-keygen through a private askpass file.
        let typed = try await keys.signatures(passphrase: Self.passphrase).sign("plan sha256:2", keyPath: keys.path + "/bob")
        #expect(try await keys.signatures().verify("plan sha256:2", signature: typed, principal: "bob@example.com", allowedSigners: keys.signers))
        #expect(try FileManager.default.contentsOfDirectory(atPath: keys.path).filter { $0.hasPrefix("sign-") }.isEmpty, "the passphrase file is gone")
        // A wrong passphrase, and no way to ask at all, are errors that say what to do.
        await #expect(throws: SignatureError.self) { try await keys.signatures(passphrase: "wrong").sign("x", keyPath: keys.path + "/bob") }
        do {
            _ = try await keys.signatures().sign("x", keyPath: keys.path + "/bob")
            Issue.record("signed without a passphrase")
        } catch {
            #expect("\(error)" == "cannot sign with '\(keys.path)/bob': it is passphrase-protected and there is no terminal to ask on; add it to ssh-agent ('ssh-add \(keys.path)/bob'), or set SSH_ASKPASS to a program that prints the passphrase (see docs/approvals.md)")
        }
    }

    @Test func aKeyInSshAgentSignsByItsPublicKey() async throws {
        let keys = try keys()
        defer { keys.directory.remove() }
        let agent = try SSHAgent(socket: keys.path + "/agent.sock")
        defer { agent.stop() }
        try agent.add(keys.path + "/bob", passphrase: Self.passphrase, scratch: keys.path)
        let socket = agent.socket

        let signatures = keys.signatures(["SSH_AUTH_SOCK": socket])
        #expect(try await signatures.principals(forKey: keys.path + "/bob.pub", allowedSigners: keys.signers) == ["bob@example.com"])
        for key in ["bob.pub", "bob"] {
            // No passphrase reader and no askpass: only the agent can sign.
            let signature = try await signatures.sign("plan sha256:3", keyPath: keys.path + "/" + key)
            #expect(try await signatures.verifyWithKeygen("plan sha256:3", signature: signature, principal: "bob@example.com", allowedSigners: keys.signers), "\(key)")
        }
        do {
            _ = try await signatures.sign("x", keyPath: keys.path + "/alice.pub")
            Issue.record("signed with a public key the agent does not hold")
        } catch {
            #expect("\(error)".contains("it is a public key, and the ssh-agent at SSH_AUTH_SOCK does not hold its private half; add it with 'ssh-add PRIVATE_KEY'"), "\(error)")
        }
        do {
            _ = try await keys.signatures().sign("x", keyPath: keys.path + "/bob.pub")
            Issue.record("signed with a public key and no agent")
        } catch {
            #expect("\(error)".contains("SSH_AUTH_SOCK is not set; start one with 'eval $(ssh-agent)'"), "\(error)")
        }
    }

    /// An `sk-ssh-ed25519@openssh.com` signature as a security key makes one: Ed25519 over
    /// SHA-256(application) ‖ flags ‖ counter ‖ SHA-256(the SSHSIG signed data).
    static func securityKeySignature(_ message: String, key: Curve25519.Signing.PrivateKey, flags: UInt8, application: String = "ssh:") throws -> (publicLine: String, armored: String) {
        func string(_ data: Data) -> Data { WireReader.encode(data) }
        let type = Data("sk-ssh-ed25519@openssh.com".utf8)
        let publicBlob = string(type) + string(key.publicKey.rawRepresentation) + string(Data(application.utf8))
        var signedData = Data("SSHSIG".utf8)
        for field in [Data("tollgate".utf8), Data(), Data("sha512".utf8), Data(SHA512.hash(data: Data(message.utf8)))] { signedData += string(field) }
        let counter = Data([0, 0, 0, 7])
        let toSign = Data(SHA256.hash(data: Data(application.utf8))) + Data([flags]) + counter + Data(SHA256.hash(data: signedData))
        let signature = string(type) + string(try key.signature(for: toSign)) + Data([flags]) + counter
        var blob = Data("SSHSIG".utf8) + Data([0, 0, 0, 1]) + string(publicBlob)
        for field in [Data("tollgate".utf8), Data(), Data("sha512".utf8), signature] { blob += string(field) }
        let base64 = blob.base64EncodedString()
        let lines = stride(from: 0, to: base64.count, by: 70).map { start in
            String(base64.dropFirst(start).prefix(70))
        }
        return ("sk-ssh-ed25519@openssh.com " + publicBlob.base64EncodedString(),
                "-----BEGIN SSH SIGNATURE-----\n" + lines.joined(separator: "\n") + "\n-----END SSH SIGNATURE-----\n")
    }

    @Test func aSecurityKeysSignatureIsVerifiedAsOpenSSHDoes() async throws {
        let keys = try keys()
        defer { keys.directory.remove() }
        let key = Curve25519.Signing.PrivateKey()
        let touched = try Self.securityKeySignature("plan sha256:4", key: key, flags: 0x01)
        try "dana@example.com namespaces=\"tollgate\" \(touched.publicLine)\n".write(toFile: keys.signers, atomically: true, encoding: .utf8)
        try (touched.publicLine + " dana\n").write(toFile: keys.path + "/dana.pub", atomically: true, encoding: .utf8)

        let signatures = keys.signatures()
        #expect(SSHKeyFile.read(keys.path + "/dana.pub")?.isSecurityKey == true)
        #expect(try await signatures.principals(forKey: keys.path + "/dana.pub", allowedSigners: keys.signers) == ["dana@example.com"])
        #expect(try await signatures.verify("plan sha256:4", signature: touched.armored, principal: "dana@example.com", allowedSigners: keys.signers))
        #expect(try await !signatures.verify("plan sha256:5", signature: touched.armored, principal: "dana@example.com", allowedSigners: keys.signers), "another message")
        #expect(try await !signatures.verify("plan sha256:4", signature: touched.armored, principal: "alice@example.com", allowedSigners: keys.signers), "another principal")
        // Without the user-presence flag (nobody touched the key) OpenSSH accepts the signature;
        // tollgate does not count it.
        let untouched = try Self.securityKeySignature("plan sha256:4", key: key, flags: 0x00)
        #expect(try await signatures.verifyWithKeygen("plan sha256:4", signature: untouched.armored, principal: "dana@example.com", allowedSigners: keys.signers))
        #expect(SSHSignature(armored: untouched.armored)?.securityKeyFlags == 0x00)
        #expect(SSHSignature(armored: touched.armored)?.securityKeyFlags == 0x01)
        #expect(try await !signatures.verify("plan sha256:4", signature: untouched.armored, principal: "dana@example.com", allowedSigners: keys.signers))
    }
}
