import Foundation
import HCL
import TestSupport
import Testing

/// Every valid corpus file (and the real `.tf` files of the plan fixtures) through both parsers:
/// python-hcl2 must accept each, and every literal attribute must have the same value.
@Suite struct DifferentialTests {
    /// Valid HCL that python-hcl2 8.1.4 itself rejects; each is a limitation of python-hcl2.
    static let knownUnsupported = [
        "strip-markers.tf": "python-hcl2 rejects the '~' strip markers of templates, which Terraform accepts",
    ]

    static var files: [String] {
        let manager = FileManager.default
        var files: [String] = []
        let valid = TestPaths.fixtures + "/hcl/valid"
        files += ((try? manager.contentsOfDirectory(atPath: valid)) ?? []).sorted()
            .filter { knownUnsupported[$0] == nil }.map { valid + "/" + $0 }
        let sources = TestPaths.fixtures + "/plans/src"
        files += ((manager.subpaths(atPath: sources)) ?? []).filter { $0.hasSuffix(".tf") }.sorted().map { sources + "/" + $0 }
        return files
    }

    static func json(_ value: HCLValue) -> Any {
        switch value {
        case .null: NSNull()
        case .bool(let flag): flag
        case .number(let text): Double(text) ?? text
        case .string(let text): text
        case .tuple(let items): items.map(json)
        case .object(let members): Dictionary(members.map { ($0.0, json($0.1)) }, uniquingKeysWith: { _, last in last })
        }
    }

    /// Each attribute's literal value (or null when it is not a literal), by dotted path through the blocks.
    static func literals(_ body: HCLBody, path: [String], into out: inout [String: Any]) {
        for item in body.items {
            switch item {
            case .attribute(let attribute):
                let key = (path + [attribute.name]).joined(separator: ".")
                out[key] = attribute.value.literalValue.map { ["value": json($0)] } ?? NSNull()
            case .block(let block):
                literals(block.body, path: path + [block.type] + block.labels, into: &out)
            }
        }
    }

    @Test func pythonHCL2AgreesOnEveryLiteral() throws {
        let python = TestPaths.tools + "/hcl2-venv/bin/python"
        try #require(FileManager.default.isExecutableFile(atPath: python), "python-hcl2 is not installed: run scripts/setup-engine.sh")
        let files = Self.files
        #expect(files.count >= 20)
        var ours: [String: Any] = [:]
        for file in files {
            let parsed = HCLParser.parse(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: file))))
            #expect(parsed.diagnostics.isEmpty, "\(file): \(parsed.diagnostics)")
            var map: [String: Any] = [:]
            Self.literals(parsed.body, path: [], into: &map)
            ours[file] = map
        }
        let directory = try TemporaryDirectory("tollgate-hcl-diff")
        defer { directory.remove() }
        let oursPath = directory.path + "/ours.json"
        try JSONSerialization.data(withJSONObject: ours).write(to: URL(fileURLWithPath: oursPath))
        let (status, output) = try TestProcess.run(python, [TestPaths.packageRoot + "/scripts/hcl2-differential.py", oursPath] + files)
        #expect(status == 0, "\(output)")
        // The comparison must have compared something, or it proves nothing.
        let compared = output.split(separator: "\n").last.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
        #expect(compared >= 50, "\(output)")
    }
}
