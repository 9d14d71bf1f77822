import Foundation
import GRDB
import PostgresNIO
import TestSupport
import TollgateCore
import TollgateStore
import TollgateStorePostgres

/// One store the contract suite runs against: its ledger, a second ledger on the same store (as a
/// second process would open it), and raw SQL past the ledger (what a tool or an attacker with
/// write access does).
struct StoreUnderTest: Sendable {
    let ledger: any Ledger
    /// Runs `body` with another ledger on the same data, with its own connections.
    let withSecondLedger: @Sendable (_ body: @Sendable (any Ledger) async throws -> Void) async throws -> Void
    /// Runs each statement straight against the store, in one transaction.
    let execute: @Sendable (_ statements: [String]) async throws -> Void

    /// The kinds of store the contract suite runs on: PostgreSQL unless its server is neither
    /// given nor required (see ``PostgresTestServer``).
    static let kinds: [String] = PostgresTestServer.shouldRun ? ["sqlite", "postgres"] : ["sqlite"]

    /// Runs `body` with a fresh store of `kind`; its first ledger writes `ci` into every event.
    static func with(_ kind: String, ci: CIContext? = nil, _ body: (StoreUnderTest) async throws -> Void) async throws {
        switch kind {
        case "sqlite":
            let directory = try TemporaryDirectory("tollgate-ledger")
            defer { directory.remove() }
            let path = directory.path + "/ledger.sqlite"
            let store = StoreUnderTest(
                ledger: try SQLiteLedger(path: path, effects: fixedEffects(), ci: ci),
                withSecondLedger: { body in try await body(try SQLiteLedger(path: path, effects: fixedEffects())) },
                execute: { statements in
                    let queue = try DatabaseQueue(path: path)
                    try await queue.write { db in for statement in statements { try db.execute(sql: statement) } }
                })
            try await body(store)
        case "postgres":
            try await PostgresTestServer.withDatabase { url in
                try await PostgresLedger.withLedger(url: url, effects: fixedEffects(), ci: ci) { ledger in
                    let store = StoreUnderTest(
                        ledger: ledger,
                        withSecondLedger: { body in
                            try await PostgresLedger.withLedger(url: url, effects: fixedEffects()) { second in try await body(second) }
                        },
                        execute: { statements in try await PostgresTestServer.execute(statements, url: url) })
                    try await body(store)
                }
            }
        default:
            fatalError("no store '\(kind)'")
        }
    }
}

/// The PostgreSQL the tests use: `TOLLGATE_TEST_DATABASE_URL`, as `scripts/pg-test-server.sh start`
/// prints it (`make test` starts one and sets it). Each test gets a database of its own, dropped after.
///
/// Without the variable the PostgreSQL tests fail, saying how to start a server; outside CI (`CI`
/// unset) they are left out instead, and the reason is printed.
enum PostgresTestServer {
    static let variable = "TOLLGATE_TEST_DATABASE_URL"

    static var url: String? {
        ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
    }

    static let shouldRun: Bool = {
        if url != nil { return true }
        let ci = ProcessInfo.processInfo.environment["CI"] ?? ""
        if ci.isEmpty || ci == "false" || ci == "0" {
            FileHandle.standardError.write(Data("""
                note: the PostgreSQL store tests are left out: \(variable) is not set and CI is not set; \
                start a server with 'scripts/pg-test-server.sh start' and export \(variable)="$(scripts/pg-test-server.sh url)"\n
                """.utf8))
            return false
        }
        return true
    }()

    struct NotConfigured: Error, CustomStringConvertible {
        var description: String {
            "\(PostgresTestServer.variable) is not set, and the PostgreSQL store tests need a server: run 'scripts/pg-test-server.sh start' "
                + "and export \(PostgresTestServer.variable)=\"$(scripts/pg-test-server.sh url)\" (make test does both)"
        }
    }

    static func serverURL() throws -> String {
        guard let url else { throw NotConfigured() }
        return url
    }

    /// `url` with its database replaced by `database`.
    static func url(_ url: String, database: String) -> String {
        var components = URLComponents(string: url)!
        components.path = "/" + database
        return components.string!
    }

    /// Runs `body` with the URL of a new, empty database, and drops the database afterwards.
    static func withDatabase(_ body: (String) async throws -> Void) async throws {
        let server = try serverURL()
        // An identifier cannot be a bound parameter; this one is made here from hex digits only.
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        try await execute(["CREATE DATABASE \(name)"], url: server, transaction: false)
        do {
            try await body(url(server, database: String(name)))
        } catch {
            try? await execute(["DROP DATABASE IF EXISTS \(name) WITH (FORCE)"], url: server, transaction: false)
            throw error
        }
        try await execute(["DROP DATABASE IF EXISTS \(name) WITH (FORCE)"], url: server, transaction: false)
    }

    /// Runs statements on a connection of its own, by default in one transaction.
    static func execute(_ statements: [String], url: String, transaction: Bool = true) async throws {
        try await withClient(url) { client in
            try await client.withConnection { connection in
                let logger = Logger(label: "tollgate.tests")
                if transaction { _ = try await connection.query("BEGIN", logger: logger).collect() }
                do {
                    for statement in statements {
                        _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).collect()
                    }
                    if transaction { _ = try await connection.query("COMMIT", logger: logger).collect() }
                } catch {
                    if transaction { _ = try? await connection.query("ROLLBACK", logger: logger).collect() }
                    throw error
                }
            }
        }
    }

    /// A bare client for `url`, running for as long as `body` runs.
    static func withClient<T: Sendable>(_ url: String, _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: try PostgresURL(url).configuration)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}

/// The table, row and column a corrupt-row error names, whichever store raised it.
func corruptRow(_ error: any Error) -> String? {
    switch error {
    case LedgerError.corrupt(let table, let id, let column, _): "\(table)/\(id)/\(column)"
    case PostgresStoreError.corrupt(let table, let id, let column, _): "\(table)/\(id)/\(column)"
    default: nil
    }
}
