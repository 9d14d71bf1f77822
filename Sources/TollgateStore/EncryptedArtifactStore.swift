import Crypto
import Foundation
import TollgateCore

/// A 256-bit key that seals artifacts at rest, known in messages and envelopes only by its id.
///
/// The id is the first 16 hex characters of the SHA-256 of the key bytes: enough to tell keys
/// apart and find the one that wrote an artifact, and useless for recovering the key. Neither
/// `description`, `debugDescription` nor a mirror shows the bytes.
public struct ArtifactKey: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public static let byteCount = 32

    /// `sha256(key)[0..<8]` as 16 lowercase hex characters.
    public let id: String
    private let bytes: [UInt8]

    /// A key from its raw bytes; `source` names where they came from in errors.
    public init(bytes: Data, source: String = "the artifact key") throws {
        guard bytes.count == Self.byteCount else { throw ArtifactError.keyWrongLength(source: source, byteCount: bytes.count) }
        self.bytes = [UInt8](bytes)
        self.id = String(Digest.hex(bytes).prefix(16))
    }

    /// A key from its base64 text, surrounding whitespace ignored (a key file ends in a newline).
    /// `source` names where the text came from in errors, which never show the text itself.
    public init(base64 text: String, source: String = "the artifact key") throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ArtifactError.keyMissing(source: source) }
        guard let bytes = Data(base64Encoded: trimmed) else { throw ArtifactError.keyNotBase64(source: source) }
        try self.init(bytes: bytes, source: source)
    }

    /// A fresh key from the system's secure random generator, for a command that creates one.
    public static func generate() -> ArtifactKey {
        let key = SymmetricKey(size: .bits256)
        // A freshly generated key always has 32 bytes.
        return try! ArtifactKey(bytes: key.withUnsafeBytes { Data($0) })
    }

    /// The key as base64, to hand to the person who keeps it; never logged by tollgate.
    public func exportBase64() -> String { Data(bytes).base64EncodedString() }

    var symmetricKey: SymmetricKey { SymmetricKey(data: bytes) }

    /// Keys with the same id are the same key (the id is a digest of the bytes).
    public static func == (lhs: ArtifactKey, rhs: ArtifactKey) -> Bool { lhs.id == rhs.id }

    public var description: String { "artifact key '\(id)'" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["id": id]) }
}

/// The key new artifacts are sealed with, plus older keys still accepted for reading, so a key
/// can be rotated without losing the artifacts it wrote.
public struct ArtifactKeyring: Sendable, Equatable {
    /// The environment variable holding the current key (base64).
    public static let currentKeyVariable = "TOLLGATE_ARTIFACT_KEY"
    /// The environment variable holding older keys (base64, comma-separated), read-only.
    public static let oldKeysVariable = "TOLLGATE_ARTIFACT_OLD_KEYS"

    public let current: ArtifactKey
    /// Older keys, without the current one and without repeats, in the order given.
    public let older: [ArtifactKey]

    public init(current: ArtifactKey, older: [ArtifactKey] = []) {
        self.current = current
        var seen: Set<String> = [current.id]
        self.older = older.filter { seen.insert($0.id).inserted }
    }

    /// The ids of every key, the current one first.
    public var ids: [String] { [current.id] + older.map(\.id) }

    /// The key with this id, current or older.
    public func key(id: String) -> ArtifactKey? {
        current.id == id ? current : older.first { $0.id == id }
    }

    /// The keyring after a rotation: `key` seals from now on, and every key here still reads.
    public func rotated(to key: ArtifactKey) -> ArtifactKeyring {
        ArtifactKeyring(current: key, older: [current] + older)
    }

    /// Parses the values of `TOLLGATE_ARTIFACT_KEY` (or whatever `currentSource` names, such as
    /// the resolved `store.key` reference) and `TOLLGATE_ARTIFACT_OLD_KEYS`; empty items of the
    /// comma-separated list are ignored.
    public static func parse(currentKey: String, oldKeys: String? = nil,
                             currentSource: String = currentKeyVariable) throws -> ArtifactKeyring {
        let current = try ArtifactKey(base64: currentKey, source: currentSource)
        var older: [ArtifactKey] = []
        let items = (oldKeys ?? "").split(separator: ",", omittingEmptySubsequences: false)
        for (index, item) in items.enumerated() where !item.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            older.append(try ArtifactKey(base64: String(item), source: "item \(index + 1) of \(oldKeysVariable)"))
        }
        return ArtifactKeyring(current: current, older: older)
    }

    /// The keyring the process environment describes, or nil when neither variable is set. Older
    /// keys without a current key are an error: nothing could seal new artifacts.
    public static func parse(environment: [String: String]) throws -> ArtifactKeyring? {
        let current = environment[currentKeyVariable].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        let old = environment[oldKeysVariable].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        guard let current else {
            if old != nil { throw ArtifactError.keyMissing(source: currentKeyVariable) }
            return nil
        }
        return try parse(currentKey: current, oldKeys: old)
    }
}

/// The stored form of an encrypted artifact.
///
/// ```
/// offset  size  field
///      0     4  magic and version: "TGA1"
///      4    16  key id, ASCII hex (ArtifactKey.id)
///     20    12  ChaCha20-Poly1305 nonce
///     32     n  ciphertext (n = plaintext length)
///   32+n    16  Poly1305 tag
/// ```
/// The authenticated data is the 20 header bytes followed by the artifact id (`sha256:<hex>` of the
/// plaintext, UTF-8), so an envelope moved under another id, or relabelled with another key id,
/// fails to open.
struct ArtifactEnvelope: Equatable {
    static let magic: [UInt8] = Array("TGA1".utf8)
    static let keyIDLength = 16
    static let nonceLength = 12
    static let tagLength = 16
    static let headerLength = magic.count + keyIDLength + nonceLength

    var keyID: String
    var nonce: [UInt8]
    var ciphertext: [UInt8]
    var tag: [UInt8]

    static func hasMagic(_ bytes: Data) -> Bool { bytes.starts(with: magic) }

    /// Nil when the bytes are not a well-formed envelope.
    init?(parsing data: Data) {
        let bytes = [UInt8](data)
        guard bytes.count >= Self.headerLength + Self.tagLength, bytes.starts(with: Self.magic) else { return nil }
        let idBytes = bytes[Self.magic.count ..< Self.magic.count + Self.keyIDLength]
        guard idBytes.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        keyID = String(decoding: idBytes, as: UTF8.self)
        nonce = Array(bytes[Self.magic.count + Self.keyIDLength ..< Self.headerLength])
        ciphertext = Array(bytes[Self.headerLength ..< bytes.count - Self.tagLength])
        tag = Array(bytes[(bytes.count - Self.tagLength)...])
    }

    init(keyID: String, nonce: [UInt8], ciphertext: [UInt8], tag: [UInt8]) {
        self.keyID = keyID
        self.nonce = nonce
        self.ciphertext = ciphertext
        self.tag = tag
    }

    var bytes: Data { Data(Self.magic + Array(keyID.utf8) + nonce + ciphertext + tag) }

    static func authenticatedData(keyID: String, artifactID: String) -> Data {
        Data(magic + Array(keyID.utf8) + Array(artifactID.utf8))
    }

    /// Seals with a fresh random nonce (96 bits, from the system generator).
    static func seal(_ plaintext: Data, artifactID: String, key: ArtifactKey) throws -> ArtifactEnvelope {
        let box = try ChaChaPoly.seal(plaintext, using: key.symmetricKey, nonce: ChaChaPoly.Nonce(),
                                      authenticating: authenticatedData(keyID: key.id, artifactID: artifactID))
        return ArtifactEnvelope(keyID: key.id, nonce: Array(box.nonce), ciphertext: Array(box.ciphertext), tag: Array(box.tag))
    }

    /// The plaintext; throws when the key is wrong or any byte of the envelope or the id changed.
    func open(artifactID: String, key: ArtifactKey) throws -> Data {
        let box = try ChaChaPoly.SealedBox(nonce: ChaChaPoly.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
        return try ChaChaPoly.open(box, using: key.symmetricKey, authenticating: Self.authenticatedData(keyID: keyID, artifactID: artifactID))
    }
}

/// Artifacts sealed with ChaCha20-Poly1305 before they reach a blob store, under the digest of
/// their plaintext.
///
/// Plan files hold the values of input variables, secrets included, and in team mode the store
/// is a shared database, so nothing readable leaves the machine. The id stays the plaintext's
/// `sha256:` digest, the one releases are named by and approvals sign, and every read re-hashes the
/// opened plaintext against it. Blobs written before encryption was turned on (no `TGA1` magic) are
/// still read, re-hashed like any other, so an existing store can start encrypting at any time;
/// `rotate(to:)` seals them too.
public struct EncryptedArtifactStore: ArtifactStore {
    public let blobs: any BlobStore
    public let keys: ArtifactKeyring

    public init(blobs: any BlobStore, keys: ArtifactKeyring) {
        self.blobs = blobs
        self.keys = keys
    }

    /// Seals `data` with the current key and stores it under its plaintext digest. A blob already
    /// there that opens with the current key is kept as it is.
    public func put(_ data: Data) async throws -> String {
        let id = Digest.id(data)
        if let stored = try await blobs.read(id: id), let envelope = ArtifactEnvelope(parsing: stored),
           envelope.keyID == keys.current.id, (try? envelope.open(artifactID: id, key: keys.current)) == data,
           try await blobs.touch(id: id) {
            return id
        }
        let envelope = try ArtifactEnvelope.seal(data, artifactID: id, key: keys.current)
        try await blobs.write(id: id, bytes: envelope.bytes)
        return id
    }

    public func get(_ id: String) async throws -> Data {
        try Self.checkID(id)
        guard let stored = try await blobs.read(id: id) else { throw ArtifactError.missing(id, blobs.location(of: id)) }
        return try open(stored, id: id, keyring: keys).plaintext
    }

    /// Re-seals every blob that is not under `newKey` (older keys and plaintext alike) with
    /// `newKey`, reading with this store's keyring plus `newKey`, and re-hashing each plaintext.
    /// Blobs already under `newKey` are opened and checked, not rewritten, so running it again
    /// rewrites nothing. Afterwards build the store with `keys.rotated(to: newKey)` (or `newKey`
    /// alone): every blob opens with it.
    public func rotate(to newKey: ArtifactKey) async throws -> (rewritten: Int, alreadyCurrent: Int) {
        let keyring = keys.rotated(to: newKey)
        var rewritten = 0
        var alreadyCurrent = 0
        for id in try await blobs.ids().sorted() {
            try Self.checkID(id)
            // A blob removed since the listing has nothing left to rotate.
            guard let stored = try await blobs.read(id: id) else { continue }
            let (plaintext, keyID) = try open(stored, id: id, keyring: keyring)
            if keyID == newKey.id {
                alreadyCurrent += 1
                continue
            }
            let envelope = try ArtifactEnvelope.seal(plaintext, artifactID: id, key: newKey)
            try await blobs.write(id: id, bytes: envelope.bytes)
            rewritten += 1
        }
        return (rewritten, alreadyCurrent)
    }

    /// The plaintext of a stored blob, checked against `id`, and the id of the key that sealed it
    /// (nil for a plaintext blob).
    func open(_ stored: Data, id: String, keyring: ArtifactKeyring) throws -> (plaintext: Data, keyID: String?) {
        let location = blobs.location(of: id)
        // Bytes that hash to the id are the artifact by definition: a blob stored before encryption
        // was turned on (even one that happens to begin with the magic).
        let storedDigest = Digest.id(stored)
        if storedDigest == id { return (stored, nil) }
        guard ArtifactEnvelope.hasMagic(stored) else {
            throw ArtifactError.tampered(id: id, actual: storedDigest, path: location)
        }
        guard let envelope = ArtifactEnvelope(parsing: stored) else {
            throw ArtifactError.malformedEnvelope(id: id, location: location)
        }
        guard let key = keyring.key(id: envelope.keyID) else {
            throw ArtifactError.unknownKey(id: id, keyID: envelope.keyID, known: keyring.ids)
        }
        let plaintext: Data
        do {
            plaintext = try envelope.open(artifactID: id, key: key)
        } catch {
            throw ArtifactError.authenticationFailed(id: id, keyID: envelope.keyID, location: location)
        }
        let actual = Digest.id(plaintext)
        guard actual == id else { throw ArtifactError.tampered(id: id, actual: actual, path: location) }
        return (plaintext, envelope.keyID)
    }

    static func checkID(_ id: String) throws {
        guard id.hasPrefix("sha256:"), id.utf8.count == 71,
              id.utf8.dropFirst(7).allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw ArtifactError.badID(id)
        }
    }
}
