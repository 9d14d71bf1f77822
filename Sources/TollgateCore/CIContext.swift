import Foundation

/// The CI run a command is part of, read from the variables GitHub Actions and GitLab CI set.
///
/// Every event written in CI carries it inside its hashed payload (under `ci`), so who ran what,
/// from which run, is tamper-evident like the rest of the event. It says what the runner's
/// environment claimed, not what is proven: the values come from variables anyone who controls the
/// runner can set, so they are cleaned (bounded, no control characters) and never trusted for a
/// decision. The OIDC subject is read from a token's claims without checking its signature.
public struct CIContext: Sendable, Equatable, Codable {
    public enum Provider: String, Sendable, Codable, CaseIterable {
        case github
        case gitlab
    }

    public var provider: Provider
    /// `owner/name` on GitHub, the project path on GitLab.
    public var repository: String?
    /// The workflow run (GitHub) or pipeline (GitLab).
    public var runURL: String?
    /// The job's own page, where the CI has one (GitLab).
    public var jobURL: String?
    public var workflow: String?
    public var job: String?
    /// Who the CI says triggered the run.
    public var actor: String?
    public var ref: String?
    public var sha: String?
    /// The `sub` claim of the OIDC token given to tollgate, decoded and not verified.
    public var oidcSubject: String?
    /// The `iss` claim of that token, decoded and not verified.
    public var oidcIssuer: String?

    public init(provider: Provider, repository: String? = nil, runURL: String? = nil, jobURL: String? = nil, workflow: String? = nil,
                job: String? = nil, actor: String? = nil, ref: String? = nil, sha: String? = nil, oidcSubject: String? = nil,
                oidcIssuer: String? = nil) {
        self.provider = provider
        self.repository = repository
        self.runURL = runURL
        self.jobURL = jobURL
        self.workflow = workflow
        self.job = job
        self.actor = actor
        self.ref = ref
        self.sha = sha
        self.oidcSubject = oidcSubject
        self.oidcIssuer = oidcIssuer
    }

    /// The longest value kept, in characters; a longer one is cut and ends in `…`.
    public static let maxLength = 512
    /// The key of the context inside an event's payload.
    public static let payloadKey = "ci"
    /// Where an OIDC token may be handed to tollgate, in the order read. tollgate never requests
    /// one itself (no network calls): on GitHub, a step asks for it and sets TOLLGATE_OIDC_TOKEN.
    public static let tokenVariables = ["TOLLGATE_OIDC_TOKEN", "CI_JOB_JWT_V2"]

    /// The context the environment describes; nil outside GitHub Actions and GitLab CI.
    public static func detect(_ environment: [String: String]) -> CIContext? {
        func value(_ key: String) -> String? { clean(environment[key]) }
        var context: CIContext
        if environment["GITHUB_ACTIONS"] == "true" || value("GITHUB_RUN_ID") != nil {
            var run: String?
            if let server = value("GITHUB_SERVER_URL"), let repository = value("GITHUB_REPOSITORY"), let id = value("GITHUB_RUN_ID") {
                run = clean("\(server)/\(repository)/actions/runs/\(id)")
            }
            context = CIContext(provider: .github, repository: value("GITHUB_REPOSITORY"), runURL: run, workflow: value("GITHUB_WORKFLOW"),
                                job: value("GITHUB_JOB"), actor: value("GITHUB_ACTOR"), ref: value("GITHUB_REF"), sha: value("GITHUB_SHA"))
        } else if environment["GITLAB_CI"] == "true" || value("CI_PIPELINE_URL") != nil || value("CI_JOB_URL") != nil {
            context = CIContext(provider: .gitlab, repository: value("CI_PROJECT_PATH"), runURL: value("CI_PIPELINE_URL"), jobURL: value("CI_JOB_URL"),
                                workflow: value("CI_PIPELINE_NAME"), job: value("CI_JOB_NAME"), actor: value("GITLAB_USER_LOGIN"),
                                ref: value("CI_COMMIT_REF_NAME"), sha: value("CI_COMMIT_SHA"))
        } else {
            return nil
        }
        if let token = tokenVariables.lazy.compactMap({ environment[$0] }).first(where: { !$0.isEmpty }), let claims = claims(ofJWT: token) {
            context.oidcSubject = clean(claims["sub"]?.stringValue)
            context.oidcIssuer = clean(claims["iss"]?.stringValue)
        }
        return context
    }

    /// The URL a lock's lease names: the job where the CI has a page for it, else the run.
    public var leaseURL: String? { jobURL ?? runURL }

    /// Untrusted text made safe to store and print: control and format characters (newlines,
    /// escapes, bidirectional overrides) dropped, surrounding space trimmed, at most `maxLength`
    /// characters; nil when nothing is left.
    public static func clean(_ text: String?) -> String? {
        guard let text else { return nil }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned: continue
            default: scalars.append(scalar)
            }
        }
        let cleaned = String(scalars).trimmingCharacters(in: .whitespaces)
        if cleaned.isEmpty { return nil }
        return cleaned.count > maxLength ? String(cleaned.prefix(maxLength - 1)) + "…" : cleaned
    }

    /// The claims of a JWT (`header.payload.signature`), base64url-decoded; nil when it is not one.
    /// The signature is not checked: this reads what the token says, it proves nothing.
    public static func claims(ofJWT token: String) -> [String: JSONValue]? {
        let parts = token.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].count <= 16_384 else { return nil }
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), case .object(let claims)? = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            return nil
        }
        return claims
    }

    /// The snake_case object stored in an event's payload; absent values are left out.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["provider": .string(provider.rawValue)]
        let fields: [(String, String?)] = [("repository", repository), ("run_url", runURL), ("job_url", jobURL), ("workflow", workflow),
                                           ("job", job), ("actor", actor), ("ref", ref), ("sha", sha), ("oidc_subject", oidcSubject),
                                           ("oidc_issuer", oidcIssuer)]
        for (key, value) in fields { if let value { members[key] = .string(value) } }
        return .object(members)
    }

    /// Reads the object `json` wrote back; nil when it is not one.
    public init?(json: JSONValue?) {
        guard let json, let provider = json["provider"]?.stringValue.flatMap(Provider.init(rawValue:)) else { return nil }
        self.init(provider: provider, repository: json["repository"]?.stringValue, runURL: json["run_url"]?.stringValue,
                  jobURL: json["job_url"]?.stringValue, workflow: json["workflow"]?.stringValue, job: json["job"]?.stringValue,
                  actor: json["actor"]?.stringValue, ref: json["ref"]?.stringValue, sha: json["sha"]?.stringValue,
                  oidcSubject: json["oidc_subject"]?.stringValue, oidcIssuer: json["oidc_issuer"]?.stringValue)
    }

    /// One line for people: provider, run, workflow and job, actor, ref and commit.
    public var summary: String {
        var parts = [provider.rawValue]
        if let url = runURL { parts.append(url) }
        if let workflow { parts.append("workflow '\(workflow)'") }
        if let job { parts.append("job '\(job)'") }
        if let actor { parts.append("actor \(actor)") }
        if let ref { parts.append("ref \(ref)") }
        if let sha { parts.append("sha \(sha.prefix(12))") }
        return parts.joined(separator: "  ")
    }
}

extension AuditEntry {
    /// This entry with the CI context in its payload (under `ci`), so the context is hashed with the
    /// event. An entry without a CI context, or whose payload is not an object or already names
    /// one, is returned as it is.
    public func stamped(_ ci: CIContext?) -> AuditEntry {
        guard let ci, case .object(var members) = payload, members[CIContext.payloadKey] == nil else { return self }
        members[CIContext.payloadKey] = ci.json
        var copy = self
        copy.payload = .object(members)
        return copy
    }
}
