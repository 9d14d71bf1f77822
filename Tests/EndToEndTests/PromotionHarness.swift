import Foundation
import TestSupport

/// A repository with the example pipeline, keys for an author, an approver, an operator who is in
/// allowed_signers but not a prod approver, and an outsider who is in neither.
struct PromotionRepo {
    let sandbox: Sandbox
    var cli: CLI
    let release: String

    var root: String { sandbox.root.path }
    var repository: String { sandbox.repository }

    init(engine: String) throws {
        sandbox = try Sandbox(engine: engine, label: "tollgate-promo")
        var cli = sandbox.cli
        cli.environment["TOLLGATE_ACTOR"] = "ci@example.com"
        self.cli = cli
        let initialised = try cli.run("init", "--example")
        guard initialised.status == 0 else { throw TestSupportError("init: \(initialised.stderr)") }
        var signers = ""
        for who in ["author", "approver", "ops", "outsider"] {
            try Self.shell("ssh-keygen -q -t ed25519 -N '' -C \(who) -f \(sandbox.root.path)/\(who)")
            let key = try String(contentsOfFile: "\(sandbox.root.path)/\(who).pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
            if who != "outsider" { signers += "\(who)@example.com namespaces=\"tollgate\" \(key)\n" }
        }
        try Data(signers.utf8).write(to: URL(fileURLWithPath: sandbox.repository + "/.tollgate/allowed_signers"))
        try cli.git("init", "-q")
        try cli.git("add", "-A")
        try cli.git("commit", "-q", "-m", "example pipeline")
        let released = try cli.run("release", "--pr", "42")
        guard released.status == 0 else { throw TestSupportError("release: \(released.stderr)") }
        release = released.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func remove() { sandbox.remove() }

    func key(_ who: String) -> String { "\(root)/\(who)" }

    @discardableResult
    static func shell(_ command: String, in directory: String? = nil) throws -> String {
        let (status, output) = try TestProcess.run("/bin/sh", ["-c", command], in: directory)
        guard status == 0 else { throw TestSupportError("\(command) failed: \(output)") }
        return output
    }

    /// Promotes to an environment and fails the test setup unless it fully succeeds.
    func promote(_ env: String) throws {
        let result = try cli.run("promote", release, "--to", env)
        guard result.status == 0 else { throw TestSupportError("promote to \(env): \(result.status) \(result.stdout) \(result.stderr)") }
    }

    /// Plans one stack and returns the plan id.
    func plan(_ env: String, _ stack: String, cli: CLI? = nil) throws -> String {
        let result = try (cli ?? self.cli).run("plan", release, "--env", env, "--stack", stack, "--format", "json")
        guard result.status == 0 else { throw TestSupportError("plan \(env)/\(stack): \(result.stderr)") }
        guard let id = try result.jsonArray().first?["id"] as? String else { throw TestSupportError("no plan id in \(result.stdout)") }
        return id
    }

    /// Runs SQL against the ledger as an attacker with write access would (guards dropped first).
    func sql(_ statements: String) throws {
        let script = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.executescript("DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;" + sys.argv[2])
            db.commit()
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, repository + "/.tollgate/ledger.sqlite", statements]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestSupportError("sql failed: \(statements)") }
    }

    func statePath(_ env: String, _ stack: String) -> String { "\(root)/repo-state/\(env)/\(stack).tfstate" }
}

extension PromotionRepo {
    /// Cuts a release of the working tree as committed now.
    func cutRelease() throws -> String {
        let released = try cli.run("release")
        guard released.status == 0 else { throw TestSupportError("release: \(released.stderr)") }
        return released.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Promotes a release through dev and stage, plans every prod stack, and approves and applies
    /// those in `apply` (all by default). Returns the prod plan ids by stack.
    @discardableResult
    func releaseToProd(_ release: String, apply: Set<String> = ["network", "app"]) throws -> [String: String] {
        for env in ["dev", "stage"] {
            let promoted = try cli.run("promote", release, "--to", env)
            guard promoted.status == 0 else { throw TestSupportError("promote \(env): \(promoted.stderr)") }
        }
        var plans: [String: String] = [:]
        for stack in ["network", "app"] {
            let id = try plan("prod", stack, release: release)
            plans[stack] = id
            guard apply.contains(stack) else { continue }
            let approved = try cli.run("approve", id, "--key", key("approver"))
            let applied = try cli.run("apply", id)
            guard approved.status == 0, applied.status == 0 else { throw TestSupportError("prod \(stack): \(approved.stderr) \(applied.stderr)") }
        }
        return plans
    }

    /// Plans one stack of a given release and returns the plan id.
    func plan(_ env: String, _ stack: String, release: String) throws -> String {
        let result = try cli.run("plan", release, "--env", env, "--stack", stack, "--format", "json")
        guard result.status == 0, let id = try result.jsonArray().first?["id"] as? String else {
            throw TestSupportError("plan \(env)/\(stack): \(result.stderr)")
        }
        return id
    }

    /// Rewrites one file of the repository and commits it.
    func edit(_ relative: String, commit message: String, _ change: (String) -> String) throws {
        let path = repository + "/" + relative
        try Data(change(try String(contentsOfFile: path, encoding: .utf8)).utf8).write(to: URL(fileURLWithPath: path))
        try cli.git("commit", "-q", "-am", message)
    }
}
