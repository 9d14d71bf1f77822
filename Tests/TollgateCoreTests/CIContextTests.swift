import Foundation
import Testing
import TollgateCore

/// The CI context read from the variables GitHub Actions and GitLab CI set, cleaned as untrusted
/// text, and carried in the hashed payload of every event.
@Suite struct CIContextTests {
    static let github = [
        "GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/infra", "GITHUB_RUN_ID": "4242",
        "GITHUB_WORKFLOW": "deploy", "GITHUB_JOB": "promote", "GITHUB_ACTOR": "octocat", "GITHUB_REF": "refs/heads/main",
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
    ]

    /// A JWT whose payload is `claims`, with a signature nobody checks.
    static func token(_ claims: String) -> String {
        func part(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        return part(#"{"alg":"RS256"}"#) + "." + part(claims) + ".c2lnbmF0dXJl"
    }

    @Test func githubVariablesMakeTheWholeContext() {
        let context = CIContext.detect(Self.github)
        #expect(context == CIContext(provider: .github, repository: "acme/infra", runURL: "https://github.com/acme/infra/actions/runs/4242",
                                     workflow: "deploy", job: "promote", actor: "octocat", ref: "refs/heads/main",
                                     sha: "0123456789abcdef0123456789abcdef01234567"))
        #expect(context?.leaseURL == "https://github.com/acme/infra/actions/runs/4242")
        #expect(context?.summary == "github  https://github.com/acme/infra/actions/runs/4242  workflow 'deploy'  job 'promote'  actor octocat  ref refs/heads/main  sha 0123456789ab")
    }

    @Test func gitlabVariablesMakeTheWholeContextAndTheLeaseNamesTheJob() {
        let context = CIContext.detect([
            "GITLAB_CI": "true", "CI_PIPELINE_URL": "https://gitlab.example/acme/infra/-/pipelines/7", "CI_JOB_URL": "https://gitlab.example/acme/infra/-/jobs/70",
            "CI_PROJECT_PATH": "acme/infra", "CI_JOB_NAME": "promote:stage", "GITLAB_USER_LOGIN": "alice", "CI_COMMIT_REF_NAME": "main",
            "CI_COMMIT_SHA": "feedface", "CI_JOB_JWT_V2": Self.token(#"{"sub":"project_path:acme/infra:ref_type:branch:ref:main","iss":"https://gitlab.example"}"#),
        ])
        #expect(context == CIContext(provider: .gitlab, repository: "acme/infra", runURL: "https://gitlab.example/acme/infra/-/pipelines/7",
                                     jobURL: "https://gitlab.example/acme/infra/-/jobs/70", job: "promote:stage", actor: "alice", ref: "main",
                                     sha: "feedface", oidcSubject: "project_path:acme/infra:ref_type:branch:ref:main", oidcIssuer: "https://gitlab.example"))
        #expect(context?.leaseURL == "https://gitlab.example/acme/infra/-/jobs/70")
    }

    @Test func noCIMeansNoContext() {
        #expect(CIContext.detect([:]) == nil)
        #expect(CIContext.detect(["CI": "true", "TOLLGATE_OIDC_TOKEN": Self.token(#"{"sub":"x"}"#)]) == nil)
    }

    @Test func theOIDCSubjectIsDecodedFromTheGivenTokenAndAGarbledOneIsIgnored() {
        var environment = Self.github
        environment["TOLLGATE_OIDC_TOKEN"] = Self.token(#"{"sub":"repo:acme/infra:environment:stage","iss":"https://token.actions.githubusercontent.com","aud":"tollgate"}"#)
        environment["ACTIONS_ID_TOKEN_REQUEST_URL"] = "https://pipelines.example/token"
        let context = CIContext.detect(environment)
        #expect(context?.oidcSubject == "repo:acme/infra:environment:stage")
        #expect(context?.oidcIssuer == "https://token.actions.githubusercontent.com")
        for garbled in ["not-a-token", "a.b", "a.!!!.c", Self.token("[1,2]")] {
            environment["TOLLGATE_OIDC_TOKEN"] = garbled
            #expect(CIContext.detect(environment)?.oidcSubject == nil, "\(garbled)")
        }
    }

    @Test(arguments: [
        ("octo\u{1B}[31mcat\n", "octo[31mcat"),
        ("  main\r\n", "main"),
        ("evil\u{202E}txt.exe", "eviltxt.exe"),
        ("\u{0}\u{7}", nil),
        ("", nil),
    ] as [(String, String?)])
    func untrustedTextLosesControlAndFormatCharacters(raw: String, cleaned: String?) {
        #expect(CIContext.clean(raw) == cleaned)
    }

    @Test func longValuesAreCut() throws {
        let cut = try #require(CIContext.clean(String(repeating: "a", count: 5000)))
        #expect(cut.count == CIContext.maxLength)
        #expect(cut.hasSuffix("…"))
        var environment = Self.github
        environment["GITHUB_WORKFLOW"] = String(repeating: "w", count: 2000)
        #expect(CIContext.detect(environment)?.workflow?.count == CIContext.maxLength)
    }

    @Test func theContextRoundTripsThroughThePayloadAndIsHashedWithTheEvent() throws {
        let context = try #require(CIContext.detect(Self.github))
        #expect(CIContext(json: context.json) == context)
        #expect(CIContext(json: ["provider": "jenkins"]) == nil)
        let entry = AuditEntry(actor: "octocat", kind: "apply.started", subjects: ["apply": "x-1"], payload: ["digest": "sha256:00"])
        let stamped = entry.stamped(context)
        #expect(stamped.payload["digest"] == "sha256:00")
        #expect(CIContext(json: stamped.payload[CIContext.payloadKey]) == context)
        #expect(entry.stamped(nil) == entry)
        // A payload that is not an object, or already names a context, is left as it is.
        #expect(AuditEntry(actor: "a", kind: "k", payload: .null).stamped(context).payload == .null)
        let named = AuditEntry(actor: "a", kind: "k", payload: ["ci": "mine"])
        #expect(named.stamped(context) == named)

        // Old events without a context and new ones with it chain together and verify; editing the
        // context of a stored event breaks the chain at that event.
        let time = Date(timeIntervalSince1970: 1_790_000_000)
        let first = AuditChain.append(entry, after: nil, at: time)
        let second = AuditChain.append(stamped, after: (first.seq, first.hash), at: time)
        var stored = [first, second].map(StoredAuditEvent.init)
        #expect(AuditChain.verify(stored: stored) == nil)
        stored[1].payload = stored[1].payload.replacingOccurrences(of: "octocat", with: "mallory")
        #expect(AuditChain.verify(stored: stored)?.seq == 2)
    }
}
