import Foundation
import TestSupport
import Testing

/// Ctrl-C during an apply: the engine and its children stop, the apply is recorded as interrupted,
/// the lock is released, and nothing is left running.
@Suite struct InterruptTests {
    @Test func interruptedApplyIsRecordedAndLeavesNothingRunning() async throws {
        var repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        // The marker is the sleep's own argument, so both the shell and the sleep carry it in their
        // command lines (a shell may exec its last command, dropping a marker kept in a comment).
        let marker = "300.\(Int.random(in: 10_000_000...99_999_999))"
        let app = repo.repository + "/stacks/app/main.tf"
        try Data((try String(contentsOfFile: app, encoding: .utf8) + """

            resource "null_resource" "slow" {
              provisioner "local-exec" {
                command = "sleep \(marker); true"
              }
            }

            """).utf8).write(to: URL(fileURLWithPath: app))
        try repo.cli.git("commit", "-q", "-am", "slow resource")
        let release = try repo.cli.run("release").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        repo.cli.environment["TOLLGATE_ACTOR"] = "ci@example.com"
        let id = try #require(try repo.cli.run("plan", release, "--env", "dev", "--stack", "app", "--format", "json").jsonArray().first?["id"] as? String)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["apply", id]
        process.currentDirectoryURL = URL(fileURLWithPath: repo.repository)
        process.environment = repo.cli.environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var started = false
        for _ in 0..<1200 where !started {
            // A blocking wait: an awaited sleep can starve for minutes when the whole suite runs at once.
            usleep(100_000)
            started = try processCount(matching: marker) > 0
        }
        #expect(started, "the slow provisioner never started")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("was interrupted and recorded as such"))
        #expect(try processCount(matching: marker) == 0, "a child of the engine outlived the interrupted apply")
        let status = try repo.cli.run("status", "--format", "json")
        let cells = try #require(try status.json()["cells"] as? [[String: Any]])
        let cell = try #require(cells.first { $0["env"] as? String == "dev" && $0["stack"] as? String == "app" })
        #expect((cell["last_problem"] as? [String: Any])?["outcome"] as? String == "interrupted")
        #expect(cell["lock"] == nil)
        // The history lists the attempt as interrupted, with no tag and not last-good.
        let history = try repo.cli.run("history", "--env", "dev", "--stack", "app", "--format", "json")
        let report = try history.json()
        #expect(report["source"] as? String == "ledger")
        let entries = try #require(report["entries"] as? [[String: Any]])
        #expect(entries.map { $0["outcome"] as? String } == ["interrupted"])
        #expect(entries.first?["plan"] as? String == id)
        #expect(entries.first?["tag"] == nil)
        #expect(entries.first?["last_good"] as? Bool == false)
        #expect(try repo.cli.run("audit", "verify").status == 0)
    }

    func processCount(matching marker: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { $0.allSatisfy(\.isNumber) }.filter { entry in
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return false }
            return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).contains(marker)
        }.count
    }
}
