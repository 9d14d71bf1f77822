import TollgateCore

/// The GitLab CI pipeline of a pipeline file: `.gitlab/tollgate-ci.yml` with every job, and a
/// root `.gitlab-ci.yml` that only includes it (a root of your own that includes it is kept).
///
/// Jobs use only the default stages (`test`, `deploy`) and `needs:`, so the file can be included
/// next to other pipelines. Every job that works in an environment's account gets an OIDC token
/// (`id_tokens`) and names its GitLab environment; `resource_group` keeps writers of one
/// environment (and stack) one at a time.
struct GitLabPipeline {
    var plan: CIPipelineGenerator.Layout

    static let included = ".gitlab/tollgate-ci.yml"
    static let root = ".gitlab-ci.yml"
    static let paths = [root, included]

    static let onMergeRequest = "$CI_PIPELINE_SOURCE == \"merge_request_event\""
    var onMain: String { "$CI_COMMIT_BRANCH == \"\(plan.mainBranch)\" && $CI_PIPELINE_SOURCE == \"push\"" }

    func files() throws -> [CIFile] {
        var root = YAMLLines()
        root.add(0, "include:")
        root.add(2, "- local: \(Self.included)")
        return [
            CIFile(provider: .gitlab, path: Self.root, body: root.text, foreignIfContains: Self.included),
            CIFile(provider: .gitlab, path: Self.included, body: pipeline()),
        ]
    }

    // MARK: - Pieces

    func rules(_ yaml: inout YAMLLines, _ condition: String, when: String? = nil) {
        yaml.add(2, "rules:")
        yaml.add(4, "- if: '\(condition)'")
        if let when { yaml.add(6, "when: \(when)") }
    }

    func idToken(_ yaml: inout YAMLLines) {
        yaml.add(2, "id_tokens:")
        yaml.add(4, "TOLLGATE_ID_TOKEN:")
        yaml.add(6, "aud: $CI_SERVER_URL")
    }

    func environment(_ yaml: inout YAMLLines, _ name: String, prepare: Bool = false) {
        yaml.add(2, "environment:")
        yaml.add(4, "name: \(name)")
        if prepare { yaml.add(4, "action: prepare") }
    }

    func needs(_ yaml: inout YAMLLines, _ jobs: [String]) {
        yaml.add(2, "needs: [\(jobs.joined(separator: ", "))]")
    }

    /// The lines that let a job push: a project access token, never the job token (which cannot).
    static let pushURL = [
        "if [ -z \"${TOLLGATE_PUSH_TOKEN:-}\" ]; then",
        "  echo 'tollgate: error: TOLLGATE_PUSH_TOKEN is not set; add a project access token with write_repository as a protected, masked variable (docs/ci.md)' >&2",
        "  exit 1",
        "fi",
        "git remote set-url --push origin \"${CI_SERVER_PROTOCOL}://tollgate-ci:${TOLLGATE_PUSH_TOKEN}@${CI_SERVER_HOST}:${CI_SERVER_PORT}/${CI_PROJECT_PATH}.git\"",
    ]

    /// A job body that records to the team ledger: run the work, then push the tags and the anchor
    /// whatever the work's outcome (a refusal is on the record too), then exit with the work's status.
    func writing(_ work: [String], env: String?) -> [String] {
        var lines = Self.pushURL
        if let env { lines += CIScripts.credentials(env) }
        lines += CIScripts.fetchRefs(mainBranch: plan.mainBranch)
        lines += ["status=0"] + work + CIScripts.pushRefs(remote: "origin") + ["exit \"$status\""]
        return lines
    }

    // MARK: - The pipeline

    func pipeline() -> String {
        var yaml = YAMLLines()
        yaml.add(0, ".tollgate:")
        yaml.add(2, "variables:")
        yaml.add(4, "GIT_DEPTH: \"0\"")
        yaml.add(2, "before_script:")
        var setup: [String] = []
        if !plan.workingDirectory.isEmpty { setup.append("cd \"$CI_PROJECT_DIR/\(plan.workingDirectory)\"") }
        yaml.item(4, setup + CIScripts.install())
        yaml.blank()

        validateJob(&yaml)
        for stage in plan.environments {
            yaml.blank()
            previewJob(&yaml, stage)
        }
        yaml.blank()
        commentJob(&yaml)

        yaml.blank()
        releaseJob(&yaml)
        var previous = "tollgate-release"
        for stage in plan.promoted {
            for (index, wave) in stage.waves.enumerated() {
                let job = "tollgate-\(stage.env)-wave-\(index + 1)"
                yaml.blank()
                waveJob(&yaml, job: job, stage: stage, wave: wave, after: previous)
                previous = job
            }
        }
        if let approval = plan.approval {
            yaml.blank()
            approvalPlanJob(&yaml, approval, after: previous)
            yaml.blank()
            previous = "tollgate-\(approval.env)-apply"
            approvalApplyJob(&yaml, approval)
            for stage in plan.later {
                yaml.blank()
                let job = "tollgate-\(stage.env)-promote"
                laterJob(&yaml, job: job, stage: stage, after: previous)
                previous = job
            }
        }
        return yaml.text
    }

    func validateJob(_ yaml: inout YAMLLines) {
        yaml.add(0, "tollgate-validate:")
        yaml.add(2, "extends: .tollgate")
        yaml.add(2, "stage: test")
        rules(&yaml, Self.onMergeRequest)
        yaml.add(2, "script:")
        // Lint's findings as a GitLab code quality report (Code Climate issues).
        let severity = "{\"error\": \"major\", \"warning\": \"minor\", \"note\": \"info\"}[.severity]"
        yaml.item(4, [
            "tollgate validate",
            "lint_status=0",
            "tollgate lint --format json > \"$CI_PROJECT_DIR/tollgate-lint.json\" || lint_status=$?",
            "jq '[.findings[] | {description: \"\\(.rule): \\(.message)\", check_name: .rule,"
                + " fingerprint: (\"\\(.rule):\\(.file):\\(.range.start.line):\\(.message)\" | @base64),"
                + " severity: (\(severity) // \"minor\"), location: {path: .file, lines: {begin: .range.start.line}}}]' \\",
            "  \"$CI_PROJECT_DIR/tollgate-lint.json\" > \"$CI_PROJECT_DIR/gl-code-quality-report.json\"",
            "exit \"$lint_status\"",
        ])
        yaml.add(2, "artifacts:")
        yaml.add(4, "when: always")
        yaml.add(4, "reports:")
        yaml.add(6, "codequality: gl-code-quality-report.json")
    }

    /// A plan of the merge request's commit for one environment with `tollgate plan --preview`, which
    /// reads the ledger and writes nothing, so nothing it makes can ever be applied. The team
    /// database's own variable is protected (a merge request pipeline should not see it); the
    /// preview reads the ledger through `TOLLGATE_READONLY_DATABASE_URL` (a role with SELECT only)
    /// when that is set, else an empty one.
    func previewJob(_ yaml: inout YAMLLines, _ stage: CIPipelineGenerator.Layout.Stage) {
        let env = stage.env
        yaml.add(0, "tollgate-preview-\(env):")
        yaml.add(2, "extends: .tollgate")
        yaml.add(2, "stage: test")
        rules(&yaml, Self.onMergeRequest)
        environment(&yaml, "\(env)-plan", prepare: true)
        idToken(&yaml)
        yaml.add(2, "script:")
        let readOnly = CIScripts.readOnlyDatabaseVariable
        yaml.item(4, [
            "# Read-only: the preview writes nothing to the ledger, so none of its plans can ever be applied.",
            "if [ -n \"${\(readOnly):-}\" ]; then export \(plan.databaseVariable)=\"$\(readOnly)\"; else unset \(plan.databaseVariable); fi",
        ] + CIScripts.credentials(env) + [
            "mkdir -p \"$CI_PROJECT_DIR/tollgate-preview\"",
            "tollgate plan --preview --commit \"$CI_COMMIT_SHA\" --env \(env) --format markdown > \"$CI_PROJECT_DIR/tollgate-preview/\(env).md\"",
        ])
        yaml.add(2, "artifacts:")
        yaml.add(4, "paths: [tollgate-preview/\(env).md]")
        yaml.add(4, "expire_in: 1 day")
    }

    /// One merge request note, found by its hidden marker and edited on every push, through the
    /// notes API with a token variable (the job token cannot write notes).
    func commentJob(_ yaml: inout YAMLLines) {
        let envs = plan.environments.map(\.env)
        yaml.add(0, "tollgate-comment:")
        yaml.add(2, "stage: test")
        rules(&yaml, Self.onMergeRequest, when: "always")
        yaml.add(2, "needs:")
        for env in envs {
            yaml.add(4, "- job: tollgate-preview-\(env)")
            yaml.add(6, "artifacts: true")
        }
        yaml.add(2, "script:")
        let auth = "--header \"PRIVATE-TOKEN: $TOLLGATE_NOTE_TOKEN\""
        yaml.item(4, [
            "if [ -z \"${TOLLGATE_NOTE_TOKEN:-}\" ]; then",
            "  echo 'tollgate: error: TOLLGATE_NOTE_TOKEN is not set; add a project access token with the api scope (docs/ci.md)' >&2",
            "  exit 1",
            "fi",
            "{",
            "  echo '\(CIScripts.reviewMarker)'",
            "  echo '## tollgate preview'",
            "  echo",
            "  echo 'Plans of this merge request made by tollgate plan --preview: stored nowhere, they can never be applied.'",
            "  for env in \(envs.joined(separator: " ")); do",
            "    echo",
            "    if [ -f \"tollgate-preview/$env.md\" ]; then cat \"tollgate-preview/$env.md\"; else echo \"### $env: no preview (its job failed)\"; fi",
            "  done",
            "} | head -c 65000 > tollgate-review.md",
            "api=\"$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$CI_MERGE_REQUEST_IID/notes\"",
            "existing=$(curl --fail --silent --show-error \(auth) \"$api?per_page=100&sort=asc\" \\",
            "  | jq -r '[.[] | select(.body | startswith(\"\(CIScripts.reviewMarker)\"))][0].id // empty')",
            "if [ -n \"$existing\" ]; then",
            "  curl --fail --silent --show-error --request PUT \(auth) --data-urlencode 'body@tollgate-review.md' \"$api/$existing\" > /dev/null",
            "else",
            "  curl --fail --silent --show-error --request POST \(auth) --data-urlencode 'body@tollgate-review.md' \"$api\" > /dev/null",
            "fi",
        ])
    }

    func releaseJob(_ yaml: inout YAMLLines) {
        yaml.add(0, "tollgate-release:")
        yaml.add(2, "extends: .tollgate")
        yaml.add(2, "stage: deploy")
        rules(&yaml, onMain)
        yaml.add(2, "resource_group: tollgate-release")
        yaml.add(2, "script:")
        yaml.item(4, writing([
            "release=$(tollgate release) || status=$?",
            "echo \"TOLLGATE_RELEASE=$release\" > \"$CI_PROJECT_DIR/tollgate-release.env\"",
        ], env: nil))
        yaml.add(2, "artifacts:")
        yaml.add(4, "reports:")
        yaml.add(6, "dotenv: tollgate-release.env")
    }

    func waveJob(_ yaml: inout YAMLLines, job: String, stage: CIPipelineGenerator.Layout.Stage, wave: [String], after previous: String) {
        yaml.add(0, "\(job):")
        yaml.add(2, "extends: .tollgate")
        yaml.add(2, "stage: deploy")
        rules(&yaml, onMain)
        needs(&yaml, previous == "tollgate-release" ? [previous] : ["tollgate-release", previous])
        environment(&yaml, stage.env)
        // tollgate locks each (environment, stack): one writer per stack, the wave's stacks side by side.
        yaml.add(2, "resource_group: tollgate-\(stage.env)-$STACK")
        idToken(&yaml)
        yaml.add(2, "parallel:")
        yaml.add(4, "matrix:")
        yaml.add(6, "- STACK: [\(wave.joined(separator: ", "))]")
        yaml.add(2, "script:")
        yaml.item(4, writing([
            "tollgate plan \"$TOLLGATE_RELEASE\" --env \(stage.env) --stack \"$STACK\" --format json > tollgate-plan.json || status=$?",
            "if [ \"$status\" = 0 ]; then plan=$(jq -r '.plans[0].id' tollgate-plan.json) || status=$?; fi",
            "if [ \"$status\" = 0 ]; then tollgate apply \"$plan\" || status=$?; fi",
        ], env: stage.env))
    }

    func approvalPlanJob(_ yaml: inout YAMLLines, _ stage: CIPipelineGenerator.Layout.Stage, after previous: String) {
        yaml.add(0, "tollgate-\(stage.env)-plan:")
        yaml.add(2, "extends: .tollgate")
        yaml.add(2, "stage: deploy")
        rules(&yaml, onMain)
        needs(&yaml, previous == "tollgate-release" ? [previous] : ["tollgate-release", previous])
        environment(&yaml, "\(stage.env)-plan", prepare: true)
        yaml.add(2, "resource_group: tollgate-\(stage.env)")
        idToken(&yaml)
        yaml.add(2, "script:")
        yaml.item(4, writing([
            "tollgate plan \"$TOLLGATE_RELEASE\" --env \(stage.env) --format json > tollgate-plans.json || status=$?",
            "if [ \"$status\" = 0 ]; then",
            "  plans=$(jq -r '[.plans[].id] | join(\" \")' tollgate-plans.json)",
            "  echo \"TOLLGATE_PLANS=$plans\" > \"$CI_PROJECT_DIR/tollgate-plans.env\"",
            "  tollgate show $plans",
            "  echo \"'\(stage.env)' waits at its approval gate (\(GitHubWorkflow.approvers(stage.gate))). Plans:\"",
            "  jq -r '.plans[] | \"    \\(.stack): \\(.id)\"' tollgate-plans.json",
            "  echo 'Approve each plan from a laptop, against the team ledger:'",
            "  for plan in $plans; do echo \"    \(plan.databaseVariable)=... tollgate approve $plan --key ~/.ssh/id_ed25519\"; done",
            "  echo \"Then run the manual job tollgate-\(stage.env)-apply of this pipeline.\"",
            "fi",
        ], env: stage.env))
        yaml.add(2, "artifacts:")
        yaml.add(4, "reports:")
        yaml.add(6, "dotenv: tollgate-plans.env")
    }

    /// The manual apply of the approval environment's plans: every gate is checked again inside
    /// `tollgate apply`, so it passes only once the signed approvals are in the ledger.
    func approvalApplyJob(_ yaml: inout YAMLLines, _ stage: CIPipelineGenerator.Layout.Stage) {
        yaml.add(0, "tollgate-\(stage.env)-apply:")
        yaml.add(2, "extends: .tollgate")
        yaml.add(2, "stage: deploy")
        rules(&yaml, onMain, when: "manual")
        yaml.add(2, "allow_failure: false")
        needs(&yaml, ["tollgate-release", "tollgate-\(stage.env)-plan"])
        environment(&yaml, stage.env)
        yaml.add(2, "resource_group: tollgate-\(stage.env)")
        idToken(&yaml)
        yaml.add(2, "script:")
        yaml.item(4, writing([
            "for plan in $TOLLGATE_PLANS; do",
            "  tollgate apply \"$plan\" || { status=$?; break; }",
            "done",
        ], env: stage.env))
    }

    /// An environment after the approval one: a manual promote once the one before it is applied.
    func laterJob(_ yaml: inout YAMLLines, job: String, stage: CIPipelineGenerator.Layout.Stage, after previous: String) {
        yaml.add(0, "\(job):")
        yaml.add(2, "extends: .tollgate")
        yaml.add(2, "stage: deploy")
        rules(&yaml, onMain, when: "manual")
        yaml.add(2, "allow_failure: false")
        needs(&yaml, ["tollgate-release", previous])
        environment(&yaml, stage.env)
        yaml.add(2, "resource_group: tollgate-\(stage.env)")
        idToken(&yaml)
        yaml.add(2, "script:")
        yaml.item(4, writing([
            "tollgate promote \"$TOLLGATE_RELEASE\" --to \(stage.env) || status=$?",
        ], env: stage.env))
    }
}
