import Foundation
import TestSupport
import Testing

/// `tollgate assess` on the fixtures under Tests/Fixtures/assess/ (a directory per environment, workspaces, a
/// branch per environment, a Terragrunt live repository): what it finds, that it prints the same bytes on
/// every run, and that each draft passes `tollgate validate`, or `assess` fails saying why.
@Suite struct AssessLayoutTests {
    /// The report's structure as JSON holds it.
    struct Report: Decodable, Equatable {
        struct Stack: Decodable, Equatable {
            var name: String
            var paths: [String: String]
            var dependsOn: [String]
            var source: String?
        }

        struct Account: Decodable, Equatable {
            var env: String
            var provider: String
            var account: String
            var source: String
        }

        var styles: [String]
        var environments: [String]
        var stacks: [Stack]
        var outside: [String]
        var accounts: [Account]
        var notes: [String]
        var pipeline: String
        var configFiles: [String: String]
    }

    /// What a test compares whole: everything but the draft's text, which `validate` judges.
    struct Found: Equatable {
        var styles: [String]
        var environments: [String]
        var stacks: [Report.Stack]
        var outside: [String]
        var accounts: [String]
        var notes: [String]
    }

    func found(_ report: Report) -> Found {
        Found(styles: report.styles, environments: report.environments, stacks: report.stacks, outside: report.outside,
              accounts: report.accounts.map { "\($0.env) \($0.provider) \($0.account)" }, notes: report.notes)
    }

    func assess(_ cli: CLI, _ path: String) throws -> Report {
        let result = try cli.run("assess", path, "--format", "json")
        #expect(result.status == 0, "\(result.stderr)")
        return try result.decoded(Report.self)
    }

    /// Writes the draft and its config files to a directory of their own and runs `tollgate validate` there.
    func draftValidates(_ cli: CLI, _ report: Report, in directory: String) throws {
        for (path, text) in [("tollgate.yaml", report.pipeline)] + report.configFiles.sorted(by: { $0.key < $1.key }) {
            let full = directory + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        }
        let validated = try cli.run("validate", "--config", directory + "/tollgate.yaml")
        #expect(validated.status == 0, "\(validated.stderr)\n\(report.pipeline)")
    }

    static let fixtures = TestPaths.fixtures + "/assess"

    func paths(_ stack: String, _ pattern: (String) -> String, _ environments: [String]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: environments.map { ($0, pattern($0) + "/" + stack) })
    }

    /// Two processes, the same bytes: no dictionary or set order reaches the output.
    @Test(arguments: ["directories", "workspaces", "terragrunt"])
    func theSameOutputOnEveryRun(_ fixture: String) throws {
        let root = try TemporaryDirectory("tollgate-assess-stable")
        defer { root.remove() }
        let cli = CLI(directory: root.path, engine: nil, cache: root.path + "/cache")
        for format in ["json", "markdown"] {
            let first = try cli.run("assess", Self.fixtures + "/" + fixture, "--format", format)
            let second = try cli.run("assess", Self.fixtures + "/" + fixture, "--format", format)
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout == second.stdout)
            #expect(!first.stdout.isEmpty)
        }
    }

    @Test func directoryPerEnvironment() throws {
        let root = try TemporaryDirectory("tollgate-assess-directories")
        defer { root.remove() }
        let cli = CLI(directory: root.path, engine: nil, cache: root.path + "/cache")
        let report = try assess(cli, Self.fixtures + "/directories")
        let environments = ["dev", "qa", "uat", "prod"]
        #expect(found(report) == Found(
            styles: ["directory-per-environment"], environments: environments,
            stacks: [
                .init(name: "app", paths: paths("app", { "envs/\($0)" }, environments), dependsOn: ["database", "network"]),
                .init(name: "database", paths: paths("database", { "envs/\($0)" }, environments), dependsOn: ["network"]),
                .init(name: "network", paths: paths("network", { "envs/\($0)" }, environments), dependsOn: []),
            ],
            outside: ["envs/global/dns"],
            accounts: ["dev aws 111111111111", "qa aws 222222222222", "uat aws 333333333333", "prod aws 444444444444"],
            notes: []))
        #expect(report.configFiles.keys.sorted() == environments.flatMap { env in ["app", "database", "network"].map { "config/\(env)/\($0).tfvars" } }.sorted())
        try draftValidates(cli, report, in: root.path + "/draft")
    }

    @Test func workspaces() throws {
        let root = try TemporaryDirectory("tollgate-assess-workspaces")
        defer { root.remove() }
        let cli = CLI(directory: root.path, engine: nil, cache: root.path + "/cache")
        let report = try assess(cli, Self.fixtures + "/workspaces")
        #expect(found(report) == Found(
            styles: ["workspaces", "tfvars-per-environment"], environments: ["dev", "qa", "staging", "prod"],
            stacks: [.init(name: "main", paths: [:], dependsOn: [])], outside: [],
            accounts: ["dev aws 111111111111", "qa aws 222222222222", "staging aws 333333333333", "prod aws 444444444444"],
            notes: []))
        try draftValidates(cli, report, in: root.path + "/draft")
    }

    @Test func terragruntLiveRepository() throws {
        let root = try TemporaryDirectory("tollgate-assess-terragrunt")
        defer { root.remove() }
        let cli = CLI(directory: root.path, engine: nil, cache: root.path + "/cache")
        let report = try assess(cli, Self.fixtures + "/terragrunt")
        let environments = ["dev", "qa", "uat", "prod"]
        let live = { (env: String) in ["dev": "live/dev/eu-west-1/dev", "qa": "live/nonprod/eu-west-1/qa", "uat": "live/nonprod/eu-west-1/uat", "prod": "live/prod/eu-west-1/prod"][env]! }
        let modules = "git::git@github.com:acme/infrastructure-modules.git//"
        #expect(found(report) == Found(
            styles: ["terragrunt"], environments: environments,
            stacks: [
                .init(name: "app", paths: paths("app", live, environments), dependsOn: ["database", "vpc"], source: modules + "ecs-service?ref=v2.4.1"),
                .init(name: "database", paths: paths("database", live, environments), dependsOn: ["vpc"], source: modules + "database?ref=v2.3.0"),
                .init(name: "vpc", paths: paths("vpc", live, environments), dependsOn: [], source: modules + "vpc?ref=v2.3.0"),
            ],
            outside: ["live/prod/_global/iam"],
            accounts: ["dev aws 111111111111", "qa aws 222222222222", "uat aws 222222222222", "prod aws 444444444444"],
            notes: []))
        #expect(report.configFiles["config/prod/database.tfvars"] == """
            identifier = "acme-prod"
            engine = "postgres"
            # subnet_ids = dependency.vpc.outputs.private_subnet_ids (not a value: pass it to the stack another way)
            instance_class = "db.r6g.large"
            storage_gb = 20

            """)
        try draftValidates(cli, report, in: root.path + "/draft")
    }

    @Test func branchPerEnvironment() throws {
        let root = try TemporaryDirectory("tollgate-assess-branch-fixture")
        defer { root.remove() }
        let repo = root.path + "/repo"
        try FileManager.default.copyItem(atPath: Self.fixtures + "/branches", toPath: repo)
        var cli = CLI(directory: repo, engine: nil, cache: root.path + "/cache")
        try cli.git("init", "-q", "-b", "main")
        try cli.git("add", "-A")
        try cli.git("commit", "-q", "-m", "base")
        for (env, retries) in [("dev", 2), ("stage", 5), ("prod", 10)] {
            try cli.git("checkout", "-q", "-b", env, "main")
            try Data("project     = \"acme-\(env)\"\nmax_retries = \(retries)\n".utf8).write(to: URL(fileURLWithPath: repo + "/terraform.tfvars"))
            try cli.git("commit", "-q", "-am", "\(env) values")
        }
        try cli.git("checkout", "-q", "-b", "feature-login", "main")
        try cli.git("checkout", "-q", "main")
        cli = CLI(directory: root.path, engine: nil, cache: root.path + "/cache")
        let report = try assess(cli, repo)
        #expect(found(report) == Found(
            styles: ["branch-per-environment"], environments: ["dev", "stage", "prod"],
            stacks: [.init(name: "main", paths: [:], dependsOn: [])], outside: [], accounts: [], notes: []))
        try draftValidates(cli, report, in: root.path + "/draft")
    }

    /// A draft that `validate` refuses is an error with the reasons, never a quiet exit 0: here two
    /// environment directories that keep their state in one place.
    @Test func aDraftThatDoesNotValidateFails() throws {
        let root = try TemporaryDirectory("tollgate-assess-invalid")
        defer { root.remove() }
        let backend = "terraform {\n  backend \"s3\" {\n    bucket = \"acme-state\"\n    key    = \"app.tfstate\"\n  }\n}\n"
        for env in ["dev", "prod"] {
            let path = root.path + "/repo/envs/\(env)/main.tf"
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(backend.utf8).write(to: URL(fileURLWithPath: path))
        }
        let cli = CLI(directory: root.path, engine: nil, cache: root.path + "/cache")
        let result = try cli.run("assess", root.path + "/repo", "--format", "json")
        #expect(result.status == 1)
        #expect(result.stderr == """
            draft tollgate.yaml:24:13: error: environments 'dev' and 'prod' resolve to the same state location for stack 'main' (s3://acme-state//app.tfstate); put '{env}' in the backend's path or key, give each environment its own bucket or database, and check for symlinks between their state directories
            tollgate: error: the draft tollgate.yaml does not validate (1 error above), so it cannot be used as it is; fix what the errors name in the repository or in the draft, then run 'tollgate validate'

            """)
        let report = try result.decoded(Report.self)
        #expect(report.environments == ["dev", "prod"])
    }

    /// No environments: the draft would declare none, so `assess` says so and fails.
    @Test func noEnvironmentsFails() throws {
        let root = try TemporaryDirectory("tollgate-assess-none")
        defer { root.remove() }
        let path = root.path + "/repo/modules/vpc/main.tf"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("variable \"cidr\" {}\n".utf8).write(to: URL(fileURLWithPath: path))
        let cli = CLI(directory: root.path, engine: nil, cache: root.path + "/cache")
        let result = try cli.run("assess", root.path + "/repo")
        #expect(result.status == 1)
        #expect(result.stderr == """
            draft tollgate.yaml:1:1: error: the pipeline declares no environments; add an 'environments' list, in promotion order (dev, stage, prod)
            draft tollgate.yaml:1:1: error: the pipeline declares no stacks; add a 'stacks' list naming each root module under stacks/
            tollgate: error: the draft tollgate.yaml does not validate (2 errors above), since no environments were found in '\(root.path)/repo'; fix what the errors name in the repository or in the draft, then run 'tollgate validate'

            """)
    }
}
