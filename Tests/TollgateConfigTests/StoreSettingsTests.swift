import Foundation
import TestSupport
import Testing
import TollgateConfig
import TollgateCore

/// The `store:` block: defaults, references, and every way a secret could end up in the file.
@Suite struct StoreSettingsTests {
    /// Eleven lines, so a block appended to it starts on line 12.
    static let base = """
        stacks:
          - name: app
        environments:
          - name: dev
            account: "111111111111"
            identity: echo 111111111111
            backend:
              type: local
              settings:
                path: ../state/{env}/{stack}.tfstate
            gate: auto

        """

    func parse(_ store: String) -> PipelineLoader.Result {
        PipelineLoader.parse(Self.base + store, file: "tollgate.yaml", baseDirectory: "/repo")
    }

    func settings(_ store: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> StoreSettings? {
        let result = parse(store)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)", sourceLocation: sourceLocation)
        return try #require(result.validPipeline, sourceLocation: sourceLocation).store
    }

    func onlyError(_ store: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Diagnostic {
        let errors = parse(store).diagnostics.filter { $0.severity == .error }
        try #require(errors.count == 1, "expected exactly one error, got \(errors)", sourceLocation: sourceLocation)
        return errors[0]
    }

    @Test func noBlockMeansNoStore() throws {
        #expect(try settings("") == nil)
    }

    @Test func emptyBlockTakesTheDefaults() throws {
        let store = try #require(try settings("store: {}\n"))
        #expect(store == StoreSettings(location: SourceLocation(file: "tollgate.yaml", line: 12, column: 8)))
        #expect(store.urlEnv.value == "TOLLGATE_DATABASE_URL")
        #expect(store.key == nil)
        #expect(store.keyReference == .environment("TOLLGATE_ARTIFACT_KEY"))
        #expect(store.encryptArtifacts.value)
        #expect(store.location == SourceLocation(file: "tollgate.yaml", line: 12, column: 8))
    }

    @Test func everyKeyIsRead() throws {
        let store = try #require(try settings("""
            store:
              url_env: CI_LEDGER_URL
              key: file:.secrets/artifact.key
              encrypt_artifacts: false

            """))
        #expect(store.urlEnv.value == "CI_LEDGER_URL")
        #expect(store.urlEnv.location == SourceLocation(file: "tollgate.yaml", line: 13, column: 12))
        #expect(store.key?.value == .file(".secrets/artifact.key"))
        #expect(store.key?.location == SourceLocation(file: "tollgate.yaml", line: 14, column: 8))
        #expect(store.keyReference == .file(".secrets/artifact.key"))
        #expect(store.encryptArtifacts.value == false)
    }

    @Test(arguments: [
        ("env:ARTIFACT_KEY", SecretReference.environment("ARTIFACT_KEY")),
        ("\"cmd:vault kv get -field=key ci/tollgate\"", .command("vault kv get -field=key ci/tollgate")),
    ])
    func keyIsAReference(written: String, expected: SecretReference) throws {
        #expect(try settings("store:\n  key: \(written)\n")?.key?.value == expected)
    }

    @Test func literalURLIsRefusedWithoutShowingIt() throws {
        let error = try onlyError("""
            store:
              url_env: TOLLGATE_DATABASE_URL
              url: postgres://tollgate:hunter2@db.internal:5432/tollgate

            """)
        #expect(error.message == "'store.url' would put the database URL, and any password in it, in the pipeline file (the value is not shown)")
        #expect(error.hint == "put the URL in an environment variable and name it with 'url_env', like 'url_env: TOLLGATE_DATABASE_URL'")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 14, column: 3))
        #expect(!error.description.contains("hunter2"))
    }

    @Test func urlGivenAsAReferencePointsAtURLEnv() throws {
        let error = try onlyError("store:\n  url: env:LEDGER_URL\n")
        #expect(error.message == "'store.url' would put the database URL, and any password in it, in the pipeline file (the value is not shown)")
        #expect(error.hint == "name the variable with 'url_env: LEDGER_URL' instead")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 13, column: 3))
    }

    @Test(arguments: ["postgres://tollgate:hunter2@db/tollgate", "1DATABASE", "'env:DATABASE_URL'", "[A, B]"])
    func urlEnvMustBeAVariableName(written: String) throws {
        let error = try onlyError("store:\n  url_env: \(written)\n")
        #expect(error.message == "'store.url_env' must be the name of an environment variable (the value is not shown)")
        #expect(error.hint == "put the database URL in an environment variable and write its name, like 'url_env: TOLLGATE_DATABASE_URL'")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 13, column: 12))
        #expect(!error.description.contains("hunter2"))
    }

    @Test(arguments: ["oWGqbq7yqtYcgmYVDqR7PBVa4n3ZLWfTZM7RAjCQCJ0=", "12345", "true"])
    func literalKeyIsRefusedWithoutShowingIt(written: String) throws {
        let error = try onlyError("store:\n  key: \(written)\n")
        #expect(error.message == "'store.key' is not a reference (the value is not shown)")
        #expect(error.hint == "give a reference to the artifact key instead of the key itself: 'env:VARIABLE', 'file:PATH' or 'cmd:COMMAND'")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 13, column: 8))
        #expect(!error.description.contains(written))
    }

    @Test func misspeltKeySuggestsTheClosestOne() throws {
        let error = try onlyError("store:\n  encrypt_artifact: true\n")
        #expect(error.message == "unknown key 'encrypt_artifact' in 'store'")
        #expect(error.hint == "did you mean 'encrypt_artifacts'?")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 13, column: 3))
    }

    @Test func urlIsNeverSuggestedForATypo() throws {
        let error = try onlyError("store:\n  uri: x\n")
        #expect(error.message == "unknown key 'uri' in 'store'")
        #expect(error.hint == "allowed keys: url_env, key, encrypt_artifacts")
    }

    @Test func encryptArtifactsMustBeABoolean() throws {
        let error = try onlyError("store:\n  encrypt_artifacts: sometimes\n")
        #expect(error.message == "'store.encrypt_artifacts' must be true or false, not the string 'sometimes'")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 13, column: 22))
    }

    @Test func storeMustBeAMapping() throws {
        let error = try onlyError("store: postgres://tollgate:hunter2@db/tollgate\n")
        #expect(error.message.hasPrefix("'store' must be a mapping, not"))
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 12, column: 8))
    }

    // The schema in docs/ agrees with the parser on the block.

    func schemaAccepts(_ store: String) throws -> Bool {
        let directory = try TemporaryDirectory("tollgate-store-schema")
        defer { directory.remove() }
        try directory.write("tollgate.yaml", Self.base + store)
        let (status, output) = try TestProcess.run("/usr/bin/env", [
            "python3", TestPaths.packageRoot + "/scripts/check-schema.py",
            TestPaths.packageRoot + "/docs/tollgate.schema.json", directory.path + "/tollgate.yaml",
        ])
        try #require(status == 0 || status == 1, "check-schema.py failed to run: \(output)")
        return status == 0
    }

    @Test func schemaAcceptsTheBlock() throws {
        #expect(try schemaAccepts("store:\n  url_env: CI_LEDGER_URL\n  key: env:ARTIFACT_KEY\n  encrypt_artifacts: true\n"))
        #expect(try schemaAccepts("store: {}\n"))
    }

    @Test(arguments: [
        "store:\n  url: postgres://tollgate:hunter2@db/tollgate\n",
        "store:\n  url_env: postgres://db/tollgate\n",
        "store:\n  key: oWGqbq7yqtYcgmYVDqR7PBVa4n3ZLWfTZM7RAjCQCJ0=\n",
        "store:\n  encrypt_artifacts: sometimes\n",
    ])
    func schemaRejectsWhatTheParserRejects(store: String) throws {
        #expect(try !schemaAccepts(store))
        #expect(parse(store).diagnostics.hasErrors)
    }
}
