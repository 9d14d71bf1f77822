import TollgateCore

/// Failures of tollgate's flows. Refusals (a guard or gate said no) are normal outcomes with their
/// own exit code; everything else is an error.
public enum KitError: Error, CustomStringConvertible, Equatable {
    case unknownEnvironment(String, known: [String])
    case unknownStack(String, known: [String])
    case identityMismatch(env: String, expected: String, actual: String, command: String)
    case identityCommandFailed(env: String, command: String, status: Int32, stderr: String)
    case secretUnavailable(env: String, name: String, reference: String, reason: String)
    case cycle([String])
    case fileSystem(path: String, reason: String)
    case alreadyInitialised(String)
    case notFound(kind: String, reference: String, ambiguous: Bool, hint: String)
    /// A gate or guard said no: each refusal says what is missing and who could supply it.
    case refused([GateDecision.Refusal])
    /// An engine, git or signing step failed; the text is already redacted.
    case step(String)
    case dirtyRelease(paths: [String])
    case unknownCommit(String)
    case interrupted(String)
    /// The engine refused the plan of (env, stack): it would destroy resources with
    /// `lifecycle.prevent_destroy`, named by their full addresses.
    case preventDestroy(env: String, stack: String, addresses: [String])

    /// True for a guard or gate refusal (exit code 3), false for an error (exit code 1).
    public var isRefusal: Bool {
        switch self {
        case .identityMismatch, .refused: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .unknownEnvironment(let name, let known):
            let hint = Suggestion.closest(to: name, in: known).map { "did you mean '\($0)'?" } ?? "known environments: \(known.joined(separator: ", "))"
            return "unknown environment '\(name)'; \(hint)"
        case .unknownStack(let name, let known):
            let hint = Suggestion.closest(to: name, in: known).map { "did you mean '\($0)'?" } ?? "known stacks: \(known.joined(separator: ", "))"
            return "unknown stack '\(name)'; \(hint)"
        case .identityMismatch(let env, let expected, let actual, let command):
            return "identity guard refused environment '\(env)': '\(command)' printed '\(actual)', but the pipeline declares account '\(expected)'; "
                + "switch to credentials for account '\(expected)' and re-run"
        case .identityCommandFailed(let env, let command, let status, let stderr):
            let tail = stderr.split(separator: "\n").suffix(5).joined(separator: "\n")
            return "identity command of environment '\(env)' ('\(command)') exited with status \(status)"
                + (tail.isEmpty ? "" : ": \(tail)") + "; fix the command or the credentials it uses"
        case .secretUnavailable(let env, let name, let reference, let reason):
            return "secret '\(name)' of environment '\(env)' could not be read from '\(reference)': \(reason); provide it and re-run"
        case .cycle(let stacks):
            return "stacks depend on each other in a cycle: \(stacks.joined(separator: " → ")); run 'tollgate validate'"
        case .fileSystem(let path, let reason):
            return "cannot prepare '\(path)': \(reason); check the disk and permissions"
        case .notFound(let kind, let reference, let ambiguous, let hint):
            return ambiguous ? "'\(reference)' matches more than one \(kind); give more of its id" : "no \(kind) '\(reference)'; \(hint)"
        case .refused(let refusals):
            return refusals.map(\.message).joined(separator: "\n")
        case .step(let text):
            return text
        case .dirtyRelease(let paths):
            return "uncommitted changes in deployable files (\(paths.prefix(5).joined(separator: ", "))\(paths.count > 5 ? ", …" : "")); commit them or pass --commit REV to release an earlier commit"
        case .unknownCommit(let revision):
            return "'\(revision)' is not a commit in this repository; pass a branch, tag or commit id"
        case .interrupted(let text):
            return text
        case .preventDestroy(let env, let stack, let addresses):
            return "the engine refused to plan '\(env)/\(stack)': prevent_destroy protects \(addresses.map { "'\($0)'" }.joined(separator: ", ")); "
                + "keep \(addresses.count == 1 ? "it" : "them") in the configuration, or remove lifecycle.prevent_destroy in a reviewed release first"
        case .alreadyInitialised(let path):
            return "'\(path)' already exists; tollgate init never overwrites a pipeline, so move it aside or pass --force"
        }
    }
}
