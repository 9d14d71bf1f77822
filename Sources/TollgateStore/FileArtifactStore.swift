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

public enum ArtifactError: Error, CustomStringConvertible, Equatable {
    case badID(String)
    case missing(String, String)
    case tampered(id: String, actual: String, path: String)
    case writeFailed(String, String)

    public var description: String {
        switch self {
        case .badID(let id): "'\(id)' is not an artifact id (sha256:…)"
        case .missing(let id, let path): "artifact \(id) is missing from the store (\(path)); restore the store or re-create it"
        case .tampered(let id, let actual, let path):
            "artifact \(id) at '\(path)' now hashes to \(actual); it was modified after it was stored, so it is refused"
        case .writeFailed(let path, let reason): "cannot write artifact '\(path)': \(reason)"
        }
    }
}
