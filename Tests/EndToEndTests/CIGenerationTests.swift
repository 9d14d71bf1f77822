import Foundation
import Testing
import TestSupport

/// `tollgate ci` on the built binary: the generated pipelines pass independent validators
/// (actionlint, check-jsonschema's GitHub and GitLab schemas, zizmor), re-runs are byte-identical,
/// hand edits are named and kept without --force, and `ci check` tells in-date from stale.
///
/// The validators come from `scripts/setup-engine.sh` (`.tools/ci-venv`). Outside CI their absence
/// leaves the validator tests out; in CI (`CI` set) it fails them.
@Suite struct CIGenerationTests {
    static let venv = TestPaths.tools + "/ci-venv/bin"
    static let validators = ["actionlint", "check-jsonschema", "zizmor"].map { venv + "/" + $0 }
    static let haveValidators = validators.allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    static let required = ProcessInfo.processInfo.environment["CI"] != nil

    typealias Shape = (environments: [(name: String, gate: PipelineText.Gate)], stacks: [(name: String, dependsOn: [String])])

    /// Pipelines from one to five environments, every gate, one to five stacks with depends_on.
    static let shapes: [String: Shape] = [
        "one-approval": ([("prod", .approval)], [("main", [])]),
        "two-auto-on-merge": ([("dev", .auto), ("prod", .onMerge)], [("network", []), ("app", ["network"])]),
        "three-waves": (PipelineText.threeEnvironments, PipelineText.waveStacks),
        "four-two-approvals": ([("dev", .auto), ("stage", .onMerge), ("prod", .approval), ("dr", .approval)],
                               [("a", []), ("b", []), ("c", ["a", "b"])]),
        "five-after-approval": ([("dev", .auto), ("qa", .auto), ("stage", .onMerge), ("prod", .approval), ("edge", .onMerge)],
                                PipelineText.waveStacks),
    ]

    /// A repository with the pipeline file and the layout `tollgate validate` expects.
    static func repository(_ shape: Shape) throws -> (TemporaryDirectory, CLI) {
        let repo = try TemporaryDirectory("tollgate-ci")
        try repo.write("tollgate.yaml", PipelineText.yaml(environments: shape.environments, stacks: shape.stacks))
        try repo.write(".tollgate/allowed_signers", "")
        for stack in shape.stacks { try repo.write("stacks/\(stack.name)/main.tf", "") }
        let cli = CLI(directory: repo.path, engine: nil, cache: repo.path + "/.cache")
        return (repo, cli)
    }

    static func run(_ executable: String, _ arguments: [String], in directory: String) throws -> (status: Int32, stdout: String, stderr: String) {
        try TestProcess.capture(executable, arguments, in: directory, scratch: NSTemporaryDirectory())
    }

    static let github = [".github/workflows/tollgate-pr.yml", ".github/workflows/tollgate-main.yml", ".github/workflows/tollgate-apply.yml"]
    static let gitlab = [".gitlab-ci.yml", ".gitlab/tollgate-ci.yml"]

    struct ZizmorFinding: Decodable {
        struct Determinations: Decodable { var severity: String }
        var ident: String
        var determinations: Determinations
    }

    @Test(.enabled(if: haveValidators || required), arguments: shapes.keys.sorted())
    func validatorsFindNothing(shape name: String) throws {
        for validator in Self.validators {
            guard FileManager.default.isExecutableFile(atPath: validator) else {
                throw TestSupportError("\(validator) is missing; run scripts/setup-engine.sh")
            }
        }
        let (repo, cli) = try Self.repository(Self.shapes[name]!)
        defer { repo.remove() }
        for provider in ["github", "gitlab"] {
            let generated = try cli.run("ci", provider)
            #expect(generated.status == 0, "\(generated.stderr)")
        }

        let actionlint = try Self.run(Self.venv + "/actionlint", ["-no-color"] + Self.github, in: repo.path)
        #expect(actionlint.status == 0, "actionlint on \(name): \(actionlint.stdout)\(actionlint.stderr)")

        let githubSchema = try Self.run(Self.venv + "/check-jsonschema", ["--builtin-schema", "vendor.github-workflows"] + Self.github, in: repo.path)
        #expect(githubSchema.status == 0, "github-workflows schema on \(name): \(githubSchema.stdout)\(githubSchema.stderr)")
        let gitlabSchema = try Self.run(Self.venv + "/check-jsonschema", ["--builtin-schema", "vendor.gitlab-ci"] + Self.gitlab, in: repo.path)
        #expect(gitlabSchema.status == 0, "gitlab-ci schema on \(name): \(gitlabSchema.stdout)\(gitlabSchema.stderr)")

        let zizmor = try Self.run(Self.venv + "/zizmor", ["--offline", "--format", "json", ".github/workflows"], in: repo.path)
        let findings = try JSONDecoder().decode([ZizmorFinding].self, from: Data(zizmor.stdout.utf8))
        let serious = findings.filter { ["medium", "high"].contains($0.determinations.severity.lowercased()) }
        #expect(serious.isEmpty, "zizmor on \(name): \(serious.map { "\($0.ident) (\($0.determinations.severity))" })")
        // zizmor exits 0 only with no findings at all at the default persona; anything else is a finding or a failure.
        #expect(zizmor.status == 0, "zizmor on \(name) exited \(zizmor.status): \(zizmor.stderr)")
    }

    struct Report: Decodable, Equatable {
        struct Entry: Decodable, Equatable {
            var provider: String
            var path: String
            var state: String
            var action: String?
        }

        var in_date: Bool
        var files: [Entry]
    }

    @Test func reRunsAreByteIdenticalAndHandEditsAreKept() throws {
        let (repo, cli) = try Self.repository(Self.shapes["three-waves"]!)
        defer { repo.remove() }
        let first = try cli.run("ci", "github", "--format", "json")
        #expect(first.status == 0, "\(first.stderr)")
        let written = try JSONDecoder().decode(Report.self, from: Data(first.stdout.utf8))
        #expect(written.files.map(\.path) == Self.github)
        #expect(written.files.map(\.action) == ["written", "written", "written"])
        #expect(written.files.map(\.state) == ["missing", "missing", "missing"])
        let before = Self.github.map { repo.read($0) }

        let second = try cli.run("ci", "github")
        #expect(second.status == 0)
        #expect(second.stdout == Self.github.map { "unchanged \($0)\n" }.joined())
        #expect(Self.github.map { repo.read($0) } == before)

        // A hand edit: named, refused (exit 1), the file left as edited.
        let main = ".github/workflows/tollgate-main.yml"
        let edited = try #require(repo.read(main)).replacingOccurrences(of: "runs-on: ubuntu-latest", with: "runs-on: self-hosted")
        try repo.write(main, edited)
        let refused = try cli.run("ci", "github")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("tollgate: error: '\(main)' was changed by hand or not written by tollgate; "
            + "move the change into tollgate.yaml or the scripts the pipeline calls, or re-run with --force to overwrite"), "\(refused.stderr)")
        #expect(repo.read(main) == edited)

        let check = try cli.run("ci", "check", "--format", "json")
        #expect(check.status == 1)
        let judged = try JSONDecoder().decode(Report.self, from: Data(check.stdout.utf8))
        #expect(!judged.in_date)
        #expect(judged.files.map(\.state) == ["in-date", "hand-edited", "in-date"])

        let forced = try cli.run("ci", "github", "--force")
        #expect(forced.status == 0)
        #expect(forced.stdout == "unchanged \(Self.github[0])\nwritten \(main) (over a hand edit, --force)\nunchanged \(Self.github[2])\n")
        #expect(Self.github.map { repo.read($0) } == before)
    }

    @Test func checkTellsInDateFromStaleAndMissing() throws {
        let (repo, cli) = try Self.repository(Self.shapes["two-auto-on-merge"]!)
        defer { repo.remove() }
        let none = try cli.run("ci", "check")
        #expect(none.status == 1)
        #expect(none.stderr.contains("no pipeline generated by tollgate under"))

        #expect(try cli.run("ci", "github").status == 0)
        #expect(try cli.run("ci", "gitlab").status == 0)
        let inDate = try cli.run("ci", "check")
        #expect(inDate.status == 0, "\(inDate.stderr)")
        #expect(inDate.stdout == (Self.github + Self.gitlab).map { "in-date  \($0)\n" }.joined())

        // A new stack makes every generated file stale until the pipelines are generated again.
        try repo.write("tollgate.yaml", PipelineText.yaml(environments: Self.shapes["two-auto-on-merge"]!.environments,
                                                          stacks: [("network", []), ("app", ["network"]), ("jobs", ["app"])]))
        try repo.write("stacks/jobs/main.tf", "")
        try FileManager.default.removeItem(atPath: repo.path + "/.github/workflows/tollgate-apply.yml")
        let stale = try cli.run("ci", "check", "--format", "json")
        #expect(stale.status == 1)
        let judged = try JSONDecoder().decode(Report.self, from: Data(stale.stdout.utf8))
        #expect(judged.files == [
            .init(provider: "github", path: Self.github[0], state: "in-date", action: nil),
            .init(provider: "github", path: Self.github[1], state: "stale", action: nil),
            .init(provider: "github", path: Self.github[2], state: "missing", action: nil),
            .init(provider: "gitlab", path: Self.gitlab[0], state: "in-date", action: nil),
            .init(provider: "gitlab", path: Self.gitlab[1], state: "stale", action: nil),
        ])
        let text = try cli.run("ci", "check", "--provider", "github")
        #expect(text.status == 1)
        #expect(text.stderr == "tollgate: error: the CI pipelines are not in date with tollgate.yaml: '\(Self.github[1])' (stale), '\(Self.github[2])' (missing); "
            + "run 'tollgate ci github' or 'tollgate ci gitlab' and commit the result\n")

        #expect(try cli.run("ci", "github").status == 0)
        #expect(try cli.run("ci", "gitlab").status == 0)
        #expect(try cli.run("ci", "check").status == 0)
    }

    /// GitLab: a root `.gitlab-ci.yml` of the user's own is refused unless it includes tollgate's file.
    @Test func gitlabKeepsARootThatIncludesIt() throws {
        let (repo, cli) = try Self.repository(Self.shapes["one-approval"]!)
        defer { repo.remove() }
        try repo.write(".gitlab-ci.yml", "build:\n  script: [make]\n")
        let refused = try cli.run("ci", "gitlab")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("'.gitlab-ci.yml' was changed by hand or not written by tollgate"))
        #expect(repo.read(".gitlab/tollgate-ci.yml") == nil)

        try repo.write(".gitlab-ci.yml", "include:\n  - local: .gitlab/tollgate-ci.yml\nbuild:\n  script: [make]\n")
        let kept = try cli.run("ci", "gitlab")
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(kept.stdout == "kept .gitlab-ci.yml (your own file; it includes the generated one)\nwritten .gitlab/tollgate-ci.yml\n")
        #expect(try cli.run("ci", "check").status == 0)
    }

    /// The demo repository `tollgate init --example` writes, with --out at a parent directory.
    @Test func exampleFromAParentDirectory() throws {
        let root = try TemporaryDirectory("tollgate-ci-example")
        defer { root.remove() }
        let cli = CLI(directory: root.path, engine: nil, cache: root.path + "/.cache")
        #expect(try cli.run("init", "--example", "--dir", "infra").status == 0)
        let generated = try cli.run("ci", "github", "--config", "infra/tollgate.yaml", "--out", ".")
        #expect(generated.status == 0, "\(generated.stderr)")
        let main = try #require(root.read(".github/workflows/tollgate-main.yml"))
        #expect(main.contains("defaults:\n  run:\n    working-directory: infra\n"))
        let outside = try cli.run("ci", "github", "--config", "infra/tollgate.yaml", "--out", "infra/stacks")
        #expect(outside.status == 1)
        #expect(outside.stderr.contains("is not inside"))
    }
}
