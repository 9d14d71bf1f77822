import Foundation
import TestSupport
import Testing

/// What a user who mistypes sees: a misspelt subcommand gets "did you mean", and a missing
/// pipeline file one error that says what to do.
@Suite struct UsageTests {
    @Test func aMisspeltSubcommandGetsDidYouMean() throws {
        let sandbox = try Sandbox(engine: nil, label: "tollgate-usage")
        defer { sandbox.remove() }
        let cases: [([String], String)] = [
            (["promot", "r-1", "--to", "prod"], "Error: 'promot' is not a command of 'tollgate'; did you mean 'tollgate promote'? 'tollgate --help' lists them"),
            (["polcy", "test"], "Error: 'polcy' is not a command of 'tollgate'; did you mean 'tollgate policy'? 'tollgate --help' lists them"),
            (["policy", "tset"], "Error: 'tset' is not a command of 'tollgate policy'; did you mean 'tollgate policy test'? 'tollgate policy --help' lists them"),
            (["zzzzzz"], "Error: 'zzzzzz' is not a command of 'tollgate'; 'tollgate --help' lists them"),
        ]
        for (arguments, expected) in cases {
            let result = try sandbox.cli.run(arguments)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderr == expected + "\n", "\(arguments)")
            #expect(result.stdout.isEmpty)
        }
        // A real command with a bad option still gets the parser's own message.
        let option = try sandbox.cli.run(["status", "--frmat", "json"])
        #expect(option.status == 64)
        #expect(option.stderr.contains("Unknown option '--frmat'"), "\(option.stderr)")
    }

    @Test func aMissingPipelineFileIsOneErrorSayingWhatToDo() throws {
        let sandbox = try Sandbox(engine: nil, label: "tollgate-usage")
        defer { sandbox.remove() }
        try? FileManager.default.removeItem(atPath: sandbox.repository + "/tollgate.yaml")
        let result = try sandbox.cli.run(["status"])
        #expect(result.status == 1)
        #expect(result.stderr == "error: no pipeline file at '\(sandbox.repository)/tollgate.yaml'; run 'tollgate init' to create one, or pass --config PATH\n", "\(result.stderr)")
    }
}
