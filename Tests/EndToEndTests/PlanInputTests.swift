import Foundation
import TestSupport
import Testing

/// Plan JSON that is not a plan is refused by name, and a command busy computing ends soon after
/// SIGTERM instead of running to its end.
@Suite struct PlanInputTests {
    /// `summarize-plan` of a state used to print an empty plan's counts and exit 0.
    @Test func aStateIsRefusedAsAPlanNamingTheFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let cli = CLI(directory: directory.path, engine: nil, cache: directory.path + "/cache")
        let state = TestPaths.fixtures + "/plans/not-plans/state-show.json"
        let result = try cli.run("summarize-plan", state)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "tollgate: error: '\(state)' is a state, not a plan: it has no 'planned_values' and it has the 'values' of 'terraform show -json' without a plan file, or the 'lineage' of a .tfstate file; write the plan with 'terraform plan -out=PLANFILE' and 'terraform show -json PLANFILE > plan.json'\n")
        let errored = try cli.run("summarize-plan", TestPaths.fixtures + "/plans/terraform-1.11.4/errored.json")
        #expect(errored.status == 0)
        #expect(errored.stdout == """
            1 to create, 0 to update, 0 to replace, 0 to delete, 0 to read, 0 to forget; 0 outputs change, 0 resources drifted
            not applicable: the engine reported errors while planning (errored: true); fix them and plan again
            not applicable: the plan is incomplete (complete: false): it was planned with -target, or leaves changes out; plan again without -target so that every change is in the plan

            """)
    }

    /// Reading a 40,000-stack pipeline takes seconds and never looks at cancellation; SIGTERM ends it
    /// with exit code 130 within a second or so (five allowed here, for a loaded machine).
    @Test func aCommandThatOnlyComputesEndsSoonAfterSIGTERM() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var lines = ["version: 1", "engine:", "  binary: terraform", "main_branch: main", "stacks:"]
        for index in 0..<40_000 {
            lines.append("  - name: s\(index)")
            if index > 0 { lines.append("    depends_on: [s\(index - 1), s\(index / 2)]") }
        }
        lines += ["environments:", "  - name: dev", "    account: a", "    identity: echo a", "    backend:", "      type: local",
                  "      settings:", "        path: state/{env}/{stack}.tfstate", "    gate: auto"]
        try directory.write("tollgate.yaml", lines.joined(separator: "\n") + "\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["validate", "--config", directory.path + "/tollgate.yaml"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        usleep(300_000)
        #expect(process.isRunning, "validate finished before it could be interrupted")
        let signalled = Date()
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let took = Date().timeIntervalSince(signalled)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 130, "\(stderr)")
        #expect(took < 5, "validate ran on for \(took) s after SIGTERM")
        #expect(stderr.hasSuffix("tollgate: interrupted; stopped\n"), "\(stderr)")
    }
}
