import Foundation
import TollgateCore

/// Reads an environment's secrets from their references, just before the engine runs.
///
/// Values are returned as `TF_VAR_name` variables for the engine's process only; they are never
/// written to a file, the ledger or any output.
public struct SecretResolver: Sendable {
    public var processEnvironment: [String: String]
    public var shell: any Shell
    public var directory: String

    public init(processEnvironment: [String: String], shell: any Shell, directory: String) {
        self.processEnvironment = processEnvironment
        self.shell = shell
        self.directory = directory
    }

    /// `TF_VAR_name` → value for every secret of the environment.
    public func variables(for environment: Environment) async throws -> [String: String] {
        var variables: [String: String] = [:]
        for secret in environment.secrets {
            variables["TF_VAR_\(secret.name)"] = try await value(of: secret, env: environment.name.value)
        }
        return variables
    }

    /// The value a reference names, or nil when it names an environment variable that is not set
    /// (an optional setting such as the artifact key); a file or command that fails is an error.
    public func optionalValue(of reference: SecretReference, what: String) async throws -> String? {
        if case .environment(let name) = reference, (processEnvironment[name] ?? "").isEmpty { return nil }
        let secret = Secret(name: what, reference: reference)
        return try await value(of: secret, env: "-")
    }

    /// The secret values themselves, for redaction.
    func value(of secret: Secret, env: String) async throws -> String {
        func unavailable(_ reason: String) -> KitError {
            .secretUnavailable(env: env, name: secret.name, reference: secret.reference.description, reason: reason)
        }
        switch secret.reference {
        case .environment(let name):
            guard let value = processEnvironment[name], !value.isEmpty else { throw unavailable("environment variable '\(name)' is not set") }
            return value
        case .file(let path):
            let absolute = PathText.absolute(path, base: directory)
            guard let data = FileManager.default.contents(atPath: absolute) else { throw unavailable("cannot read '\(absolute)'") }
            return String(decoding: data, as: UTF8.self).trimmingTrailingNewline()
        case .command(let command):
            let result = try await shell.run(command, directory: directory)
            // Only the status is reported: the command's output may be the secret.
            guard result.status == 0 else { throw unavailable("the command exited with status \(result.status)") }
            return result.stdout.trimmingTrailingNewline()
        }
    }
}

extension String {
    func trimmingTrailingNewline() -> String {
        var text = self
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }
}
