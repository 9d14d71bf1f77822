import Foundation
import Testing
import TestSupport

/// Trusted governance, tried as an attacker would: a release never loosens the gate that judges it,
/// keys come from sealed releases, authors are everyone who wrote the change, and the clock is tollgate's.
@Suite struct GovernanceTests {
    /// The prod gate block of the example pipeline, as `tollgate init --example` writes it.
    static let prodGate = """
            gate:
              type: approval
              required: 1
              approvers: [approver@example.com]
              max_plan_age: 24h
        """

    /// A repository whose first release is applied everywhere, so prod has governance in force.
    static func bootstrapped(_ engine: String) throws -> PromotionRepo {
        let repo = try PromotionRepo(engine: engine)
        try repo.releaseToProd(repo.release)
        return repo
    }

    /// The `refused` events on the record, as (rules, reasons).
    static func refusals(_ repo: PromotionRepo) throws -> [(rules: [String], reasons: [String])] {
        let export = try repo.cli.run("audit", "export")
        return export.stdout.split(separator: "\n").compactMap { line in
            guard let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  event["kind"] as? String == "refused", let payload = event["payload"] as? [String: Any] else { return nil }
            return ((payload["rules"] as? [String]) ?? [], (payload["reasons"] as? [String]) ?? [])
        }
    }

    /// The prod plan id of a stack from a paused promotion's JSON.
    static func waitingPlan(_ result: CLI.Result, stack: String) throws -> String {
        let steps = try result.jsonArray()
        guard let plan = steps.first(where: { $0["stack"] as? String == stack && $0["status"] as? String == "waiting" })?["plan"] as? String else {
            throw TestSupportError("no waiting plan for \(stack) in \(result.stdout) \(result.stderr)")
        }
        return plan
    }

    @Test(arguments: TestEngines.all)
    func aReleaseThatLoosensTheGateIsHeldForTheApproversInForce(engine: String) throws {
        let repo = try Self.bootstrapped(engine)
        defer { repo.remove() }
        let inForce = repo.release
        // The change only loosens prod's gate: its plans change nothing, yet it must not pass its own gate.
        try repo.edit("tollgate.yaml", commit: "prod needs no approval") { $0.replacingOccurrences(of: Self.prodGate, with: "    gate: auto") }
        let loosening = try repo.cutRelease()
        try repo.promote(loosening, to: "dev")
        try repo.promote(loosening, to: "stage")
        let held = try repo.cli.run("promote", loosening, "--to", "prod", "--format", "json")
        #expect(held.status == 3, "\(held.stderr)")
        let plan = try Self.waitingPlan(held, stack: "network")
        let reason = "plan '\(plan)' changes the governance of 'prod' (gate: approval → auto; approvers: approver@example.com → none; required: 1 → -; max_plan_age: 1d → -), "
            + "so it is judged by the governance in force, sealed in release \(Digest.short(inForce)), last-good of prod/network (tag tollgate/prod/network/1): "
            + "it has 0 of 1 required approvals from the approvers in force (approver@example.com); ask approver@example.com to run 'tollgate approve \(plan) --key KEY'"
        let steps = try held.jsonArray()
        #expect(steps.last?["missing"] as? [String] == [reason])
        // The stop at the gate is on the record, with the rule and the reason.
        #expect(try Self.refusals(repo).last.map { $0.rules } == ["governance"])
        #expect(try Self.refusals(repo).last.map { $0.reasons } == [reason])
        // The review says it loudly.
        let shown = try repo.cli.run("show", plan)
        #expect(shown.stdout.contains("""
            GOVERNANCE CHANGE: this release changes who may change this environment, so it needs approval under the governance in force
              gate: approval → auto
              approvers: approver@example.com → none
              required: 1 → -
              max_plan_age: 1d → -
              judged by the governance in force, sealed in release \(Digest.short(inForce)), last-good of prod/network (tag tollgate/prod/network/1)
            """), "\(shown.stdout)")
        let markdown = try repo.cli.run("show", plan, "--format", "markdown")
        #expect(markdown.stdout.contains("> ⚠️ **Changes governance** in `prod/network`: it needs approval under the governance in force, not the one it brings."))
        #expect(markdown.stdout.contains("Authorship is unverified (git author and committer emails): `author@example.com`."))

        // The approver in force lets it through; from then on its governance is in force.
        for stack in ["network", "app"] {
            let id = stack == "network" ? plan : try repo.plan("prod", stack, release: loosening)
            let approved = try repo.cli.run("approve", id, "--key", repo.key("approver"))
            #expect(approved.status == 0, "\(approved.stderr)")
        }
        try repo.promote(loosening, to: "prod")
        let status = try repo.cli.run("status", "--format", "json")
        let cells = try status.json()["cells"] as? [[String: Any]] ?? []
        let prod = cells.first { $0["env"] as? String == "prod" && $0["stack"] as? String == "network" }
        #expect((prod?["governance"] as? [String: Any])?["tag"] as? String == "tollgate/prod/network/2")
        try repo.edit("config/prod/network.tfvars", commit: "a prod-only tweak") { $0 + "\n" }
        let next = try repo.cutRelease()
        try repo.promote(next, to: "dev")
        try repo.promote(next, to: "stage")
        let auto = try repo.cli.run("promote", next, "--to", "prod")
        #expect(auto.status == 0, "\(auto.stderr)")
    }

    @Test func keysComeFromTheSignersFileInForceNeverTheCheckout() throws {
        let repo = try Self.bootstrapped(TestEngines.all[0])
        defer { repo.remove() }
        let outsider = try String(contentsOfFile: repo.key("outsider") + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let signers = repo.repository + "/.tollgate/allowed_signers"
        let original = try String(contentsOfFile: signers, encoding: .utf8)

        // 1. A key added to the checkout for an existing approver, not committed.
        try repo.edit("config/prod/network.tfvars", commit: "tweak") { $0 + "\n" }
        let plain = try repo.cutRelease()
        try Data((original + "approver@example.com namespaces=\"tollgate\" \(outsider)\n").utf8).write(to: URL(fileURLWithPath: signers))
        try repo.promote(plain, to: "dev")
        try repo.promote(plain, to: "stage")
        let plan = try repo.plan("prod", "network", release: plain)
        let inForce = "the signers file in force for 'prod' ('.tollgate/allowed_signers' sealed in release \(Digest.short(repo.release)), last-good of prod/network (tag tollgate/prod/network/1))"
        let uncommitted = try repo.cli.run("approve", plan, "--key", repo.key("outsider"))
        #expect(uncommitted.status == 3)
        #expect(uncommitted.stderr == "tollgate: refused: the key '\(repo.key("outsider"))' is not in \(inForce), so its signature would prove nothing; a key added to a checkout or to this release counts only once a release carrying it has passed the gate in force, so sign with a key listed there\n")

        // 2. The same key committed in a release: a governance change, and still not a key in force.
        try repo.cli.git("commit", "-q", "-am", "another key for the approver")
        let (_, rekeyedPlan) = try repo.stagedForProd()
        let committed = try repo.cli.run("approve", rekeyedPlan, "--key", repo.key("outsider"))
        #expect(committed.status == 3)
        #expect(committed.stderr.contains("is not in \(inForce)"))
        let shown = try repo.cli.run("show", rekeyedPlan, "--format", "json")
        let changes = (try shown.json()["gates"] as? [String: Any])?["governance_changes"] as? [[String: Any]] ?? []
        #expect(changes.map { $0["field"] as? String } == ["allowed_signers"])

        // 3. A new approver added by the release does not count until it lands.
        try repo.edit("tollgate.yaml", commit: "ops approves prod") {
            $0.replacingOccurrences(of: "approvers: [approver@example.com]", with: "approvers: [approver@example.com, ops@example.com]")
        }
        let (_, widenedPlan) = try repo.stagedForProd()
        let ops = try repo.cli.run("approve", widenedPlan, "--key", repo.key("ops"))
        #expect(ops.status == 3)
        #expect(ops.stderr == "tollgate: refused: ops@example.com is not an approver of 'prod' under the governance in force (approvers: approver@example.com); ask one of them\n")

        // 4. `approvers:` pointed at another signers file that maps the outsider's key to the approver.
        try Data("approver@example.com \(outsider)\n".utf8).write(to: URL(fileURLWithPath: repo.repository + "/.tollgate/other_signers"))
        try repo.cli.git("add", ".tollgate/other_signers")
        try repo.edit("tollgate.yaml", commit: "another signers file") {
            $0.replacingOccurrences(of: "approvers: .tollgate/allowed_signers", with: "approvers: .tollgate/other_signers")
        }
        let (_, redirectedPlan) = try repo.stagedForProd()
        let redirectedApproval = try repo.cli.run("approve", redirectedPlan, "--key", repo.key("outsider"))
        #expect(redirectedApproval.status == 3)
        #expect(redirectedApproval.stderr.contains("is not in \(inForce)"))
        // Both releases' changes stay held: they were never applied to prod, so spreading them over
        // two releases changes nothing.
        let held = try repo.cli.run("apply", redirectedPlan)
        #expect(held.status == 3)
        #expect(held.stderr.contains("changes the governance of 'prod' (approvers: approver@example.com → approver@example.com, ops@example.com; approvers_file: .tollgate/allowed_signers → .tollgate/other_signers; allowed_signers: sha256:"))
    }

    @Test func breakGlassAndRenamedPrincipalsDoNotCarryAGovernanceChange() throws {
        let repo = try Self.bootstrapped(TestEngines.all[0])
        defer { repo.remove() }
        // The release renames the author's key to a new principal and makes that principal a prod
        // approver, then goes straight to prod by break-glass.
        let author = try String(contentsOfFile: repo.key("author") + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        try repo.edit(".tollgate/allowed_signers", commit: "a second name") { $0 + "boss@example.com namespaces=\"tollgate\" \(author)\n" }
        try repo.edit("tollgate.yaml", commit: "the boss approves prod") {
            $0.replacingOccurrences(of: "approvers: [approver@example.com]", with: "approvers: [boss@example.com]")
        }
        let release = try repo.cutRelease()
        let head = try PromotionRepo.shell("git rev-parse HEAD", in: repo.repository).trimmingCharacters(in: .whitespacesAndNewlines)
        let planned = try repo.cli.run("plan", release, "--env", "prod", "--stack", "network", "--break-glass", "outage", "--format", "json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let plan = try #require(try planned.jsonArray().first?["id"] as? String)
        // Under the signers file in force the key is the author's, who is no approver in force and wrote the change.
        let renamed = try repo.cli.run("approve", plan, "--key", repo.key("author"))
        #expect(renamed.status == 3)
        #expect(renamed.stderr == "tollgate: refused: author@example.com is not an approver of 'prod' under the governance in force (approvers: approver@example.com); ask one of them\n"
                + "  author@example.com wrote this release (commit \(head.prefix(12))) and cannot approve it; ask another approver\n")
        // Break-glass skips the lower environments, never the governance in force.
        let applied = try repo.cli.run("apply", plan)
        #expect(applied.status == 3)
        #expect(applied.stderr.contains("plan '\(plan)' changes the governance of 'prod' (approvers: approver@example.com → boss@example.com; allowed_signers: "), "\(applied.stderr)")
        #expect(applied.stderr.contains("ask approver@example.com to run 'tollgate approve \(plan) --key KEY'"))
        #expect(try repo.cli.run("approve", plan, "--key", repo.key("approver")).status == 0)
        let approved = try repo.cli.run("apply", plan)
        #expect(approved.status == 0, "\(approved.stderr)")
    }

    @Test func everyoneWhoWroteTheChangeIsAnAuthor() throws {
        let repo = try Self.bootstrapped(TestEngines.all[0])
        defer { repo.remove() }
        // The approver writes a commit; the author puts an innocent one on top and cuts the release.
        let path = repo.repository + "/config/prod/network.tfvars"
        try Data((try String(contentsOfFile: path, encoding: .utf8) + "\n").utf8).write(to: URL(fileURLWithPath: path))
        try PromotionRepo.shell("git -c user.name=Approver -c user.email=approver@example.com commit -q -am 'by the approver'", in: repo.repository)
        try repo.edit("config/prod/app.tfvars", commit: "by the author") { $0 + "\n" }
        let (_, plan) = try repo.stagedForProd()
        let approved = try repo.cli.run("approve", plan, "--key", repo.key("approver"))
        #expect(approved.status == 3)
        #expect(approved.stderr == "tollgate: refused: approver@example.com wrote a commit of this release since 'prod's last-good and cannot approve it; ask another approver\n")
        let shown = try repo.cli.run("show", plan)
        #expect(shown.stdout.contains("  authors  author@example.com, approver@example.com (unverified: git author and committer emails; set require_signed_commits to verify them)"),
                "\(shown.stdout)")
    }

    @Test func signedCommitsNameTheAuthorsWhenRequired() throws {
        let repo = try Self.bootstrapped(TestEngines.all[0])
        defer { repo.remove() }
        // Require signed commits in prod, with keys valid for git's namespace too: a governance change
        // the approver in force accepts.
        try repo.edit(".tollgate/allowed_signers", commit: "keys sign commits too") {
            $0.replacingOccurrences(of: "namespaces=\"tollgate\"", with: "namespaces=\"git,tollgate\"")
        }
        try repo.edit("tollgate.yaml", commit: "signed commits in prod") {
            $0.replacingOccurrences(of: Self.prodGate, with: Self.prodGate + "\n    require_signed_commits: true")
        }
        let strict = try repo.cutRelease()
        try repo.releaseToProd(strict)

        // An unsigned commit cannot go to prod.
        try repo.edit("config/prod/network.tfvars", commit: "unsigned") { $0 + "\n" }
        let unsigned = try repo.cutRelease()
        let head = try PromotionRepo.shell("git rev-parse HEAD", in: repo.repository).trimmingCharacters(in: .whitespacesAndNewlines)
        try repo.promote(unsigned, to: "dev")
        try repo.promote(unsigned, to: "stage")
        let refused = try repo.cli.run("promote", unsigned, "--to", "prod")
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("environment 'prod' requires signed commits, and commit \(head.prefix(12)) has no SSH signature that the signers file in force verifies; sign them (git commit -S with gpg.format=ssh) with a key listed there and cut a new release"),
                "\(refused.stderr)")

        // A signed commit whose git author claims to be someone else: the signature's principal is the author.
        try PromotionRepo.shell("git reset -q --hard HEAD~1", in: repo.repository)
        let path = repo.repository + "/config/prod/network.tfvars"
        try Data((try String(contentsOfFile: path, encoding: .utf8) + "\n\n").utf8).write(to: URL(fileURLWithPath: path))
        try PromotionRepo.shell("git -c user.name=Nobody -c user.email=nobody@example.com -c gpg.format=ssh -c user.signingkey=\(repo.key("author")).pub commit -q -S -am signed",
                                in: repo.repository)
        let (_, plan) = try repo.stagedForProd()
        let shown = try repo.cli.run("show", plan)
        #expect(shown.stdout.contains("  authors  author@example.com (verified commit signatures)"), "\(shown.stdout)")
        let byAuthor = try repo.cli.run("approve", plan, "--key", repo.key("author"))
        #expect(byAuthor.status == 3)
        #expect(byAuthor.stderr == "tollgate: refused: author@example.com is not an approver of 'prod' (approvers: approver@example.com); ask one of them\n"
                + "  author@example.com wrote a commit of this release since 'prod's last-good and cannot approve it; ask another approver\n")
        #expect(try repo.cli.run("approve", plan, "--key", repo.key("approver")).status == 0)
        let applied = try repo.cli.run("apply", plan)
        #expect(applied.status == 0, "\(applied.stderr)")
    }

    @Test func aFreshEnvironmentCannotAdoptAnotherEnvironmentsState() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.promote("dev")
        try repo.promote("stage")
        // A symlink from prod's state directory into dev's is caught by validation.
        let state = repo.root + "/repo-state"
        try PromotionRepo.shell("mkdir -p \(state) && ln -s \(state)/dev \(state)/prod")
        let validated = try repo.cli.run("validate")
        #expect(validated.status == 1)
        #expect(validated.stderr.contains("error: environments 'dev' and 'prod' resolve to the same state location for stack 'network' (local:\(state)/dev/network.tfstate)"),
                "\(validated.stderr)")
        let planned = try repo.cli.run("plan", repo.release, "--env", "prod", "--stack", "network")
        #expect(planned.status == 1)
        #expect(planned.stderr.contains("resolve to the same state location"))
        // A copy of dev's state (no link to see) is caught by its lineage, pinned to dev.
        try PromotionRepo.shell("rm \(state)/prod && mkdir \(state)/prod && cp \(state)/dev/network.tfstate \(state)/prod/network.tfstate")
        let lineage = try String(contentsOfFile: "\(state)/dev/network.tfstate", encoding: .utf8)
            .components(separatedBy: "\"lineage\": \"")[1].prefix { $0 != "\"" }
        let copied = try repo.cli.run("plan", repo.release, "--env", "prod", "--stack", "network")
        #expect(copied.status == 3)
        #expect(copied.stderr.split(separator: "\n").last.map(String.init) == "tollgate: refused: the backend of 'prod/network' holds state lineage '\(lineage)', which is pinned to 'dev/network'; a first plan must never adopt another environment's state, so give 'prod' a backend of its own (check for symlinks and shared buckets)")
    }

    @Test func theShippedBinaryTakesNoClockFromItsCaller() throws {
        var repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        repo.cli.environment["TOLLGATE_NOW"] = "2099-01-01T00:00:00Z"
        repo.cli.environment["TOLLGATE_TEST_NOW"] = "2099-01-01T00:00:00Z"
        let before = Date()
        let planned = try repo.cli.run("plan", repo.release, "--env", "dev", "--stack", "network", "--format", "json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let created = try #require(planned.jsonArray().first?["created_at"] as? String)
        let time = try #require(ISO8601DateFormatter().date(from: created))
        #expect(time >= before.addingTimeInterval(-1) && time <= Date().addingTimeInterval(1), "\(time)")
    }
}

extension PromotionRepo {
    /// Cuts a release of HEAD, promotes it to dev and stage, and plans prod's network stack.
    func stagedForProd() throws -> (release: String, plan: String) {
        let release = try cutRelease()
        try promote(release, to: "dev")
        try promote(release, to: "stage")
        return (release, try plan("prod", "network", release: release))
    }

    /// Promotes a given release to an environment and fails the setup unless it fully succeeds.
    func promote(_ release: String, to env: String) throws {
        let result = try cli.run("promote", release, "--to", env)
        guard result.status == 0 else { throw TestSupportError("promote \(Digest.short(release)) to \(env): \(result.status) \(result.stdout) \(result.stderr)") }
    }
}

/// The short form of a release id, as tollgate prints it.
enum Digest {
    static func short(_ id: String) -> String { id.hasPrefix("sha256:") ? String(id.prefix(19)) + "…" : id }
}
