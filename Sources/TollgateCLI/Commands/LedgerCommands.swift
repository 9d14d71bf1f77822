import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit
import TollgateConfig
import TollgateStore
import TollgateStorePostgres

/// The ledger's keys: artifacts (release bundles and plan files) are sealed with a 32-byte key so
/// the values a plan file holds are never stored in the clear.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Manage the ledger: move it to the team database, its artifact keys, and unreferenced artifacts.",
        subcommands: [Migrate.self, NewKey.self, RotateKey.self, Collect.self]
    )

    struct NewKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new-key",
            abstract: "Print a fresh random artifact key (base64) for TOLLGATE_ARTIFACT_KEY or a 'store.key' reference.",
            discussion: "Keep it in your secret store: an artifact sealed with a key cannot be read without it. The key id that tollgate records and prints is a digest prefix, never the key."
        )

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let key = ArtifactKey.generate()
            if options.format == .json {
                struct Printed: Encodable { var key: String; var id: String }
                Output.json(Printed(key: key.exportBase64(), id: key.id))
            } else {
                Output.line(key.exportBase64())
                Output.diagnostic("key id \(key.id); store it as a secret and set TOLLGATE_ARTIFACT_KEY (or 'store.key') to it")
            }
        }
    }

    struct RotateKey: ContextCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Re-seal every artifact with the key in TOLLGATE_ARTIFACT_NEW_KEY.",
            discussion: "Reads with the current key (TOLLGATE_ARTIFACT_KEY or 'store.key') and the older keys in TOLLGATE_ARTIFACT_OLD_KEYS, re-hashes every plaintext, and writes it sealed with the new key. Idempotent. Afterwards make the new key the current one."
        )

        @OptionGroup var options: GlobalOptions

        static let needs = CompositionNeeds.ledger

        func run(_ context: Context) async throws {
            guard let store = context.artifacts as? EncryptedArtifactStore else {
                throw KitError.step("no artifact key is configured, so nothing is sealed and there is nothing to rotate; set TOLLGATE_ARTIFACT_KEY (see 'tollgate ledger new-key') to seal new artifacts")
            }
            guard let text = ProcessInfo.processInfo.environment["TOLLGATE_ARTIFACT_NEW_KEY"], !text.isEmpty else {
                throw ArtifactError.keyMissing(source: "TOLLGATE_ARTIFACT_NEW_KEY")
            }
            let key = try ArtifactKey(base64: text, source: "TOLLGATE_ARTIFACT_NEW_KEY")
            let counts = try await store.rotate(to: key)
            try await context.ledger.appendEvent(AuditEntry(actor: context.actor, kind: "artifacts.rotated", subjects: ["key": key.id],
                                                            payload: ["rewritten": .number(Double(counts.rewritten)),
                                                                      "already_current": .number(Double(counts.alreadyCurrent))]))
            if options.format == .json {
                struct Rotated: Encodable { var key: String; var rewritten: Int; var alreadyCurrent: Int }
                Output.json(Rotated(key: key.id, rewritten: counts.rewritten, alreadyCurrent: counts.alreadyCurrent))
            } else {
                Output.line("re-sealed \(counts.rewritten) artifacts with key \(key.id) (\(counts.alreadyCurrent) already were); now set TOLLGATE_ARTIFACT_KEY to the new key")
            }
        }
    }

    struct Collect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove the team database's artifacts that no release or plan names.",
            discussion: "An artifact is stored before the record that names it, so a command that stopped in between leaves one behind. This removes those older than the grace period (by the server's clock), in one transaction that records what it removed in the audit log. Plans and releases on the record are never touched, whatever their age."
        )

        @OptionGroup var options: GlobalOptions

        @Option(name: .customLong("older-than"), help: "Only artifacts stored longer ago than this (30m, 24h, 7d); at least 1h.")
        var olderThan: String = "24h"

        @Flag(help: "Say what would be removed, and remove nothing.")
        var dryRun = false

        struct Report: Encodable {
            var dryRun: Bool
            var removed: [String]
            var bytes: Int64
            var kept: Int
        }

        func validate() throws {
            guard let age = PlanAge(parsing: olderThan), age.seconds >= 3600 else {
                throw ValidationError("--older-than '\(olderThan)' is not a duration of at least 1h; write it like 24h or 7d, longer than any command runs")
            }
        }

        func run() async throws {
            let age = PlanAge(parsing: olderThan) ?? PlanAge(seconds: 86_400)
            try await Composition.run(options, needsEngine: false) { context in
                guard let ledger = context.ledger as? PostgresLedger else {
                    throw KitError.step("'ledger gc' collects the team database's artifacts; the embedded ledger keeps them as files under .tollgate/artifacts, and nothing collects those yet")
                }
                let collected = try await ledger.collectArtifacts(grace: .seconds(age.seconds), dryRun: dryRun) { collection in
                    AuditEntry(actor: context.actor, kind: "artifacts.collected", subjects: [:],
                               payload: ["ids": .array(collection.ids.map(JSONValue.string)), "bytes": .number(Double(collection.bytes)),
                                         "older_than": .string(age.description)])
                }
                if options.format == .json {
                    Output.json(Report(dryRun: dryRun, removed: collected.ids, bytes: collected.bytes, kept: collected.kept))
                } else {
                    for id in collected.ids { Output.line(id) }
                    Output.diagnostic("\(dryRun ? "would remove" : "removed") \(collected.ids.count) unreferenced artifacts (\(collected.bytes) bytes) stored over \(age) ago; \(collected.kept) kept")
                }
            }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the embedded ledger and its artifacts into an empty team database (PostgreSQL).",
            discussion: "Copies every record as stored (the audit events byte for byte), then every artifact, sealed with the artifact key; verifies the copied chain and every artifact digest; refuses a database that already holds records; leaves the embedded ledger untouched. The password may be in the URL or in PGPASSWORD; it is never printed."
        )

        @OptionGroup var options: GlobalOptions

        @Option(help: "The team database URL (postgres://USER@HOST:PORT/DB?sslmode=…); default: TOLLGATE_DATABASE_URL.")
        var to: String?

        struct Report: Encodable {
            var database: String
            var tables: [String: Int]
            var events: Int
            var head: String?
            var artifacts: Int
        }

        func run() async throws {
            let composition = Composition(options: options)
            let pipeline = try composition.pipeline()
            let environment = ProcessInfo.processInfo.environment
            guard let url = to ?? environment[pipeline.store?.urlEnv.value ?? StoreSettings.defaultURLEnv], !url.isEmpty else {
                throw Output.fail(KitError.step("name the team database with --to postgres://USER@HOST:PORT/DATABASE or TOLLGATE_DATABASE_URL"), format: options.format)
            }
            try await Output.guarded(options.format) {
                // The source is always the embedded ledger, whatever team settings are in the environment.
                let source = try await composition.context(pipeline, needsEngine: false)
                guard let embedded = source.ledger as? SQLiteLedger else { throw KitError.step("the source is not an embedded ledger") }
                let tables = try await embedded.tables()
                let sourceEvents = try await embedded.storedEvents()
                if let broken = AuditChain.verify(stored: sourceEvents) {
                    throw KitError.step("the embedded ledger's audit chain is broken at event \(broken.seq) (\(broken.reason)); run 'tollgate audit verify' and repair it before migrating")
                }
                let blobs = FileBlobStore(root: composition.store(pipeline).artifactsDirectory)
                let ids = try await blobs.ids().sorted()
                let report = try await PostgresLedger.withLedger(url: url, effects: composition.effects()) { ledger -> Report in
                    try await ledger.importTables(tables)
                    let target = try await composition.teamArtifacts(pipeline, ledger: ledger)
                    for id in ids {
                        let bytes = try await source.artifacts.get(id)
                        guard try await target.put(bytes) == id, try await target.get(id) == bytes else {
                            throw KitError.step("artifact \(id) did not read back the same from the team database; nothing else was changed in the embedded ledger")
                        }
                    }
                    let copied = try await ledger.storedEvents()
                    guard copied == sourceEvents, AuditChain.verify(stored: copied) == nil else {
                        throw KitError.step("the copied audit chain differs from the embedded one; drop the team database and migrate again")
                    }
                    return Report(database: ledger.serverDescription, tables: Dictionary(uniqueKeysWithValues: tables.map { ($0.name, $0.rows.count) }),
                                  events: copied.count, head: copied.last?.hash, artifacts: ids.count)
                }
                if options.format == .json {
                    Output.json(report)
                } else {
                    Output.line("migrated \(report.events) events, \(report.tables["releases"] ?? 0) releases, \(report.tables["plans"] ?? 0) plans, "
                        + "\(report.tables["applies"] ?? 0) applies and \(report.artifacts) artifacts to \(report.database); chain verified, head \(report.head ?? AuditChain.genesis)")
                    Output.diagnostic("the embedded ledger is untouched; set TOLLGATE_DATABASE_URL to use the team ledger from now on")
                }
            }
        }
    }
}
