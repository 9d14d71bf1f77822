import Foundation
import TollgateCore

/// Content-addressed files: `artifacts/sha256/ab/abcdef…`, written atomically, re-hashed on read.
public struct FileArtifactStore: ArtifactStore {
    public var root: String

    public init(root: String) { self.root = root }

    func path(for id: String) throws -> String {
        guard id.hasPrefix("sha256:"), id.count == 71, id.dropFirst(7).allSatisfy({ $0.isHexDigit }) else {
            throw ArtifactError.badID(id)
        }
        let hex = id.dropFirst(7)
        return "\(root)/sha256/\(hex.prefix(2))/\(hex)"
    }

    public func put(_ data: Data) async throws -> String {
        let id = Digest.id(data)
        let target = try path(for: id)
        if FileManager.default.fileExists(atPath: target), (try? read(id)) != nil { return id }
        do {
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: target), options: .atomic)
        } catch {
            throw ArtifactError.writeFailed(target, "\(error.localizedDescription)")
        }
        return id
    }

    public func get(_ id: String) async throws -> Data { try read(id) }

    func read(_ id: String) throws -> Data {
        let source = try path(for: id)
        guard let data = FileManager.default.contents(atPath: source) else { throw ArtifactError.missing(id, source) }
        let actual = Digest.id(data)
        guard actual == id else { throw ArtifactError.tampered(id: id, actual: actual, path: source) }
        return data
    }
}

/// Blobs as files in the layout of `FileArtifactStore` (`sha256/ab/abcdef…`), so an
/// `EncryptedArtifactStore` over the same root reads the artifacts written before encryption was on.
public struct FileBlobStore: BlobStore {
    public var root: String

    public init(root: String) { self.root = root }

    public func write(id: String, bytes: Data) async throws {
        let target = try FileArtifactStore(root: root).path(for: id)
        do {
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try bytes.write(to: URL(fileURLWithPath: target), options: .atomic)
        } catch {
            throw ArtifactError.writeFailed(target, "\(error.localizedDescription)")
        }
    }

    public func read(id: String) async throws -> Data? {
        let source = try FileArtifactStore(root: root).path(for: id)
        guard FileManager.default.fileExists(atPath: source) else { return nil }
        guard let data = FileManager.default.contents(atPath: source) else { throw ArtifactError.unreadable(source) }
        return data
    }

    /// The ids of the files under `sha256/`; anything else there (an interrupted write's temporary
    /// file) is not a blob.
    public func ids() async throws -> [String] {
        let base = root + "/sha256"
        let files = FileManager.default
        guard files.fileExists(atPath: base) else { return [] }
        var ids: [String] = []
        for prefix in try files.contentsOfDirectory(atPath: base) where prefix.count == 2 {
            for name in (try? files.contentsOfDirectory(atPath: base + "/" + prefix)) ?? []
            where name.count == 64 && name.hasPrefix(prefix) && name.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
                ids.append("sha256:" + name)
            }
        }
        return ids
    }

    public func location(of id: String) -> String { (try? FileArtifactStore(root: root).path(for: id)) ?? id }
}

public enum ArtifactError: Error, CustomStringConvertible, Equatable {
    case badID(String)
    case missing(String, String)
    case tampered(id: String, actual: String, path: String)
    case writeFailed(String, String)
    case unreadable(String)
    // Encrypted artifacts (EncryptedArtifactStore) and their keys; no message shows a key.
    case malformedEnvelope(id: String, location: String)
    case authenticationFailed(id: String, keyID: String, location: String)
    case unknownKey(id: String, keyID: String, known: [String])
    case keyMissing(source: String)
    case keyNotBase64(source: String)
    case keyWrongLength(source: String, byteCount: Int)

    public var description: String {
        switch self {
        case .badID(let id): "'\(id)' is not an artifact id (sha256:…)"
        case .missing(let id, let path): "artifact \(id) is missing from the store (\(path)); restore the store or re-create it"
        case .tampered(let id, let actual, let path):
            "artifact \(id) at '\(path)' now hashes to \(actual); it was modified after it was stored, so it is refused"
        case .writeFailed(let path, let reason): "cannot write artifact '\(path)': \(reason)"
        case .unreadable(let path): "cannot read artifact file '\(path)'; check its permissions"
        case .malformedEnvelope(let id, let location):
            "artifact \(id) at '\(location)' starts like an encrypted artifact but is too short or has no key id; it was damaged after it was stored, so it is refused; restore it from a backup or re-create it"
        case .authenticationFailed(let id, let keyID, let location):
            "artifact \(id) at '\(location)' fails authentication under key '\(keyID)': it was modified or damaged after it was stored, so it is refused; restore it from a backup or re-create it"
        case .unknownKey(let id, let keyID, let known):
            "artifact \(id) was encrypted with key '\(keyID)', which is not among the keys given (\(known.map { "'\($0)'" }.joined(separator: ", "))); set \(ArtifactKeyring.currentKeyVariable) to the key that wrote it, or add that key to \(ArtifactKeyring.oldKeysVariable) and rotate to the new one"
        case .keyMissing(let source):
            "no artifact key in \(source); set it to the key artifacts are encrypted with, 32 random bytes in base64 (create one with 'openssl rand -base64 32')"
        case .keyNotBase64(let source):
            "the artifact key in \(source) is not base64 (the value is not shown); set it to 32 random bytes in base64 (create one with 'openssl rand -base64 32')"
        case .keyWrongLength(let source, let count):
            "the artifact key in \(source) is \(count) bytes long, not 32 (the value is not shown); set it to 32 random bytes in base64 (create one with 'openssl rand -base64 32')"
        }
    }
}
