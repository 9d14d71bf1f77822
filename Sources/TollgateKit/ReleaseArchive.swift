import Foundation
import TollgateCore

/// Unpacks a release bundle (a deterministic tar) into a work dir.
enum ReleaseArchive {
    /// Writes every entry under `directory`, refusing paths that would escape it.
    static func extract(_ data: Data, to directory: String) throws {
        for entry in try TarArchive.read(data) {
            let components = entry.path.split(separator: "/")
            guard !entry.path.hasPrefix("/"), !components.contains(".."), !components.isEmpty else {
                throw TarError.malformed("unsafe path '\(entry.path)'")
            }
            let target = directory + "/" + entry.path
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try entry.contents.write(to: URL(fileURLWithPath: target))
            try FileManager.default.setAttributes([.posixPermissions: entry.executable ? 0o755 : 0o644], ofItemAtPath: target)
        }
    }
}
