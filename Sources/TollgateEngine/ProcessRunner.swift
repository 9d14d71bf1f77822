import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a child process to completion and captures its output, stopping it cleanly when the
/// calling task is cancelled.
///
/// The child runs in its own process group (Foundation's `Process` makes every child a group
/// leader), so a terminal's Ctrl-C reaches tollgate only; tollgate then forwards exactly one interrupt to the whole group (the engine and
/// its provider plugins), waits a grace period for the engine to save state and release locks,
/// and kills whatever is left. No process outlives the run.
public struct ProcessRunner: Sendable {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
        /// The signal that ended the child, when one did (a crash, a kill); `status` is then its number.
        public var signal: Int32? = nil

        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// How long an interrupted child gets to finish before it is killed.
    public var gracePeriod: Duration
    /// Where output is spooled while the child runs (pipes can deadlock on large output).
    public var scratchDirectory: String

    public init(gracePeriod: Duration = .seconds(20), scratchDirectory: String = NSTemporaryDirectory()) {
        self.gracePeriod = gracePeriod
        self.scratchDirectory = scratchDirectory
    }

    /// Runs `executable` with `arguments`; never throws for a non-zero exit (callers decide), only for
    /// a launch failure or cancellation.
    public func run(
        _ executable: String,
        _ arguments: [String],
        directory: String? = nil,
        environment: [String: String],
        input: Data? = nil
    ) async throws -> Output {
        let commandLine = ([executable] + arguments).map(Self.quote).joined(separator: " ")
        let spool = URL(fileURLWithPath: scratchDirectory).appendingPathComponent("tollgate-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: spool, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: spool) }
        let outURL = spool.appendingPathComponent("stdout")
        let errURL = spool.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        defer {
            try? outHandle.close()
            try? errHandle.close()
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = environment
        if let input {
            let inURL = spool.appendingPathComponent("stdin")
            try input.write(to: inURL)
            process.standardInput = try FileHandle(forReadingFrom: inURL)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        process.standardOutput = outHandle
        process.standardError = errHandle

        let exit = ExitSignal()
        process.terminationHandler = { finished in
            exit.finish(finished.terminationStatus, signaled: finished.terminationReason == .uncaughtSignal)
        }
        if Task.isCancelled { throw EngineError.cancelled(command: commandLine) }
        RunningChildren.shared.started()
        defer { RunningChildren.shared.ended() }
        do {
            try process.run()
        } catch {
            throw EngineError.launchFailed(command: commandLine, reason: error.localizedDescription)
        }
        let pid = process.processIdentifier
        // Signals go to the whole group (the engine and its plugins) when the child leads one.
        let target = getpgid(pid) == pid ? -pid : pid
        let grace = gracePeriod
        let status = await withTaskCancellationHandler {
            await exit.wait()
        } onCancel: {
            Self.stop(target, grace: grace, exit: exit)
        }
        // Provider plugins left behind by a crashed engine share its group; end them too.
        if target < 0 { kill(target, SIGKILL) }
        if Task.isCancelled { throw EngineError.cancelled(command: commandLine) }
        try outHandle.synchronize()
        try errHandle.synchronize()
        let stdout = (try? Data(contentsOf: outURL)) ?? Data()
        let stderr = (try? Data(contentsOf: errURL)) ?? Data()
        return Output(status: status, stdout: stdout, stderr: stderr, signal: exit.signaled ? status : nil)
    }

    /// One interrupt to the group, then a kill once the grace period is over.
    static func stop(_ target: Int32, grace: Duration, exit: ExitSignal) {
        kill(target, SIGINT)
        Task.detached {
            let deadline = ContinuousClock.now.advanced(by: grace)
            while ContinuousClock.now < deadline, !exit.isFinished {
                try? await Task.sleep(for: .milliseconds(50))
            }
            if !exit.isFinished { kill(target, SIGKILL) }
        }
    }

    /// Single quotes where needed, so the printed command line can be pasted into a shell.
    public static func quote(_ word: String) -> String {
        let safe = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:@,+%".contains($0) }
        return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// How many children `ProcessRunner` is running (launched and not yet ended), so an interrupted
/// command can tell work it may abandon (its own computing) from an engine it must let stop.
public final class RunningChildren: @unchecked Sendable {
    public static let shared = RunningChildren()
    private let lock = NSLock()
    private var count = 0

    public var running: Int { lock.withLock { count } }
    func started() { lock.withLock { count += 1 } }
    func ended() { lock.withLock { count -= 1 } }
}

/// The child's exit status, delivered once to whoever waits.
final class ExitSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var status: Int32?
    private var bySignal = false
    private var waiters: [CheckedContinuation<Int32, Never>] = []

    var isFinished: Bool { lock.withLock { status != nil } }
    /// True when a signal, not an exit call, ended the child.
    var signaled: Bool { lock.withLock { bySignal } }

    func finish(_ value: Int32, signaled: Bool = false) {
        let pending: [CheckedContinuation<Int32, Never>] = lock.withLock {
            status = value
            bySignal = signaled
            defer { waiters = [] }
            return waiters
        }
        for waiter in pending { waiter.resume(returning: value) }
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let ready: Int32? = lock.withLock {
                if let status { return status }
                waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
