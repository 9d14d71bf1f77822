/// The port for running a user-supplied shell command (identity probes, `cmd:` secret references).
public protocol Shell: Sendable {
    /// Runs `command` with `/bin/sh -c` in `directory`, with `environment` added to tollgate's own.
    func run(_ command: String, directory: String, environment: [String: String]) async throws -> ShellResult
}

extension Shell {
    public func run(_ command: String, directory: String) async throws -> ShellResult {
        try await run(command, directory: directory, environment: [:])
    }
}

public struct ShellResult: Sendable, Equatable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}
