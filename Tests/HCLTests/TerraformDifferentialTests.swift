import Foundation
import HCL
import TestSupport
import Testing

/// Terraform is the oracle: over a corpus of thousands of files, tollgate's parser reports a syntax
/// error exactly when `terraform fmt` (which parses a file and reports only syntax errors) rejects it,
/// on every engine listed in `TOLLGATE_TEST_ENGINES`; and python-hcl2 states the same literal values
/// for the files both parse.
@Suite struct TerraformDifferentialTests {
    /// The engines to compare with: `TOLLGATE_TEST_ENGINES` only, so that no engine configured
    /// shows as a disabled test rather than as a pass.
    static let engines: [String] = (ProcessInfo.processInfo.environment["TOLLGATE_TEST_ENGINES"] ?? "")
        .split(separator: ":").map(String.init)

    enum Origin: String, CaseIterable { case handWritten = "hand-written", generated, mutated }

    struct Entry {
        var name: String
        var text: String
        var origin: Origin
    }

    static let seed: UInt64 = 14
    /// Generated files; every second one is then changed by one random edit.
    static let generatedCount = 3_000

    /// The hand-written files (fixtures, each probe of a construct, the module file) and the generated ones.
    static let corpus: [Entry] = {
        var entries: [Entry] = []
        let manager = FileManager.default
        for folder in ["valid", "invalid", "differential", "modules"] {
            let directory = TestPaths.fixtures + "/hcl/" + folder
            for name in ((try? manager.contentsOfDirectory(atPath: directory)) ?? []).sorted() where name.hasSuffix(".tf") || name.hasSuffix(".tfvars") {
                guard let data = manager.contents(atPath: directory + "/" + name) else { continue }
                entries.append(Entry(name: "\(folder)/\(name)", text: String(decoding: data, as: UTF8.self), origin: .handWritten))
            }
        }
        var generator = HCLCorpusGenerator(seed: seed)
        for index in 0..<generatedCount {
            let text = generator.file()
            if index % 2 == 1 {
                entries.append(Entry(name: "mutated-\(index)", text: generator.mutated(text), origin: .mutated))
            } else {
                entries.append(Entry(name: "generated-\(index)", text: text, origin: .generated))
            }
        }
        return entries
    }()

    /// Writes the corpus as `NNNNN.tf` files (what `terraform fmt` reads in a directory).
    static func write(_ entries: [Entry], to directory: String) throws {
        for (index, entry) in entries.enumerated() {
            try Data(entry.text.utf8).write(to: URL(fileURLWithPath: directory + "/" + fileName(index)))
        }
    }

    static func fileName(_ index: Int) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 5 - digits.count)) + digits + ".tf"
    }

    /// Syntax newer than some engines: a file holding it may be rejected by an older engine while
    /// tollgate, which follows the newest, accepts it. Such files are counted apart, never ignored.
    static let newerSyntax: [(marker: String, since: [Int], why: String)] = [
        ("provider::", [1, 8], "provider-defined function calls (provider::NAMESPACE::NAME) came with Terraform 1.8"),
    ]

    /// The engine's version from `terraform version`, as numbers (`[1, 0, 3]`).
    static func version(of engine: String, scratch: String, environment: [String: String]) throws -> [Int] {
        let run = try TestProcess.capture(engine, ["version"], in: scratch, environment: environment, scratch: scratch)
        let first = run.stdout.split(separator: "\n").first ?? ""
        guard let text = first.split(separator: " ").first(where: { $0.hasPrefix("v") }) else { return [] }
        return text.dropFirst().split(separator: ".").compactMap { Int($0) }
    }

    /// The files `terraform fmt` rejected: each syntax error names its file on a line `  on FILE line N`.
    static func rejected(byFmtOutput output: String) -> Set<String> {
        var names: Set<String> = []
        for line in output.split(separator: "\n") where line.hasPrefix("  on ") {
            let rest = line.dropFirst(5)
            guard let end = rest.range(of: " line ") else { continue }
            names.insert(String(rest[..<end.lowerBound].split(separator: "/").last ?? ""))
        }
        return names
    }

    @Test func corpusIsLargeAndCoversEveryOrigin() {
        let counts = Dictionary(grouping: Self.corpus, by: \.origin).mapValues(\.count)
        #expect(Self.corpus.count >= 3_000)
        #expect(counts[.handWritten, default: 0] >= 250)
        #expect(counts[.generated, default: 0] >= 1_000)
        #expect(counts[.mutated, default: 0] >= 1_000)
        // The same seed gives the same files.
        var first = HCLCorpusGenerator(seed: Self.seed), second = HCLCorpusGenerator(seed: Self.seed)
        #expect((0..<20).map { _ in first.file() } == (0..<20).map { _ in second.file() })
    }

    @Test(.enabled(if: !engines.isEmpty, "no engine configured: set TOLLGATE_TEST_ENGINES to terraform binaries, colon-separated"),
          arguments: engines)
    func parserRejectsExactlyWhatTerraformRejects(engine: String) throws {
        let scratch = try TemporaryDirectory("tollgate-hcl-oracle")
        defer { scratch.remove() }
        let directory = scratch.path + "/corpus"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let entries = Self.corpus
        try Self.write(entries, to: directory)
        // An empty CLI configuration of our own: the machine's may name a file that does not exist.
        try scratch.write("cli.tfrc", "")
        var environment = ProcessInfo.processInfo.environment
        environment["TF_CLI_CONFIG_FILE"] = scratch.path + "/cli.tfrc"
        environment["CHECKPOINT_DISABLE"] = "1"
        // One process for the whole directory: -check writes nothing, -list=false names no file
        // that is merely unformatted, so every file named in the output is one with a syntax error.
        let run = try TestProcess.capture(engine, ["fmt", "-no-color", "-check", "-list=false", directory],
                                          in: scratch.path, environment: environment, scratch: scratch.path)
        let rejected = Self.rejected(byFmtOutput: run.stdout + "\n" + run.stderr)
        let version = try Self.version(of: engine, scratch: scratch.path, environment: environment)
        try #require(!version.isEmpty, "no version from \(engine) version")
        #expect(!rejected.isEmpty && rejected.count < entries.count, "terraform fmt output: \(run.stderr.suffix(2_000))")
        #expect(run.status != 0, "terraform fmt passed a corpus with syntax errors")

        var disagreements: [String] = []
        var accepted: [Origin: Int] = [:], refused: [Origin: Int] = [:]
        var singleDiagnostic = 0
        var newer: [String] = []
        for (index, entry) in entries.enumerated() {
            let file = HCLParser.parse(entry.text)
            let terraformRejects = rejected.contains(Self.fileName(index))
            if terraformRejects && !file.hasErrors,
               let known = Self.newerSyntax.first(where: { entry.text.contains($0.marker) && version.lexicographicallyPrecedes($0.since) }) {
                newer.append("\(entry.name): \(known.why)")
                continue
            }
            if terraformRejects { refused[entry.origin, default: 0] += 1 } else { accepted[entry.origin, default: 0] += 1 }
            if file.hasErrors && file.diagnostics.count == 1 { singleDiagnostic += 1 }
            for diagnostic in file.diagnostics where diagnostic.range.start.line < 1 || diagnostic.range.start.column < 1 {
                disagreements.append("\(entry.name): diagnostic without a position: \(diagnostic)")
            }
            if file.hasErrors != terraformRejects {
                let verdict = terraformRejects ? "terraform rejects it, tollgate accepts it" : "terraform accepts it, tollgate reports \(file.diagnostics.prefix(2))"
                disagreements.append("\(entry.name) (\(Self.fileName(index))): \(verdict)\n\(entry.text.prefix(400))")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements with \(engine), first: \(disagreements.prefix(8).joined(separator: "\n---\n"))")
        let summary = Origin.allCases.map { "\($0.rawValue) \(accepted[$0, default: 0]) accepted / \(refused[$0, default: 0]) rejected" }
        print("differential \(engine): \(entries.count) files (\(summary.joined(separator: ", "))); "
            + "\(entries.count - disagreements.count) agree, \(disagreements.count) disagree; "
            + "\(singleDiagnostic) of \(rejected.count) rejected files get exactly one diagnostic; "
            + "\(newer.count) use syntax newer than this engine: \(newer)")
    }

    /// Literal-only files, for comparing values with python-hcl2 (which reads ~0.1 MB/s, so the
    /// generated share stays small).
    static let literalCount = 200

    @Test func pythonHCL2AgreesOnTheLiteralsOfTheCorpus() throws {
        let python = TestPaths.tools + "/hcl2-venv/bin/python"
        try #require(FileManager.default.isExecutableFile(atPath: python), "python-hcl2 is not installed: run scripts/setup-engine.sh")
        let scratch = try TemporaryDirectory("tollgate-hcl-python")
        defer { scratch.remove() }
        var generator = HCLCorpusGenerator(seed: Self.seed)
        var entries = Self.corpus.filter { $0.origin == .handWritten }
        entries += (0..<Self.literalCount).map { Entry(name: "literal-\($0)", text: generator.literalFile(), origin: .generated) }
        var ours: [String: Any] = [:]
        var files: [String] = []
        for (index, entry) in entries.enumerated() {
            let parsed = HCLParser.parse(entry.text)
            // Only what tollgate parses: the Terraform test holds that this is what Terraform parses.
            guard !parsed.hasErrors else { continue }
            let path = scratch.path + "/" + Self.fileName(index)
            try Data(entry.text.utf8).write(to: URL(fileURLWithPath: path))
            var map: [String: Any] = [:]
            DifferentialTests.literals(parsed.body, path: [], into: &map)
            ours[path] = map
            files.append(path)
        }
        let oursPath = scratch.path + "/ours.json"
        try JSONSerialization.data(withJSONObject: ours).write(to: URL(fileURLWithPath: oursPath))
        let (status, output) = try TestProcess.run(python, [TestPaths.packageRoot + "/scripts/hcl2-differential.py", "--skip-rejected", oursPath] + files)
        #expect(status == 0, "\(output.split(separator: "\n").filter { !$0.hasPrefix("skipped ") }.prefix(20))")
        let last = output.split(separator: "\n").last.map(String.init) ?? ""
        let numbers = last.split(separator: " ").compactMap { Int($0) }
        // "compared C literal attributes in F files, P problems, S skipped"
        try #require(numbers.count == 4, "\(last)")
        #expect(numbers[0] >= 500, "\(last)")
        #expect(numbers[1] >= Self.literalCount, "\(last)")
        print("python-hcl2: \(files.count) files tollgate parses; \(last)")
    }
}
