import Foundation
import TestSupport
import Testing

/// The built binary on files nested past the parsers' limit: an error naming the place, never a
/// signal. Each run is a child process, so a regression fails these tests instead of the runner.
@Suite struct DeepNestingCommandTests {
    func write(_ construct: String, depth: Int, under directory: String) throws -> String {
        let path = directory + "/" + DeepNesting.fileName(construct)
        try Data(DeepNesting.text(construct, depth: depth).utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: DeepNesting.constructs)
    func parseHCLReportsTheLimit(construct: String) throws {
        let sandbox = try Sandbox(engine: nil, label: "tollgate-deep")
        defer { sandbox.remove() }
        let file = try write(construct, depth: 1_000, under: sandbox.repository)
        let result = try sandbox.cli.run("parse-hcl", file)
        #expect(result.status == 1, "\(construct): \(result.stderr)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix(file + ":") }.count == 1, "\(construct): \(result.stderr)")
        #expect(lines.contains { $0.hasPrefix(file + ":") && $0.hasSuffix(": nested deeper than 128") }, "\(construct): \(result.stderr)")
    }

    @Test func lintReportsEachDeepFileAndPassesJustUnder() throws {
        let sandbox = try Sandbox(engine: TestEngines.all.first, label: "tollgate-deep-lint")
        defer { sandbox.remove() }
        #expect(try sandbox.cli.run("init", "--example").status == 0)
        let stack = sandbox.repository + "/stacks/app"
        for construct in DeepNesting.constructs { _ = try write(construct, depth: 120, under: stack) }
        let under = try sandbox.cli.run("lint", "--format", "json")
        #expect(under.status == 0 || under.status == 1, "\(under.stderr)")
        #expect(try under.jsonArray().filter { $0["rule"] as? String == "hcl-syntax" }.isEmpty, "\(under.stdout)")

        for construct in DeepNesting.constructs { _ = try write(construct, depth: 1_000, under: stack) }
        let deep = try sandbox.cli.run("lint", "--format", "json")
        #expect(deep.status == 1, "\(deep.stderr)")
        let syntax = try deep.jsonArray().filter { $0["rule"] as? String == "hcl-syntax" }
        let files = Set(syntax.compactMap { $0["file"] as? String })
        #expect(files == Set(DeepNesting.constructs.map { "stacks/app/" + DeepNesting.fileName($0) }), "\(syntax)")
        #expect(syntax.allSatisfy { $0["message"] as? String == "nested deeper than 128" }, "\(syntax)")
    }

    @Test func divergeAndReportReadDeepWorkingTrees() throws {
        let sandbox = try Sandbox(engine: TestEngines.all.first, label: "tollgate-deep-diverge")
        defer { sandbox.remove() }
        #expect(try sandbox.cli.run("init", "--example").status == 0)
        // One pinned clock for both runs, so the reports' times cannot differ between them.
        var cli = sandbox.cli
        cli.pinClock("2026-12-01T00:00:00Z")
        let before = (try cli.run("diverge", "--format", "json"), try cli.run("report"))
        for construct in DeepNesting.constructs { _ = try write(construct, depth: 1_000, under: sandbox.repository + "/stacks/app") }
        let diverge = try cli.run("diverge", "--format", "json")
        #expect(diverge.status == before.0.status, "\(diverge.stderr)")
        #expect(diverge.stdout == before.0.stdout)
        let report = try cli.run("report")
        #expect(report.status == before.1.status, "\(report.stderr)")
    }

    @Test func assessReportsTheDeepFiles() throws {
        let sandbox = try Sandbox(engine: nil, label: "tollgate-deep-assess")
        defer { sandbox.remove() }
        for env in ["dev", "prod"] {
            let directory = sandbox.repository + "/envs/" + env
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for construct in DeepNesting.constructs where construct != "json" { _ = try write(construct, depth: 1_000, under: directory) }
        }
        let result = try sandbox.cli.run("assess", sandbox.repository, "--format", "json")
        #expect(result.status == 0, "\(result.stderr)")
        let findings = try result.json()["findings"] as? [[String: Any]] ?? []
        let deep = findings.filter { $0["message"] as? String == "nested deeper than 128" }
        #expect(deep.count == 2 * (DeepNesting.constructs.count - 1), "\(findings.prefix(3))")
    }
}

/// Directory walks leave dangling symbolic links out, with a warning naming them.
@Suite struct DanglingSymlinkTests {
    @Test func parseHCLSkipsADanglingLink() throws {
        let sandbox = try Sandbox(engine: nil, label: "tollgate-dangling")
        defer { sandbox.remove() }
        try Data("a = 1\n".utf8).write(to: URL(fileURLWithPath: sandbox.repository + "/main.tf"))
        let link = sandbox.repository + "/gone.tf"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: sandbox.repository + "/missing.tf")
        let result = try sandbox.cli.run("parse-hcl", sandbox.repository)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("1 files, 6 bytes, 1 top-level items, 0 diagnostics"), "\(result.stdout)")
        #expect(result.stderr.contains("tollgate: warning: skipping '\(link)': it is a symbolic link to '\(sandbox.repository)/missing.tf', which does not exist"), "\(result.stderr)")
    }

    @Test func lintSkipsADanglingLink() throws {
        let sandbox = try Sandbox(engine: TestEngines.all.first, label: "tollgate-dangling-lint")
        defer { sandbox.remove() }
        #expect(try sandbox.cli.run("init", "--example").status == 0)
        let before = try sandbox.cli.run("lint", "--format", "json")
        let link = sandbox.repository + "/stacks/app/gone.tf"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "missing.tf")
        let after = try sandbox.cli.run("lint", "--format", "json")
        #expect(after.status == before.status)
        #expect(after.stdout == before.stdout)
        #expect(after.stderr.contains("tollgate: warning: skipping '\(link)': it is a symbolic link to 'missing.tf', which does not exist"), "\(after.stderr)")
    }
}
