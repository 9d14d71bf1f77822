import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit
import TollgateStore

/// The ledger's keys: artifacts (release bundles and plan files) are sealed with a 32-byte key so
/// the values a plan file holds are never stored in the clear.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Manage the ledger's artifact keys.",
        subcommands: [NewKey.self, RotateKey.self]
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

    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Re-seal every artifact with the key in TOLLGATE_ARTIFACT_NEW_KEY.",
            discussion: "Reads with the current key (TOLLGATE_ARTIFACT_KEY or 'store.key') and the older keys in TOLLGATE_ARTIFACT_OLD_KEYS, re-hashes every plaintext, and writes it sealed with the new key. Idempotent. Afterwards make the new key the current one."
        )

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await Composition.run(options, needsEngine: false) { context in
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
    }
}
