import Foundation
import TestSupport
import Testing
import TollgateLint

/// Precision and recall on a corpus of modules written in the style of widely used public AWS and
/// GCP modules (Tests/Fixtures/lint/corpus): the findings must be exactly the hand-labelled ones
/// in corpus.expected, no more (precision) and no fewer (recall).
@Suite struct LintCorpusTests {
    static let directory = TestPaths.fixtures + "/lint/corpus"

    static func files() throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for relative in FileManager.default.subpaths(atPath: directory) ?? [] {
            let full = directory + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let data = FileManager.default.contents(atPath: full) else { continue }
            files[relative] = Array(data)
        }
        guard !files.isEmpty else { throw TestSupportError("missing corpus at \(directory)") }
        return files
    }

    static func labels() throws -> [String] {
        let text = try String(contentsOfFile: TestPaths.fixtures + "/lint/corpus.expected", encoding: .utf8)
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }.sorted()
    }

    @Test func findingsAreExactlyTheLabelledOnes() throws {
        let files = try Self.files()
        let discovery = LintDiscovery.discover(files: files, rootName: "corpus")
        #expect(discovery.stacks.map(\.path) == ["examples/complete", "stacks/app", "stacks/legacy"])
        #expect(discovery.environments == ["dev", "stage", "prod"])
        #expect(discovery.environmentSource == .config)
        let found = Linter(input: discovery.input(files: files)).run().map { "\($0.file):\($0.range.start.line) \($0.rule)" }.sorted()
        let expected = try Self.labels()
        #expect(expected.count == 27)
        let unexpected = found.filter { !expected.contains($0) }, missed = expected.filter { !found.contains($0) }
        #expect(unexpected == [], "false positives")
        #expect(missed == [], "false negatives")
        #expect(found == expected)
    }
}
