import Foundation
import TollgateCore

/// The artifacts a preview sees: the bundle it sealed, held in memory, over the store in use for
/// everything else (the releases the governance in force was sealed in). It stores nothing.
public struct PreviewArtifactStore: ArtifactStore {
    public var base: any ArtifactStore
    /// Bundles sealed by this preview, by id.
    public var sealed: [String: Data]

    public init(base: any ArtifactStore, sealed: [String: Data] = [:]) {
        self.base = base
        self.sealed = sealed
    }

    public func put(_ data: Data) async throws -> String {
        throw KitError.step("a preview stores no artifacts, but it tried to store \(data.count) bytes; this is a bug in tollgate, report it with the command line")
    }

    public func get(_ id: String) async throws -> Data {
        if let data = sealed[id] { return data }
        return try await base.get(id)
    }
}
