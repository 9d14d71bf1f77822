import Foundation
import TollgateCore

/// A clock that reads a fixed instant, and ids counted from 1: tests see exact values.
public func fixedEffects(now: Date = Date(timeIntervalSince1970: 1_790_000_000)) -> Effects {
    let counter = Counter()
    return Effects(now: { now }, newID: { String(format: "id%04d", counter.next()) })
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.withLock {
            value += 1
            return value
        }
    }
}

/// Paths of the package and its fixtures.
public enum TestPaths {
    /// The package root, found from this source file's path.
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    public static var fixtures: String { packageRoot + "/Tests/Fixtures" }

    /// The directory of tools installed by scripts/setup-engine.sh.
    public static var tools: String {
        ProcessInfo.processInfo.environment["TOLLGATE_TOOLS"] ?? packageRoot + "/.tools"
    }

    public static func fixture(_ relative: String) throws -> Data {
        let path = fixtures + "/" + relative
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestSupportError("missing fixture \(path); run Tests/Fixtures/plans/regenerate.sh")
        }
        return data
    }
}

/// The engine binaries the engine and end-to-end tests run on.
///
/// `TOLLGATE_TEST_ENGINES` (colon-separated paths) wins; otherwise the list written by
/// scripts/setup-engine.sh (`.tools/engines`); otherwise `terraform` on PATH.
public enum TestEngines {
    public static let all: [String] = {
        let environment = ProcessInfo.processInfo.environment
        if let listed = environment["TOLLGATE_TEST_ENGINES"], !listed.isEmpty {
            return listed.split(separator: ":").map(String.init)
        }
        if let data = FileManager.default.contents(atPath: TestPaths.tools + "/engines") {
            return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
                .filter { FileManager.default.isExecutableFile(atPath: $0) }
        }
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(directory)/terraform"
            if FileManager.default.isExecutableFile(atPath: path) { return [path] }
        }
        return []
    }()

    /// The provider mirror the tests install providers from.
    public static var mirror: String { TestPaths.tools + "/mirror" }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A fresh directory under the system temp dir, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "tollgate-test") throws {
        path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func write(_ relative: String, _ contents: String) throws {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: full))
    }

    public func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: path + "/" + relative).map { String(decoding: $0, as: UTF8.self) }
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A shell whose answers are given by the test; records every command it was asked to run.
public actor FakeShell: Shell {
    public private(set) var commands: [String] = []
    private let answer: @Sendable (String) -> ShellResult

    public init(answer: @escaping @Sendable (String) -> ShellResult) {
        self.answer = answer
    }

    /// Answers `echo X` with X, like a real shell would, and fails everything else.
    public static func echoing() -> FakeShell {
        FakeShell { command in
            if command.hasPrefix("echo ") { return ShellResult(status: 0, stdout: String(command.dropFirst(5)) + "\n", stderr: "") }
            return ShellResult(status: 127, stdout: "", stderr: "not found")
        }
    }

    public nonisolated func run(_ command: String, directory: String, environment: [String: String]) async throws -> ShellResult {
        await record(command)
        return answer(command)
    }

    private func record(_ command: String) { commands.append(command) }
}

/// An engine that records calls and returns canned plan JSON; for unit tests of the services only.
public actor FakeEngine: Engine {
    public nonisolated let info = EngineInfo(kind: "terraform", path: "/fake/terraform", version: Version([1, 11, 4]))
    public private(set) var calls: [String] = []
    public private(set) var variablesSeen: [[String: String]] = []
    private let planJSON: Data

    /// The most plans that were running at one time.
    public private(set) var mostPlansAtOnce = 0
    private var plansRunning = 0
    private var planBarrier = 0
    private var heldPlans: [CheckedContinuation<Void, Never>] = []
    private var failingPlans: String?

    public init(planJSON: Data) { self.planJSON = planJSON }

    /// Holds every plan until `count` plans are running at once (or `patience` passed, so a caller
    /// that plans one at a time is seen as such rather than hanging).
    public func holdPlans(until count: Int, patience: Duration = .seconds(10)) {
        planBarrier = count
        Task {
            try? await Task.sleep(for: patience)
            self.stopHoldingPlans()
        }
    }

    /// Plans in a work dir whose path contains `text` fail, as an engine error would.
    public func failPlans(in text: String) { failingPlans = text }

    private func releaseHeldPlans() {
        for plan in heldPlans { plan.resume() }
        heldPlans = []
    }

    private func stopHoldingPlans() {
        planBarrier = 0
        releaseHeldPlans()
    }

    func record(_ call: String, _ workspace: EngineWorkspace) {
        calls.append(call)
        variablesSeen.append(workspace.variables)
    }

    public func initialize(_ workspace: EngineWorkspace, backend: [(key: String, value: BackendValue)]) async throws {
        let settings = backend.map { "\($0.key)=\($0.value.text)" }.joined(separator: ",")
        record("init \(workspace.directory) \(settings)", workspace)
    }

    public func outputs(_ workspace: EngineWorkspace) async throws -> [String: EngineOutput] {
        record("output \(workspace.directory)", workspace)
        return [:]
    }

    public func plan(_ workspace: EngineWorkspace, planFile: String, varFiles: [String], mode: PlanMode) async throws -> Bool {
        record("plan\(mode == .normal ? "" : " \(mode)") \(workspace.directory) \(varFiles.map { ($0 as NSString).lastPathComponent }.joined(separator: ","))", workspace)
        plansRunning += 1
        mostPlansAtOnce = max(mostPlansAtOnce, plansRunning)
        defer { plansRunning -= 1 }
        if planBarrier > 0 {
            if plansRunning >= planBarrier {
                releaseHeldPlans()
            } else {
                await withCheckedContinuation { heldPlans.append($0) }
            }
        }
        if let failingPlans, workspace.directory.contains(failingPlans) {
            throw TestSupportError("the fake engine's plan failed in \(workspace.directory)")
        }
        try Data("fake plan of \(workspace.directory)".utf8).write(to: URL(fileURLWithPath: planFile))
        return true
    }

    public func showJSON(_ workspace: EngineWorkspace, planFile: String) async throws -> Data {
        record("show \(workspace.directory)", workspace)
        return planJSON
    }

    public func apply(_ workspace: EngineWorkspace, planFile: String) async throws {
        record("apply \(workspace.directory)", workspace)
    }

    public func formatCheck(_ workspace: EngineWorkspace) async throws -> [String] { [] }

    public func validate(_ workspace: EngineWorkspace) async throws -> EngineValidation {
        EngineValidation(valid: true, diagnostics: [])
    }

    public func pullState(_ workspace: EngineWorkspace) async throws -> StateIdentity { .empty }

    public nonisolated func priorState(ofPlan planFile: Data) throws -> StateIdentity { .empty }
}

/// Runs a program to the end and returns its exit status with stdout and stderr together.
public enum TestProcess {
    public static func run(_ executable: String, _ arguments: [String], in directory: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// Runs a program to the end with stdout and stderr kept apart. Both go to files in `scratch`
    /// rather than pipes, so a child that writes a lot can never block on a full pipe.
    public static func capture(_ executable: String, _ arguments: [String], in directory: String, environment: [String: String]? = nil, scratch: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        if let environment { process.environment = environment }
        let out = scratch + "/.process-stdout-\(UUID().uuidString)"
        let err = scratch + "/.process-stderr-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: err)
        }
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return (process.terminationStatus,
                String(decoding: FileManager.default.contents(atPath: out) ?? Data(), as: UTF8.self),
                String(decoding: FileManager.default.contents(atPath: err) ?? Data(), as: UTF8.self))
    }
}

/// A PostgreSQL server of a test's own (`scripts/pg-test-server.sh` with a private state
/// directory), for the fault tests that stop it mid-command: the shared test server stays up.
public struct PrivatePostgres: Sendable {
    public let state: String
    /// The `tollgate` role's URL on the private server.
    public let url: String

    public init() throws {
        state = NSTemporaryDirectory() + "tollgate-private-pg-" + UUID().uuidString
        url = try Self.script("start", state: state).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the server abruptly, as a crash would, keeping its data.
    public func halt() throws { _ = try Self.script("halt", state: state) }
    /// Starts a halted server again on the same port.
    public func resume() throws { _ = try Self.script("resume", state: state) }
    /// Stops it and removes its data.
    public func remove() { _ = try? Self.script("stop", state: state) }

    /// The command that halts this server, for a test's resource to run mid-apply.
    public var haltCommand: String {
        "TOLLGATE_PG_TEST_STATE='\(state)' '\(TestPaths.packageRoot)/scripts/pg-test-server.sh' halt"
    }

    /// Runs the script through posix_spawn and waitpid: the server it starts outlives it, and
    /// Foundation's `Process` can miss the script's exit when called from an async test.
    static func script(_ verb: String, state: String) throws -> String {
        let scratch = state + ".\(verb)-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch + ".out"); try? FileManager.default.removeItem(atPath: scratch + ".err") }
        let command = "TOLLGATE_PG_TEST_STATE='\(state)' '\(TestPaths.packageRoot)/scripts/pg-test-server.sh' \(verb) >'\(scratch).out' 2>'\(scratch).err' </dev/null"
        var pid: pid_t = 0
        let arguments = ["/bin/sh", "-c", command]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ)
        guard spawned == 0 else { throw TestSupportError("cannot run scripts/pg-test-server.sh \(verb): posix_spawn failed (\(spawned))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let stdout = (try? String(contentsOfFile: scratch + ".out", encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: scratch + ".err", encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw TestSupportError("scripts/pg-test-server.sh \(verb) failed (status \(status)): \(stderr)")
        }
        return stdout
    }
}

/// A real `ssh-agent` in the foreground on its own socket, for tests of agent-held keys.
public final class SSHAgent: @unchecked Sendable {
    public let socket: String
    let process = Process()

    public init(socket: String) throws {
        self.socket = socket
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ssh-agent", "-D", "-a", socket]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socket) {
            guard Date() < deadline, process.isRunning else { throw TestSupportError("ssh-agent did not start on \(socket)") }
            usleep(20_000)
        }
    }

    /// Adds a key, with its passphrase from an askpass script when it has one.
    public func add(_ key: String, passphrase: String? = nil, scratch: String) throws {
        var environment = ProcessInfo.processInfo.environment
        environment["SSH_AUTH_SOCK"] = socket
        if let passphrase {
            let askpass = scratch + "/agent-askpass.sh"
            try "#!/bin/sh\necho '\(passphrase)'\n".write(toFile: askpass, atomically: true, encoding: .utf8)
            chmod(askpass, 0o700)
            environment["SSH_ASKPASS"] = askpass
            environment["SSH_ASKPASS_REQUIRE"] = "force"
        }
        let add = Process()
        add.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        add.arguments = ["ssh-add", "-q", key]
        add.environment = environment
        add.standardInput = FileHandle.nullDevice
        try add.run()
        add.waitUntilExit()
        guard add.terminationStatus == 0 else { throw TestSupportError("ssh-add \(key) failed with status \(add.terminationStatus)") }
    }

    /// Ends the agent. SIGKILL: in the foreground (`-D`) ssh-agent can sit out a SIGTERM.
    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
