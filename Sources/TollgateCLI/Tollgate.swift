import ArgumentParser
import Foundation
import TollgateCore
import TollgateEngine
#if canImport(Glibc)
import Glibc
#endif

/// The `tollgate` command: promote infrastructure changes dev → stage → prod.
public struct Tollgate: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "Promote infrastructure changes from dev to stage to prod through reviewed, signed gates.",
        discussion: """
            Exit codes: 0 success, 1 error, 2 drift found (tollgate drift) or a divergence threshold crossed (tollgate diverge), 3 refused by a gate, guard or policy, 64 usage error, 130 interrupted.
            """,
        version: "0.1.0",
        subcommands: [
            InitCommand.self, ValidateCommand.self, DoctorCommand.self,
            ReleaseCommand.self, PlanCommand.self, ShowCommand.self, ChecksCommand.self, ApproveCommand.self, RejectCommand.self,
            ApplyCommand.self, PromoteCommand.self, StatusCommand.self, HistoryCommand.self, AuditCommand.self, UnlockCommand.self, DemoCommand.self,
            LintCommand.self, AssessCommand.self, PolicyCommand.self, DriftCommand.self, DivergeCommand.self, EphemeralCommand.self,
            RollbackCommand.self, ReviewCommand.self, ReportCommand.self, LedgerCommand.self, CICommand.self,
            ParseHCLCommand.self, SummarizePlanCommand.self,
        ]
    )

    public init() {}

    /// Runs the command line with the given effects instead of the real clock: in-process
    /// composition for test harnesses. The shipped executable calls `launch()`.
    public static func launch(effects: Effects) async {
        await Composition.$injectedEffects.withValue(effects) { await launch() }
    }

    /// Parses the command line and runs the command in a task that Ctrl-C (SIGINT) or SIGTERM
    /// cancels, so engine children are stopped cleanly instead of being orphaned.
    public static func launch() async {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            if let message = misspeltSubcommand(Array(CommandLine.arguments.dropFirst())) {
                FileHandle.standardError.write(Data((message + "\n").utf8))
                Foundation.exit(ExitCode.validationFailure.rawValue)
            }
            exit(withError: error)
        }
        let task = Task {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
        }
        let trap = SignalTrap(signals: [SIGINT, SIGTERM]) { task.cancel() }
        do {
            try await task.value
            trap.cancel()
        } catch {
            trap.cancel()
            exit(withError: error)
        }
    }
}

extension Tollgate {
    /// Where the command line names a subcommand that does not exist (`tollgate promot`,
    /// `tollgate policy tset`): the error, with the closest name when one is near.
    static func misspeltSubcommand(_ arguments: [String]) -> String? {
        var command: any ParsableCommand.Type = Tollgate.self
        var path = ["tollgate"]
        for argument in arguments {
            let subcommands = command.configuration.subcommands
            guard !argument.hasPrefix("-"), !subcommands.isEmpty else { return nil }
            if let next = subcommands.first(where: { $0._commandName == argument || $0.configuration.aliases.contains(argument) }) {
                command = next
                path.append(argument)
                continue
            }
            let names = subcommands.filter { $0.configuration.shouldDisplay }.map { $0._commandName }
            let hint = Suggestion.closest(to: argument, in: names).map { "did you mean '\(path.joined(separator: " ")) \($0)'? " } ?? ""
            return "Error: '\(argument)' is not a command of '\(path.joined(separator: " "))'; \(hint)'\(path.joined(separator: " ")) --help' lists them"
        }
        return nil
    }
}

/// Turns SIGINT and SIGTERM into a callback instead of killing the process outright.
///
/// The callback cancels the command, which stops any engine child cleanly (an interrupt, a grace
/// period, then a kill). Work that never looks at cancellation (reading a 20,000-stack pipeline,
/// linting a large tree) would still run to its end, so a watchdog ends the process with exit code
/// 130 once no child is running and the command has not finished within `patience` of the signal.
/// An engine is never abandoned: while one runs, the watchdog waits for it to stop, and then gives
/// the command `recording` to put the interrupted run on the record and release its lock.
final class SignalTrap: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    static let patience: Duration = .milliseconds(800)
    static let recording: Duration = .seconds(15)

    init(signals: [Int32], handler: @escaping @Sendable () -> Void) {
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("tollgate: interrupted; stopping the engine cleanly (it may take a few seconds)\n".utf8))
                handler()
                Self.watch()
            }
            source.resume()
            return source
        }
    }

    /// Ends the process once the command has had `patience` and no engine child is left.
    private static func watch() {
        Thread.detachNewThread {
            let clock = ContinuousClock()
            var calm = clock.now
            var engineRan = false
            while true {
                if RunningChildren.shared.running > 0 {
                    engineRan = true
                    calm = clock.now
                } else if clock.now - calm >= (engineRan ? recording : patience) {
                    FileHandle.standardError.write(Data("tollgate: interrupted; stopped\n".utf8))
                    // _exit, not exit: atexit handlers could wait on the very work being abandoned.
                    // Nothing is half-written: each ledger write is one transaction, which the
                    // database rolls back when its connection ends.
                    _exit(Output.Code.interrupted)
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
