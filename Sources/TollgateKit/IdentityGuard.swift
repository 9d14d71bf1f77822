import Foundation
import TollgateCore

/// Proves the current credentials belong to the environment's declared account before any engine
/// run: the environment's identity command must print exactly its `account`.
public struct IdentityGuard: Sendable {
    public var shell: any Shell
    public var directory: String

    public init(shell: any Shell, directory: String) {
        self.shell = shell
        self.directory = directory
    }

    public func check(_ environment: Environment) async throws {
        let command = environment.identity.value
        let result = try await shell.run(command, directory: directory)
        guard result.status == 0 else {
            throw KitError.identityCommandFailed(env: environment.name.value, command: command, status: result.status, stderr: result.stderr)
        }
        let actual = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard actual == environment.account.value else {
            throw KitError.identityMismatch(env: environment.name.value, expected: environment.account.value, actual: actual, command: command)
        }
    }
}
