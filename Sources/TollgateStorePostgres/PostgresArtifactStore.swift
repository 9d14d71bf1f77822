import Foundation
import PostgresNIO
import TollgateCore

/// Content-addressed artifacts in the team database: `artifacts` rows by digest, their bytes in
/// `artifact_chunks` of 1 MiB, written in one transaction and re-hashed on every read.
///
/// It keeps whatever bytes it is given: encryption belongs to a store that wraps any
/// `ArtifactStore`. The `key_id` column is left for that and never set here.
public struct PostgresArtifactStore: ArtifactStore {
    let pool: Pool
    var logger: Logger { pool.logger }

    /// Bytes per chunk: large blobs never travel as one value.
    public static let chunkSize = 1 << 20

    init(pool: Pool) {
        self.pool = pool
    }

    static func check(_ id: String) throws {
        guard id.hasPrefix("sha256:"), id.count == 71, id.dropFirst(7).allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw PostgresStoreError.badArtifactID(id)
        }
    }

    public func put(_ data: Data) async throws -> String {
        let id = Digest.id(data)
        // Already there and intact: only its stored time moves, so collection keeps it for the
        // command about to record it. Stored but damaged (or collected meanwhile): written again below.
        if (try? await get(id)) != nil, try await touch(id: id) { return id }
        try await write(id: id, bytes: data)
        return id
    }

    /// Stores `data` under `id` in one transaction, replacing what was there: the raw form a
    /// `BlobStore` needs (an encrypted artifact keeps its plaintext digest as its id).
    public func write(id: String, bytes data: Data) async throws {
        try Self.check(id)
        let chunks = stride(from: 0, to: data.count, by: Self.chunkSize).map { start in
            ByteBuffer(bytes: data[data.startIndex + start ..< data.startIndex + min(start + Self.chunkSize, data.count)])
        }
        do {
            try await pool.withConnection { [logger] connection in
                let tx = Transaction(connection: connection, logger: logger)
                try await tx.execute("BEGIN")
                do {
                    let inserted = try await tx.rows(.sql("""
                        INSERT INTO artifacts (id, size, chunks, stored_at) VALUES ($1, $2, $3, \(Self.serverMilliseconds))
                        ON CONFLICT (id) DO UPDATE SET size = excluded.size, chunks = excluded.chunks, stored_at = excluded.stored_at RETURNING id
                        """, .text(id), .int(data.count), .int(chunks.count)))
                    guard !inserted.isEmpty else { throw PostgresStoreError.writeFailed("artifact \(id) was not stored") }
                    try await tx.execute(.sql("DELETE FROM artifact_chunks WHERE id = $1", .text(id)))
                    for (n, chunk) in chunks.enumerated() {
                        try await tx.execute(.sql("INSERT INTO artifact_chunks (id, n, bytes) VALUES ($1, $2, $3)", .text(id), .int(n), .bytes(chunk)))
                    }
                    try await tx.execute("COMMIT")
                } catch {
                    await tx.rollback(after: error)
                    throw error
                }
            }
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw PostgresStoreError.writeFailed("cannot store artifact \(id): \(PostgresStoreError.describe(error))")
        }
    }

    public func get(_ id: String) async throws -> Data {
        guard let data = try await read(id: id) else { throw PostgresStoreError.missingArtifact(id) }
        let actual = Digest.id(data)
        guard actual == id else { throw PostgresStoreError.tamperedArtifact(id: id, actual: actual) }
        return data
    }

    /// The bytes stored under `id`, whole (every chunk, counted), or nil when there is no row.
    public func read(id: String) async throws -> Data? {
        try Self.check(id)
        let header: [PostgresRow], chunks: [PostgresRow]
        do {
            // One snapshot for the header and the chunks, so a concurrent rewrite is never read half-done.
            (header, chunks) = try await pool.withConnection { [logger] connection in
                let tx = Transaction(connection: connection, logger: logger)
                try await tx.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                do {
                    let header = try await connection.query(.sql("SELECT id, size, chunks FROM artifacts WHERE id = $1", .text(id)), logger: logger).collect()
                    let chunks = try await connection.query(.sql("SELECT n, bytes FROM artifact_chunks WHERE id = $1 ORDER BY n", .text(id)),
                                                            logger: logger).collect()
                    try await tx.execute("COMMIT")
                    return (header, chunks)
                } catch {
                    await tx.rollback(after: error)
                    throw error
                }
            }
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw PostgresStoreError.readFailed("cannot read artifact \(id): \(PostgresStoreError.describe(error))")
        }
        guard let cells = header.first?.makeRandomAccess() else { return nil }
        let row = StoredRow("artifacts", cells, id: "id")
        let size = try row.int("size"), count = try row.int("chunks")
        var data = Data(capacity: max(size, 0))
        for (index, chunk) in chunks.enumerated() {
            let part = StoredRow("artifact_chunks", chunk.makeRandomAccess(), id: "n")
            guard try part.int("n") == index else {
                throw PostgresStoreError.corrupt(table: "artifact_chunks", id: "\(id)/\(index)", column: "n", reason: "chunk \(index) is missing")
            }
            var bytes = try part.decode(ByteBuffer.self, "bytes")
            data.append(contentsOf: bytes.readBytes(length: bytes.readableBytes) ?? [])
        }
        guard chunks.count == count else {
            throw PostgresStoreError.corrupt(table: "artifacts", id: id, column: "chunks",
                                             reason: "the row names \(count) chunks and \(chunks.count) are stored")
        }
        guard data.count == size else { throw PostgresStoreError.tamperedArtifact(id: id, actual: Digest.id(data)) }
        return data
    }

    /// The server's clock in milliseconds: one clock for every runner's stored times and for collection.
    static let serverMilliseconds = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

    /// Moves an artifact's stored time to now; false when there is no such row (collected).
    public func touch(id: String) async throws -> Bool {
        try Self.check(id)
        do {
            return try await !pool.query(.sql("UPDATE artifacts SET stored_at = \(Self.serverMilliseconds) WHERE id = $1 RETURNING id", .text(id))).isEmpty
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw PostgresStoreError.writeFailed("cannot touch artifact \(id): \(PostgresStoreError.describe(error))")
        }
    }

    /// Every stored id.
    public func ids() async throws -> [String] {
        do {
            return try await pool.query("SELECT id FROM artifacts ORDER BY id").map { row in
                try StoredRow("artifacts", row.makeRandomAccess(), id: "id").text("id")
            }
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw PostgresStoreError.readFailed("cannot list artifacts: \(PostgresStoreError.describe(error))")
        }
    }

    public func location(of id: String) -> String { "the team database's artifact \(id)" }
}

extension PostgresArtifactStore: BlobStore {}
