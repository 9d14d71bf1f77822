import ArgumentParser
import Foundation
import TollgateConfig
import TollgateCore
import TollgateEngine
import TollgateKit
import TollgateStorePostgres
import TollgateStore

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check that this machine and repository can run the pipeline, with a fix for each failure."
    )

    @OptionGroup var options: GlobalOptions

    struct Row: Encodable {
        enum Status: String, Encodable {
            case ok
            case warn
            case fail
        }

        var check: String
        var status: Status
        var detail: String
        var fix: String?
    }

    func run() async throws {
        let composition = Composition(options: options)
        var rows: [Row] = []
        let path = options.pipelinePath()
        let loaded = PipelineLoader.load(path: path)
        let pipeline = loaded.validPipeline
        if let pipeline {
            rows.append(Row(check: "pipeline", status: .ok,
                            detail: "\(path): \(pipeline.environments.count) environments, \(pipeline.stacks.count) stacks"))
        } else {
            let first = loaded.diagnostics.first { $0.severity == .error }
            rows.append(Row(check: "pipeline", status: .fail, detail: first?.description ?? "\(path) is not valid",
                            fix: "run 'tollgate validate' and fix every error it lists"))
        }
        let spec = pipeline?.engine ?? EngineSpec()
        let base = pipeline?.baseDirectory ?? (path as NSString).deletingLastPathComponent
        rows.append(await engineRow(spec: spec, base: base, composition: composition))
        if let pipeline {
            rows.append(mirrorRow(composition.engineSettings(pipeline)))
        }
        rows.append(await gitRow(base: base, composition: composition))
        rows.append(signersRow(pipeline: pipeline, base: base))
        rows.append(await sshRow(composition: composition, base: base))
        rows.append(storeRow(StoreLayout.forRepository(base, environment: composition.environment)))
        if let pipeline { rows += await teamRows(pipeline, composition: composition) }

        let failed = rows.contains { $0.status == .fail }
        if options.format == .json {
            struct Report: Encodable {
                var healthy: Bool
                var checks: [Row]
            }
            Output.json(Report(healthy: !failed, checks: rows))
        } else {
            Output.line(Table.render(header: ["check", "status", "detail", "fix"],
                                     rows: rows.map { [$0.check, $0.status.rawValue, $0.detail, $0.fix ?? ""] }))
        }
        if failed { throw ExitCode(Output.Code.error) }
    }

    func engineRow(spec: EngineSpec, base: String, composition: Composition) async -> Row {
        do {
            let info = try await EngineLocator(environment: composition.environment).locate(spec, baseDirectory: base)
            return Row(check: "engine", status: .ok, detail: "\(info.kind) \(info.version) at \(info.path) satisfies '\(spec.version.value)'")
        } catch {
            return Row(check: "engine", status: .fail, detail: "\(error)",
                       fix: "install \(spec.binary.rawValue) (\(spec.version.value)), set TOLLGATE_ENGINE=/path/to/binary, or run scripts/setup-engine.sh")
        }
    }

    func mirrorRow(_ settings: EngineSettings) -> Row {
        guard let mirror = settings.providerMirror else {
            return Row(check: "providers", status: .ok, detail: "installed by the engine from its registry (no provider mirror configured)")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: mirror, isDirectory: &isDirectory), isDirectory.boolValue {
            return Row(check: "providers", status: .ok, detail: "filesystem mirror \(mirror); plugin cache \(settings.pluginCacheDirectory)")
        }
        return Row(check: "providers", status: .fail, detail: "provider mirror \(mirror) does not exist",
                   fix: "run scripts/setup-engine.sh, or point TOLLGATE_PROVIDER_MIRROR / engine.provider_mirror at a mirror")
    }

    func gitRow(base: String, composition: Composition) async -> Row {
        let result = try? await ProcessShell(environment: composition.environment).run("git rev-parse --show-toplevel", directory: base)
        if let result, result.status == 0 {
            return Row(check: "git", status: .ok, detail: "repository at \(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return Row(check: "git", status: .fail, detail: "\(base) is not inside a git repository",
                   fix: "run 'git init' and commit the pipeline: releases are cut from commits")
    }

    func signersRow(pipeline: Pipeline?, base: String) -> Row {
        guard let file = pipeline?.approversFile?.value else {
            return Row(check: "allowed_signers", status: .warn, detail: "the pipeline names no allowed_signers file",
                       fix: "set 'approvers: .tollgate/allowed_signers' before using approval gates")
        }
        let path = PathText.absolute(file, base: base)
        guard let data = FileManager.default.contents(atPath: path) else {
            return Row(check: "allowed_signers", status: .fail, detail: "cannot read \(path)",
                       fix: "create it with one 'PRINCIPAL namespaces=\"tollgate\" KEYTYPE KEY' line per approver")
        }
        let parsed = AllowedSigners.parse(String(decoding: data, as: UTF8.self), timeZone: .current)
        let principals = parsed.signers.count
        if !parsed.problems.isEmpty {
            return Row(check: "allowed_signers", status: .fail,
                       detail: parsed.problems.map { "\(file):\($0.line): \($0.message)" }.joined(separator: "; "),
                       fix: "fix those lines (a malformed line matches no key); the copy that counts is the one sealed in the release in force, so commit the fix and promote it")
        }
        return Row(check: "allowed_signers", status: principals == 0 ? .warn : .ok,
                   detail: "\(path): \(principals) key\(principals == 1 ? "" : "s") (the working tree's copy; approvals are checked against the copy sealed in each environment's release in force)",
                   fix: principals == 0 ? "add a line per approver key before prod needs an approval" : nil)
    }

    func sshRow(composition: Composition, base: String) async -> Row {
        let result = try? await ProcessShell(environment: composition.environment).run("command -v ssh-keygen", directory: base)
        if let result, result.status == 0 {
            return Row(check: "ssh-keygen", status: .ok, detail: result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return Row(check: "ssh-keygen", status: .warn, detail: "ssh-keygen not found", fix: "install OpenSSH: approvals are SSH signatures")
    }

    /// In team mode: the database is reachable, its schema is current, the role cannot rewrite
    /// audit events, and artifacts are sealed. Nothing here prints the password.
    func teamRows(_ pipeline: Pipeline, composition: Composition) async -> [Row] {
        let mode: Composition.StoreMode
        do {
            mode = try composition.storeMode(pipeline)
        } catch {
            return [Row(check: "team ledger", status: .fail, detail: "\(error)", fix: "set the variable or remove 'store.url_env'")]
        }
        guard case .team(let url, let variable) = mode else {
            return [Row(check: "team ledger", status: .ok, detail: "embedded (SQLite beside tollgate.yaml); set TOLLGATE_DATABASE_URL for team mode, see docs/team.md")]
        }
        var rows: [Row] = []
        do {
            try await PostgresLedger.withLedger(url: url, effects: composition.effects()) { ledger in
                let version = try await ledger.schemaVersion()
                rows.append(Row(check: "team ledger", status: .ok, detail: "\(ledger.serverDescription) (from \(variable)), schema version \(version.current) of \(version.known)"))
                let rewrite = try await ledger.canRewriteEvents()
                rows.append(Row(check: "ledger role", status: rewrite ? .warn : .ok,
                                detail: rewrite ? "the role may UPDATE or DELETE audit events (a trigger still refuses them)" : "the role cannot UPDATE or DELETE audit events",
                                fix: rewrite ? "REVOKE UPDATE, DELETE, TRUNCATE ON events FROM the tollgate role (docs/operations.md)" : nil))
                let missing = try await ledger.missingRights()
                if !missing.isEmpty {
                    rows.append(Row(check: "ledger rights", status: .fail, detail: "the role lacks " + missing.joined(separator: ", "),
                                    fix: "as the schema's owner: GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO the tollgate role, then REVOKE UPDATE, DELETE, TRUNCATE ON events (docs/operations.md)"))
                } else {
                    rows.append(Row(check: "ledger rights", status: .ok, detail: "the role can read and append to every table it uses"))
                }
                rows.append(Self.tlsRow(url: url, security: try await ledger.connectionSecurity()))
            }
        } catch {
            rows.append(Row(check: "team ledger", status: .fail, detail: "\(error)", fix: "check \(variable): host, port, database, role and password (PGPASSWORD)"))
        }
        if pipeline.store?.encryptArtifacts.value == false {
            rows.append(Row(check: "artifact key", status: .warn, detail: "encrypt_artifacts is false: plan files, which hold secrets, are stored in the clear",
                            fix: "set 'store.encrypt_artifacts: true' and an artifact key ('tollgate ledger new-key')"))
        } else if (composition.environment["TOLLGATE_ARTIFACT_KEY"] ?? "").isEmpty, pipeline.store?.key == nil {
            rows.append(Row(check: "artifact key", status: .fail, detail: "no artifact key: team mode refuses to start without one",
                            fix: "set TOLLGATE_ARTIFACT_KEY to a key from 'tollgate ledger new-key', or name one with 'store.key'"))
        } else {
            rows.append(Row(check: "artifact key", status: .ok, detail: "artifacts are sealed at rest"))
        }
        return rows
    }

    /// What the connection's TLS protects: nothing, the bytes only (`require`: the server is not
    /// authenticated), or the bytes and the server (`verify-ca`, `verify-full`).
    static func tlsRow(url: String, security: (encrypted: Bool, version: String?)) -> Row {
        let mode = URLComponents(string: url)?.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard security.encrypted else {
            return Row(check: "ledger TLS", status: .warn, detail: "the connection is not encrypted (sslmode=\(mode))",
                       fix: "enable TLS on the server and add '?sslmode=verify-full' (with sslrootcert) unless the database is on this host")
        }
        let version = security.version ?? "TLS"
        if mode == "verify-full" || mode == "verify-ca" {
            return Row(check: "ledger TLS", status: .ok, detail: "\(version), the server's certificate verified (sslmode=\(mode))")
        }
        return Row(check: "ledger TLS", status: .warn, detail: "\(version), but the server's certificate is not verified (sslmode=\(mode))",
                   fix: "use '?sslmode=verify-full' with sslrootcert, so a server in the middle cannot pose as the ledger")
    }

    func storeRow(_ store: StoreLayout) -> Row {
        do {
            try store.checkWritable()
            return Row(check: "store", status: .ok, detail: "\(store.root) is writable")
        } catch {
            return Row(check: "store", status: .fail, detail: "\(error)", fix: "fix permissions or set TOLLGATE_HOME")
        }
    }
}

/// A plain text table: columns padded to their widest cell.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                column == row.count - 1 ? row[column] : row[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}
