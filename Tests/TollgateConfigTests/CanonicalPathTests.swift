import Foundation
import Testing
import TestSupport
@testable import TollgateConfig

/// `CanonicalPath` answers what realpath(3) answers wherever the path exists, and places a path
/// that does not exist yet under its resolved ancestor, whether or not the directory was seen before.
@Suite struct CanonicalPathTests {
    @Test func resolvesSymlinksAsRealpathDoesAndKeepsWhatDoesNotExist() throws {
        let scratch = try TemporaryDirectory("tollgate-canonical")
        defer { scratch.remove() }
        let manager = FileManager.default
        let root = realpathString(scratch.path)
        try scratch.write("real/dev/terraform.tfstate", "{}")
        try scratch.write("real/prod/other.tfstate", "{}")
        try manager.createSymbolicLink(atPath: root + "/linked", withDestinationPath: root + "/real")
        try manager.createSymbolicLink(atPath: root + "/real/prod/terraform.tfstate", withDestinationPath: "../dev/terraform.tfstate")
        try manager.createSymbolicLink(atPath: root + "/real/prod/dangling.tfstate", withDestinationPath: root + "/nowhere/x")

        let canonical = CanonicalPath()
        let cases: [(path: String, expected: String)] = [
            (root + "/real/dev/terraform.tfstate", root + "/real/dev/terraform.tfstate"),
            (root + "/linked/dev/terraform.tfstate", root + "/real/dev/terraform.tfstate"),
            (root + "/linked/prod/terraform.tfstate", root + "/real/dev/terraform.tfstate"),
            (root + "/linked/prod/other.tfstate", root + "/real/prod/other.tfstate"),
            (root + "/linked/prod/new.tfstate", root + "/real/prod/new.tfstate"),
            (root + "/linked/stage/a/b.tfstate", root + "/real/stage/a/b.tfstate"),
            (root + "/linked/prod/dangling.tfstate", root + "/real/prod/dangling.tfstate"),
            (root + "/linked", root + "/real"),
        ]
        // Twice over, so the second round answers from the remembered directories.
        for round in 1...2 {
            for (path, expected) in cases {
                #expect(canonical.resolve(path) == expected, "round \(round): \(path)")
            }
        }
        for (path, _) in cases where manager.fileExists(atPath: path) {
            #expect(canonical.resolve(path) == realpathString(path), "\(path)")
        }
        #expect(canonical.resolve("/") == "/")
        #expect(canonical.resolve("") == "")
    }

    func realpathString(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
