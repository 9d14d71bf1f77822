import Foundation

/// The paths under a directory, as `FileManager.subpaths(atPath:)` lists them, without dangling
/// symbolic links.
///
/// A link whose target is gone (a deleted module, a checkout on another machine) is not a file
/// to read: reading it fails with a raw system error that names neither the link nor the cause.
/// It is left out and reported once on stderr, and the walk goes on.
public enum DirectoryWalk {
    /// Relative paths under `root`; each dangling link is passed to `warn` (by default printed to
    /// stderr as `tollgate: warning: …`) and left out.
    public static func subpaths(of root: String, warn: (String) -> Void = DirectoryWalk.printWarning) -> [String] {
        let manager = FileManager.default
        return (manager.subpaths(atPath: root) ?? []).filter { relative in
            let full = root + "/" + relative
            guard let target = try? manager.destinationOfSymbolicLink(atPath: full), !manager.fileExists(atPath: full) else { return true }
            warn("tollgate: warning: skipping '\(full)': it is a symbolic link to '\(target)', which does not exist; remove the link or restore its target")
            return false
        }
    }

    public static func printWarning(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
