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

    /// The version of the JSON contract every `--format json` output carries as `schema_version`.
    /// It changes only when a key is removed or changes meaning; new keys keep the version.
    static let schemaVersion = 1

    /// Prints a result object as JSON with `schema_version` beside its own keys.
    static func json<T: Encodable>(_ value: T) {
        write(jsonText(value), to: .standardOutput)
    }

    /// A list is never a whole output: it goes under a named key, so `schema_version` has a place.
    @available(*, unavailable, message: "print a list under a named key: Output.json(list, key: \"plans\")")
    static func json<T: Encodable>(_ value: [T]) {}

    /// Prints a list as `{"schema_version": 1, key: [...]}`.
    static func json<T: Encodable>(_ items: [T], key: String) {
        write(jsonText(Listing(key: key, items: items)), to: .standardOutput)
    }

    private static func write(_ text: String, to handle: FileHandle) {
        handle.write(Data((text + "\n").utf8))
    }

    /// A result object as the JSON every `--format json` prints: snake_case keys (like the engine's
    /// own JSON; names and other data used as keys are left as written), `schema_version`, pretty,
    /// keys sorted, ISO 8601 dates.
    static func jsonText<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        do {
            return String(decoding: try encoder.encode(Versioned(value: value)), as: UTF8.self)
        } catch {
            // Only a non-finite number fails to encode; the error says which value it was.
            return #"{"error": "cannot encode the result as JSON: \#(error)", "schema_version": \#(schemaVersion)}"#
        }
    }

    /// A value's own keys plus `schema_version`, in the same object. The value must encode as an
    /// object: lists go through `Listing`.
    private struct Versioned<Value: Encodable>: Encodable {
        var value: Value
        enum CodingKeys: String, CodingKey { case schemaVersion }

        func encode(to encoder: any Encoder) throws {
            try value.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(Output.schemaVersion, forKey: .schemaVersion)
        }
    }

    private struct Listing<Item: Encodable>: Encodable {
        var key: String
        var items: [Item]

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: ListingKey.self)
            try container.encode(items, forKey: ListingKey(stringValue: key))
        }
    }

    private struct ListingKey: CodingKey {
        var stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
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
                var exitCode: Int32
                var refused: Bool
            }
            // On stderr, like every error: stdout holds only results, so `--format json > out.json`
            // never captures an error in place of a result, and the CI log shows it.
            write(jsonText(Failure(error: message, exitCode: code, refused: code == Code.refused)), to: .standardError)
        } else {
            // Several reasons print one per line, each indented under the first.
            let lines = message.split(separator: "\n", omittingEmptySubsequences: false)
            diagnostic((code == Code.refused ? "tollgate: refused: " : "tollgate: error: ") + lines.joined(separator: "\n  "))
        }
        return ExitCode(code)
    }
}
