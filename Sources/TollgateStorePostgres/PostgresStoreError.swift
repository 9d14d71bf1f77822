import Foundation
import PostgresNIO

/// Everything the PostgreSQL ledger and artifact store can refuse, each message ending with what to do next.
public enum PostgresStoreError: Error, CustomStringConvertible, Equatable {
    /// The URL in `TOLLGATE_DATABASE_URL` (or given) cannot be read.
    case badURL(String, reason: String)
    /// The server cannot be reached or refused the connection.
    case unavailable(server: String, reason: String)
    /// The connection went away in the middle of a command (the server stopped, the network broke).
    case lost(server: String, reason: String)
    /// The server is older than the oldest PostgreSQL this store supports.
    case unsupportedServer(version: String, minimum: String)
    /// The schema was migrated by a newer tollgate than this one.
    case schemaTooNew(found: Int, supported: Int)
    /// A read-only command found the schema behind this code's, and may not migrate it.
    case schemaBehind(found: Int, known: Int)
    case writeFailed(String)
    case readFailed(String)
    case notFound(String)
    /// A stored row does not decode: named by table, row and column, never read as a default.
    case corrupt(table: String, id: String, column: String, reason: String)
    /// An artifact id that is not `sha256:` and 64 lowercase hex digits.
    case badArtifactID(String)
    case missingArtifact(String)
    /// The stored bytes no longer hash to their id.
    case tamperedArtifact(id: String, actual: String)

    public var description: String {
        switch self {
        case .badURL(let url, let reason):
            "'\(url)' is not a PostgreSQL URL: \(reason); write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=require"
        case .unavailable(let server, let reason):
            "cannot use the PostgreSQL ledger at '\(server)': \(reason); check TOLLGATE_DATABASE_URL, the server and the role's password"
        case .lost(let server, let reason):
            "lost the connection to the PostgreSQL ledger at '\(server)' in the middle of the command (\(reason)); the write in flight was rolled back unless its commit had reached the server, so once the server is back run 'tollgate status' and 'tollgate audit verify' to see what was recorded, then retry"
        case .unsupportedServer(let version, let minimum):
            "the PostgreSQL server is version \(version), and tollgate needs \(minimum) or newer; upgrade the server or use another one"
        case .schemaTooNew(let found, let supported):
            "the ledger's schema is at migration \(found), and this tollgate knows migrations up to \(supported); upgrade tollgate before using this ledger"
        case .schemaBehind(let found, let known):
            "the ledger's schema is at migration \(found), and this tollgate expects \(known); a read-only command never migrates, so run one recording command (such as 'tollgate status') with a role that may write first"
        case .writeFailed(let reason):
            "the ledger refused a write and nothing was recorded: \(reason); run 'tollgate audit verify' and retry"
        case .readFailed(let reason):
            "cannot read the ledger: \(reason); check that the database holds a tollgate ledger"
        case .notFound(let what):
            "\(what) is not in the ledger"
        case .corrupt(let table, let id, let column, let reason):
            "the ledger's \(table) row '\(id)' has an unreadable '\(column)': \(reason); restore the row from a backup, it is never read as a default"
        case .badArtifactID(let id):
            "'\(id)' is not an artifact id (sha256:…)"
        case .missingArtifact(let id):
            "artifact \(id) is missing from the database; restore it from a backup or re-create it"
        case .tamperedArtifact(let id, let actual):
            "artifact \(id) in the database now hashes to \(actual); it was modified after it was stored, so it is refused"
        }
    }

    /// The server's own words for a failed statement (PSQLError's description hides them on purpose).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresStoreError { return error.description }
        if let error = error as? PSQLError {
            if let info = error.serverInfo {
                var text = [info[.sqlState].map { "SQLSTATE \($0)" }, info[.message]].compactMap { $0 }.joined(separator: ": ")
                if let detail = info[.detail] { text += " (\(detail))" }
                return text
            }
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }

    /// Whether the server ended the session itself: shut down (57P01, 57P02), not accepting
    /// connections yet (57P03), or any connection exception (class 08).
    static func endedSession(_ error: any Error) -> Bool {
        guard let state = sqlState(error) else { return false }
        return state.hasPrefix("57P0") || state.hasPrefix("08")
    }

    /// The SQLSTATE of a server error, if the error is one.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}
