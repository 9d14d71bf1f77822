import TollgateCore

/// The `Shell` port on `/bin/sh -c`, with the same cancellation as engine runs.
public struct ProcessShell: Shell {
    public var runner: ProcessRunner
    public var environment: [String: String]

    public init(environment: [String: String], runner: ProcessRunner = ProcessRunner()) {
        self.environment = environment
        self.runner = runner
    }

    public func run(_ command: String, directory: String, environment extra: [String: String]) async throws -> ShellResult {
        let output = try await runner.run("/bin/sh", ["-c", command], directory: directory,
                                          environment: environment.merging(extra) { _, new in new })
        return ShellResult(status: output.status, stdout: output.stdoutText, stderr: output.stderrText)
    }
}
