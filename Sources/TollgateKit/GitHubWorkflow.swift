import TollgateCore

/// The GitHub Actions workflows of a pipeline: pull request, main, and the manual apply.
///
/// Least privilege throughout: no permissions at the top, each job asks for what it uses, and
/// `id-token: write` only where a job works in an environment's account. Third-party actions are
/// pinned by commit; untrusted values reach scripts only through `env:`.
struct GitHubWorkflow {
    var plan: CIPipelineGenerator.Layout

    static let directory = ".github/workflows"
    static let pullRequest = directory + "/tollgate-pr.yml"
    static let main = directory + "/tollgate-main.yml"
    static let apply = directory + "/tollgate-apply.yml"
    static let paths = [pullRequest, main, apply]

    /// Actions pinned by full commit, with the release each commit is.
    enum Action {
        static let checkout = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
        static let uploadArtifact = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2"
        static let downloadArtifact = "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0"
        static let uploadSARIF = "github/codeql-action/upload-sarif@5d4e8d1aca955e8d8589aabd499c5cae939e33c7 # v4.31.9"
    }

    /// Same-repository pull requests only: a fork's run gets no secrets and no write token.
    static let sameRepository = "github.event.pull_request.head.repo.full_name == github.repository"

    func files() throws -> [CIFile] {
        [
            CIFile(provider: .github, path: Self.pullRequest, body: pullRequestWorkflow()),
            CIFile(provider: .github, path: Self.main, body: mainWorkflow()),
            CIFile(provider: .github, path: Self.apply, body: applyWorkflow()),
        ]
    }

    // MARK: - Pieces

    func header(_ yaml: inout YAMLLines, name: String) {
        yaml.add(0, "name: \(name)")
        yaml.blank()
    }

    /// `on: EVENT: branches: [main]`, for the workflows that follow the main branch.
    func onMainBranch(_ yaml: inout YAMLLines, event: String) {
        yaml.add(0, "on:")
        yaml.add(2, "\(event):")
        yaml.add(4, "branches: [\(plan.mainBranch)]")
        yaml.blank()
    }

    func concurrency(_ yaml: inout YAMLLines, indent: Int, group: String, cancelInProgress: Bool) {
        yaml.add(indent, "concurrency:")
        yaml.add(indent + 2, "group: \(group)")
        yaml.add(indent + 2, "cancel-in-progress: \(cancelInProgress)")
    }

    func defaults(_ yaml: inout YAMLLines) {
        yaml.add(0, "permissions: {}")
        yaml.blank()
        if !plan.workingDirectory.isEmpty {
            yaml.add(0, "defaults:")
            yaml.add(2, "run:")
            yaml.add(4, "working-directory: \(plan.workingDirectory)")
            yaml.blank()
        }
    }

    func checkout(_ yaml: inout YAMLLines, push: Bool) {
        yaml.add(6, "- name: Check out")
        yaml.add(8, "uses: \(Action.checkout)")
        yaml.add(8, "with:")
        yaml.add(10, "fetch-depth: 0")
        // Only the jobs that push tollgate's tags and audit anchor keep the token in the clone.
        yaml.add(10, "persist-credentials: \(push)")
    }

    func install(_ yaml: inout YAMLLines) {
        yaml.add(6, "- name: Install tollgate")
        yaml.script(8, "run", CIScripts.install())
    }

    func credentials(_ yaml: inout YAMLLines, env: String) {
        yaml.add(6, "- name: Credentials for \(env)")
        yaml.script(8, "run", CIScripts.credentials(env))
    }

    func fetchRefs(_ yaml: inout YAMLLines) {
        yaml.add(6, "- name: Fetch the main branch, release tags and audit anchor")
        yaml.script(8, "run", CIScripts.fetchRefs(mainBranch: plan.mainBranch))
    }

    func pushRefs(_ yaml: inout YAMLLines) {
        yaml.add(6, "- name: Push release tags and the audit anchor")
        yaml.add(8, "if: always()")
        yaml.script(8, "run", CIScripts.pushRefs(remote: "origin"))
    }

    /// The team ledger and artifact key, only ever from secrets.
    func teamSecrets(_ yaml: inout YAMLLines, indent: Int) {
        yaml.add(indent, "\(plan.databaseVariable): ${{ secrets.\(plan.databaseVariable) }}")
        if let key = plan.keyVariable { yaml.add(indent, "\(key): ${{ secrets.\(key) }}") }
    }

    // MARK: - Pull request

    func pullRequestWorkflow() -> String {
        var yaml = YAMLLines()
        header(&yaml, name: "tollgate pull request")
        onMainBranch(&yaml, event: "pull_request")
        defaults(&yaml)
        concurrency(&yaml, indent: 0, group: "tollgate-pr-${{ github.event.pull_request.number }}", cancelInProgress: true)
        yaml.blank()
        yaml.add(0, "jobs:")

        yaml.add(2, "validate:")
        yaml.add(4, "name: validate and lint")
        yaml.add(4, "runs-on: ubuntu-latest")
        yaml.add(4, "permissions:")
        yaml.add(6, "contents: read")
        yaml.add(6, "security-events: write")
        yaml.add(4, "steps:")
        checkout(&yaml, push: false)
        install(&yaml)
        yaml.add(6, "- name: Validate tollgate.yaml")
        yaml.add(8, "run: tollgate validate")
        yaml.add(6, "- name: Lint")
        yaml.add(8, "run: tollgate lint --format sarif > \"$RUNNER_TEMP/tollgate-lint.sarif\"")
        yaml.add(6, "- name: Upload lint findings to code scanning")
        yaml.add(8, "if: always() && \(Self.sameRepository)")
        yaml.add(8, "uses: \(Action.uploadSARIF)")
        yaml.add(8, "with:")
        yaml.add(10, "sarif_file: ${{ runner.temp }}/tollgate-lint.sarif")
        yaml.add(10, "category: tollgate-lint")

        for stage in plan.environments {
            yaml.blank()
            previewJob(&yaml, stage)
        }

        yaml.blank()
        yaml.add(2, "comment:")
        yaml.add(4, "name: review comment")
        yaml.add(4, "needs: [\(plan.environments.map { "preview-\($0.env)" }.joined(separator: ", "))]")
        yaml.add(4, "if: always() && \(Self.sameRepository)")
        yaml.add(4, "runs-on: ubuntu-latest")
        yaml.add(4, "permissions:")
        yaml.add(6, "pull-requests: write")
        yaml.add(4, "steps:")
        yaml.add(6, "- name: Collect the previews")
        yaml.add(8, "uses: \(Action.downloadArtifact)")
        yaml.add(8, "with:")
        yaml.add(10, "pattern: tollgate-preview-*")
        yaml.add(10, "path: ${{ runner.temp }}/previews")
        yaml.add(10, "merge-multiple: true")
        yaml.add(6, "- name: Post or update the review comment")
        yaml.add(8, "working-directory: ${{ runner.temp }}")
        yaml.add(8, "env:")
        yaml.add(10, "GH_TOKEN: ${{ github.token }}")
        yaml.add(10, "PR_NUMBER: ${{ github.event.pull_request.number }}")
        yaml.add(10, "REPOSITORY: ${{ github.repository }}")
        yaml.script(8, "run", commentBody(envs: plan.environments.map(\.env)) + [
            "# One comment per pull request, found by its hidden marker and edited on every push.",
            "existing=$(gh api --paginate \"repos/$REPOSITORY/issues/$PR_NUMBER/comments\" \\",
            "  --jq '.[] | select(.user.login == \"github-actions[bot]\" and (.body | startswith(\"\(CIScripts.reviewMarker)\"))) | .id' | head -n 1)",
            "if [ -n \"$existing\" ]; then",
            "  gh api --method PATCH \"repos/$REPOSITORY/issues/comments/$existing\" -F body=@tollgate-review.md > /dev/null",
            "else",
            "  gh api --method POST \"repos/$REPOSITORY/issues/$PR_NUMBER/comments\" -F body=@tollgate-review.md > /dev/null",
            "fi",
        ])
        return yaml.text
    }

    /// The comment: the marker, then each environment's preview (or why there is none), cut to
    /// the 65,536 characters a comment may hold.
    func commentBody(envs: [String]) -> [String] {
        [
            "{",
            "  echo '\(CIScripts.reviewMarker)'",
            "  echo '## tollgate preview'",
            "  echo",
            "  echo 'Plans of this pull request made by tollgate plan --preview: stored nowhere, they can never be applied.'",
            "  for env in \(envs.joined(separator: " ")); do",
            "    echo",
            "    if [ -f \"previews/$env.md\" ]; then cat \"previews/$env.md\"; else echo \"### $env: no preview (its job failed or was skipped)\"; fi",
            "  done",
            "} | head -c 65000 > tollgate-review.md",
        ]
    }

    /// A plan of the pull request's commit for one environment with `tollgate plan --preview`, which
    /// reads the ledger and writes nothing: no release, plan, artifact or event, so no runner can
    /// ever apply it, and the order rule and the approval gate are reported instead of stopping it.
    /// The ledger it reads is the team database through the optional read-only secret
    /// (`TOLLGATE_READONLY_DATABASE_URL`, a role with SELECT only); without it, an empty one.
    func previewJob(_ yaml: inout YAMLLines, _ stage: CIPipelineGenerator.Layout.Stage) {
        let env = stage.env
        yaml.add(2, "preview-\(env):")
        yaml.add(4, "name: preview \(env) (never applied)")
        yaml.add(4, "if: \(Self.sameRepository)")
        yaml.add(4, "runs-on: ubuntu-latest")
        yaml.add(4, "environment: \(env)-plan")
        concurrency(&yaml, indent: 4, group: "tollgate-preview-\(env)-${{ github.event.pull_request.number }}", cancelInProgress: true)
        yaml.add(4, "permissions:")
        yaml.add(6, "contents: read")
        yaml.add(6, "id-token: write")
        yaml.add(4, "steps:")
        checkout(&yaml, push: false)
        install(&yaml)
        credentials(&yaml, env: env)
        yaml.add(6, "- name: Plan \(env) as a preview")
        yaml.add(8, "env:")
        yaml.add(10, "\(plan.databaseVariable): ${{ secrets.\(CIScripts.readOnlyDatabaseVariable) }}")
        if let key = plan.keyVariable { yaml.add(10, "\(key): ${{ secrets.\(key) }}") }
        yaml.add(10, "SHA: ${{ github.event.pull_request.head.sha }}")
        yaml.script(8, "run", [
            "# Read-only: the preview writes nothing to the ledger, so none of its plans can ever be applied.",
            "if [ -z \"${\(plan.databaseVariable):-}\" ]; then unset \(plan.databaseVariable); fi",
            "mkdir -p \"$RUNNER_TEMP/preview\"",
            "tollgate plan --preview --commit \"$SHA\" --env \(env) --format markdown > \"$RUNNER_TEMP/preview/\(env).md\"",
            "cat \"$RUNNER_TEMP/preview/\(env).md\" >> \"$GITHUB_STEP_SUMMARY\"",
        ])
        yaml.add(6, "- name: Keep the preview for the comment")
        yaml.add(8, "uses: \(Action.uploadArtifact)")
        yaml.add(8, "with:")
        yaml.add(10, "name: tollgate-preview-\(env)")
        yaml.add(10, "path: ${{ runner.temp }}/preview/\(env).md")
        yaml.add(10, "retention-days: 1")
    }

    // MARK: - Main

    func mainWorkflow() -> String {
        var yaml = YAMLLines()
        header(&yaml, name: "tollgate promote")
        onMainBranch(&yaml, event: "push")
        defaults(&yaml)
        // Merges promote one after another; a newer merge waits instead of cancelling a promotion.
        concurrency(&yaml, indent: 0, group: "tollgate-promote", cancelInProgress: false)
        yaml.blank()
        yaml.add(0, "jobs:")
        yaml.add(2, "release:")
        yaml.add(4, "name: release")
        yaml.add(4, "runs-on: ubuntu-latest")
        yaml.add(4, "permissions:")
        yaml.add(6, "contents: write")
        yaml.add(4, "outputs:")
        yaml.add(6, "release: ${{ steps.release.outputs.id }}")
        yaml.add(4, "env:")
        teamSecrets(&yaml, indent: 6)
        yaml.add(4, "steps:")
        checkout(&yaml, push: true)
        install(&yaml)
        fetchRefs(&yaml)
        yaml.add(6, "- name: Release this commit")
        yaml.add(8, "id: release")
        yaml.script(8, "run", [
            "release=$(tollgate release)",
            "echo \"id=$release\" >> \"$GITHUB_OUTPUT\"",
            "echo \"release $release\" >> \"$GITHUB_STEP_SUMMARY\"",
        ])
        pushRefs(&yaml)

        var previous = "release"
        for stage in plan.promoted {
            for (index, wave) in stage.waves.enumerated() {
                let job = "\(stage.env)-wave-\(index + 1)"
                yaml.blank()
                waveJob(&yaml, job: job, stage: stage, wave: wave, index: index, after: previous)
                previous = job
            }
        }
        if let approval = plan.approval {
            yaml.blank()
            approvalPlanJob(&yaml, approval, after: previous)
        }
        return yaml.text
    }

    /// One wave of an environment: a matrix job over its stacks, each planned and applied.
    func waveJob(_ yaml: inout YAMLLines, job: String, stage: CIPipelineGenerator.Layout.Stage, wave: [String], index: Int, after previous: String) {
        yaml.add(2, "\(job):")
        yaml.add(4, "name: \(stage.env) wave \(index + 1) (\(stage.gate.kind))")
        yaml.add(4, "needs: [\(previous == "release" ? "release" : "release, \(previous)")]")
        yaml.add(4, "runs-on: ubuntu-latest")
        yaml.add(4, "environment: \(stage.env)")
        // tollgate locks each (environment, stack); a group per environment would make the
        // matrix jobs of one wave cancel each other, so the group names the stack too.
        concurrency(&yaml, indent: 4, group: "tollgate-\(stage.env)-${{ matrix.stack }}", cancelInProgress: false)
        yaml.add(4, "permissions:")
        yaml.add(6, "contents: write")
        yaml.add(6, "id-token: write")
        yaml.add(4, "strategy:")
        // A failed stack lets its siblings finish (never stop an apply midway) and stops later waves.
        yaml.add(6, "fail-fast: false")
        yaml.add(6, "matrix:")
        yaml.add(8, "stack: [\(wave.joined(separator: ", "))]")
        yaml.add(4, "env:")
        teamSecrets(&yaml, indent: 6)
        yaml.add(6, "TOLLGATE_RELEASE: ${{ needs.release.outputs.release }}")
        yaml.add(6, "STACK: ${{ matrix.stack }}")
        yaml.add(4, "steps:")
        checkout(&yaml, push: true)
        install(&yaml)
        credentials(&yaml, env: stage.env)
        fetchRefs(&yaml)
        yaml.add(6, "- name: Plan and apply \(stage.env)/${{ matrix.stack }}")
        yaml.script(8, "run", [
            "tollgate plan \"$TOLLGATE_RELEASE\" --env \(stage.env) --stack \"$STACK\" --format json > \"$RUNNER_TEMP/plan.json\"",
            "plan=$(jq -r '.plans[0].id' \"$RUNNER_TEMP/plan.json\")",
            "tollgate show \"$plan\" --format markdown >> \"$GITHUB_STEP_SUMMARY\"",
            "tollgate apply \"$plan\"",
        ])
        pushRefs(&yaml)
    }

    /// The first approval environment: every stack planned into the team ledger, then the job
    /// stops and says who must approve what, and how to apply once they did.
    func approvalPlanJob(_ yaml: inout YAMLLines, _ stage: CIPipelineGenerator.Layout.Stage, after previous: String) {
        yaml.add(2, "\(stage.env)-plan:")
        yaml.add(4, "name: plan \(stage.env) (stops at the approval gate)")
        yaml.add(4, "needs: [\(previous == "release" ? "release" : "release, \(previous)")]")
        yaml.add(4, "runs-on: ubuntu-latest")
        yaml.add(4, "environment: \(stage.env)-plan")
        concurrency(&yaml, indent: 4, group: "tollgate-\(stage.env)", cancelInProgress: false)
        yaml.add(4, "permissions:")
        yaml.add(6, "contents: write")
        yaml.add(6, "id-token: write")
        yaml.add(4, "env:")
        teamSecrets(&yaml, indent: 6)
        yaml.add(6, "TOLLGATE_RELEASE: ${{ needs.release.outputs.release }}")
        yaml.add(4, "steps:")
        checkout(&yaml, push: true)
        install(&yaml)
        credentials(&yaml, env: stage.env)
        fetchRefs(&yaml)
        yaml.add(6, "- name: Plan \(stage.env) for approval")
        let hint = "Then apply: Actions > tollgate apply > Run workflow with environment \(stage.env) and release $TOLLGATE_RELEASE"
        yaml.script(8, "run", [
            "tollgate plan \"$TOLLGATE_RELEASE\" --env \(stage.env) --format json > \"$RUNNER_TEMP/plans.json\"",
            "mapfile -t plans < <(jq -r '.plans[].id' \"$RUNNER_TEMP/plans.json\")",
            "tollgate show \"${plans[@]}\" --format markdown >> \"$GITHUB_STEP_SUMMARY\"",
            "{",
            "  echo",
            "  echo \"'\(stage.env)' waits at its approval gate (\(Self.approvers(stage.gate))). Plans:\"",
            "  jq -r '.plans[] | \"    \\(.stack): \\(.id)\"' \"$RUNNER_TEMP/plans.json\"",
            "  echo 'Approve each plan from a laptop, against the team ledger:'",
            "  for plan in \"${plans[@]}\"; do echo \"    \(plan.databaseVariable)=... tollgate approve $plan --key ~/.ssh/id_ed25519\"; done",
            "  echo \"\(hint)\"",
            "} | tee -a \"$GITHUB_STEP_SUMMARY\"",
        ])
        pushRefs(&yaml)
    }

    static func approvers(_ gate: Gate) -> String {
        guard case .approval(let approval) = gate else { return "no approvers" }
        return "\(approval.required) of \(approval.approvers.joined(separator: ", ")) must sign"
    }

    // MARK: - Apply

    func applyWorkflow() -> String {
        var yaml = YAMLLines()
        let envs = plan.environments.map(\.env)
        header(&yaml, name: "tollgate apply")
        yaml.add(0, "on:")
        yaml.add(2, "workflow_dispatch:")
        yaml.add(4, "inputs:")
        yaml.add(6, "environment:")
        yaml.add(8, "description: The environment to apply to")
        yaml.add(8, "type: choice")
        yaml.add(8, "required: true")
        yaml.add(8, "options: [\(envs.joined(separator: ", "))]")
        yaml.add(6, "plan:")
        yaml.add(8, "description: A plan id (p-...) to apply; leave empty to give a release instead")
        yaml.add(8, "type: string")
        yaml.add(8, "required: false")
        yaml.add(8, "default: ''")
        yaml.add(6, "release:")
        yaml.add(8, "description: A release id (sha256:...) whose plans are applied in dependency order, each once approved")
        yaml.add(8, "type: string")
        yaml.add(8, "required: false")
        yaml.add(8, "default: ''")
        yaml.blank()
        defaults(&yaml)
        yaml.add(0, "jobs:")
        yaml.add(2, "apply:")
        yaml.add(4, "name: apply to ${{ inputs.environment }}")
        yaml.add(4, "if: github.ref == 'refs/heads/\(plan.mainBranch)'")
        yaml.add(4, "runs-on: ubuntu-latest")
        yaml.add(4, "environment: ${{ inputs.environment }}")
        concurrency(&yaml, indent: 4, group: "tollgate-${{ inputs.environment }}", cancelInProgress: false)
        yaml.add(4, "permissions:")
        yaml.add(6, "contents: write")
        yaml.add(6, "id-token: write")
        yaml.add(4, "env:")
        teamSecrets(&yaml, indent: 6)
        yaml.add(6, "TOLLGATE_ENV: ${{ inputs.environment }}")
        yaml.add(6, "PLAN_ID: ${{ inputs.plan }}")
        yaml.add(6, "RELEASE_ID: ${{ inputs.release }}")
        yaml.add(4, "steps:")
        yaml.add(6, "- name: Check the inputs")
        yaml.script(8, "run", [
            "case \"$TOLLGATE_ENV\" in",
            "  \(envs.joined(separator: "|"))) ;;",
            "  *) echo '::error::unknown environment'; exit 1 ;;",
            "esac",
            "if [ -n \"$PLAN_ID\" ] && [ -n \"$RELEASE_ID\" ]; then echo '::error::give a plan or a release, not both'; exit 1; fi",
            "if [ -n \"$PLAN_ID\" ]; then",
            "  [[ \"$PLAN_ID\" =~ ^p-[0-9a-f]{1,64}$ ]] || { echo '::error::the plan id must look like p-0123abcd'; exit 1; }",
            "elif [ -n \"$RELEASE_ID\" ]; then",
            "  [[ \"$RELEASE_ID\" =~ ^sha256:[0-9a-f]{7,64}$ ]] || { echo '::error::the release id must look like sha256:0123abcd'; exit 1; }",
            "else",
            "  echo '::error::give the plan id to apply, or the release whose approved plans to apply'; exit 1",
            "fi",
        ])
        checkout(&yaml, push: true)
        install(&yaml)
        yaml.add(6, "- name: Credentials for ${{ inputs.environment }}")
        yaml.script(8, "run", CIScripts.credentials("\"$TOLLGATE_ENV\""))
        fetchRefs(&yaml)
        yaml.add(6, "- name: Apply (every gate is checked again; it passes only once the approvals are there)")
        yaml.script(8, "run", [
            "if [ -n \"$PLAN_ID\" ]; then",
            "  tollgate show \"$PLAN_ID\" --format json > \"$RUNNER_TEMP/plan.json\"",
            "  planned=$(jq -r '.plan.env' \"$RUNNER_TEMP/plan.json\")",
            "  if [ \"$planned\" != \"$TOLLGATE_ENV\" ]; then echo \"::error::plan $PLAN_ID is for '$planned', not '$TOLLGATE_ENV'\"; exit 1; fi",
            "  tollgate show \"$PLAN_ID\" --format markdown >> \"$GITHUB_STEP_SUMMARY\"",
            "  tollgate apply \"$PLAN_ID\"",
            "else",
            "  tollgate promote \"$RELEASE_ID\" --to \"$TOLLGATE_ENV\"",
            "fi",
        ])
        pushRefs(&yaml)
        return yaml.text
    }
}
