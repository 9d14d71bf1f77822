import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateEngine

/// The engine's version is read once per binary file, and read again when the file changes.
@Suite struct EngineVersionCacheTests {
    /// A stand-in engine that prints `version` and counts its runs in `runs`.
    func writeEngine(_ directory: TemporaryDirectory, version: String) throws -> String {
        let path = directory.path + "/terraform"
        try directory.write("terraform", "#!/bin/sh\necho run >> \"\(directory.path)/runs\"\nprintf '{\"terraform_version\":\"\(version)\"}\\n'\n")
        guard chmod(path, 0o755) == 0 else { throw TestSupportError("chmod \(path) failed") }
        return path
    }

    func runs(_ directory: TemporaryDirectory) -> Int {
        (directory.read("runs") ?? "").split(separator: "\n").count
    }

    @Test func aKnownBinaryIsNotAskedAgainAndAChangedOneIs() async throws {
        let directory = try TemporaryDirectory("tollgate-version-cache")
        defer { directory.remove() }
        let engine = try writeEngine(directory, version: "1.5.7")
        let cache = EngineVersionCache(file: directory.path + "/cache/engine-versions")
        let locator = EngineLocator(environment: ["TOLLGATE_ENGINE": engine], versionCache: cache)

        let first = try await locator.locate(EngineSpec(), baseDirectory: directory.path)
        let second = try await locator.locate(EngineSpec(), baseDirectory: directory.path)
        #expect(first.version == Version([1, 5, 7]) && second.version == Version([1, 5, 7]))
        #expect(runs(directory) == 1)
        #expect(cache.version(of: engine) == Version([1, 5, 7]))

        // Replaced in place by another version: the file's identity changed, so it is asked again.
        _ = try writeEngine(directory, version: "1.6.0")
        let replaced = try await locator.locate(EngineSpec(), baseDirectory: directory.path)
        #expect(replaced.version == Version([1, 6, 0]))
        #expect(runs(directory) == 2)

        // The cached version still meets the constraint check: a refused version is refused from the cache too.
        let constrained = EngineSpec(version: Located(try #require(VersionConstraint(parsing: "< 1.6.0"))))
        await #expect(throws: EngineError.self) { try await locator.locate(constrained, baseDirectory: directory.path) }
        #expect(runs(directory) == 2)
    }

    @Test func aBrokenCacheFileIsIgnoredAndRewritten() async throws {
        let directory = try TemporaryDirectory("tollgate-version-cache")
        defer { directory.remove() }
        let engine = try writeEngine(directory, version: "1.0.3")
        try directory.write("cache/engine-versions", "garbage without tabs\n\u{0}\u{1}\nother\tnot-a-version\n")
        let cache = EngineVersionCache(file: directory.path + "/cache/engine-versions")
        let info = try await EngineLocator(environment: ["TOLLGATE_ENGINE": engine], versionCache: cache)
            .locate(EngineSpec(), baseDirectory: directory.path)
        #expect(info.version == Version([1, 0, 3]))
        #expect(cache.version(of: engine) == Version([1, 0, 3]))
        #expect(cache.version(of: directory.path + "/missing") == nil)
    }
}
