import TollgateCore

/// Everything that can go wrong while finding or running the engine.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    /// No candidate binary was found at all.
    case notFound(binary: String, searched: [String])
    /// Binaries were found, but none satisfies the pipeline's version constraint.
    case unsatisfiedVersion(constraint: String, found: [String])
    /// The binary ran but its version could not be read.
    case unreadableVersion(path: String, output: String)
    /// A process exited unsuccessfully.
    case processFailed(ProcessFailure)
    /// A process could not be started at all.
    case launchFailed(command: String, reason: String)
    /// The run was cancelled (Ctrl-C or SIGTERM); the child was stopped.
    case cancelled(command: String)
    /// The engine printed output tollgate could not decode.
    case malformedOutput(command: String, detail: String)

    public var description: String {
        switch self {
        case .notFound(let binary, let searched):
            return "no '\(binary)' binary found (looked in: \(searched.joined(separator: ", "))); "
                + "install it, set TOLLGATE_ENGINE=/path/to/\(binary), or run 'make setup' in a tollgate checkout"
        case .unsatisfiedVersion(let constraint, let found):
            return "no engine satisfies the pipeline's version constraint '\(constraint)' (found: \(found.joined(separator: "; "))); "
                + "install a matching version or change 'engine.version' in tollgate.yaml"
        case .unreadableVersion(let path, let output):
            return "cannot read the version of '\(path)' (it printed: \(output.prefix(200))); check that it is a terraform or tofu binary"
        case .processFailed(let failure):
            return failure.description
        case .launchFailed(let command, let reason):
            return "cannot start '\(command)': \(reason); check that the binary exists and is executable"
        case .cancelled(let command):
            return "'\(command)' was cancelled and stopped; re-run the command when ready"
        case .malformedOutput(let command, let detail):
            return "'\(command)' printed output tollgate cannot read: \(detail); report this with the engine version"
        }
    }
}

/// A failed process run: the command line, exit status and the tail of its error output.
public struct ProcessFailure: Sendable, Equatable, CustomStringConvertible {
    public var command: String
    public var directory: String?
    public var status: Int32
    public var stderrTail: String

    public init(command: String, directory: String?, status: Int32, stderrTail: String) {
        self.command = command
        self.directory = directory
        self.status = status
        self.stderrTail = stderrTail
    }

    public var description: String {
        var text = "'\(command)' exited with status \(status)"
        if let directory { text += " in '\(directory)'" }
        let tail = stderrTail.trimmingWhitespaceAndNewlines()
        text += tail.isEmpty ? "; it printed nothing on stderr" : ":\n\(tail.indented("    "))"
        return text
    }
}

extension String {
    func trimmingWhitespaceAndNewlines() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace || first.isNewline { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace || last.isNewline { slice = slice.dropLast() }
        return String(slice)
    }

    func indented(_ prefix: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 }.joined(separator: "\n")
    }

    /// The last `count` lines.
    func lastLines(_ count: Int) -> String {
        let lines = split(separator: "\n", omittingEmptySubsequences: false)
        return lines.suffix(count).joined(separator: "\n")
    }
}
