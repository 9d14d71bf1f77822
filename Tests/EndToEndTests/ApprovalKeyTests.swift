import Foundation
import TestSupport
import Testing

/// `approve --key` with the keys approvers keep: passphrase-protected, and held by ssh-agent; and
/// an approval checked by hand with `ssh-keygen -Y verify`, as docs/approvals.md shows.
@Suite struct ApprovalKeyTests {
    @Test func protectedAndAgentHeldKeysApproveAndTheApprovalVerifiesByHand() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.promote("dev")
        try repo.promote("stage")
        // The approver's key gets a passphrase: the same public key, so still the listed approver.
        let passphrase = "open sesame"
        try PromotionRepo.shell("ssh-keygen -q -p -f \(repo.key("approver")) -P '' -N '\(passphrase)'")
        let askpass = repo.root + "/askpass.sh"
        try "#!/bin/sh\necho '\(passphrase)'\n".write(toFile: askpass, atomically: true, encoding: .utf8)
        try PromotionRepo.shell("chmod 700 \(askpass)")

        // Without a way to ask for the passphrase, approving fails saying what to do.
        let first = try repo.plan("prod", "network")
        let stuck = try repo.cli.run("approve", first, "--key", repo.key("approver"))
        #expect(stuck.status == 1)
        #expect(stuck.stderr.contains("it is passphrase-protected and there is no terminal to ask on; add it to ssh-agent"), "\(stuck.stderr)")

        // SSH_ASKPASS, as in CI.
        var askpassCLI = repo.cli
        askpassCLI.environment["SSH_ASKPASS"] = askpass
        let approved = try askpassCLI.run("approve", first, "--key", repo.key("approver"), "--format", "json")
        #expect(approved.status == 0, "\(approved.stderr)")
        #expect(try approved.json()["principal"] as? String == "approver@example.com")

        // By hand: the payload and signature from `show --format json`, checked by OpenSSH alone.
        let shown = try repo.cli.run("show", first, "--format", "json")
        let approval = try #require((try shown.json()["approvals"] as? [[String: Any]])?.first)
        let payload = try #require(approval["payload"] as? String)
        try payload.write(toFile: repo.root + "/payload", atomically: true, encoding: .utf8)
        try #require(approval["signature"] as? String).write(toFile: repo.root + "/payload.sig", atomically: true, encoding: .utf8)
        let verified = try PromotionRepo.shell("ssh-keygen -Y verify -f \(repo.repository)/.tollgate/allowed_signers -I approver@example.com -n tollgate -s \(repo.root)/payload.sig < \(repo.root)/payload 2>&1")
        #expect(verified.hasPrefix("Good \"tollgate\" signature for approver@example.com with ED25519 key SHA256:"), "\(verified)")
        #expect(try repo.cli.run("apply", first).status == 0)

        // The key in ssh-agent, named by its public key: nothing is asked.
        let agent = try SSHAgent(socket: repo.root + "/agent.sock")
        defer { agent.stop() }
        try agent.add(repo.key("approver"), passphrase: passphrase, scratch: repo.root)
        let socket = agent.socket
        var agentCLI = repo.cli
        agentCLI.environment["SSH_AUTH_SOCK"] = socket
        let second = try repo.plan("prod", "app")
        let byAgent = try agentCLI.run("approve", second, "--key", repo.key("approver") + ".pub")
        #expect(byAgent.status == 0, "\(byAgent.stderr)")
        #expect(byAgent.stdout.contains("approved \(second) as approver@example.com"), "\(byAgent.stdout)")
        #expect(try repo.cli.run("apply", second).status == 0)
    }
}
