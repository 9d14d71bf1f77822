import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateStore

/// Sealed artifacts on a real file blob store: what is stored, what opens, what is refused.
@Suite struct EncryptedArtifactStoreTests {
    /// Fixed keys, so ids and messages are exact.
    static let keyA = try! ArtifactKey(bytes: Data(repeating: 0xA1, count: 32))
    static let keyB = try! ArtifactKey(bytes: Data(repeating: 0xB2, count: 32))
    static let keyC = try! ArtifactKey(bytes: Data(repeating: 0xC3, count: 32))

    static let secret = "hunter2-correct-horse-battery-staple"
    /// A plan-like payload: variable values the engine keeps in a saved plan, a secret among them.
    static let plan = Data("""
        {"format_version":"1.2","variables":{"region":{"value":"eu-west-1"},"db_password":{"value":"\(secret)"}},
         "planned_values":{"root_module":{"resources":[{"address":"terraform_data.db","values":{"input":"\(secret)"}}]}}}
        """.utf8)

    struct Fixture {
        let directory: TemporaryDirectory
        let blobs: FileBlobStore

        init() throws {
            directory = try TemporaryDirectory("tollgate-sealed")
            blobs = FileBlobStore(root: directory.path)
        }

        func store(_ current: ArtifactKey, older: [ArtifactKey] = []) -> EncryptedArtifactStore {
            EncryptedArtifactStore(blobs: blobs, keys: ArtifactKeyring(current: current, older: older))
        }

        func path(_ id: String) -> String {
            let hex = id.dropFirst(7)
            return "\(directory.path)/sha256/\(hex.prefix(2))/\(hex)"
        }

        func stored(_ id: String) throws -> Data {
            try #require(FileManager.default.contents(atPath: path(id)))
        }
    }

    @Test func roundTripKeepsThePlaintextDigestAsTheID() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        let store = fixture.store(Self.keyA)
        let id = try await store.put(Self.plan)
        #expect(id == Digest.id(Self.plan))
        #expect(try await store.get(id) == Self.plan)
        // Stored again: the same id, and the blob that opens already is left as it is.
        let before = try fixture.stored(id)
        #expect(try await store.put(Self.plan) == id)
        #expect(try fixture.stored(id) == before)
    }

    @Test func storedBytesAreAnEnvelopeWithoutThePlaintext() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        let id = try await fixture.store(Self.keyA).put(Self.plan)
        let stored = try fixture.stored(id)
        #expect(stored.range(of: Data(Self.secret.utf8)) == nil)
        #expect(stored.range(of: Data("db_password".utf8)) == nil)
        #expect(Digest.id(stored) != id)
        // magic, key id, 12-byte nonce, ciphertext as long as the plaintext, 16-byte tag.
        #expect(stored.prefix(4) == Data("TGA1".utf8))
        #expect(String(decoding: stored.dropFirst(4).prefix(16), as: UTF8.self) == Self.keyA.id)
        #expect(stored.count == 4 + 16 + 12 + Self.plan.count + 16)
    }

    @Test func keyIDIsTheDigestPrefixOfTheKeyBytes() throws {
        #expect(Self.keyA.id == String(Digest.hex(Data(repeating: 0xA1, count: 32)).prefix(16)))
        #expect(Self.keyA.id.count == 16)
        #expect(Self.keyA.id != Self.keyB.id)
        // Nothing a key prints shows its bytes.
        let base64 = Self.keyA.exportBase64()
        for text in ["\(Self.keyA)", String(reflecting: Self.keyA), "\(Mirror(reflecting: Self.keyA).children.map { "\($0.value)" })"] {
            #expect(!text.contains(base64))
            #expect(text.contains(Self.keyA.id))
        }
        #expect(try ArtifactKey(base64: base64 + "\n") == Self.keyA)
    }

    /// One byte flipped in each part of the envelope (offsets from the end, so they hold for any length).
    @Test(arguments: [
        ("nonce", 4 + 16),
        ("first ciphertext byte", 4 + 16 + 12),
        ("tag", -1),
    ])
    func tamperedEnvelopeFailsAuthentication(part: String, offset: Int) async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        let store = fixture.store(Self.keyA)
        let id = try await store.put(Self.plan)
        var bytes = try fixture.stored(id)
        let index = offset >= 0 ? offset : bytes.count + offset
        bytes[index] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: fixture.path(id)))
        await #expect(throws: ArtifactError.authenticationFailed(id: id, keyID: Self.keyA.id, location: fixture.path(id)), "\(part)") {
            try await store.get(id)
        }
    }

    @Test func envelopeMovedUnderAnotherIDFailsAuthentication() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        let store = fixture.store(Self.keyA)
        let planID = try await store.put(Self.plan)
        let otherID = try await store.put(Data("another plan".utf8))
        try fixture.stored(planID).write(to: URL(fileURLWithPath: fixture.path(otherID)))
        await #expect(throws: ArtifactError.authenticationFailed(id: otherID, keyID: Self.keyA.id, location: fixture.path(otherID))) {
            try await store.get(otherID)
        }
    }

    @Test func wrongKeyFailsNamingTheKeyThatWroteIt() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        let id = try await fixture.store(Self.keyA).put(Self.plan)
        let error = await #expect(throws: ArtifactError.self) { try await fixture.store(Self.keyB).get(id) }
        #expect(error == .unknownKey(id: id, keyID: Self.keyA.id, known: [Self.keyB.id]))
        #expect(error?.description == "artifact \(id) was encrypted with key '\(Self.keyA.id)', which is not among the keys given ('\(Self.keyB.id)'); "
            + "set TOLLGATE_ARTIFACT_KEY to the key that wrote it, or add that key to TOLLGATE_ARTIFACT_OLD_KEYS and rotate to the new one")
    }

    @Test func olderKeyInTheKeyringStillReads() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        let id = try await fixture.store(Self.keyA).put(Self.plan)
        let rotated = fixture.store(Self.keyB, older: [Self.keyA])
        #expect(try await rotated.get(id) == Self.plan)
        // New artifacts are sealed with the current key.
        let newID = try await rotated.put(Data("new plan".utf8))
        #expect(String(decoding: try fixture.stored(newID).dropFirst(4).prefix(16), as: UTF8.self) == Self.keyB.id)
    }

    @Test func rotationRewritesOnlyBlobsNotUnderTheNewKey() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        // Two artifacts under A, one under C, one plaintext from before encryption, one already under B.
        let underA = [try await fixture.store(Self.keyA).put(Self.plan), try await fixture.store(Self.keyA).put(Data("plan two".utf8))]
        let underC = try await fixture.store(Self.keyC).put(Data("plan three".utf8))
        let plaintext = try await FileArtifactStore(root: fixture.directory.path).put(Data("legacy plan".utf8))
        let underB = try await fixture.store(Self.keyB).put(Data("plan four".utf8))
        let untouched = try fixture.stored(underB)

        let store = fixture.store(Self.keyA, older: [Self.keyC])
        let first = try await store.rotate(to: Self.keyB)
        #expect(first.rewritten == 4)
        #expect(first.alreadyCurrent == 1)
        #expect(try fixture.stored(underB) == untouched)

        let newOnly = fixture.store(Self.keyB)
        let expected: [(String, Data)] = [(underA[0], Self.plan), (underA[1], Data("plan two".utf8)), (underC, Data("plan three".utf8)),
                                          (plaintext, Data("legacy plan".utf8)), (underB, Data("plan four".utf8))]
        for (id, data) in expected {
            #expect(try await newOnly.get(id) == data)
            #expect(String(decoding: try fixture.stored(id).dropFirst(4).prefix(16), as: UTF8.self) == Self.keyB.id)
        }
        // Idempotent: a second run, even with only the new key, rewrites nothing.
        let second = try await newOnly.rotate(to: Self.keyB)
        #expect(second.rewritten == 0)
        #expect(second.alreadyCurrent == 5)
    }

    @Test func rotationStopsAtABlobNoKeyOpens() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        let id = try await fixture.store(Self.keyC).put(Self.plan)
        await #expect(throws: ArtifactError.unknownKey(id: id, keyID: Self.keyC.id, known: [Self.keyB.id, Self.keyA.id])) {
            try await fixture.store(Self.keyA).rotate(to: Self.keyB)
        }
    }

    @Test func plaintextBlobFromBeforeEncryptionReadsBack() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        let id = try await FileArtifactStore(root: fixture.directory.path).put(Self.plan)
        let store = fixture.store(Self.keyA)
        #expect(try await store.get(id) == Self.plan)
        // Still re-hashed: a changed plaintext blob is refused like any other.
        try Data("evil plan".utf8).write(to: URL(fileURLWithPath: fixture.path(id)))
        await #expect(throws: ArtifactError.tampered(id: id, actual: Digest.id(Data("evil plan".utf8)), path: fixture.path(id))) {
            try await store.get(id)
        }
    }

    @Test func missingAndMalformedIDsAreErrors() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        let store = fixture.store(Self.keyA)
        let id = Digest.id(Data("never stored".utf8))
        await #expect(throws: ArtifactError.missing(id, fixture.path(id))) { try await store.get(id) }
        await #expect(throws: ArtifactError.badID("sha256:../../etc/passwd")) { try await store.get("sha256:../../etc/passwd") }
    }

    @Test func truncatedEnvelopeIsRefused() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        let store = fixture.store(Self.keyA)
        let id = try await store.put(Self.plan)
        try fixture.stored(id).prefix(30).write(to: URL(fileURLWithPath: fixture.path(id)))
        await #expect(throws: ArtifactError.malformedEnvelope(id: id, location: fixture.path(id))) { try await store.get(id) }
    }

    @Test func blobStoreListsOnlyBlobs() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        #expect(try await fixture.blobs.ids() == [])
        let id = try await fixture.store(Self.keyA).put(Self.plan)
        try fixture.directory.write("sha256/\(id.dropFirst(7).prefix(2))/.tmp-partial", "half")
        try fixture.directory.write("sha256/README", "not a blob")
        #expect(try await fixture.blobs.ids() == [id])
        #expect(try await fixture.blobs.read(id: Digest.id(Data("absent".utf8))) == nil)
    }
}

/// Parsing keys from the environment's values: clear errors that never show the value.
@Suite struct ArtifactKeyringTests {
    static let a = Data(repeating: 0xA1, count: 32).base64EncodedString()
    static let b = Data(repeating: 0xB2, count: 32).base64EncodedString()

    @Test func currentAndOlderKeysParse() throws {
        let keyring = try #require(try ArtifactKeyring.parse(environment: [
            "TOLLGATE_ARTIFACT_KEY": Self.b + "\n",
            "TOLLGATE_ARTIFACT_OLD_KEYS": " \(Self.a), ,\(Self.b),",
        ]))
        #expect(keyring.current == (try ArtifactKey(base64: Self.b)))
        #expect(keyring.older == [try ArtifactKey(base64: Self.a)])
        #expect(keyring.ids == [try ArtifactKey(base64: Self.b).id, try ArtifactKey(base64: Self.a).id])
    }

    @Test func noVariablesMeansNoKeyring() throws {
        #expect(try ArtifactKeyring.parse(environment: [:]) == nil)
        #expect(try ArtifactKeyring.parse(environment: ["TOLLGATE_ARTIFACT_KEY": "  "]) == nil)
    }

    @Test func olderKeysWithoutACurrentKeyAreAnError() {
        #expect(throws: ArtifactError.keyMissing(source: "TOLLGATE_ARTIFACT_KEY")) {
            try ArtifactKeyring.parse(environment: ["TOLLGATE_ARTIFACT_OLD_KEYS": Self.a])
        }
    }

    static let secretLooking = "c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw=="  // "secret-value-that-must-not-leak", 31 bytes

    @Test(arguments: [
        (["TOLLGATE_ARTIFACT_KEY": "not base64 at all!"], ArtifactError.keyNotBase64(source: "TOLLGATE_ARTIFACT_KEY"),
         "the artifact key in TOLLGATE_ARTIFACT_KEY is not base64 (the value is not shown); set it to 32 random bytes in base64 (create one with 'openssl rand -base64 32')"),
        (["TOLLGATE_ARTIFACT_KEY": secretLooking], ArtifactError.keyWrongLength(source: "TOLLGATE_ARTIFACT_KEY", byteCount: 31),
         "the artifact key in TOLLGATE_ARTIFACT_KEY is 31 bytes long, not 32 (the value is not shown); set it to 32 random bytes in base64 (create one with 'openssl rand -base64 32')"),
        (["TOLLGATE_ARTIFACT_KEY": a, "TOLLGATE_ARTIFACT_OLD_KEYS": "\(b),\(secretLooking)"],
         ArtifactError.keyWrongLength(source: "item 2 of TOLLGATE_ARTIFACT_OLD_KEYS", byteCount: 31),
         "the artifact key in item 2 of TOLLGATE_ARTIFACT_OLD_KEYS is 31 bytes long, not 32 (the value is not shown); set it to 32 random bytes in base64 (create one with 'openssl rand -base64 32')"),
    ])
    func badKeysAreClearErrors(environment: [String: String], expected: ArtifactError, message: String) {
        let error = #expect(throws: ArtifactError.self) { try ArtifactKeyring.parse(environment: environment) }
        #expect(error == expected)
        #expect(error?.description == message)
        for value in environment.values { #expect(error?.description.contains(value) == false) }
    }

    @Test func generatedKeysAreDistinctAndRoundTrip() throws {
        let one = ArtifactKey.generate()
        let two = ArtifactKey.generate()
        #expect(one != two)
        #expect(try ArtifactKey(base64: one.exportBase64()) == one)
        #expect(try ArtifactKeyring.parse(currentKey: one.exportBase64(), oldKeys: two.exportBase64()).older == [two])
    }
}
