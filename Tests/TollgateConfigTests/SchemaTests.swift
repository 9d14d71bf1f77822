import Foundation
import TestSupport
import Testing
import TollgateConfig

/// docs/tollgate.schema.json against the documented examples, and the examples against the parser.
@Suite struct SchemaTests {
    static let examples = TestPaths.packageRoot + "/docs/examples"

    func yamlFiles(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }.sorted().map { directory + "/" + $0 }
    }

    func checkSchema(_ arguments: [String]) throws -> (Int32, String) {
        try TestProcess.run("/usr/bin/env", ["python3", TestPaths.packageRoot + "/scripts/check-schema.py",
                                             TestPaths.packageRoot + "/docs/tollgate.schema.json"] + arguments)
    }

    @Test func examplesValidateAgainstTheSchema() throws {
        let files = try yamlFiles(Self.examples)
        #expect(files.count >= 4)
        let (status, output) = try checkSchema(files)
        #expect(status == 0, "\(output)")
        #expect(output.components(separatedBy: ": ok").count - 1 == files.count)
    }

    @Test func invalidExamplesFailTheSchema() throws {
        let files = try yamlFiles(Self.examples + "/invalid")
        #expect(files.count >= 3)
        let (status, output) = try checkSchema(["--expect-invalid"] + files)
        #expect(status == 0, "\(output)")
        // And the inverse: the valid examples are not "invalid", so the check can fail.
        let (inverse, _) = try checkSchema(["--expect-invalid"] + (try yamlFiles(Self.examples)))
        #expect(inverse == 1)
    }

    @Test func examplesAreValidForTheParserToo() throws {
        for file in try yamlFiles(Self.examples) {
            let result = PipelineLoader.load(path: file)
            #expect(result.diagnostics.isEmpty, "\(file): \(result.diagnostics)")
        }
        for file in try yamlFiles(Self.examples + "/invalid") {
            #expect(PipelineLoader.load(path: file).diagnostics.hasErrors, "\(file) should not be valid")
        }
    }
}
