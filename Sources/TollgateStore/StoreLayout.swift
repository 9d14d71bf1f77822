import Foundation

/// Where a repository's tollgate state lives on disk: `.tollgate/` beside the pipeline file.
///
/// The ledger (SQLite by default) and the content-addressed artifact store will live here; for now
/// it owns the directory, the work-dir root and the writability check `tollgate doctor` runs.
public struct StoreLayout: Sendable, Equatable {
    public var root: String

    public init(root: String) { self.root = root }

    /// The layout for a repository, honouring `TOLLGATE_HOME` (a directory) when set.
    public static func forRepository(_ repository: String, environment: [String: String]) -> StoreLayout {
        if let home = environment["TOLLGATE_HOME"], !home.isEmpty { return StoreLayout(root: home) }
        return StoreLayout(root: repository + "/.tollgate")
    }

    public var ledgerPath: String { root + "/ledger.sqlite" }
    public var artifactsDirectory: String { root + "/artifacts" }
    public var workDirectory: String { root + "/work" }

    /// Creates the directory if needed and proves a file can be written and removed in it.
    public func checkWritable() throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let probe = root + "/.write-probe-\(getpid())"
        guard FileManager.default.createFile(atPath: probe, contents: Data("ok".utf8)) else {
            throw StoreError.notWritable(root)
        }
        try FileManager.default.removeItem(atPath: probe)
    }
}

public enum StoreError: Error, CustomStringConvertible, Equatable {
    case notWritable(String)

    public var description: String {
        switch self {
        case .notWritable(let path):
            "cannot write to '\(path)'; fix its permissions or set TOLLGATE_HOME to a writable directory"
        }
    }
}
