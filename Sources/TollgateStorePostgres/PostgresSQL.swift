import Foundation
import PostgresNIO
import Synchronization
import TollgateCore

/// One value bound to a statement parameter (`$1`, `$2`, …): values never enter the SQL text.
enum Bind: Sendable {
    case text(String?)
    case integer(Int64?)
    case bool(Bool)
    case bytes(ByteBuffer)

    static func int(_ value: Int64?) -> Bind { .integer(value) }
    static func int(_ value: Int?) -> Bind { .integer(value.map(Int64.init)) }
    static func int(_ value: Int32) -> Bind { .integer(Int64(value)) }
    static func time(_ date: Date) -> Bind { .integer(AuditChain.milliseconds(date)) }
    static func time(_ date: Date?) -> Bind { .integer(date.map(AuditChain.milliseconds)) }
}

extension PostgresQuery {
    /// A statement with its parameters bound in order.
    static func sql(_ text: String, _ values: Bind...) -> PostgresQuery { sql(text, values) }

    static func sql(_ text: String, _ values: [Bind]) -> PostgresQuery {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .text(let text): binds.append(text)
            case .integer(let int): binds.append(int)
            case .bool(let bool): binds.append(bool)
            case .bytes(let bytes): binds.append(bytes)
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: binds)
    }
}

/// A connection inside one open transaction (or, for migrations, one connection of its own).
struct Transaction: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    @discardableResult
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }

    func execute(_ query: PostgresQuery) async throws {
        _ = try await connection.query(query, logger: logger).collect()
    }

    /// Rolls back after `error`, unless the error says the session is gone: the server has rolled
    /// the transaction back already, and a statement on a closing connection may never be answered.
    func rollback(after error: any Error) async {
        if let error = error as? PSQLError, Pool.lostCodes.contains(error.code) || PostgresStoreError.endedSession(error) { return }
        if connection.isClosed { return }
        try? await execute("ROLLBACK")
    }
}

/// A stored row read column by column: a value that does not decode is an error naming the table,
/// the row and the column, never a default.
struct StoredRow {
    let table: String
    let id: String
    let cells: PostgresRandomAccessRow

    init(_ table: String, _ cells: PostgresRandomAccessRow, id idColumns: String...) {
        self.table = table
        self.cells = cells
        id = idColumns.map { (try? cells[$0].decode(String?.self)).flatMap { $0 } ?? ((try? cells[$0].decode(Int64.self)).map(String.init) ?? "?") }
            .joined(separator: "/")
    }

    func corrupt(_ column: String, _ reason: String) -> PostgresStoreError {
        .corrupt(table: table, id: id, column: column, reason: reason)
    }

    func decode<T: PostgresDecodable>(_ type: T.Type, _ column: String) throws -> T {
        do {
            return try cells[column].decode(T.self)
        } catch {
            throw corrupt(column, "\(error)")
        }
    }

    func text(_ column: String) throws -> String { try decode(String.self, column) }
    func optionalText(_ column: String) throws -> String? { try decode(String?.self, column) }
    func int64(_ column: String) throws -> Int64 { try decode(Int64.self, column) }
    func int(_ column: String) throws -> Int { Int(try int64(column)) }
    func optionalInt(_ column: String) throws -> Int? { try decode(Int64?.self, column).map(Int.init) }
    func bool(_ column: String) throws -> Bool { try decode(Bool.self, column) }
    func time(_ column: String) throws -> Date { AuditChain.date(milliseconds: try int64(column)) }

    func int32(_ column: String) throws -> Int32 {
        let value = try int64(column)
        guard let narrow = Int32(exactly: value) else { throw corrupt(column, "\(value) does not fit a 32-bit integer") }
        return narrow
    }

    /// A value of a string enum; an unknown value names the row.
    func value<E: RawRepresentable>(_ type: E.Type, _ column: String) throws -> E where E.RawValue == String {
        let raw = try text(column)
        guard let value = E(rawValue: raw) else { throw corrupt(column, "'\(raw)' is not a known value") }
        return value
    }

    /// JSON text decoded into `type`.
    func json<T: Decodable>(_ type: T.Type, _ column: String) throws -> T {
        let raw = try text(column)
        do {
            return try JSONDecoder().decode(T.self, from: Data(raw.utf8))
        } catch {
            throw corrupt(column, "not a JSON \(T.self): \(error)")
        }
    }
}

/// JSON text as the ledgers store it: keys sorted, the way SQLiteLedger writes it.
func storedJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// The connection pool with a deadline: a command that cannot get a connection within the URL's
/// `connect_timeout` fails naming the server, rather than waiting while the pool retries (which it
/// does for as long as the server is away). A connection that drops mid-statement is `lost`.
struct Pool: Sendable {
    let client: PostgresClient
    /// The server and database without the password, for messages.
    let server: String
    /// How long to wait for a connection from the pool.
    let patience: Duration
    let logger: Logger

    /// Runs `body` on a pooled connection; only the wait for the connection has a deadline, so a
    /// long read (the whole audit log) is never cut short.
    func withConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let leased = LeaseFlag()
        do {
            return try await withoutActuallyEscaping(body) { body in
                try await withThrowingTaskGroup(of: T?.self, returning: T.self) { group in
                    group.addTask {
                        try await client.withConnection { connection in
                            // A connection handed over after the deadline is given back unused.
                            guard leased.settle(.leased) else { throw CancellationError() }
                            return try await body(connection)
                        }
                    }
                    group.addTask {
                        try await Task.sleep(for: patience)
                        guard leased.settle(.timedOut) else { return nil }
                        throw PostgresStoreError.unavailable(server: server, reason: "no connection within \(Self.seconds(patience)) (the URL's connect_timeout); the server may be down or out of connections")
                    }
                    defer { group.cancelAll() }
                    while let next = try await group.next() {
                        if let value = next { return value }
                    }
                    throw CancellationError()
                }
            }
        } catch let error as PSQLError where Self.lostCodes.contains(error.code) || PostgresStoreError.endedSession(error) {
            throw PostgresStoreError.lost(server: server, reason: PostgresStoreError.describe(error))
        }
    }

    /// Every row of one statement.
    func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await withConnection { connection in try await connection.query(query, logger: logger).collect() }
    }

    /// The errors that mean the connection itself went away, not that a statement failed.
    static let lostCodes: [PSQLError.Code] = [.serverClosedConnection, .connectionError, .uncleanShutdown, .clientClosedConnection]

    /// Whether the pool handed over a connection before the deadline: settled once, by whichever
    /// child gets there first, so a body never starts after the command gave up on it.
    final class LeaseFlag: Sendable {
        enum State: Sendable { case waiting, leased, timedOut }
        let state = Mutex(State.waiting)

        /// Moves from waiting to `outcome`; false when the other outcome came first.
        func settle(_ outcome: State) -> Bool {
            state.withLock { current in
                guard current == .waiting else { return false }
                current = outcome
                return true
            }
        }
    }

    static func seconds(_ duration: Duration) -> String {
        "\(duration.components.seconds) s"
    }
}
