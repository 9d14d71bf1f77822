import ArgumentParser
import Foundation
import TollgateCore
import TollgateEngine
import TollgateKit

/// Where results (stdout) and diagnostics (stderr) go, and how errors become exit codes.
enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func diagnostic(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Whether stdout may be coloured: a terminal, and neither `--no-color`, `NO_COLOR` nor `CI` says otherwise.
    static func colours(noColor: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        !noColor && (environment["NO_COLOR"] ?? "").isEmpty && environment["CI"] == nil && isatty(STDOUT_FILENO) == 1
    }

    /// ANSI colours for the few lines that carry meaning by colour; the text reads the same without.
    enum Colour: String {
        case red = "31", green = "32", yellow = "33", bold = "1"

        func paint(_ text: String, when enabled: Bool) -> String {
            enabled ? "\u{1B}[\(rawValue)m\(text)\u{1B}[0m" : text
        }
    }

    static func json<T: Encodable>(_ value: T) {
        FileHandle.standardOutput.write(Data((jsonText(value) + "\n").utf8))
    }

    /// A value as the JSON every `--format json` prints: pretty, keys sorted, ISO 8601 dates.
    static func jsonText<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Exit codes: 0 success, 1 error, 2 drift or divergence found, 3 refused, 64 usage, 130 interrupted.
    /// Runs a command body, turning any failure into its reported exit code.
    static func guarded(_ format: OutputFormat, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch let error as ValidationError {
            throw error
        } catch {
            throw fail(error, format: format)
        }
    }

    enum Code {
        static let error: Int32 = 1
        /// `tollgate drift` found drift.
        static let drift: Int32 = 2
        /// `tollgate diverge` found divergence past a threshold.
        static let diverged: Int32 = 2
        static let refused: Int32 = 3
        static let usage: Int32 = 64
        static let interrupted: Int32 = 130
    }

    /// The exit code a failure ends the command with.
    static func exitCode(for error: any Error) -> Int32 {
        switch error {
        case let kit as KitError:
            if case .interrupted = kit { Code.interrupted } else { kit.isRefusal ? Code.refused : Code.error }
        case is PromotionPaused: Code.refused
        case let failed as PromotionFailed: exitCode(for: failed.underlying)
        case EngineError.cancelled: Code.interrupted
        case is CancellationError: Code.interrupted
        default: Code.error
        }
    }

    /// Reports a failure the way the format asks and returns the exit code to throw.
    static func fail(_ error: any Error, format: OutputFormat) -> ExitCode {
        let code = exitCode(for: error)
        let message = "\(error)"
        if format == .json {
            struct Failure: Encodable {
                var error: String
                var exit_code: Int32
                var refused: Bool
            }
            // On stderr, like every error: stdout holds only results, so `--format json > out.json`
            // never captures an error in place of a result, and the CI log shows it.
            FileHandle.standardError.write(Data((jsonText(Failure(error: message, exit_code: code, refused: code == Code.refused)) + "\n").utf8))
        } else {
            // Several reasons print one per line, each indented under the first.
            let lines = message.split(separator: "\n", omittingEmptySubsequences: false)
            diagnostic((code == Code.refused ? "tollgate: refused: " : "tollgate: error: ") + lines.joined(separator: "\n  "))
        }
        return ExitCode(code)
    }
}
