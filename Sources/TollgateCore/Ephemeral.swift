import Foundation

/// A throw-away copy of an environment, on the record from the moment it is asked for until it is
/// destroyed, so a failure anywhere leaves it listed for cleanup, never forgotten.
public struct EphemeralRecord: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        /// `up` started; a crash here leaves this status, which `gc` and `down` treat as live.
        case creating
        case up
        /// `up` failed part way: some stacks may exist.
        case failed
        case destroying
        /// Destroyed; kept for the record.
        case down
        /// `down` failed: resources may remain.
        case destroyFailed = "destroy-failed"

        /// Statuses whose resources may still exist.
        public var mayHoldResources: Bool { self != .down }
    }

    public var name: String
    /// The environment whose config, secrets and account the copy uses.
    public var like: String
    public var releaseID: String
    public var status: Status
    public var actor: String
    public var createdAt: Date
    public var expiresAt: Date
    /// The last failure, redacted.
    public var detail: String?
    /// The latest `ephemeral test` run.
    public var tests: [EphemeralTestResult]

    public init(name: String, like: String, releaseID: String, status: Status, actor: String, createdAt: Date, expiresAt: Date,
                detail: String? = nil, tests: [EphemeralTestResult] = []) {
        self.name = name
        self.like = like
        self.releaseID = releaseID
        self.status = status
        self.actor = actor
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.detail = detail
        self.tests = tests
    }

    /// Past its TTL and possibly still holding resources: `gc` destroys it.
    public func isExpired(at now: Date) -> Bool { status.mayHoldResources && expiresAt <= now }
}

/// One test command's outcome against an ephemeral copy.
public struct EphemeralTestResult: Sendable, Equatable, Codable {
    public var name: String
    public var command: String
    public var exitStatus: Int32
    /// The end of its output (stdout then stderr), secrets masked.
    public var output: String

    public init(name: String, command: String, exitStatus: Int32, output: String) {
        self.name = name
        self.command = command
        self.exitStatus = exitStatus
        self.output = output
    }

    public var passed: Bool { exitStatus == 0 }
}

extension EphemeralRecord {
    /// `TOLLGATE_OUTPUT_<STACK>_<NAME>`: upper case, anything but letters and digits as `_`.
    public static func outputVariable(stack: String, output: String) -> String {
        func part(_ text: String) -> String {
            String(text.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        }
        return "TOLLGATE_OUTPUT_\(part(stack))_\(part(output))"
    }

    /// An output's value as a test reads it: strings as they are, anything else as compact JSON.
    public static func outputText(_ value: JSONValue) -> String {
        value.stringValue ?? CanonicalJSON.encode(value)
    }
}
