import Foundation
import TollgateCore

/// Engine versions already read, keyed on the binary file's identity, so that each tollgate
/// process does not pay for `version -json` again (50–170 ms per process, measured on the example).
///
/// The key is the resolved path with the file's device, inode, size, and modification and status
/// change times: replacing or rewriting the binary changes the status change time, which no tool
/// can set back, so a stale entry is never used. A wrapper script that runs another binary is
/// keyed on the script; apply still compares the plan's engine version, and the engine refuses a
/// plan file from another version. The file is rewritten atomically; if it cannot be read or
/// written the version is simply read from the engine.
public struct EngineVersionCache: Sendable {
    public var file: String

    public init(file: String) { self.file = file }

    public init(settings: EngineSettings) { self.init(file: settings.cacheDirectory + "/engine-versions") }

    public func version(of binary: String) -> Version? {
        guard let key = Self.identity(of: binary) else { return nil }
        return entries()[key].flatMap { Version(parsing: $0) }
    }

    public func remember(_ version: Version, of binary: String) {
        guard let key = Self.identity(of: binary) else { return }
        var entries = entries()
        entries[key] = version.description
        let text = entries.keys.sorted().map { "\($0)\t\(entries[$0]!)\n" }.joined()
        try? FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
    }

    func entries() -> [String: String] {
        guard let data = FileManager.default.contents(atPath: file) else { return [:] }
        var entries: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "\t")
            if parts.count == 2 { entries[String(parts[0])] = String(parts[1]) }
        }
        return entries
    }

    /// `realpath|device:inode:size:mtime:ctime` (nanoseconds), or nil when the file cannot be stat'ed.
    static func identity(of path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        var info = stat()
        guard stat(resolved, &info) == 0 else { return nil }
        func nanoseconds(_ time: timespec) -> Int { time.tv_sec * 1_000_000_000 + time.tv_nsec }
        let real = String(cString: resolved)
        guard !real.contains("\t"), !real.contains("\n") else { return nil }
        return "\(real)|\(info.st_dev):\(info.st_ino):\(info.st_size):\(nanoseconds(info.st_mtim)):\(nanoseconds(info.st_ctim))"
    }
}
