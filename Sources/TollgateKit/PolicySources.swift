import Foundation
import TollgateCore

/// The `.rego` files of a policy directory, named by their path under it.
public enum PolicySources {
    /// Every `.rego` file under `directory`, sorted by path. With `only`, a file counts only when
    /// `prefix/relative` is among those paths (the files sealed in a release).
    public static func modules(in directory: String, prefix: String = "", only: Set<String>? = nil) throws -> [PolicyModule] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else { return [] }
        var modules: [PolicyModule] = []
        for relative in DirectoryWalk.subpaths(of: directory).sorted() where relative.hasSuffix(".rego") {
            if let only, !only.contains(prefix.isEmpty ? relative : prefix + "/" + relative) { continue }
            let path = directory + "/" + relative
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KitError.step("cannot read policy file '\(path)'; check its permissions")
            }
            guard let source = String(data: data, encoding: .utf8) else {
                throw KitError.step("policy file '\(path)' is not UTF-8 text; save it as UTF-8")
            }
            modules.append(PolicyModule(path: relative, source: source, origin: path))
        }
        return modules
    }
}
