import Foundation
import Testing
import TestSupport

/// Artifacts at rest: with a key configured, release bundles and plan files (which hold variable
/// values) are sealed, still apply, and can be re-sealed under a new key.
@Suite struct ArtifactEncryptionTests {
    static let marker = "tag-that-must-not-be-stored-in-the-clear-4711"

    /// Every artifact file's bytes, by path.
    static func artifacts(_ repo: PromotionRepo) throws -> [String: Data] {
        let root = repo.repository + "/.tollgate/artifacts"
        var files: [String: Data] = [:]
        for case let path as String in FileManager.default.enumerator(atPath: root) ?? NSEnumerator() where !path.hasSuffix("/") {
            var directory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &directory), !directory.boolValue {
                files[path] = try Data(contentsOf: URL(fileURLWithPath: root + "/" + path))
            }
        }
        return files
    }

    static func newKey(_ repo: PromotionRepo) throws -> String {
        let printed = try repo.cli.run("ledger", "new-key")
        guard printed.status == 0 else { throw TestSupportError("new-key: \(printed.stderr)") }
        return printed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func sealedArtifactsApplyAndRotate() throws {
        var repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        let clear = try Self.artifacts(repo)
        let first = try Self.newKey(repo)
        repo.cli.environment["TOLLGATE_ARTIFACT_KEY"] = first
        try repo.edit("config/dev/app.tfvars", commit: "a telling tag") { $0.replacingOccurrences(of: "\"v1\"", with: "\"\(Self.marker)\"") }
        let release = try repo.cutRelease()
        try repo.promote(release, to: "dev")
        let sealedBefore = try Self.artifacts(repo)
        // The bundle, plan files and plan JSON of this release are sealed: none holds the value in the clear.
        let written = sealedBefore.filter { clear[$0.key] == nil }
        #expect(written.count >= 5, "\(sealedBefore.keys.sorted())")
        #expect(written.values.allSatisfy { $0.starts(with: Data("TGA1".utf8)) })
        #expect(sealedBefore.values.allSatisfy { $0.range(of: Data(Self.marker.utf8)) == nil })

        // A new key re-seals everything; the old key alone then cannot read it, the new one can.
        let plan = try repo.plan("dev", "network", release: release)
        let stored = try Self.artifacts(repo)
        let second = try Self.newKey(repo)
        repo.cli.environment["TOLLGATE_ARTIFACT_NEW_KEY"] = second
        let rotated = try repo.cli.run("ledger", "rotate-key", "--format", "json")
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let counts = try rotated.json()
        #expect(counts["rewritten"] as? Int == stored.count)
        #expect(counts["already_current"] as? Int == 0)
        let again = try repo.cli.run("ledger", "rotate-key", "--format", "json")
        #expect(try again.json()["rewritten"] as? Int == 0)
        let withOld = try repo.cli.run("apply", plan)
        #expect(withOld.status != 0)
        #expect(withOld.stderr.contains("TOLLGATE_ARTIFACT_KEY"), "\(withOld.stderr)")
        repo.cli.environment["TOLLGATE_ARTIFACT_KEY"] = second
        let applied = try repo.cli.run("apply", plan)
        #expect(applied.status == 0, "\(applied.stderr)")
    }

    @Test func aBadKeyIsAClearErrorThatNeverShowsIt() throws {
        var repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        repo.cli.environment["TOLLGATE_ARTIFACT_KEY"] = "c2hvcnQ="
        let result = try repo.cli.run("status")
        #expect(result.status == 1)
        #expect(result.stderr.contains("TOLLGATE_ARTIFACT_KEY"))
        #expect(!result.stderr.contains("c2hvcnQ="))
    }
}
