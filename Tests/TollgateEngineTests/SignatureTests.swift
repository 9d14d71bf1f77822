import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateEngine

/// Native Ed25519 SSHSIG verification agrees with `ssh-keygen -Y verify` on every case.
@Suite struct SignatureTests {
    struct Setup {
        let directory: TemporaryDirectory
        let signatures: SSHKeygenSignatures
        let signers: String
    }

    func setup() throws -> Setup {
        let directory = try TemporaryDirectory("tollgate-sig")
        var lines = ""
        for who in ["alice", "bob"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f", directory.path + "/" + who]
            try process.run()
            process.waitUntilExit()
            let key = try String(contentsOfFile: directory.path + "/\(who).pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
            if who == "alice" { lines += "alice@example.com namespaces=\"tollgate\" \(key)\n" }
        }
        try directory.write("allowed_signers", lines)
        return Setup(directory: directory, signatures: SSHKeygenSignatures(environment: ProcessInfo.processInfo.environment, scratchDirectory: directory.path),
                     signers: directory.path + "/allowed_signers")
    }

    @Test func nativeAndKeygenAgree() async throws {
        let setup = try setup()
        defer { setup.directory.remove() }
        let message = "{\"decision\":\"approve\",\"plan_digest\":\"sha256:abc\"}"
        let good = try await setup.signatures.sign(message, keyPath: setup.directory.path + "/alice")
        let outsider = try await setup.signatures.sign(message, keyPath: setup.directory.path + "/bob")
        #expect(SSHSignature(armored: good)?.keyType == "ssh-ed25519")
        #expect(SSHSignature(armored: good)?.namespace == "tollgate")
        let cases: [(String, String, String, Bool)] = [
            (message, good, "alice@example.com", true),
            (message + " ", good, "alice@example.com", false),
            (message, good, "mallory@example.com", false),
            (message, outsider, "alice@example.com", false),
        ]
        for (text, signature, principal, expected) in cases {
            let native = try await setup.signatures.verify(text, signature: signature, principal: principal, allowedSigners: setup.signers)
            let reference = try await setup.signatures.verifyWithKeygen(text, signature: signature, principal: principal, allowedSigners: setup.signers)
            #expect(native == expected, "native: \(principal) \(expected)")
            #expect(reference == expected, "ssh-keygen: \(principal) \(expected)")
        }
        #expect(try await setup.signatures.principals(forKey: setup.directory.path + "/alice", allowedSigners: setup.signers) == ["alice@example.com"])
        #expect(try await setup.signatures.principals(forKey: setup.directory.path + "/bob", allowedSigners: setup.signers).isEmpty)
        #expect(SSHSignature(armored: "not a signature") == nil)
        // A signature made for another namespace proves nothing here.
        try Data(message.utf8).write(to: URL(fileURLWithPath: setup.directory.path + "/msg"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ssh-keygen", "-Y", "sign", "-q", "-f", setup.directory.path + "/alice", "-n", "git", setup.directory.path + "/msg"]
        try process.run()
        process.waitUntilExit()
        let other = try String(contentsOfFile: setup.directory.path + "/msg.sig", encoding: .utf8)
        #expect(SSHSignature(armored: other)?.namespace == "git")
        #expect(try await setup.signatures.verify(message, signature: other, principal: "alice@example.com", allowedSigners: setup.signers) == false)
        #expect(try await setup.signatures.verifyWithKeygen(message, signature: other, principal: "alice@example.com", allowedSigners: setup.signers) == false)
    }
}
