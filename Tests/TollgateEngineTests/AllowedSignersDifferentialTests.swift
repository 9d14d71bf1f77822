import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateEngine

/// tollgate's reading of allowed_signers against OpenSSH's own: every file in the tables goes to
/// `ssh-keygen -Y verify` / `-Y find-principals` and to the native code, which must agree with it and
/// with the expected answer written here (so both being wrong the same way fails too).
@Suite struct AllowedSignersDifferentialTests {
    /// Fresh Ed25519 keys for alice and bob, and each one's signature of one message in namespace `tollgate`.
    struct Lab {
        static let message = "{\"decision\":\"approve\",\"plan_digest\":\"sha256:9c1e\"}"
        let directory: TemporaryDirectory
        let alice: String
        let bob: String

        init() throws {
            directory = try TemporaryDirectory("tollgate-signers")
            try directory.write("message", Self.message)
            var keys: [String] = []
            for who in ["alice", "bob"] {
                let generated = try Self.run(["-q", "-t", "ed25519", "-N", "", "-C", who, "-f", directory.path + "/" + who])
                let signed = try Self.run(["-Y", "sign", "-q", "-f", directory.path + "/" + who, "-n", "tollgate", directory.path + "/message"])
                try #require(generated.status == 0 && signed.status == 0, "ssh-keygen could not make \(who)'s key and signature")
                try FileManager.default.moveItem(atPath: directory.path + "/message.sig", toPath: directory.path + "/\(who).sig")
                let publicKey = try #require(directory.read("\(who).pub"))
                keys.append(publicKey.split(separator: " ").prefix(2).joined(separator: " "))
            }
            alice = keys[0]
            bob = keys[1]
        }

        func signature(by who: String) throws -> String { try #require(directory.read("\(who).sig")) }

        func publicKey(of who: String) throws -> Data {
            let line = who == "alice" ? alice : bob
            return try #require(Data(base64Encoded: String(line.split(separator: " ")[1])))
        }

        /// The file with `{A}` / `{B}` replaced by alice's / bob's `ssh-ed25519 AAAA…` (`{A64}` by alice's
        /// base64 alone), written to disk.
        func allowedSigners(_ template: String) throws -> (text: String, path: String) {
            let text = template.replacingOccurrences(of: "{A}", with: alice).replacingOccurrences(of: "{B}", with: bob)
                .replacingOccurrences(of: "{A64}", with: String(alice.split(separator: " ")[1]))
            try directory.write("allowed_signers", text)
            return (text, directory.path + "/allowed_signers")
        }

        static func environment(zone: String) -> [String: String] {
            ProcessInfo.processInfo.environment.merging(["TZ": zone]) { _, new in new }
        }

        static func run(_ arguments: [String], zone: String = "UTC", input: String? = nil) throws -> (status: Int32, stdout: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["ssh-keygen"] + arguments
            process.environment = environment(zone: zone)
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            process.standardInput = input.map { FileHandle(forReadingAtPath: $0) ?? FileHandle.nullDevice } ?? FileHandle.nullDevice
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }

        func remove() { directory.remove() }
    }

    /// `YYYYMMDDHHMMSS` in UTC, read here without the code under test.
    static func utc(_ text: String) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let digits = Array(text).map { Int(String($0))! }
        func number(_ range: Range<Int>) -> Int { digits[range].reduce(0) { $0 * 10 + $1 } }
        let components = DateComponents(year: number(0..<4), month: number(4..<6), day: number(6..<8),
                                        hour: number(8..<10), minute: number(10..<12), second: number(12..<14))
        return calendar.date(from: components)!
    }

    struct VerifyCase: Sendable, CustomTestStringConvertible {
        var name: String
        var file: String
        var principal = "alice@example.com"
        /// The verification time (`YYYYMMDDHHMMSS`, UTC); nil verifies at the real now.
        var time: String?
        /// TZ for ssh-keygen, and the zone tollgate reads the file in.
        var zone = "UTC"
        var expected: Bool

        init(_ name: String, _ file: String, principal: String = "alice@example.com", time: String? = nil, zone: String = "UTC", _ expected: Bool) {
            self.name = name
            self.file = file
            self.principal = principal
            self.time = time
            self.zone = zone
            self.expected = expected
        }

        var testDescription: String { name }
    }

    static let verifyCases: [VerifyCase] = [
        .init("exact principal", "alice@example.com {A}", true),
        .init("another principal asked for", "alice@example.com {A}", principal: "mallory@example.com", false),
        .init("wildcard domain", "*@example.com {A}", true),
        .init("wildcard of another domain", "*@example.org {A}", false),
        .init("question mark for one character", "alic?@example.com {A}", true),
        .init("question mark needs a character", "alice?@example.com {A}", false),
        .init("negation excludes the principal", "!alice@example.com,*@example.com {A}", false),
        .init("negation of someone else", "!bob@example.com,*@example.com {A}", true),
        .init("several principals", "bob@example.com,alice@example.com {A}", true),
        .init("principals are case-sensitive", "Alice@example.com {A}", false),
        .init("quoted principals", "\"alice@example.com\" {A}", true),
        .init("namespace matches", "alice@example.com namespaces=\"tollgate\" {A}", true),
        .init("namespace list", "alice@example.com namespaces=\"git,tollgate\" {A}", true),
        .init("namespace does not match", "alice@example.com namespaces=\"git\" {A}", false),
        .init("namespace pattern toll*", "alice@example.com namespaces=\"toll*\" {A}", true),
        .init("namespace pattern tolg* does not match tollgate", "alice@example.com namespaces=\"tolg*\" {A}", false),
        .init("namespace negated", "alice@example.com namespaces=\"!tollgate,*\" {A}", false),
        .init("namespace value without quotes", "alice@example.com namespaces=tollgate {A}", false),
        .init("quoted list with a space and a comma", "alice@example.com namespaces=\"toll gate,tollgate\" {A}", true),
        .init("namespaces and valid-before together", "alice@example.com namespaces=\"git,tollgate\",valid-before=\"20990101\" {A}", true),
        .init("namespaces and an expired valid-before", "alice@example.com namespaces=\"tollgate\",valid-before=\"20200101\" {A}", false),
        .init("valid-before in the past", "alice@example.com valid-before=\"20200101\" {A}", false),
        .init("valid-before in the future", "alice@example.com valid-before=\"20990101\" {A}", true),
        .init("valid-after in the future", "alice@example.com valid-after=\"20990101\" {A}", false),
        .init("valid-after in the past", "alice@example.com valid-after=\"20200101\" {A}", true),
        .init("valid-before HHMM, a second before", "alice@example.com valid-before=\"202506011200Z\" {A}", time: "20250601115959", true),
        .init("valid-before HHMM, a minute after", "alice@example.com valid-before=\"202506011200Z\" {A}", time: "20250601120100", false),
        .init("valid-before HHMMSS is inclusive", "alice@example.com valid-before=\"20250601120000Z\" {A}", time: "20250601120000", true),
        .init("valid-before HHMMSS, a second after", "alice@example.com valid-before=\"20250601120000Z\" {A}", time: "20250601120001", false),
        .init("valid-after HHMMSS is inclusive", "alice@example.com valid-after=\"20250601120000Z\" {A}", time: "20250601120000", true),
        .init("valid-after HHMMSS, a second before", "alice@example.com valid-after=\"20250601120000Z\" {A}", time: "20250601115959", false),
        .init("window, inside", "alice@example.com valid-after=\"20250101Z\",valid-before=\"20251231Z\" {A}", time: "20250601000000", true),
        .init("window, after it", "alice@example.com valid-after=\"20250101Z\",valid-before=\"20251231Z\" {A}", time: "20260101000000", false),
        .init("UTC suffix in lower case", "alice@example.com valid-before=\"20250601120000utc\" {A}", time: "20250601120001", false),
        .init("local time read in UTC", "alice@example.com valid-before=\"202506011200\" {A}", time: "20250601120100", false),
        .init("local time in Berlin summer is read at standard time", "alice@example.com valid-before=\"202507011200\" {A}",
              time: "20250701103000", zone: "Europe/Berlin", true),
        .init("local time in Berlin summer, after it", "alice@example.com valid-before=\"202507011200\" {A}",
              time: "20250701110100", zone: "Europe/Berlin", false),
        .init("second 60 rolls over", "alice@example.com valid-before=\"20250601115960Z\" {A}", time: "20250601120000", true),
        .init("February 31 rolls into March", "alice@example.com valid-before=\"20250231Z\" {A}", time: "20250302120000", true),
        .init("month 13 is invalid", "alice@example.com valid-before=\"20991301Z\" {A}", false),
        .init("valid-after the epoch is invalid", "alice@example.com valid-after=\"19700101Z\" {A}", false),
        .init("valid-before not after valid-after", "alice@example.com valid-after=\"20250101Z\",valid-before=\"20250101Z\" {A}", false),
        .init("valid-before given twice", "alice@example.com valid-before=\"20990101\",valid-before=\"20990101\" {A}", false),
        .init("cert-authority never matches a plain key", "alice@example.com cert-authority {A}", false),
        .init("cert-authority line then a plain line", "alice@example.com cert-authority {A}\nalice@example.com {A}", true),
        .init("unknown option", "alice@example.com verify-required {A}", false),
        .init("unknown option then a good line", "alice@example.com no-touch-required {A}\nalice@example.com {A}", true),
        .init("upper-case option names", "alice@example.com NAMESPACES=\"tollgate\",Valid-Before=\"20990101\" {A}", true),
        .init("upper-case CERT-AUTHORITY", "alice@example.com CERT-AUTHORITY {A}", false),
        .init("options ending in a comma", "alice@example.com namespaces=\"tollgate\", {A}", false),
        .init("options starting with a comma", "alice@example.com ,namespaces=\"tollgate\" {A}", true),
        .init("malformed lines only", "alice@example.com\nalice@example.com ssh-ed25519\nalice@example.com ssh-ed25519 AAAA!!!!", false),
        .init("malformed lines then a good one", "alice@example.com\nalice@example.com namespaces=\"x {A}\nalice@example.com {A}", true),
        .init("comment line", "# alice@example.com {A}", false),
        .init("indented comment then a good line", "  # listed below\n\nalice@example.com {A}", true),
        .init("key listed for another principal", "bob@example.com {A}", false),
        .init("wrong key", "alice@example.com {B}", false),
        .init("duplicate lines", "alice@example.com {A}\nalice@example.com {A}", true),
        .init("expired line then a valid duplicate", "alice@example.com valid-before=\"20200101\" {A}\nalice@example.com {A}", true),
        .init("comment after the key, tabs and CRLF", "alice@example.com\t{A}  alice's laptop\r\n", true),
        .init("key type in upper case", "alice@example.com SSH-ED25519 {A64}", false),
    ]

    @Test(arguments: verifyCases)
    func verifyAgreesWithSSHKeygen(_ test: VerifyCase) async throws {
        let lab = try Lab()
        defer { lab.remove() }
        let (text, path) = try lab.allowedSigners(test.file)
        let signature = try lab.signature(by: "alice")
        let date = test.time.map(Self.utc) ?? Date()
        let timeArguments = test.time.map { ["-Overify-time=\($0)Z"] } ?? []
        let reference = try Lab.run(["-Y", "verify", "-f", path, "-I", test.principal, "-n", "tollgate", "-s", lab.directory.path + "/alice.sig"]
                                    + timeArguments, zone: test.zone, input: lab.directory.path + "/message").status == 0

        let zone = try #require(TimeZone(identifier: test.zone))
        let parsed = try #require(SSHSignature(armored: signature))
        let native = parsed.verify(Data(Lab.message.utf8), namespace: "tollgate", principal: test.principal,
                                   signers: AllowedSigners.parse(text, timeZone: zone).signers, at: date)
        let adapter = SSHKeygenSignatures(environment: Lab.environment(zone: test.zone), scratchDirectory: lab.directory.path, now: { date })
        let throughPort = try await adapter.verify(Lab.message, signature: signature, principal: test.principal, allowedSigners: path)
        let throughKeygen = try await adapter.verifyWithKeygen(Lab.message, signature: signature, principal: test.principal, allowedSigners: path)

        #expect(reference == test.expected, "ssh-keygen -Y verify")
        #expect(native == reference, "native verifier against ssh-keygen")
        #expect(throughPort == test.expected, "SSHKeygenSignatures.verify")
        #expect(throughKeygen == test.expected, "SSHKeygenSignatures.verifyWithKeygen with its clock")
    }

    struct FindCase: Sendable, CustomTestStringConvertible {
        var name: String
        var file: String
        var signer = "alice"
        var time: String?
        var expected: [String]

        init(_ name: String, _ file: String, signer: String = "alice", time: String? = nil, _ expected: [String]) {
            self.name = name
            self.file = file
            self.signer = signer
            self.time = time
            self.expected = expected
        }

        var testDescription: String { name }
    }

    static let findCases: [FindCase] = [
        .init("one principal", "alice@example.com {A}", ["alice@example.com"]),
        .init("several principals", "alice@example.com,carol@example.com {A}", ["alice@example.com", "carol@example.com"]),
        .init("patterns come back as written", "!bob@example.com,*@example.com {A}", ["!bob@example.com", "*@example.com"]),
        .init("only the first matching line", "alice@example.com {A}\ndave@example.com {A}", ["alice@example.com"]),
        .init("an expired line is passed over", "old@example.com valid-before=\"20200101\" {A}\nalice@example.com {A}", ["alice@example.com"]),
        .init("not yet valid at the time asked", "alice@example.com valid-after=\"20250601Z\" {A}", time: "20250531235959", []),
        .init("valid at the time asked", "alice@example.com valid-after=\"20250601Z\" {A}", time: "20250601000000", ["alice@example.com"]),
        .init("namespaces are not looked at", "alice@example.com namespaces=\"git\" {A}", ["alice@example.com"]),
        .init("an empty principal ends the list", "a@example.com,,b@example.com {A}", ["a@example.com"]),
        .init("a malformed line is passed over", "mallory@example.com bogus {A}\nalice@example.com {A}", ["alice@example.com"]),
        .init("cert-authority is passed over", "ca@example.com cert-authority {A}\nalice@example.com {A}", ["alice@example.com"]),
        .init("key not listed", "alice@example.com {A}", signer: "bob", []),
        .init("the other key's line", "alice@example.com {A}\nbob@example.com {B}", signer: "bob", ["bob@example.com"]),
    ]

    @Test(arguments: findCases)
    func findPrincipalsAgreesWithSSHKeygen(_ test: FindCase) throws {
        let lab = try Lab()
        defer { lab.remove() }
        let (text, path) = try lab.allowedSigners(test.file)
        let date = test.time.map(Self.utc) ?? Date()
        let timeArguments = test.time.map { ["-Overify-time=\($0)Z"] } ?? []
        let reference = try Lab.run(["-Y", "find-principals", "-f", path, "-s", lab.directory.path + "/\(test.signer).sig"] + timeArguments)
        let listed = reference.stdout.split(separator: "\n").map(String.init)

        let native = AllowedSigners.parse(text, timeZone: TimeZone(identifier: "UTC")!)
            .principals(forPublicKey: try lab.publicKey(of: test.signer), at: date)

        #expect(listed == test.expected, "ssh-keygen -Y find-principals")
        #expect(native == listed, "AllowedSigners.principals against ssh-keygen")
    }

    /// The port's lookup is find-principals over the lines that allow namespace `tollgate`, at its clock.
    @Test func portPrincipalsSkipLinesForOtherNamespacesAndTimes() async throws {
        let lab = try Lab()
        defer { lab.remove() }
        let (_, path) = try lab.allowedSigners("""
            git-only@example.com namespaces="git" {A}
            expired@example.com valid-before="20250101Z" {A}
            alice@example.com namespaces="tollgate" {A}
            """)
        let before = SSHKeygenSignatures(environment: Lab.environment(zone: "UTC"), scratchDirectory: lab.directory.path,
                                         now: { Self.utc("20241231120000") })
        let after = SSHKeygenSignatures(environment: Lab.environment(zone: "UTC"), scratchDirectory: lab.directory.path,
                                        now: { Self.utc("20250101000001") })
        #expect(try await before.principals(forKey: lab.directory.path + "/alice", allowedSigners: path) == ["expired@example.com"])
        #expect(try await after.principals(forKey: lab.directory.path + "/alice", allowedSigners: path) == ["alice@example.com"])
        #expect(try await after.principals(forKey: lab.directory.path + "/bob", allowedSigners: path) == [])
    }
}
