import Foundation
import Testing
import TestSupport

/// The generated GitHub workflows, run rather than only linted: a pull request, its merge, dev and
/// stage, prod waiting at its gate, an approval from a laptop, and the manual apply, every job in a
/// fresh clone of one bare origin with only that origin and a real PostgreSQL (the team ledger and
/// the Terraform `pg` state backend) shared between them.
@Suite struct CIRehearsalTests {
    static let repository = "acme/infra"

    /// The runner image and the repository's scripts: the install script puts the binary under test
    /// and the chosen engine on PATH through GITHUB_PATH; the credentials hook stands in for the OIDC
    /// exchange by writing the state backend's password to GITHUB_ENV; `gh` is a fake that keeps the
    /// pull request's comments in a directory and logs every call.
    struct Runner {
        let root: String
        let tools: String
        let api: String

        init(root: String, repository: String, engine: String, statePassword: String) throws {
            self.root = root
            tools = root + "/runner-image"
            api = root + "/github-api"
            try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: api + "/comments", withIntermediateDirectories: true)
            try Data(statePassword.utf8).write(to: URL(fileURLWithPath: root + "/state-password"))
            // Someone else's comment on the pull request, which the job must leave alone.
            try Data(#"{"id": 1000, "user": {"login": "octo-reviewer"}, "body": "Looks fine; which regions?"}"#.utf8)
                .write(to: URL(fileURLWithPath: api + "/comments/1000.json"))
            try Self.write(tools + "/gh", Self.fakeGitHubCLI(api: api))
            try FileManager.default.createDirectory(atPath: repository + "/scripts", withIntermediateDirectories: true)
            try Self.write(repository + "/scripts/install-tollgate.sh", """
                #!/bin/sh
                # The rehearsal's runner image: the tollgate binary under test and the engine the test chose.
                set -eu
                bin="$RUNNER_TEMP/tollgate-bin"
                mkdir -p "$bin"
                ln -sf '\(CLI.binary)' "$bin/tollgate"
                ln -sf '\(engine)' "$bin/terraform"
                echo "$bin" >> "$GITHUB_PATH"
                echo "TOLLGATE_TOOLS=\(TestPaths.tools)" >> "$GITHUB_ENV"
                echo "TOLLGATE_CACHE_DIR=\(root)/tool-cache" >> "$GITHUB_ENV"

                """)
            try Self.write(repository + "/scripts/tollgate-credentials.sh", """
                #!/bin/sh
                # Stands in for the OIDC exchange: the environment's state credentials, for the later steps.
                set -eu
                echo "$1" >> '\(root)/credentials.log'
                echo "PGPASSWORD=$(cat '\(root)/state-password')" >> "$GITHUB_ENV"

                """)
        }

        static func write(_ path: String, _ text: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }

        /// `gh api` over a directory of comments: list (through the caller's --jq), create, update.
        static func fakeGitHubCLI(api: String) -> String {
            #"""
            #!/bin/bash
            set -euo pipefail
            api='\#(api)'
            printf '%s\n' "$*" >> "$api/calls.log"
            [ -n "${GH_TOKEN:-}" ] || { echo 'gh: GH_TOKEN is not set' >&2; exit 4; }
            [ "${1:-}" = api ] || { echo "gh: only 'gh api' is faked, not: $*" >&2; exit 2; }
            shift
            method=GET; filter=; body=; endpoint=
            while [ $# -gt 0 ]; do
              case "$1" in
                --method|-X) method=$2; shift 2 ;;
                --paginate) shift ;;
                --jq|-q) filter=$2; shift 2 ;;
                -F|-f) case "$2" in body=@*) body=$(cat "${2#body=@}") ;; *) echo "gh: unexpected field $2" >&2; exit 2 ;; esac; shift 2 ;;
                -*) echo "gh: unexpected flag $1" >&2; exit 2 ;;
                *) endpoint=$1; shift ;;
              esac
            done
            comments="$api/comments"
            case "$method $endpoint" in
              "GET repos/acme/infra/issues/7/comments")
                out=$(jq -s 'sort_by(.id)' "$comments"/*.json) ;;
              "POST repos/acme/infra/issues/7/comments")
                id=$(( $(ls "$comments" | wc -l) + 1000 ))
                jq -n --argjson id "$id" --arg body "$body" '{id: $id, user: {login: "github-actions[bot]"}, body: $body}' > "$comments/$id.json"
                out=$(cat "$comments/$id.json") ;;
              "PATCH repos/acme/infra/issues/comments/"*)
                id=${endpoint##*/}
                [ -f "$comments/$id.json" ] || { echo 'gh: HTTP 404: Not Found' >&2; exit 1; }
                jq --arg body "$body" '.body = $body' "$comments/$id.json" > "$comments/$id.new"
                mv "$comments/$id.new" "$comments/$id.json"
                out=$(cat "$comments/$id.json") ;;
              *) echo "gh: the fake does not answer $method $endpoint" >&2; exit 2 ;;
            esac
            if [ -n "$filter" ]; then printf '%s' "$out" | jq -r "$filter"; else printf '%s\n' "$out"; fi

            """#
        }

        var calls: [String] {
            ((try? String(contentsOfFile: api + "/calls.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        func comment(_ id: Int) throws -> [String: Any] {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(api)/comments/\(id).json"))
            return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        }

        var credentialRequests: [String] {
            ((try? String(contentsOfFile: root + "/credentials.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
    }

    static func git(_ directory: String, _ arguments: String...) throws -> String {
        try PromotionRepo.shell("git -c user.name='Test Author' -c user.email=author@example.com " + arguments.map { "'\($0)'" }.joined(separator: " "), in: directory)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A clone of the origin on someone's laptop, against the team ledger.
    static func laptop(_ root: String, _ name: String, origin: String, database: String, key: String, engine: String, actor: String) throws -> CLI {
        let path = root + "/" + name
        try PromotionRepo.shell("git clone -q '\(origin)' '\(path)' && git -C '\(path)' fetch -q origin '+refs/tollgate/*:refs/tollgate/*'")
        var cli = CLI(directory: path, engine: engine, cache: root + "/cache")
        cli.environment["TOLLGATE_ACTOR"] = actor
        cli.environment["TOLLGATE_DATABASE_URL"] = database
        cli.environment["TOLLGATE_ARTIFACT_KEY"] = key
        cli.environment["PGPASSWORD"] = TeamModeTests.server.flatMap { URLComponents(string: $0)?.password }
        for variable in ProcessInfo.processInfo.environment.keys where variable.hasPrefix("GITHUB_") { cli.environment[variable] = nil }
        cli.environment["CI"] = nil
        return cli
    }

    static func expectSuccess(_ run: WorkflowRunner.Run, _ jobs: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.outcomes == jobs.map { "\($0): success" }, "\(run.workflow):\n\(run.transcript)", sourceLocation: sourceLocation)
    }

    /// The expressions the rehearsal reads, as GitHub reads them; anything else is refused by name.
    @Test func expressionsAreReadAsGitHubReadsThemAndUnknownOnesAreRefused() throws {
        let values: [String: WorkflowExpression.Value] = ["github.ref": .string("refs/heads/main"), "matrix.stack": .string("app"), "inputs.plan": .string("")]
        let context = WorkflowExpression.Context(resolve: { path in
            guard let value = values[path.joined(separator: ".")] else { throw TestSupportError("unknown \(path.joined(separator: "."))") }
            return value
        }, status: { $0 == "always" })
        #expect(try WorkflowExpression.interpolate("group: tollgate-${{ matrix.stack }}-x", context) == "group: tollgate-app-x")
        #expect(try WorkflowExpression.condition("github.ref == 'REFS/heads/main'", context) == false)
        #expect(try WorkflowExpression.condition("always() && github.ref == 'REFS/heads/main'", context) == true)
        #expect(try WorkflowExpression.condition("${{ always() && !inputs.plan }}", context) == true)
        #expect(try WorkflowExpression.condition("always() && (inputs.plan || matrix.stack == 'network')", context) == false)
        for unsupported in ["${{ hashFiles('x') }}", "${{ github.event.pull_request.title }}", "${{ matrix.stack[0] }}", "${{ fromJSON('1') }}"] {
            #expect(throws: TestSupportError.self, "\(unsupported)") { try WorkflowExpression.interpolate(unsupported, context) }
        }
    }

    @Test(.enabled(if: TeamModeTests.server != nil || TeamModeTests.required))
    func theGeneratedGitHubWorkflowsRunFromPullRequestToProd() throws {
        let engine = TestEngines.all[0]
        let repo = try PromotionRepo(engine: engine)
        defer { repo.remove() }
        let database = try TeamModeTests.database()
        defer { TeamModeTests.drop(database) }
        let states = try TeamModeTests.statePerEnvironmentInPostgres(repo)
        defer { states.values.forEach(TeamModeTests.drop) }
        let key = try repo.cli.run("ledger", "new-key").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let password = try #require(TeamModeTests.server.flatMap { URLComponents(string: $0)?.password })

        // The repository keeps the generated workflows and the two scripts they call; its origin is bare.
        let runner = try Runner(root: repo.root, repository: repo.repository, engine: engine, statePassword: password)
        let generated = try repo.cli.run("ci", "github")
        #expect(generated.status == 0, "\(generated.stderr)")
        _ = try Self.git(repo.repository, "add", "-A")
        _ = try Self.git(repo.repository, "commit", "-q", "-m", "the tollgate workflows")
        let origin = repo.root + "/origin.git"
        try PromotionRepo.shell("git clone -q --bare '\(repo.repository)' '\(origin)'")
        let workflows = repo.repository + "/.github/workflows/"
        // The previews read the team ledger through a role that may only SELECT (docs/operations.md):
        // the ledger's schema is made first by a writing role, as an existing team ledger has it.
        var writer = repo.cli
        writer.environment["TOLLGATE_DATABASE_URL"] = database
        writer.environment["TOLLGATE_ARTIFACT_KEY"] = key
        let migrated = try writer.run("status")
        #expect(migrated.status == 0, "\(migrated.stderr)")
        let previewRole = "preview_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        try PromotionRepo.shell("psql -q -v ON_ERROR_STOP=1 '\(database)' -c \"CREATE ROLE \(previewRole) LOGIN PASSWORD 'preview-only'\" "
            + "-c 'GRANT USAGE ON SCHEMA public TO \(previewRole)' -c 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO \(previewRole)'")
        defer {
            _ = try? PromotionRepo.shell("psql -q '\(database)' -c 'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM \(previewRole)' -c 'REVOKE USAGE ON SCHEMA public FROM \(previewRole)'")
            _ = try? PromotionRepo.shell("psql -q '\(TeamModeTests.server ?? "")' -c 'DROP ROLE IF EXISTS \(previewRole)'")
        }
        var readOnly = try #require(URLComponents(string: database))
        readOnly.user = String(previewRole)
        readOnly.password = "preview-only"
        let github = WorkflowRunner(origin: origin, root: repo.root + "/runners", repository: Self.repository,
                                    secrets: ["TOLLGATE_DATABASE_URL": database, "TOLLGATE_ARTIFACT_KEY": key,
                                              "TOLLGATE_READONLY_DATABASE_URL": try #require(readOnly.string)], toolPath: runner.tools)

        // A pull request: a feature branch pushed to the origin, its workflow run twice (two pushes).
        let developer = repo.root + "/developer"
        try PromotionRepo.shell("git clone -q '\(origin)' '\(developer)'")
        _ = try Self.git(developer, "checkout", "-q", "-b", "app-v2")
        for env in ["dev", "stage", "prod"] {
            let path = "\(developer)/config/\(env)/app.tfvars"
            try Data(try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\"v1\"", with: "\"v2\"").utf8).write(to: URL(fileURLWithPath: path))
        }
        _ = try Self.git(developer, "commit", "-q", "-am", "app v2")
        _ = try Self.git(developer, "push", "-q", "origin", "app-v2")
        let prJobs = ["validate", "preview-dev", "preview-stage", "preview-prod", "comment"]
        func pullRequest() throws -> WorkflowRunner.Run {
            let head = try Self.git(developer, "rev-parse", "HEAD")
            return try github.run(workflows + "tollgate-pr.yml", WorkflowEvent(name: "pull_request", ref: "refs/pull/7/merge", sha: head, actor: "octo-author",
                                                                                pullRequest: 7, headRef: "app-v2", baseRef: "main"))
        }
        let firstPush = try pullRequest()
        Self.expectSuccess(firstPush, prJobs)
        for env in ["dev", "stage", "prod"] {
            let summary = try #require(firstPush.job("preview-\(env)").first?.summary)
            #expect(summary.hasPrefix("### tollgate preview (never applied): release `sha256:") && summary.contains("` → `\(env)`\n"), "\(summary)")
            #expect(summary.contains("null_resource.server"), "preview-\(env) does not show the app stack: \(summary)")
        }
        #expect(runner.calls == ["api --paginate repos/acme/infra/issues/7/comments --jq .[] | select(.user.login == \"github-actions[bot]\" and (.body | startswith(\"<!-- tollgate-ci-review -->\"))) | .id",
                                 "api --method POST repos/acme/infra/issues/7/comments -F body=@tollgate-review.md"])
        let posted = try runner.comment(1001)
        let body = try #require(posted["body"] as? String)
        #expect(body.hasPrefix("<!-- tollgate-ci-review -->\n## tollgate preview\n"), "\(body)")
        for env in ["dev", "stage", "prod"] { #expect(body.contains("### tollgate preview (never applied): release `sha256:") && body.contains("` → `\(env)`\n"), "\(body)") }
        #expect(!body.contains("no preview"), "\(body)")

        try Data("# infra\n".utf8).write(to: URL(fileURLWithPath: developer + "/README.md"))
        _ = try Self.git(developer, "add", "README.md")
        _ = try Self.git(developer, "commit", "-q", "-m", "a readme")
        _ = try Self.git(developer, "push", "-q", "origin", "app-v2")
        let secondPush = try pullRequest()
        Self.expectSuccess(secondPush, prJobs)
        #expect(Array(runner.calls.dropFirst(2)) == [runner.calls.first ?? "", "api --method PATCH repos/acme/infra/issues/comments/1001 -F body=@tollgate-review.md"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: runner.api + "/comments").sorted() == ["1000.json", "1001.json"])
        #expect(try runner.comment(1000)["body"] as? String == "Looks fine; which regions?")

        // The previews never reached the team ledger: nothing is on its record yet.
        let auditor = try Self.laptop(repo.root, "auditor-before", origin: origin, database: database, key: key, engine: engine, actor: "auditor@example.com")
        let empty = try auditor.run("audit", "export")
        #expect(empty.status == 0, "\(empty.stderr)")
        #expect(try empty.object()["events"] as? Int == 0, "\(empty.stdout)")

        // The merge: squashed onto main in the origin, then the push-to-main workflow.
        let squashed = try PromotionRepo.shell(
            "GIT_AUTHOR_NAME='Test Author' GIT_AUTHOR_EMAIL=author@example.com GIT_COMMITTER_NAME=GitHub GIT_COMMITTER_EMAIL=noreply@github.com "
                + "git -C '\(origin)' commit-tree 'app-v2^{tree}' -p main -m 'app v2 (#7)'").trimmingCharacters(in: .whitespacesAndNewlines)
        try PromotionRepo.shell("git -C '\(origin)' update-ref refs/heads/main \(squashed)")
        let merged = try github.run(workflows + "tollgate-main.yml", WorkflowEvent(name: "push", ref: "refs/heads/main", sha: squashed, actor: "octo-merger"))
        Self.expectSuccess(merged, ["release", "dev-wave-1(network)", "dev-wave-2(app)", "stage-wave-1(network)", "stage-wave-2(app)", "prod-plan"])
        let release = try #require(merged.job("release").first?.outputs["release"])
        #expect(release.hasPrefix("sha256:"))
        #expect(merged.job("release").first?.summary == "release \(release)\n")
        let gate = try #require(merged.job("prod-plan").first?.summary)
        #expect(gate.contains("'prod' waits at its approval gate (1 of approver@example.com must sign). Plans:\n"), "\(gate)")
        var plans: [String: String] = [:]
        for line in gate.split(separator: "\n") {
            let parts = line.trimmingCharacters(in: .whitespaces).split(separator: " ")
            if parts.count == 2, ["network:", "app:"].contains(parts[0]), parts[1].hasPrefix("p-") { plans[String(parts[0].dropLast())] = String(parts[1]) }
        }
        let networkPlan = try #require(plans["network"], "\(gate)")
        let appPlan = try #require(plans["app"], "\(gate)")

        // Dispatching the apply before anyone approved: every gate is checked again and nothing is applied.
        let main = try Self.git(developer, "ls-remote", origin, "refs/heads/main").split(separator: "\t")[0]
        func dispatch(_ inputs: [String: String]) throws -> WorkflowRunner.Run {
            try github.run(workflows + "tollgate-apply.yml", WorkflowEvent(name: "workflow_dispatch", ref: "refs/heads/main", sha: String(main), actor: "octo-ops", inputs: inputs))
        }
        let early = try dispatch(["environment": "prod", "plan": networkPlan])
        let refused = try #require(early.job("apply").first)
        #expect(refused.outcome == .failure)
        #expect(refused.steps.map(\.outcome) == [.success, .success, .success, .success, .success, .failure, .success], "\(refused.transcript)")
        #expect(refused.steps[5].log.contains("approver@example.com"), "\(refused.steps[5].log)")

        // The approver's laptop: another clone, against the team ledger, signs both prod plans.
        let approver = try Self.laptop(repo.root, "approver-laptop", origin: origin, database: database, key: key, engine: engine, actor: "approver@example.com")
        for plan in [networkPlan, appPlan] {
            let shown = try approver.run("show", plan)
            #expect(shown.status == 0, "\(shown.stderr)")
            let approved = try approver.run("approve", plan, "--key", repo.key("approver"))
            #expect(approved.status == 0, "\(approved.stderr)")
        }

        // The manual apply: one plan by id, then the rest of the release.
        Self.expectSuccess(try dispatch(["environment": "prod", "plan": networkPlan]), ["apply"])
        Self.expectSuccess(try dispatch(["environment": "prod", "release": release]), ["apply"])

        // Actions stood in for, in the order the jobs ran: nothing else was used.
        let pullRequestActions = ["validate: actions/checkout", "validate: github/codeql-action/upload-sarif"]
            + ["dev", "stage", "prod"].flatMap { ["preview-\($0): actions/checkout", "preview-\($0): actions/upload-artifact"] }
            + ["comment: actions/download-artifact"]
        let expectedNames = (pullRequestActions + pullRequestActions).map { "tollgate pull request " + $0 }
            + ["release", "dev-wave-1", "dev-wave-2", "stage-wave-1", "stage-wave-2", "prod-plan"].map { "tollgate promote \($0): actions/checkout" }
            + Array(repeating: "tollgate apply apply: actions/checkout", count: 3)
        #expect(github.standIns == expectedNames)
        #expect(runner.credentialRequests == ["dev", "stage", "prod", "dev", "stage", "prod", "dev", "dev", "stage", "stage", "prod", "prod", "prod", "prod"])

        // Yet another clone reads the record: every environment at the release, prod approved, the chain intact.
        let reader = try Self.laptop(repo.root, "auditor", origin: origin, database: database, key: key, engine: engine, actor: "auditor@example.com")
        let verified = try reader.run("audit", "verify", "--format", "json")
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        #expect(try verified.json()["intact"] as? Bool == true)
        let history = try reader.run("history", "--env", "prod", "--format", "json")
        let entries = try #require(try history.json()["entries"] as? [[String: Any]], "\(history.stderr)")
        let applied = entries.filter { $0["outcome"] as? String == "success" }
        #expect(applied.map { $0["stack"] as? String } == ["network", "app"], "\(entries)")
        #expect(applied.allSatisfy { $0["approvers"] as? [String] == ["approver@example.com"] }, "\(entries)")
        let status = try reader.run("status", "--format", "json")
        let cells = try #require(try status.json()["cells"] as? [[String: Any]], "\(status.stderr)")
        #expect(cells.filter { ($0["applied"] as? [String: Any])?["release"] as? String == release }.count == 6, "\(cells)")

        // The anchors are in the origin: a tag per environment and stack, and the audit head.
        let refs = try PromotionRepo.shell("git -C '\(origin)' for-each-ref --format='%(refname)' refs/tags/tollgate refs/tollgate").split(separator: "\n").map(String.init)
        #expect(refs.filter { $0.hasPrefix("refs/tags/tollgate/") }.count == 6, "\(refs)")
        for env in ["dev", "stage", "prod"] {
            for stack in ["network", "app"] { #expect(refs.contains { $0.hasPrefix("refs/tags/tollgate/\(env)/\(stack)/") }, "\(refs)") }
        }
        #expect(refs.contains("refs/tollgate/audit-head"), "\(refs)")
        for env in ["dev", "stage", "prod"] {
            for stack in ["network", "app"] { #expect(try TeamModeTests.stateRows(try #require(states[env]), stack: stack) == 1, "\(env)/\(stack)") }
        }
    }
}
