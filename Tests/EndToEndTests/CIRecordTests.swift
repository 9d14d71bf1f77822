import Foundation
import TestSupport
import Testing

/// Events written in CI carry the run's context in their hashed payload: `audit trace` and
/// `history` show it, `audit verify` passes on a chain of events with and without it, and editing
/// it is caught.
@Suite struct CIRecordTests {
    /// The CI context as `audit trace --format json` prints it.
    struct Context: Decodable, Equatable {
        var provider: String
        var repository: String?
        var runURL: String?
        var jobURL: String?
        var workflow: String?
        var job: String?
        var actor: String?
        var ref: String?
        var sha: String?
        var oidcSubject: String?
        var oidcIssuer: String?

        enum CodingKeys: String, CodingKey {
            case provider, repository, runURL = "runUrl", jobURL = "jobUrl", workflow, job, actor, ref, sha, oidcSubject, oidcIssuer
        }
    }

    struct Traced: Decodable {
        var env: String
        var stack: String
        var ci: Context?
    }

    static let sha = "0123456789abcdef0123456789abcdef01234567"

    /// A JWT with these claims and a signature nobody checks.
    static func token(_ claims: String) -> String {
        func part(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        return part(#"{"alg":"RS256","typ":"JWT"}"#) + "." + part(claims) + ".bm90LWNoZWNrZWQ"
    }

    @Test func githubContextIsOnTheRecordVerifiesAndTamperingIsCaught() throws {
        var repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        // The first release was cut outside CI: its events carry no context and still verify.
        for (key, value) in [
            "GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/infra", "GITHUB_RUN_ID": "4242",
            "GITHUB_WORKFLOW": "deploy", "GITHUB_JOB": "promote", "GITHUB_ACTOR": "octocat", "GITHUB_REF": "refs/heads/main",
            "GITHUB_SHA": Self.sha, "TOLLGATE_OIDC_TOKEN": Self.token(#"{"sub":"repo:acme/infra:ref:refs/heads/main","iss":"https://token.actions.githubusercontent.com"}"#),
        ] { repo.cli.environment[key] = value }
        try repo.promote("dev")

        let expected = Context(provider: "github", repository: "acme/infra", runURL: "https://github.com/acme/infra/actions/runs/4242",
                               workflow: "deploy", job: "promote", actor: "octocat", ref: "refs/heads/main", sha: Self.sha,
                               oidcSubject: "repo:acme/infra:ref:refs/heads/main", oidcIssuer: "https://token.actions.githubusercontent.com")
        let trace = try repo.cli.run("audit", "trace", "--format", "json")
        #expect(trace.status == 0, "\(trace.stderr)")
        let traced = try trace.decodedList(Traced.self)
        #expect(traced.map(\.stack) == ["network", "app"])
        #expect(traced.allSatisfy { $0.ci == expected })

        let text = try repo.cli.run("audit", "trace")
        #expect(text.stdout.contains("\n  ci: github  https://github.com/acme/infra/actions/runs/4242  workflow 'deploy'  job 'promote'  actor octocat  ref refs/heads/main  sha 0123456789ab\n  oidc subject: repo:acme/infra:ref:refs/heads/main (issuer https://token.actions.githubusercontent.com) — read from the token, not verified\n"), "\(text.stdout)")
        let history = try repo.cli.run("history", "--env", "dev")
        #expect(history.stdout.contains("  ci: github  https://github.com/acme/infra/actions/runs/4242  workflow 'deploy'"), "\(history.stdout)")

        // Every event of the CI run carries the context; the release cut before it carries none.
        let export = try repo.cli.run("audit", "export")
        let events = try export.stdout.split(separator: "\n").dropFirst().map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        let withContext = events.filter { ($0["payload"] as? [String: Any])?["ci"] != nil }
        #expect(events.first?["kind"] as? String == "release.created")
        #expect((events.first?["payload"] as? [String: Any])?["ci"] == nil)
        #expect(withContext.count == events.count - 1)
        let run = try #require((withContext.first?["payload"] as? [String: Any])?["ci"] as? [String: Any])
        #expect(run["run_url"] as? String == "https://github.com/acme/infra/actions/runs/4242")

        let verified = try repo.cli.run("audit", "verify", "--format", "json")
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(try verified.json()["intact"] as? Bool == true)

        // Rewriting who the CI said ran the apply breaks the chain at that very event.
        let started = try #require(events.first { $0["kind"] as? String == "apply.started" }?["seq"] as? Int)
        try repo.sql("UPDATE events SET payload = replace(payload, 'octocat', 'mallory') WHERE seq = \(started);")
        let tampered = try repo.cli.run("audit", "verify")
        #expect(tampered.status == 1)
        #expect(tampered.stdout.hasPrefix("audit chain BROKEN at event \(started): its content does not match its hash; the row was edited\n"), "\(tampered.stdout)")
    }

    @Test func controlCharactersFromTheEnvironmentNeverReachTheRecord() throws {
        var repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        for (key, value) in [
            "GITLAB_CI": "true", "CI_PIPELINE_URL": "https://gitlab.example/acme/infra/-/pipelines/7", "CI_JOB_URL": "https://gitlab.example/acme/infra/-/jobs/70",
            "CI_PROJECT_PATH": "acme/infra", "CI_JOB_NAME": "promote\u{1B}[2J", "GITLAB_USER_LOGIN": "alice\u{202E}", "CI_COMMIT_REF_NAME": "main",
            "CI_COMMIT_SHA": Self.sha,
        ] { repo.cli.environment[key] = value }
        try repo.promote("dev")
        let traced = try repo.cli.run("audit", "trace", "--format", "json").decodedList(Traced.self)
        #expect(traced.first?.ci == Context(provider: "gitlab", repository: "acme/infra", runURL: "https://gitlab.example/acme/infra/-/pipelines/7",
                                            jobURL: "https://gitlab.example/acme/infra/-/jobs/70", job: "promote[2J", actor: "alice", ref: "main",
                                            sha: Self.sha))
        #expect(try repo.cli.run("audit", "verify").status == 0)
    }
}
