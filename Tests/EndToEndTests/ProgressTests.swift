import Foundation
import TestSupport
import Testing

/// Long commands say what they do as they do it, on stderr, and a promotion that fails at a later
/// stack still reports the applies that happened before it.
@Suite struct ProgressTests {
    /// The lines with their durations replaced, so they compare whole.
    static func normalised(_ text: String) -> [String] {
        text.split(separator: "\n").map { line in
            line.replacingOccurrences(of: #"[0-9]+(\.[0-9]+)? s$"#, with: "N s", options: .regularExpression)
                .replacingOccurrences(of: #"\bp-[0-9a-z]+"#, with: "p-ID", options: .regularExpression)
        }
    }

    @Test func promoteReportsEachStepAndWhatWasAppliedBeforeALaterStackFailed() throws {
        var repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        // The app stack's apply fails (its plan does not): a provisioner that exits 1.
        try repo.edit("stacks/app/main.tf", commit: "a migration that fails") { $0 + """

            resource "null_resource" "migration" {
              provisioner "local-exec" {
                command = "echo the migration failed >&2; exit 1"
              }
            }

            """ }
        let release = try repo.cutRelease()
        repo.cli.environment["TOLLGATE_QUIET"] = nil
        let result = try repo.cli.run("promote", release, "--to", "dev")
        #expect(result.status == 1)
        // The apply that happened is reported, then the stack that failed, with its plan.
        #expect(Self.normalised(result.stdout) == [
            "dev/network: applied  p-ID  2 to create, 0 to update, 0 to replace, 0 to delete  tollgate/dev/network/1",
            "dev/app: failed  p-ID  2 to create, 0 to update, 0 to replace, 0 to delete",
        ])
        let steps = { (stack: String) in
            ["init …", "init done in N s", "plan …", "plan done in N s", "show …", "show done in N s", "init …", "init done in N s", "apply …"]
                .map { "tollgate: dev/\(stack): \($0)" }
        }
        let stderr = Self.normalised(result.stderr)
        #expect(Array(stderr.prefix(20)) == steps("network") + ["tollgate: dev/network: apply done in N s"]
            + steps("app") + ["tollgate: dev/app: apply failed after N s"], "\(result.stderr)")
        #expect(stderr.count > 20 && stderr[20].hasPrefix("tollgate: error: 'terraform apply "), "\(result.stderr)")
        #expect(result.stderr.contains("Error: local-exec provisioner error"))

        // In JSON the failed step carries the error, and the error is a JSON object on stderr (--quiet leaves it alone there).
        let json = try repo.cli.run("promote", release, "--to", "dev", "--format", "json", "--quiet")
        #expect(json.status == 1)
        let failure = try JSONSerialization.jsonObject(with: Data(json.stderr.utf8)) as? [String: Any]
        #expect(failure?["exit_code"] as? Int == 1 && failure?["refused"] as? Bool == false, "\(json.stderr)")
        let reported = try json.jsonArray()
        #expect(reported.map { $0["stack"] as? String } == ["network", "app"])
        #expect(reported.map { $0["status"] as? String } == ["already-applied", "failed"])
        #expect((reported.last?["error"] as? String)?.contains("Error: local-exec provisioner error") == true)
        #expect(reported.first?["error"] == nil)
        let quiet = try repo.cli.run("promote", release, "--to", "dev", "-q")
        #expect(quiet.status == 1)
        #expect(quiet.stderr.hasPrefix("tollgate: error: 'terraform apply "), "\(quiet.stderr)")
    }

    @Test func planReportsEachStepAndTollgateQuietSilencesIt() throws {
        var repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        repo.cli.environment["TOLLGATE_QUIET"] = "0"
        let planned = try repo.cli.run("plan", repo.release, "--env", "dev", "--stack", "network")
        #expect(planned.status == 0, "\(planned.stderr)")
        #expect(Self.normalised(planned.stderr) == ["planning \(repo.release.prefix(19))… for 'dev' with terraform \(TestEngines.all[0].contains("1.0.3") ? "1.0.3" : "1.11.4")"]
            + ["init …", "init done in N s", "plan …", "plan done in N s", "show …", "show done in N s"].map { "tollgate: dev/network: \($0)" }
            + ["review with 'tollgate show PLAN'; apply with 'tollgate apply PLAN'"])
        repo.cli.environment["TOLLGATE_QUIET"] = "1"
        #expect(try repo.cli.run("plan", repo.release, "--env", "dev", "--stack", "network").stderr == "")
    }

    /// `show` colours its attribute lines on a terminal only; `--no-color` and `NO_COLOR` turn it off.
    @Test func showColoursTheDiffOnATerminalOnly() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        let plan = try repo.plan("dev", "network")
        let script = "/usr/bin/script"
        try #require(FileManager.default.isExecutableFile(atPath: script), "util-linux's script(1) gives the binary a terminal")
        func onTerminal(_ arguments: String, noColor: Bool) throws -> String {
            var environment = repo.cli.environment
            environment["CI"] = nil
            environment["NO_COLOR"] = noColor ? "1" : nil
            let command = "'\(CLI.binary)' show \(plan) \(arguments)"
            return try TestProcess.capture(script, ["-qec", command, "/dev/null"], in: repo.repository, environment: environment, scratch: repo.root).stdout
        }
        let green = "\u{1B}[32m+ "
        let coloured = try onTerminal("", noColor: false)
        #expect(coloured.contains(green), "\(coloured)")
        #expect(!(try onTerminal("--no-color", noColor: false)).contains("\u{1B}["))
        #expect(!(try onTerminal("", noColor: true)).contains("\u{1B}["))
        // Not a terminal: plain text, the same lines without the escapes.
        let plain = try repo.cli.run("show", plan).stdout
        #expect(!plain.contains("\u{1B}["))
        #expect(plain.contains("\n             + "), "\(plain)")
    }
}
