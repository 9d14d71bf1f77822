import Foundation
import Testing
import TollgateCore

/// The allowed_signers reader: what it takes from a line, where it reports what is wrong, and how
/// patterns, namespaces and validity times match (the agreement with ssh-keygen itself is proven in
/// TollgateEngineTests' AllowedSignersDifferentialTests).
@Suite struct AllowedSignersTests {
    /// An Ed25519 public key in wire format whose 32 key bytes are all `byte`.
    static func blob(_ byte: UInt8) -> Data {
        func string(_ bytes: [UInt8]) -> [UInt8] {
            let count = UInt32(bytes.count)
            return [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)] + bytes
        }
        return Data(string(Array("ssh-ed25519".utf8)) + string([UInt8](repeating: byte, count: 32)))
    }

    static let alice = "ssh-ed25519 " + blob(1).base64EncodedString()
    static let bob = "ssh-ed25519 " + blob(2).base64EncodedString()
    static let utc = TimeZone(identifier: "UTC")!

    static func parse(_ text: String, timeZone: TimeZone = utc) -> AllowedSigners {
        AllowedSigners.parse(text, timeZone: timeZone)
    }

    @Test func readsEveryFieldOfAQuotedOptionList() throws {
        let file = Self.parse("alice@example.com,*@ops.example.com namespaces=\"git,tollgate\",valid-after=\"20250601Z\",valid-before=\"20250601120000Z\" \(Self.alice) laptop")
        #expect(file.problems == [])
        #expect(file.signers == [
            AllowedSigner(line: 1, principals: SSHPatternList("alice@example.com,*@ops.example.com"), namespaces: SSHPatternList("git,tollgate"),
                          validAfter: Date(timeIntervalSince1970: 1_748_736_000), validBefore: Date(timeIntervalSince1970: 1_748_779_200),
                          keyType: "ssh-ed25519", publicKey: Self.blob(1)),
        ])
    }

    @Test func quotedValuesKeepTheirSpacesCommasAndEscapedQuotes() throws {
        let file = Self.parse("alice NAMESPACES=\"toll gate,a\\\"b\",Cert-Authority \(Self.alice)")
        let signer = try #require(file.signers.first)
        #expect(signer.namespaces == SSHPatternList("toll gate,a\"b"))
        #expect(signer.isCertificateAuthority)
        #expect(file.problems == [])
    }

    @Test func reportsEachMalformedLineByItsNumberAndKeepsTheRest() {
        let file = Self.parse("""
            # approvers of prod

            alice@example.com \(Self.alice)
            bob@example.com
            carol@example.com foo=\"x\" \(Self.bob)
              # indented comment
            dave@example.com namespaces="tollgate", \(Self.bob)
            bob@example.com \(Self.bob)
            """)
        #expect(file.signers.map(\.line) == [3, 8])
        #expect(file.signers.map(\.principals.text) == ["alice@example.com", "bob@example.com"])
        #expect(file.problems == [
            .init(line: 4, message: "there is no key after the principals; write 'principals [options] key-type base64-key'"),
            .init(line: 5, message: "unknown option 'foo'; the options are cert-authority, namespaces=\"…\", valid-after=\"…\" and valid-before=\"…\", separated by commas"),
            .init(line: 7, message: "the options end with a comma; remove it"),
        ])
        #expect(file.problems.map(\.description).first == "line 4: there is no key after the principals; write 'principals [options] key-type base64-key'")
    }

    static let malformed: [(line: String, message: String)] = [
        ("alice", "there is no key after the principals; write 'principals [options] key-type base64-key'"),
        ("alice ", "there is no key after the principals; write 'principals [options] key-type base64-key'"),
        ("\"alice \(alice)", "the principals open a double quote that is never closed; close it or remove it"),
        ("alice namespaces=\"x \(alice)", "the options open a double quote that is never closed; close it"),
        ("alice ssh-ed25519", "there is no valid key after 'ssh-ed25519'; copy the key type and key from the '.pub' file"),
        ("alice ssh-ed25519 AAAA!!!!", "the key after the options is not a valid public key; copy the key type and key from the '.pub' file"),
        ("alice SSH-ED25519 \(blob(1).base64EncodedString())", "the key after the options is not a valid public key; copy the key type and key from the '.pub' file"),
        ("alice ssh-ed25519 \((blob(1) + Data([0])).base64EncodedString())", "the key after the options is not a valid public key; copy the key type and key from the '.pub' file"),
        ("alice verify-required \(alice)", "unknown option 'verify-required'; the options are cert-authority, namespaces=\"…\", valid-after=\"…\" and valid-before=\"…\", separated by commas"),
        ("alice cert-authorityx \(alice)", "unexpected 'x' after 'cert-authority'; the options are cert-authority, namespaces=\"…\", valid-after=\"…\" and valid-before=\"…\", separated by commas"),
        ("alice namespaces=tollgate \(alice)", "the value of 'namespaces' must be in double quotes, like namespaces=\"…\""),
        ("alice namespaces=\"a\",namespaces=\"b\" \(alice)", "'namespaces' is given twice; list all namespaces in one namespaces=\"a,b\""),
        ("alice valid-before=\"2099\",valid-before=\"20990101\" \(alice)", "'valid-before' has an invalid time '2099'; write YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, with Z for UTC"),
        ("alice valid-after=\"20990101\",valid-after=\"20990101\" \(alice)", "'valid-after' is given twice; keep one"),
        ("alice valid-after=\"19700101Z\" \(alice)", "'valid-after' has an invalid time '19700101Z'; write YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, with Z for UTC"),
        ("alice valid-after=\"20250102Z\",valid-before=\"20250101Z\" \(alice)", "'valid-before' is not later than 'valid-after', so the key is never valid; fix one of the times"),
        ("alice , \(alice)", "the options end with a comma; remove it"),
    ]

    @Test(arguments: malformed)
    func malformedLineMatchesNothingAndSaysWhy(_ test: (line: String, message: String)) {
        let file = Self.parse(test.line)
        #expect(file.signers == [])
        #expect(file.problems == [.init(line: 1, message: test.message)])
    }

    @Test func garbageNeverCrashesNorMatches() {
        let inputs = ["\u{0}", "\"", "\"\"", ",", "!", "a\u{0}\(Self.alice)", String(repeating: "\"", count: 1001), "a " + String(repeating: ",", count: 5000),
                      "a " + String(repeating: "x", count: 100_000), "\r\n\r\n", "a\tb\tc", "a valid-before=\"\" \(Self.alice)"]
        for input in inputs {
            let file = Self.parse(input)
            #expect(file.signers == [], "\(input.prefix(40))")
        }
    }

    @Test func blankAndCommentLinesAreSilent() {
        #expect(Self.parse("\n   \n\t# x\n#\r\n \r\n").problems == [])
    }

    static let patterns: [(pattern: String, string: String, matches: Bool)] = [
        ("alice@example.com", "alice@example.com", true),
        ("alice@example.com", "Alice@example.com", false),
        ("*@example.com", "alice@example.com", true),
        ("*@example.com", "alice@example.com.evil", false),
        ("a*e@*.com", "alice@example.com", true),
        ("alic?@example.com", "alice@example.com", true),
        ("alic?@example.com", "alic@example.com", false),
        ("**", "", true),
        ("", "", false),
        (",", "", true),
        ("", "a", false),
        ("bob,alice", "alice", true),
        ("!alice,*", "alice", false),
        ("*,!alice", "alice", false),
        ("!bob,*", "alice", true),
        ("!alice", "alice", false),
        ("!bob", "alice", false),
        ("a,", "a", true),
        (",a", "", true),
        ("?", "é", false),
        ("??", "é", true),
        ("*a*a*a*a*a*a*a*a*a*a*b", String(repeating: "a", count: 60), false),
        (String(repeating: "a", count: 1022), String(repeating: "a", count: 1022), true),
        (String(repeating: "a", count: 1023), String(repeating: "a", count: 1023), false),
        ("alice," + String(repeating: "a", count: 1023), "alice", false),
    ]

    @Test(arguments: patterns)
    func patternListMatchesAsOpenSSH(_ test: (pattern: String, string: String, matches: Bool)) {
        #expect(SSHPatternList(test.pattern).matches(test.string) == test.matches)
    }

    @Test func listedPrincipalsStopAtTheFirstEmptyOne() {
        #expect(SSHPatternList("!bob,*@example.com").listed == ["!bob", "*@example.com"])
        #expect(SSHPatternList("a,,b").listed == ["a"])
        #expect(SSHPatternList("a,").listed == ["a"])
        #expect(SSHPatternList("").listed == [])
    }

    static let times: [(written: String, zone: String, seconds: TimeInterval?)] = [
        ("20250601Z", "UTC", 1_748_736_000),
        ("202506011200Z", "UTC", 1_748_779_200),
        ("20250601120000Z", "UTC", 1_748_779_200),
        ("20250601120000z", "UTC", 1_748_779_200),
        ("20250601120000UTC", "UTC", 1_748_779_200),
        ("20250601120000", "UTC", 1_748_779_200),
        ("202506011201", "UTC", 1_748_779_260),
        ("20250601115960Z", "UTC", 1_748_779_200),
        ("20250231Z", "UTC", 1_740_960_000),
        ("202506 1Z", "UTC", 1_748_736_000),
        ("202501151200", "Europe/Berlin", 1_736_938_800),
        ("202507011200", "Europe/Berlin", 1_751_367_600),
        ("202507011200Z", "Europe/Berlin", 1_751_371_200),
        ("20250601120000ZZ", "UTC", nil),
        ("2025060112", "UTC", nil),
        ("20251301", "UTC", nil),
        ("20250632", "UTC", nil),
        ("20250600", "UTC", nil),
        ("20250601240000", "UTC", nil),
        ("20250601126000", "UTC", nil),
        ("20250601125962", "UTC", nil),
        ("2025-6-1", "UTC", nil),
        ("19691231Z", "UTC", nil),
        ("Z", "UTC", nil),
    ]

    @Test(arguments: times)
    func validityTimesReadAsOpenSSHReadsThem(_ test: (written: String, zone: String, seconds: TimeInterval?)) throws {
        let file = Self.parse("alice valid-before=\"\(test.written)\" \(Self.alice)", timeZone: try #require(TimeZone(identifier: test.zone)))
        #expect(file.signers.first?.validBefore == test.seconds.map { Date(timeIntervalSince1970: $0) })
        #expect(file.problems.count == (test.seconds == nil ? 1 : 0))
    }

    @Test func permitsOnlyTheListedPrincipalNamespaceAndWindow() throws {
        let signer = try #require(Self.parse("*@example.com,!bob@example.com namespaces=\"toll*\",valid-after=\"20250101Z\",valid-before=\"20250601120000Z\" \(Self.alice)").signers.first)
        let inside = Date(timeIntervalSince1970: 1_748_779_200)
        let cases: [(String, String, Date, Bool)] = [
            ("alice@example.com", "tollgate", inside, true),
            ("alice@example.com", "tollgate", inside.addingTimeInterval(0.9), true),
            ("alice@example.com", "tollgate", inside.addingTimeInterval(1), false),
            ("alice@example.com", "tollgate", Date(timeIntervalSince1970: 1_735_689_600), true),
            ("alice@example.com", "tollgate", Date(timeIntervalSince1970: 1_735_689_599), false),
            ("bob@example.com", "tollgate", inside, false),
            ("alice@example.org", "tollgate", inside, false),
            ("alice@example.com", "git", inside, false),
        ]
        for (principal, namespace, time, expected) in cases {
            #expect(signer.permits(principal: principal, namespace: namespace, at: time) == expected, "\(principal) \(namespace) \(time)")
        }
    }

    @Test func certificateAuthorityLinesNeverMatchAPlainKey() {
        let file = Self.parse("alice@example.com cert-authority \(Self.alice)")
        #expect(file.signers.first?.isCertificateAuthority == true)
        #expect(file.signers.first?.matches(publicKey: Self.blob(1)) == false)
        #expect(!file.permits(publicKey: Self.blob(1), principal: "alice@example.com", namespace: "tollgate", at: Date(timeIntervalSince1970: 0)))
    }

    @Test func permitsNeedsTheSameKey() {
        let file = Self.parse("alice@example.com \(Self.alice)")
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        #expect(file.permits(publicKey: Self.blob(1), principal: "alice@example.com", namespace: "tollgate", at: now))
        #expect(!file.permits(publicKey: Self.blob(2), principal: "alice@example.com", namespace: "tollgate", at: now))
    }

    @Test func principalsForAKeyComeFromItsFirstLineThatCountsThen() {
        let file = Self.parse("""
            git@example.com namespaces="git" \(Self.alice)
            old@example.com valid-before="20250101Z" \(Self.alice)
            alice@example.com,*@ops.example.com \(Self.alice)
            later@example.com \(Self.alice)
            bob@example.com \(Self.bob)
            """)
        let early = Date(timeIntervalSince1970: 1_700_000_000), late = Date(timeIntervalSince1970: 1_790_000_000)
        #expect(file.principals(forPublicKey: Self.blob(1), at: late) == ["git@example.com"])
        #expect(file.principals(forPublicKey: Self.blob(1), namespace: "tollgate", at: early) == ["old@example.com"])
        #expect(file.principals(forPublicKey: Self.blob(1), namespace: "tollgate", at: late) == ["alice@example.com", "*@ops.example.com"])
        #expect(file.principals(forPublicKey: Self.blob(2), namespace: "tollgate", at: late) == ["bob@example.com"])
        #expect(file.principals(forPublicKey: Self.blob(3), at: late) == [])
    }
}
